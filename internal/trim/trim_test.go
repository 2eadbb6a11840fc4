package trim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// putEntry stores an entry with one blob of size n and sets its LRU time.
func putEntry(t *testing.T, st *store.Store, key string, n int, age time.Duration, now time.Time) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "out")
	data := make([]byte, n)
	copy(data, key)
	os.WriteFile(src, data, 0o644)
	d := filehash.Bytes(data)
	if err := st.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(record.Entry{Outputs: []record.Output{{Name: "x", Digest: d, Size: int64(n)}}})
	if err := st.PutObject(record.NSEntry, key, b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(st.Dir(), "objects", record.NSEntry, key[:2], key)
	os.Chtimes(p, now.Add(-age), now.Add(-age))
	return d
}

func TestTrimByAgeAndSize(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := putEntry(t, st, "aaaaaaaaaaaaaaaa", 100<<10, 40*24*time.Hour, now)
	mid := putEntry(t, st, "bbbbbbbbbbbbbbbb", 100<<10, 5*24*time.Hour, now)
	recent := putEntry(t, st, "cccccccccccccccc", 100<<10, time.Minute, now)
	// A blob a target dir still links: removing it from the store frees nothing.
	os.Link(st.BlobPath(recent), filepath.Join(t.TempDir(), "in-a-tree"))

	dry, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, DryRun: true, Now: now})
	if err != nil || dry.EntriesRemoved != 1 || dry.BlobsRemoved != 1 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if _, err := st.BlobStat(old); err != nil {
		t.Fatal("dry run removed a blob")
	}
	res, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, Now: now})
	if err != nil || res.EntriesRemoved != 1 || res.BytesFreed <= 0 {
		t.Fatalf("by age: %+v, %v", res, err)
	}
	if _, err := st.BlobStat(old); err == nil {
		t.Error("old blob kept")
	}
	// Size budget below one blob: the least recently used entry goes; the
	// blob a tree uses does not count against the budget.
	res, err = Trim(st, Options{MaxBytes: 10 << 10, Now: now})
	if err != nil || res.EntriesRemoved != 1 {
		t.Fatalf("by size: %+v, %v", res, err)
	}
	if _, err := st.BlobStat(mid); err == nil {
		t.Error("LRU blob kept over budget")
	}
	if _, err := st.BlobStat(recent); err != nil {
		t.Error("recent blob removed")
	}
}

// A build-script run's blobs are referenced like an entry's: kept while
// the run is, trimmed with it by age.
func TestTrimKeepsRunBlobs(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	src := filepath.Join(t.TempDir(), "gen.rs")
	os.WriteFile(src, []byte("pub const X: u8 = 1;"), 0o644)
	d := filehash.Bytes([]byte("pub const X: u8 = 1;"))
	if err := st.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	key := "dddddddddddddddd"
	b, _ := json.Marshal(record.BuildRun{Files: []record.RunFile{{Path: "sub", Dir: true}, {Path: "sub/gen.rs", Digest: d}}})
	if err := st.PutObject(record.NSRun, key, b); err != nil {
		t.Fatal(err)
	}
	if res, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, Now: now}); err != nil || res.BlobsRemoved != 0 {
		t.Fatalf("recent run: %+v, %v", res, err)
	}
	if _, err := st.BlobStat(d); err != nil {
		t.Fatalf("a recent run's blob was removed: %v", err)
	}
	p := filepath.Join(st.Dir(), "objects", record.NSRun, key[:2], key)
	os.Chtimes(p, now.Add(-40*24*time.Hour), now.Add(-40*24*time.Hour))
	if res, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, Now: now}); err != nil || res.EntriesRemoved != 1 || res.BlobsRemoved != 1 {
		t.Fatalf("old run: %+v, %v", res, err)
	}
}
