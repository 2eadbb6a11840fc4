package restore

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDonorFresh(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name              string
		anchor            time.Time
		inputs            []time.Time
		newest, depNewest time.Time
		want              bool
	}{
		{"inputs older than the anchor, deps older than the outputs", at(0), []time.Time{at(-2), at(-1)}, at(5), at(4), true},
		{"an input as old as the anchor: Cargo calls it fresh", at(0), []time.Time{at(0)}, at(5), at(4), true},
		{"an input newer than the anchor: edited after the build", at(0), []time.Time{at(-1), at(1)}, at(5), at(4), false},
		{"a dependency output as new as the unit's: fresh", at(0), nil, at(5), at(5), true},
		{"a dependency output newer: rebuilt after the unit (a failed rebuild left old outputs)", at(0), nil, at(5), at(6), false},
		{"no dependencies", at(0), nil, at(5), time.Time{}, true},
	} {
		if got := DonorFresh(tc.anchor, tc.inputs, tc.newest, tc.depNewest); got != tc.want {
			t.Errorf("%s: DonorFresh = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Every write after SeedClock returns is newer than the time it returns,
// and every write before is not: the two halves Cargo's comparison needs.
func TestSeedClock(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 20; i++ {
		before := filepath.Join(dir, "before")
		if err := os.WriteFile(before, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		t0, err := SeedClock(dir)
		if err != nil {
			t.Fatal(err)
		}
		after := filepath.Join(dir, "after")
		if err := os.WriteFile(after, []byte("y"), 0o644); err != nil {
			t.Fatal(err)
		}
		fb, _ := os.Stat(before)
		fa, _ := os.Stat(after)
		if fb.ModTime().After(t0) {
			t.Fatalf("a write before SeedClock (%v) is newer than its time %v", fb.ModTime(), t0)
		}
		if !fa.ModTime().After(t0) {
			t.Fatalf("a write after SeedClock (%v) is not newer than its time %v", fa.ModTime(), t0)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("SeedClock left files behind: %v", ents)
	}
}
