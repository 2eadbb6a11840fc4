// Package e2e runs the grove binary as a user would, on real git
// repositories and real cargo builds.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/testneed"
)

// grove is the binary built once by TestMain, with cargo-grove beside it.
var grove string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "grove-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	grove = filepath.Join(dir, "grove")
	// grove-cli and cargo-grove beside grove: grove runs grove-cli for
	// its commands; `cargo grove ...` (grove's dir is on PATH).
	build := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/grove", "./cmd/grove-cli", "./cmd/cargo-grove")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	// No background compiles of restored members (should the
	// environment turn them on): one that outlives its test would race
	// with the test's cleanup.
	os.Setenv("GROVE_WARM_INCREMENTAL", "0")
	return m.Run()
}

// env is the environment of every subprocess: no build redirection, a
// fixed git identity, grove on PATH.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER",
			"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE":
			continue
		case "PATH":
			kv = "PATH=" + filepath.Dir(grove) + string(os.PathListSeparator) + os.Getenv("PATH")
		}
		out = append(out, kv)
	}
	out = append(out, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	// No background trim outliving a test and racing with its cleanup.
	out = append(out, "GROVE_AUTO_TRIM=0")
	return append(out, extra...)
}

type result struct {
	stdout, stderr string
	code           int
}

func runGrove(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(grove, args...)
	cmd.Dir = dir
	cmd.Env = env("GIT_CEILING_DIRECTORIES=" + filepath.Dir(dir))
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{so.String(), se.String(), 0}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("grove %v: %v", args, err)
	}
	return r
}

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tinyRepo(t *testing.T) string {
	t.Helper()
	base, _ := filepath.EvalSymlinks(t.TempDir())
	root := filepath.Join(base, "repo")
	writeFile(t, filepath.Join(root, "Cargo.toml"), "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
	writeFile(t, filepath.Join(root, "src", "main.rs"), "fn main() {}\n")
	writeFile(t, filepath.Join(root, ".gitignore"), "/target\n")
	run(t, root, "git", "init", "-q", "-b", "main")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-q", "-m", "init")
	return root
}

// snapshot maps every file and dir under dir (git objects aside) to its
// bytes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "objects" || d.Name() == "logs") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && d.Name() != "index" {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		} else {
			out[p] = d.Type().String()
		}
		return nil
	})
	return out
}

func assertSame(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			t.Errorf("%s changed or disappeared", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		}
	}
}

