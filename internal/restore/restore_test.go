package restore

import (
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/record"
)

func TestFreshOutput(t *testing.T) {
	t0 := time.Unix(1000, 0)
	lib := []record.Output{{Name: "libx.rmeta", Size: 10}, {Name: "libx.rlib", Size: 100}}
	tests := []struct {
		name     string
		outs     []record.Output
		mtimes   []time.Time
		depMtime time.Time
		want     int
	}{
		{"blobs newer than deps: hardlink all", lib, []time.Time{t0, t0.Add(time.Second)}, t0, -1},
		{"newest blob equal to dep: hardlink all", lib, []time.Time{t0, t0}, t0, -1},
		{"deps newer: the smallest output is made fresh", lib, []time.Time{t0, t0}, t0.Add(time.Second), 0},
		{"single output (bin) with newer deps", []record.Output{{Name: "app", Size: 5}}, []time.Time{t0}, t0.Add(1), 0},
		{"no deps", lib, []time.Time{t0, t0}, time.Time{}, -1},
	}
	for _, tc := range tests {
		if got := freshOutput(tc.outs, tc.mtimes, tc.depMtime); got != tc.want {
			t.Errorf("%s: freshOutput = %d, want %d", tc.name, got, tc.want)
		}
	}
}
