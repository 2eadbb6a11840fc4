package cache_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// Issue 9 item 4: a cold build's cost beside plain cargo's is read off the
// events. Every miss of a real build says how long each phase took and how
// much CPU rustc and grove each spent, and so does the build-script run
// grove ran; `grove stats` sums them.
func TestMissEventsCarryPhasesAndCPU(t *testing.T) {
	e := newEnv(t)
	e.extra = append(e.extra, "GROVE_CACHE_BUILD_SCRIPTS=1")
	repo := newRepo(t, map[string]string{
		"Cargo.toml":      "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nlib1 = { path = \"lib1\" }\n",
		"build.rs":        "fn main() { println!(\"cargo:rerun-if-changed=build.rs\"); }\n",
		"src/main.rs":     "fn main() { println!(\"{}\", lib1::f()); }\n",
		"lib1/Cargo.toml": "[package]\nname = \"lib1\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"lib1/src/lib.rs": "pub fn f() -> String { (0..10).map(|i| i.to_string()).collect() }\n",
	})
	b := e.cargo(repo, true, "build")

	var misses, runs int
	for _, ev := range b.events {
		switch {
		case ev.Kind != stats.Miss:
			continue
		case ev.Run:
			runs++
			if ev.ChildCPUUs <= 0 || ev.CPUUs <= 0 || ev.CompileUs <= 0 || ev.StoreUs <= 0 {
				t.Errorf("build-script run %s: child CPU %d µs, grove CPU %d µs, run %d µs, store %d µs; want all > 0",
					ev.Crate, ev.ChildCPUUs, ev.CPUUs, ev.CompileUs, ev.StoreUs)
			}
		default:
			misses++
			if ev.ChildCPUUs <= 0 || ev.CPUUs <= 0 || ev.KeyUs <= 0 || ev.CompileUs <= 0 || ev.StoreUs <= 0 || ev.ScanUs <= 0 {
				t.Errorf("miss %s: rustc CPU %d µs, grove CPU %d µs, key %d, compile %d, store %d, scan %d µs; want all > 0",
					ev.Crate, ev.ChildCPUUs, ev.CPUUs, ev.KeyUs, ev.CompileUs, ev.StoreUs, ev.ScanUs)
			}
			if ev.ScanUs > ev.StoreUs || ev.KeyUs+ev.CompileUs+ev.StoreUs > ev.Us {
				t.Errorf("miss %s: phases do not nest in the wall time: %+v", ev.Crate, ev)
			}
		}
	}
	// lib1, app's build script, app; and the script's run.
	if misses != 3 || runs != 1 {
		t.Fatalf("%d misses and %d build-script runs, want 3 and 1: %+v", misses, runs, b.events)
	}
	s := stats.Summarize(b.events)
	if s.CPU.RustcUs <= 0 || s.CPU.GroveUs <= 0 || s.CPU.ScriptsUs <= 0 || s.MissPhases.N != 3 ||
		s.MissPhases.ChildCPUUs != s.CPU.RustcUs {
		t.Errorf("summary: CPU %+v, miss phases %+v", s.CPU, s.MissPhases)
	}
	cmd := exec.Command(groveBin, "stats")
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+e.store)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grove stats: %v\n%s", err, out)
	}
	for _, want := range []string{"CPU", "grove ", "beside rustc ", "build scripts ", "miss time (sum of 3)", "pin scan ", "CPU per miss"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("grove stats does not say %q:\n%s", want, out)
		}
	}
}
