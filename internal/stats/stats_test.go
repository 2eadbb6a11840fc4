package stats

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
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

// Issue 7 case 25: stats/ was created 0755 whatever the umask. It has the
// store's modes: private (0700, files 0600) unless the store directory is
// shared with its group (GROVE_SHARED_STORE=group makes it setgid 0770).
func TestStatsDirHasTheStoreModes(t *testing.T) {
	cases := []struct {
		umask             int
		storeMode         fs.FileMode
		wantDir, wantFile fs.FileMode
	}{
		{0o002, 0o700, 0o700, 0o600},
		{0o000, 0o700, 0o700, 0o600},
		{0o022, 0o700, 0o700, 0o600},
		{0o077, 0o770 | fs.ModeSetgid, 0o770 | fs.ModeSetgid, 0o660},
	}
	for _, c := range cases {
		old := syscall.Umask(c.umask)
		dir := filepath.Join(t.TempDir(), "store")
		os.Mkdir(dir, 0o700)
		os.Chmod(dir, c.storeMode)
		if err := Append(dir, Event{Kind: Hit}); err != nil {
			t.Fatal(err)
		}
		if err := Zero(dir, time.Now()); err != nil {
			t.Fatal(err)
		}
		syscall.Umask(old)
		fi, _ := os.Stat(filepath.Join(dir, "stats"))
		if got := fi.Mode() & (fs.ModePerm | fs.ModeSetgid); got != c.wantDir {
			t.Errorf("umask %03o store %v: stats/ mode %v, want %v", c.umask, c.storeMode, got, c.wantDir)
		}
		for _, f := range []string{"events.jsonl", "zero"} {
			fi, _ := os.Stat(filepath.Join(dir, "stats", f))
			if got := fi.Mode().Perm(); got != c.wantFile {
				t.Errorf("umask %03o store %v: %s mode %v, want %v", c.umask, c.storeMode, f, got, c.wantFile)
			}
		}
	}
}

// A full disk fails every unit that stores, each with its own digest and
// temp name: grove stats shows one reason with its count, not one line per
// unit.
func TestSummarizeGroupsReasonsByTempName(t *testing.T) {
	var evs []Event
	for i, tmp := range []string{"blob-1x2y3z", "obj-9k", "blob-q0"} {
		d := strings.Repeat(string(rune('a'+i)), 64)
		evs = append(evs, Event{Kind: Error, Reason: "save: store: put blob " + d + ": open /home/u/.cache/grove/tmp/" + tmp + ": no space left on device"})
	}
	evs = append(evs,
		Event{Kind: Error, Reason: "restore: write /t/debug/deps/.grove-tmp-8812: no space left on device"},
		Event{Kind: Error, Reason: "restore: write /t/debug/deps/.grove-tmp-4401: no space left on device"},
		Event{Kind: Uncacheable, Reason: "input modified during compile: src/lib.rs"},
	)
	s := Summarize(evs)
	if len(s.ErrorsByReason) != 3 {
		t.Fatalf("ErrorsByReason = %v, want the blob and object put as one reason each and the restores as one", s.ErrorsByReason)
	}
	if n := s.ErrorsByReason["restore: write /t/debug/deps/.grove-tmp-*: no space left on device"]; n != 2 {
		t.Errorf("restore writes: %d, want 2 (%v)", n, s.ErrorsByReason)
	}
	if n := s.ByReason["input modified during compile: src/lib.rs"]; n != 1 {
		t.Errorf("uncacheable reason changed: %v", s.ByReason)
	}
}

// A remote hit's cost over a local hit is the time it spent asking the
// remote; only hits the remote served count, not misses it answered.
func TestSummarizeRemoteHitCost(t *testing.T) {
	s := Summarize([]Event{
		{Kind: Hit, Us: 9000, Remote: "hit", RemoteUs: 6000},
		{Kind: Hit, Us: 5000, Remote: "hit", RemoteUs: 2000},
		{Kind: Hit, Us: 7000, Remote: "hit", RemoteUs: 4000},
		{Kind: Miss, Us: 90000, Remote: "miss", RemoteUs: 900},
		{Kind: Hit, Us: 1000}, // a local hit
	})
	if s.RemoteMsHit != 4 || s.Remote["hit"] != 3 || s.Remote["miss"] != 1 {
		t.Errorf("RemoteMsHit = %v ms, remote %v; want 4 ms", s.RemoteMsHit, s.Remote)
	}
}

