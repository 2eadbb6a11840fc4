package e2e

import (
	"bytes"
	"encoding/json"
	"github.com/grove-rs/grove/internal/testneed"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/bench/report"
)

// Issue 10, part 1: `grove bench` on both of Cargo's layouts. The
// grove-seeded strategy's fresh worktree must find its registry
// dependencies fresh (seeded), not compile or restore them.
func TestBenchLayouts(t *testing.T) {
	requireToolsForBench(t, "git", "cargo", "go")
	if _, err := os.Stat("/usr/share/cargo/registry/itoa-1.0.1"); err != nil {
		testneed.Missing(t, "registry", "Debian crate registry not installed (run ../shared/corpus/setup.sh)")
	}
	grove := buildGroveForBench(t)
	for _, lc := range []struct {
		name string
		env  []string
	}{
		{"legacy", nil},
		{"per-unit", []string{"RUSTUP_TOOLCHAIN=nightly", "CARGO_UNSTABLE_BUILD_DIR_NEW_LAYOUT=true"}},
	} {
		t.Run(lc.name, func(t *testing.T) {
			if lc.env != nil && exec.Command("cargo", "+nightly", "--version").Run() != nil {
				testneed.Missing(t, "nightly", "no nightly toolchain")
			}
			ws := tinyWorkspaceForBench(t)
			os.MkdirAll(filepath.Join(ws, ".cargo"), 0o755)
			os.WriteFile(filepath.Join(ws, ".cargo", "config.toml"), []byte("[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = \"/usr/share/cargo/registry\"\n\n[net]\noffline = true\n"), 0o644)
			f, _ := os.OpenFile(filepath.Join(ws, "crates/core/Cargo.toml"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("\n[dependencies]\nitoa = \"1\"\n")
			f.Close()
			gitForBench(t, ws, "add", "-A")
			gitForBench(t, ws, "commit", "-q", "-m", "itoa")
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(grove, "bench", "--repo", ws, "--runs", "1",
				"--scenarios", "cold,fresh-worktree", "--strategies", "grove-seeded", "--out", out, "--json")
			cmd.Env = append(append(os.Environ(), "TMPDIR="+t.TempDir()), lc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("grove bench: %v\nstderr:\n%s", err, stderr.String())
			}
			var rep report.Report
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, s := range rep.Samples {
				if s.Error != "" {
					t.Errorf("%s/%s failed: %s", s.Scenario, s.Strategy, s.Error)
				}
				if s.Scenario == "fresh-worktree" && s.Strategy == "grove-seeded" {
					found = true
					if s.UnitsFresh == 0 {
						t.Errorf("fresh worktree: no unit fresh after seeding (%d compiled)", s.UnitsCompiled)
					}
				}
			}
			if !found {
				t.Fatalf("no grove-seeded fresh-worktree sample: %s", stdout.String())
			}
		})
	}
}