// TestBadInput: each case gives one clear line on stderr, a non-zero
// exit, and no file changes.
func TestBadInput(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T) string // returns the dir to run in
		args  [][]string
		msg   string
		code  int
	}
	allCmds := [][]string{{"init", "--shared"}, {"init"}, {"off"}, {"status"}, {"reclaim", "--yes"}, {"doctor"}}
	cases := []tc{
		{
			name:  "not a git repository",
			setup: func(t *testing.T) string { d, _ := filepath.EvalSymlinks(t.TempDir()); return d },
			args:  allCmds, msg: "is not inside a git repository", code: 1,
		},
		{
			name: "no Cargo.toml",
			setup: func(t *testing.T) string {
				root := tinyRepo(t)
				run(t, root, "git", "rm", "-q", "Cargo.toml")
				return root
			},
			args: allCmds, msg: "has no Cargo.toml", code: 1,
		},
		{
			name: "malformed config",
			setup: func(t *testing.T) string {
				root := tinyRepo(t)
				writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[build]\ntarget-dir = \n")
				return root
			},
			args: [][]string{{"init", "--shared"}, {"init"}, {"off"}, {"status"}, {"reclaim", "--yes"}},
			msg:  ".cargo/config.toml is not valid TOML: line 2", code: 1,
		},
		{
			// A committed config is fine for shared mode (test/cache's
			// TestSharedModeCommittedConfig), unless it sets target-dir.
			name: "committed config that sets target-dir",
			setup: func(t *testing.T) string {
				root := tinyRepo(t)
				writeFile(t, filepath.Join(root, ".cargo", "config.toml"), "[build]\ntarget-dir = \"out\"\n")
				run(t, root, "git", "add", ".cargo/config.toml")
				run(t, root, "git", "commit", "-q", "-m", "config")
				return root
			},
			args: [][]string{{"init", "--shared"}},
			msg:  ".cargo/config.toml is committed and sets build.target-dir", code: 1,
		},
		{
			name: "read-only repository",
			setup: func(t *testing.T) string {
				root := tinyRepo(t)
				makeReadOnly(t, root)
				return root
			},
			args: [][]string{{"init", "--shared"}, {"init"}},
			msg:  "cannot write", code: 1,
		},
		{
			name:  "usage: --all without --shared",
			setup: func(t *testing.T) string { return tinyRepo(t) },
			args:  [][]string{{"init", "--all"}},
			msg:   "--all only applies with --shared", code: 2,
		},
		{
			// cobra calls a stray argument an "unknown command".
			name:  "usage: stray argument",
			setup: func(t *testing.T) string { return tinyRepo(t) },
			args:  [][]string{{"status", "extra"}, {"doctor", "extra"}, {"stats", "--json", "extra"}},
			msg:   "unexpected argument \"extra\"", code: 2,
		},
		{
			name:  "usage: reclaim without a terminal",
			setup: func(t *testing.T) string { return tinyRepo(t) },
			args:  [][]string{{"reclaim"}},
			msg:   "pass --yes", code: 2,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.setup(t)
			// reclaim without a terminal needs something to reclaim to ask.
			if c.name == "usage: reclaim without a terminal" {
				run(t, dir, "cargo", "build", "-q", "--offline")
				if r := runGrove(t, dir, "init", "--shared"); r.code != 0 {
					t.Fatal(r.stderr)
				}
			}
			before := snapshot(t, dir)
			for _, args := range c.args {
				r := runGrove(t, dir, args...)
				lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
				if r.code != c.code || len(lines) != 1 || !strings.HasPrefix(lines[0], "grove: ") || !strings.Contains(lines[0], c.msg) {
					t.Errorf("grove %v: exit %d, stderr %q; want exit %d and one line with %q", args, r.code, r.stderr, c.code, c.msg)
				}
			}
			assertSame(t, before, snapshot(t, dir))
		})
	}
}

// makeReadOnly makes dir read-only even for root (tests run as root,
// which ignores permission bits): a read-only bind mount, else chattr +i.
func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if undo, ok := bindReadOnly(dir); ok {
		t.Cleanup(undo)
		return
	}
	if out, err := exec.Command("chattr", "-R", "+i", dir).CombinedOutput(); err == nil {
		t.Cleanup(func() { exec.Command("chattr", "-R", "-i", dir).Run() })
		return
	} else {
		testneed.Missing(t, "mount", fmt.Sprintf("cannot make a directory read-only for root here: no bind mount, chattr: %v %s", err, out))
	}
}

func TestHelp(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"init", "off", "status", "reclaim", "doctor"} {
		r := runGrove(t, dir, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--json") {
			t.Errorf("grove %s --help: exit %d\n%s", c, r.code, r.stdout)
		}
	}
}

// status is the part of `grove status --json` the tests read.
type status struct {
	Mode      string `json:"mode"`
	SharedDir string `json:"shared_dir"`
	Worktrees []struct {
		Path      string `json:"path"`
		TargetDir string `json:"target_dir"`
		Shared    bool   `json:"shared"`
		Building  bool   `json:"building"`
	} `json:"worktrees"`
	Reclaim []struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
	} `json:"reclaim"`
	ReclaimBytes int64 `json:"reclaim_bytes"`
}

func getStatus(t *testing.T, dir string) status {
	t.Helper()
	r := runGrove(t, dir, "status", "--json")
	if r.code != 0 {
		t.Fatalf("status: %s", r.stderr)
	}
	var st status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status json: %v\n%s", err, r.stdout)
	}
	return st
}

