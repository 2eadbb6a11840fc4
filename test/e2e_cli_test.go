package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// `grove config` shows each setting with its value and where it came from,
// as a build started there sees it: GROVE_* from the environment, from a
// Cargo config's [env] table (which Cargo hands the wrapper), or the
// default; and the Cargo settings grove depends on.
func TestConfigShowsSources(t *testing.T) {
	root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"),
		"[build]\nrustc-wrapper = \"grove\"\n\n[env]\nGROVE_DIR = { value = \"store\", relative = true }\nGROVE_EXCLUDE = \"tiny\"\n")
	cmd := exec.Command(grove, "config", "--json")
	cmd.Dir = filepath.Join(root, "src")
	cmd.Env = env("GROVE_EXCLUDE=serde", "GROVE_VERIFY=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("grove config: %v\n%s", err, out)
	}
	var got []struct{ Name, Value, Source string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cfg := filepath.Join(root, ".cargo", "config.toml")
	want := map[string][2]string{
		"GROVE_DIR":           {filepath.Join(root, "store"), cfg},
		"GROVE_EXCLUDE":       {"serde", "environment"}, // [env] does not override without force
		"GROVE_VERIFY":        {"1", "environment"},
		"GROVE_LOG":           {"", "unset"},
		"build.rustc-wrapper": {"grove", cfg},
		"build.target-dir":    {filepath.Join(root, "target"), "default"},
	}
	for _, s := range got {
		if w, ok := want[s.Name]; ok {
			if s.Value != w[0] || s.Source != w[1] {
				t.Errorf("%s = %q from %q, want %q from %q", s.Name, s.Value, s.Source, w[0], w[1])
			}
			delete(want, s.Name)
		}
	}
	for n := range want {
		t.Errorf("grove config does not show %s", n)
	}
	if r := runGrove(t, root, "config", "GROVE_DIR", "build.rustc-wrapper"); r.code != 0 || r.stdout != filepath.Join(root, "store")+"\ngrove\n" {
		t.Errorf("grove config NAMES: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := runGrove(t, root, "config", "NOPE"); r.code != 2 || !strings.Contains(r.stderr, "unknown setting") {
		t.Errorf("grove config NOPE: exit %d %s", r.code, r.stderr)
	}
}

// `cargo grove stats` works like any cargo subcommand, and reads the store
// the builds use, here one named in the Cargo config's [env] table.
func TestCargoGroveStats(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", err)
	}
	root := tinyRepo(t)
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[env]\nGROVE_DIR = { value = \"store\", relative = true }\n")
	if r := runGrove(t, root, "init"); r.code != 0 {
		t.Fatalf("grove init: %s", r.stderr)
	}
	run(t, root, "cargo", "build", "-q")
	cmd := exec.Command("cargo", "grove", "stats", "--json")
	cmd.Dir = root
	cmd.Env = env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cargo grove stats: %v\n%s", err, out)
	}
	var st struct {
		Store  string `json:"store"`
		Misses int    `json:"misses"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.Store != filepath.Join(root, "store") || st.Misses != 1 {
		t.Errorf("cargo grove stats: store %s, %d misses; want %s, 1\n%s", st.Store, st.Misses, filepath.Join(root, "store"), out)
	}
	if r := runGrove(t, root, "stats", "--json"); r.stdout != string(out) {
		t.Errorf("grove stats differs from cargo grove stats:\n%s\n%s", r.stdout, out)
	}
}

// `grove doctor` in cache mode finds what silently costs hits, each as its
// own problem; a clean setup has none.
func TestDoctorCacheMode(t *testing.T) {
	otherFS := "/dev/shm"
	if dev(t, otherFS) == dev(t, t.TempDir()) {
		testneed.Missing(t, "mount", "no second file system (/dev/shm is on the same one as the temp dir)")
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) []string // returns extra env
		want  string                                   // check name, "" for no problem
	}{
		{name: "clean", setup: func(t *testing.T, root string) []string { return nil }},
		{name: "store on another file system", want: "store-filesystem", setup: func(t *testing.T, root string) []string {
			return []string{"GROVE_DIR=" + filepath.Join(otherFS, "grove-doctor-test-store")}
		}},
		{name: "rustc outside a toolchain", want: "rustc-toolchain", setup: func(t *testing.T, root string) []string {
			p := filepath.Join(t.TempDir(), "bin", "rustc")
			writeFile(t, p, "#!/bin/sh\nexec rustc \"$@\"\n")
			return []string{"RUSTC=" + p}
		}},
		{name: "stale hook", want: "hook-stale", setup: func(t *testing.T, root string) []string {
			writeFile(t, filepath.Join(root, ".git", "hooks", "post-checkout"), "#!/bin/sh\n# grove: seed the target dir of a new worktree from a built one.\ngrove seed\n")
			return nil
		}},
		{name: "unknown Cargo layout", want: "cargo-layout", setup: func(t *testing.T, root string) []string {
			writeFile(t, filepath.Join(root, "target", "debug", "units", "x"), "")
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tinyRepo(t)
			if r := runGrove(t, root, "init"); r.code != 0 {
				t.Fatalf("grove init: %s", r.stderr)
			}
			extra := append([]string{"GROVE_DIR=" + filepath.Join(filepath.Dir(root), "store")}, tt.setup(t, root)...)
			cmd := exec.Command(grove, "doctor", "--json")
			cmd.Dir = root
			cmd.Env = env(extra...)
			out, _ := cmd.Output()
			var rep struct {
				Problems []struct{ Check, Message string }
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.Check)
			}
			if want := tt.want; strings.Join(got, ",") != want {
				t.Errorf("problems %v, want [%s]\n%s", got, want, out)
			}
		})
	}
}

func dev(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Dev)
}

// `grove clean --max-size` refuses what is not a positive whole number of
// bytes with one line and exit 2, before touching anything; --dry-run
// creates nothing, not even the store.
func TestCleanBadSizeAndDryRun(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	for _, size := range []string{"NaN", "Inf", "-Inf", "1e400", "99999999999TiB", "0", "0.5", "0.9B", "-1", "x"} {
		cmd := exec.Command(grove, "clean", "--max-size", size)
		cmd.Dir, cmd.Env = dir, env("GROVE_DIR="+store)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "size") {
			t.Errorf("clean --max-size %s: %v, output %q; want one line and exit 2", size, err, out)
		}
	}
	cmd := exec.Command(grove, "clean", "--dry-run", "--max-size", "1")
	cmd.Dir, cmd.Env = dir, env("GROVE_DIR="+store)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clean --dry-run: %v\n%s", err, out)
	}
	if _, err := os.Stat(store); err == nil {
		t.Errorf("clean --dry-run created the store")
	}
}

// `grove clean` on a store that does not exist creates nothing (with or
// without --dry-run: there is nothing to trim), and --json still prints
// JSON, so a script that parses it never gets a sentence instead.
func TestCleanMissingStore(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	for _, args := range [][]string{{"clean"}, {"clean", "--json"}, {"clean", "--json", "--dry-run"}} {
		cmd := exec.Command(grove, args...)
		cmd.Dir, cmd.Env = dir, env("GROVE_DIR="+store)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if _, err := os.Stat(store); err == nil {
			t.Errorf("%v created the store", args)
			os.RemoveAll(store)
		}
		if args[len(args)-1] != "clean" {
			var res struct {
				Store   string `json:"store"`
				Entries *int   `json:"entries"`
			}
			if err := json.Unmarshal(out, &res); err != nil || res.Store != store || res.Entries == nil {
				t.Errorf("%v: want JSON naming the store, got %q (%v)", args, out, err)
			}
		}
	}
	// A relative GROVE_DIR is refused, as by every other command, not
	// taken for a missing store.
	for _, args := range [][]string{{"clean"}, {"clean", "--dry-run"}} {
		cmd := exec.Command(grove, args...)
		cmd.Dir, cmd.Env = dir, env("GROVE_DIR=rel")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not an absolute path") {
			t.Errorf("%v with GROVE_DIR=rel: %v, output %q; want the refusal", args, err, out)
		}
	}
}

// A GROVE_MAX_SIZE or GROVE_MAX_AGE the trim cannot read breaks no build,
// but the background trim then never runs; a GROVE_REMOTE that does not
// parse means no remote: doctor says so, whether the value comes from the
// environment or from a Cargo config's [env] table.
func TestDoctorBadTrimLimits(t *testing.T) {
	root := tinyRepo(t)
	if r := runGrove(t, root, "init"); r.code != 0 {
		t.Fatalf("grove init: %s", r.stderr)
	}
	store := "GROVE_DIR=" + filepath.Join(filepath.Dir(root), "store")
	doctor := func(extra ...string) []string {
		cmd := exec.Command(grove, "doctor", "--json")
		cmd.Dir, cmd.Env = root, env(append([]string{store}, extra...)...)
		out, _ := cmd.Output()
		var rep struct {
			Problems []struct{ Check, Message string }
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []string
		for _, p := range rep.Problems {
			got = append(got, p.Check)
		}
		return got
	}
	for v, want := range map[string]string{"GROVE_MAX_SIZE=NaN": "trim-limits", "GROVE_MAX_AGE=2w": "trim-limits", "GROVE_REMOTE=s4://x": "remote-config", "GROVE_REMOTE=file://relative": "remote-config"} {
		if got := doctor(v); strings.Join(got, ",") != want {
			t.Errorf("%s: problems %v, want [%s]", v, got, want)
		}
	}
	if got := doctor("GROVE_MAX_SIZE=20GiB", "GROVE_MAX_AGE=14d"); len(got) != 0 {
		t.Errorf("good limits: problems %v, want none", got)
	}
	f, err := os.OpenFile(filepath.Join(root, ".cargo", "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[env]\nGROVE_MAX_SIZE = \"10 gigs\"\n")
	f.Close()
	if got := doctor(); strings.Join(got, ",") != "trim-limits" {
		t.Errorf("[env] GROVE_MAX_SIZE: problems %v, want [trim-limits]", got)
	}
}

// In cache mode every worktree has a target dir of its own, also when the
// config is committed as the README says: `grove status` never calls the
// main worktree's target dir shared.
func TestStatusCacheModeCommittedNotShared(t *testing.T) {
	root := tinyRepo(t)
	if r := runGrove(t, root, "init"); r.code != 0 {
		t.Fatalf("grove init: %s", r.stderr)
	}
	run(t, root, "git", "add", ".cargo/config.toml")
	run(t, root, "git", "commit", "-q", "-m", "grove init")
	r := runGrove(t, root, "status", "--json")
	var st struct {
		Mode      string
		Worktrees []struct {
			Path   string
			Shared bool
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Mode != "cache" || len(st.Worktrees) != 1 {
		t.Fatalf("status: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if st.Worktrees[0].Shared {
		t.Errorf("cache mode: %s's target dir reported shared", st.Worktrees[0].Path)
	}
	if r := runGrove(t, root, "status"); strings.Contains(r.stdout, "(shared)") {
		t.Errorf("cache mode: status says (shared):\n%s", r.stdout)
	}
}

// An empty RUSTC_WRAPPER (or CARGO_BUILD_RUSTC_WRAPPER) makes Cargo run no
// wrapper, so builds bypass grove: doctor reports it like another wrapper.
func TestDoctorEmptyWrapperEnv(t *testing.T) {
	for _, k := range []string{"RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"} {
		t.Run(k, func(t *testing.T) {
			root := tinyRepo(t)
			if r := runGrove(t, root, "init"); r.code != 0 {
				t.Fatalf("grove init: %s", r.stderr)
			}
			cmd := exec.Command(grove, "doctor", "--json")
			cmd.Dir = root
			cmd.Env = env("GROVE_DIR="+filepath.Join(filepath.Dir(root), "store"), k+"=")
			out, err := cmd.Output()
			var rep struct {
				OK       bool
				Problems []struct{ Check, Message string }
			}
			if jerr := json.Unmarshal(out, &rep); jerr != nil {
				t.Fatalf("%v\n%s", jerr, out)
			}
			found := false
			for _, p := range rep.Problems {
				found = found || (p.Check == "environment" && strings.Contains(p.Message, k))
			}
			if !found || rep.OK || err == nil {
				t.Fatalf("doctor with %s= set: exit %v, problems %+v", k, err, rep.Problems)
			}
		})
	}
}

// `grove stats --zero --json` prints JSON like every other --json.
func TestStatsZeroJSON(t *testing.T) {
	root := tinyRepo(t)
	store := filepath.Join(filepath.Dir(root), "store")
	cmd := exec.Command(grove, "stats", "--zero", "--json")
	cmd.Dir = root
	cmd.Env = env("GROVE_DIR=" + store)
	out, err := cmd.Output()
	var res struct {
		Store  string `json:"store"`
		Zeroed bool   `json:"zeroed"`
	}
	if err != nil || json.Unmarshal(out, &res) != nil || !res.Zeroed || res.Store != store {
		t.Fatalf("grove stats --zero --json: %v\n%s", err, out)
	}
}
