package trim

import (
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/store"
)

// BenchmarkTrim measures trim throughput on a store of 2000 units (an rlib
// blob of 16 KiB, entry, manifest, lib record and components each: 8000
// objects and 2000 blobs), removing half of them by size. Run with
// -benchtime=1x: filling the store is most of the time.
func BenchmarkTrim(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		const units, size = 2000, 16 << 10
		for u := 0; u < units; u++ {
			unit(b, st, string(rune('a'+u%26))+string(rune('a'+u/26%26))+string(rune('a'+u/676)), size, time.Duration(units-u)*time.Hour, now)
		}
		b.StartTimer()
		start := time.Now()
		res, err := Trim(st, Options{MaxBytes: units / 2 * (size + 4*4096), Now: now})
		el := time.Since(start).Seconds()
		if err != nil {
			b.Fatal(err)
		}
		removed := 0
		for _, n := range res.Removed {
			removed += n
		}
		b.ReportMetric(float64(res.Seen)/el, "files-seen/s")
		b.ReportMetric(float64(removed+res.BlobsRemoved)/el, "files-removed/s")
		b.ReportMetric(float64(res.BytesFreed)/el/(1<<20), "MiB-freed/s")
		b.Logf("%d files seen, %d objects and %d blobs removed, %d bytes freed, in %.2fs", res.Seen, removed, res.BlobsRemoved, res.BytesFreed, el)
	}
}