func reclaim(t *testing.T, dir string) int64 {
	t.Helper()
	r := runGrove(t, dir, "reclaim", "--yes", "--json")
	if r.code != 0 {
		t.Fatalf("reclaim: %s", r.stderr)
	}
	var out struct {
		Result struct {
			Freed int64 `json:"freed_bytes"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out.Result.Freed
}

// TestTinyWorkflow: the seed's steps with grove alone on a small
// workspace, status while a build holds the lock, and undo with off.
func TestTinyWorkflow(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err != nil {
		testneed.Missing(t, "cargo", err)
	}
	root := tinyRepo(t)
	a := filepath.Join(root, "worktrees", "a")
	run(t, root, "git", "worktree", "add", "-q", "-b", "a", a)
	run(t, a, "cargo", "build", "-q", "--offline")
	cfgBefore := "# mine\n[net]\noffline = true\n"
	writeFile(t, filepath.Join(root, ".cargo", "config.toml"), cfgBefore)

	r := runGrove(t, a, "init", "--shared")
	if r.code != 0 || !strings.Contains(r.stdout, "covered") {
		t.Fatalf("init: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runGrove(t, a, "init", "--shared"); !strings.Contains(r.stdout, "nothing changed") {
		t.Fatalf("second init: %s", r.stdout)
	}
	st := getStatus(t, root)
	if st.Mode != "shared" || len(st.Reclaim) != 1 || st.Reclaim[0].Path != filepath.Join(a, "target") || st.ReclaimBytes == 0 {
		t.Fatalf("status: %+v", st)
	}
	if freed := reclaim(t, root); freed != st.ReclaimBytes {
		t.Fatalf("reclaim freed %d, status said %d", freed, st.ReclaimBytes)
	}

	// A build in progress shows as "building".
	writeFile(t, filepath.Join(a, "build.rs"), "fn main() { std::thread::sleep(std::time::Duration::from_secs(3)); }\n")
	build := exec.Command("cargo", "build", "-q", "--offline")
	build.Dir, build.Env = a, env()
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	seen := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !seen; time.Sleep(100 * time.Millisecond) {
		for _, w := range getStatus(t, root).Worktrees {
			seen = seen || (w.Path == a && w.Building && w.Shared)
		}
	}
	if err := build.Wait(); err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Error("status never showed the build")
	}
	if r := runGrove(t, root, "doctor"); r.code != 0 {
		t.Errorf("doctor: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runGrove(t, root, "off"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, ".cargo", "config.toml")); string(b) != cfgBefore {
		t.Fatalf("off left %q", b)
	}
	if r := runGrove(t, root, "doctor"); r.code != 1 || !strings.Contains(r.stdout, "grove init") {
		t.Errorf("doctor after off: %d %s", r.code, r.stdout)
	}
}

// corpus is the shared benchmark workspace next to the repository
// (../shared/corpus/ws), or GROVE_CORPUS, as in test/cache.
func corpus() string {
	if dir := os.Getenv("GROVE_CORPUS"); dir != "" {
		return dir
	}
	return "../../shared/corpus/ws"
}

// TestCorpusSharedTarget is the end-to-end case on the real
// 280-crate corpus: after grove init --shared and one cold build in
// worktree a, the first build of a fresh worktree b compiles no
// dependency unit; and grove reclaim frees what grove status said.
func TestCorpusSharedTarget(t *testing.T) {
	if _, err := os.Stat("/usr/share/cargo/registry"); err != nil {
		testneed.Missing(t, "registry", "corpus crate sources missing (/usr/share/cargo/registry): run ../shared/corpus/setup.sh")
	}
	src, err := filepath.Abs(corpus())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(src, "Cargo.toml")); err != nil {
		testneed.Missing(t, "corpus", "not found at "+src+" (set GROVE_CORPUS)")
	}
	if testing.Short() {
		t.Skip("corpus build takes minutes; skipped with -short")
	}
	base, _ := filepath.EvalSymlinks(t.TempDir())
	root := filepath.Join(base, "corpus")
	run(t, base, "cp", "-a", src, root)
	run(t, root, "chmod", "-R", "u+w", ".")
	os.RemoveAll(filepath.Join(root, "target"))
	// The corpus's config holds the offline source replacement: keep it,
	// untracked, as the seed's config is.
	writeFile(t, filepath.Join(root, ".gitignore"), "/target\n/.cargo/config.toml\n")
	cfgBefore, _ := os.ReadFile(filepath.Join(root, ".cargo", "config.toml"))
	run(t, root, "git", "init", "-q", "-b", "main")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-q", "-m", "corpus")
	a := filepath.Join(root, "worktrees", "a")
	run(t, root, "git", "worktree", "add", "-q", "-b", "a", a)

	if r := runGrove(t, root, "init", "--shared"); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	cfg, _ := os.ReadFile(filepath.Join(root, ".cargo", "config.toml"))
	if !bytes.HasPrefix(cfg, cfgBefore) || !strings.Contains(string(cfg), "target-dir = \""+filepath.Join(root, ".shared-target")+"\"") {
		t.Fatalf("config after init:\n%s", cfg)
	}

	// go test's default 10-minute timeout panics without a word on what
	// was slow; a build still running near the deadline fails clearly.
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-30*time.Second))
		defer cancel()
	}
	t0 := time.Now()
	cold := exec.CommandContext(ctx, "cargo", "build", "--offline", "-q")
	cold.Dir, cold.Env = a, env()
	if out, err := cold.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("cold corpus build in worktree a not done after %s (machine busy? uptime load: %s); run with -timeout 30m", time.Since(t0).Round(time.Second), loadavg())
		}
		t.Fatalf("cold build in a: %v\n%s", err, out)
	}
	t.Logf("cold build in worktree a: %.1fs", time.Since(t0).Seconds())

	b := filepath.Join(root, "worktrees", "b")
	run(t, root, "git", "worktree", "add", "-q", "-b", "b", b)
	t0 = time.Now()
	cmd := exec.CommandContext(ctx, "cargo", "build", "--offline", "--message-format=json")
	cmd.Dir, cmd.Env = b, env()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build in b: %v", err)
	}
	t.Logf("first build in fresh worktree b: %.1fs", time.Since(t0).Seconds())
	var deps, depsFresh, members int
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var msg struct {
			Reason    string `json:"reason"`
			PackageID string `json:"package_id"`
			Fresh     bool   `json:"fresh"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.Reason != "compiler-artifact" {
			continue
		}
		if strings.HasPrefix(msg.PackageID, "path+file://") {
			members++
			continue
		}
		deps++
		if msg.Fresh {
			depsFresh++
		}
	}
	t.Logf("worktree b: %d dependency units, %d fresh; %d workspace units", deps, depsFresh, members)
	if deps < 250 || depsFresh != deps {
		t.Fatalf("worktree b compiled %d dependency units (of %d); want 0", deps-depsFresh, deps)
	}

	// A target/ that worktree a built before init (a copy of a real one,
	// hardlinks and all) is obsolete now: status lists it, reclaim frees
	// exactly that.
	run(t, root, "cp", "-a", filepath.Join(root, ".shared-target"), filepath.Join(a, "target"))
	st := getStatus(t, root)
	if len(st.Reclaim) != 1 || st.Reclaim[0].Path != filepath.Join(a, "target") || st.ReclaimBytes < 100<<20 {
		t.Fatalf("status: %+v", st.Reclaim)
	}
	for _, w := range st.Worktrees {
		if !w.Shared {
			t.Errorf("worktree %s not on the shared dir: %s", w.Path, w.TargetDir)
		}
	}
	if freed := reclaim(t, root); freed != st.ReclaimBytes {
		t.Fatalf("reclaim freed %d, status said %d", freed, st.ReclaimBytes)
	}
	t.Logf("reclaimed %d bytes, as status said", st.ReclaimBytes)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}
