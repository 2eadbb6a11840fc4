package stats

import (
	"testing"
	"time"
)

func TestAppendReadSummarizeZero(t *testing.T) {
	dir := t.TempDir()
	evs := []Event{
		{Time: 1, Build: 7, Crate: "a", Kind: Miss},
		{Time: 2, Build: 7, Crate: "b", Kind: Uncacheable, Reason: "print query"},
		{Time: 3, Build: 9, Crate: "a", Kind: Hit, Us: 2000, SavedMs: 500, Bytes: 100, SharedBytes: 60},
		{Time: 4, Build: 9, Crate: "b", Kind: Hit, Us: 4000, SavedMs: 300, Bytes: 10},
		{Time: 5, Build: 9, Crate: "c", Kind: Error, Reason: "open store"},
	}
	for _, ev := range evs {
		if err := Append(dir, ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir)
	if err != nil || len(got) != len(evs) {
		t.Fatalf("Read = %d events, %v", len(got), err)
	}
	s := Summarize(got)
	if s.Hits != 2 || s.Misses != 1 || s.Uncacheable != 1 || s.Errors != 1 || s.TimeSavedMs != 800 ||
		s.BytesRestored != 110 || s.BytesShared != 60 || s.ByReason["print query"] != 1 || s.WrapperMsHit != 4 {
		t.Errorf("Summarize = %+v", s)
	}
	if last := LastBuild(got); len(last) != 3 || last[0].Crate != "a" {
		t.Errorf("LastBuild = %+v", last)
	}
	if err := Zero(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := Read(dir); len(got) != 0 {
		t.Errorf("after Zero: %d events", len(got))
	}
}