// Build-script runs are summed apart: they are not units, and a replayed
// run does not count as a hit of a compile.
func TestSummarizeRunsApart(t *testing.T) {
	evs := []Event{
		{Kind: Hit, Crate: "a", Us: 4000, SavedMs: 10},
		{Kind: Hit, Crate: "a", Run: true, Us: 2000, SavedMs: 300},
		{Kind: Hit, Crate: "b", Run: true, Us: 3000, SavedMs: 200, Remote: "hit"},
		{Kind: Miss, Crate: "c", Run: true, Remote: "miss"},
		{Kind: Uncacheable, Crate: "d", Run: true, Reason: "it changed its package's files"},
		{Kind: Failed, Crate: "e", Run: true},
	}
	s := Summarize(evs)
	if s.Invocations != 1 || s.Hits != 1 || s.TimeSavedMs != 10 || s.WrapperMsHit != 4 {
		t.Errorf("units: %+v", s)
	}
	r := s.Runs
	if r.Replayed != 2 || r.Stored != 1 || r.NotStored != 1 || r.Failed != 1 || r.TimeSavedMs != 500 || r.MedianMs != 3 ||
		r.ByReason["it changed its package's files"] != 1 || r.Remote["hit"] != 1 || r.Remote["miss"] != 1 {
		t.Errorf("runs: %+v", r)
	}
	if len(s.Remote) > 0 {
		t.Errorf("runs' remote outcomes counted for units: %v", s.Remote)
	}
	if got := NewestOf(evs, "a"); len(got) != 1 || got[0].Run {
		t.Errorf("NewestOf(a) = %+v, want the compile", got)
	}
}

// The CPU fields and a miss's phases survive the log, and events written
// before they existed still read (and count as unmeasured).
func TestCPUAndPhasesRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		ev   Event
		line string // written as is (an older grove's event), when set
	}{
		{name: "miss", ev: Event{Time: 1, Kind: Miss, Crate: "a", Us: 900_000, KeyUs: 3000, LookupUs: 200, LockUs: 10,
			CompileUs: 800_000, StoreUs: 40_000, ScanUs: 15_000, ChildCPUUs: 1_500_000, CPUUs: 70_000}},
		{name: "hit", ev: Event{Time: 2, Kind: Hit, Crate: "b", Us: 5000, KeyUs: 2000, LookupUs: 300, RestoreUs: 900, CPUUs: 6000}},
		{name: "failed compile", ev: Event{Time: 3, Kind: Failed, Crate: "c", CompileUs: 100_000, ChildCPUUs: 90_000, CPUUs: 20_000}},
		{name: "build-script run", ev: Event{Time: 4, Kind: Miss, Crate: "d", Run: true, CompileUs: 50_000, StoreUs: 9000,
			ChildCPUUs: 45_000, CPUUs: 30_000}},
		{name: "old miss", ev: Event{Time: 5, Kind: Miss, Crate: "e", Ms: 12, Us: 12_000, CompileUs: 11_000, StoreUs: 500},
			line: `{"t":5,"build":0,"crate":"e","kind":"miss","ms":12,"us":12000,"compile_us":11000,"store_us":500}`},
	}
	dir := t.TempDir()
	for _, c := range cases {
		if c.line != "" {
			os.MkdirAll(filepath.Join(dir, "stats"), 0o700)
			f, err := os.OpenFile(filepath.Join(dir, "stats", "events.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(c.line + "\n")
			f.Close()
			continue
		}
		if err := Append(dir, c.ev); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir)
	if err != nil || len(got) != len(cases) {
		t.Fatalf("Read = %d events, %v", len(got), err)
	}
	for i, c := range cases {
		if !reflect.DeepEqual(got[i], c.ev) {
			t.Errorf("%s: read %+v, want %+v", c.name, got[i], c.ev)
		}
	}

	s := Summarize(got)
	wantCPU := CPUSummary{GroveUs: 70_000 + 6000 + 20_000 + 30_000, RustcUs: 1_500_000 + 90_000, ScriptsUs: 45_000, Measured: 4}
	if s.CPU != wantCPU {
		t.Errorf("CPU = %+v, want %+v", s.CPU, wantCPU)
	}
	wantMiss := Phases{N: 2, WallUs: 912_000, KeyUs: 3000, LookupUs: 200, LockUs: 10, CompileUs: 811_000, StoreUs: 40_500,
		ScanUs: 15_000, ChildCPUUs: 1_500_000, CPUUs: 70_000}
	if s.MissPhases != wantMiss {
		t.Errorf("MissPhases = %+v, want %+v (compile misses only, not runs)", s.MissPhases, wantMiss)
	}
}
