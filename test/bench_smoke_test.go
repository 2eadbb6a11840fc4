package e2e

// CI smoke test of `grove bench`: a reduced run on a tiny generated
// workspace (1 run, 2 scenarios) must complete, clean up after itself, and
// write well-formed JSON and SVG. It never asserts timings. The helpers
// carry a Bench suffix: other files of this package have their own.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/bench/report"

	"github.com/grove-rs/grove/internal/testneed"
)

// buildGroveForBench builds ./cmd/grove and ./cmd/grove-cli into the
// test's temp dir and returns grove's path. Each test builds its own (Go's build cache
// makes the second build a link) so nothing outlives the test.
func buildGroveForBench(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/grove", "./cmd/grove-cli")
	cmd.Dir = ".." // the module root; tests run in test/
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/grove ./cmd/grove-cli: %v\n%s", err, out)
	}
	return filepath.Join(dir, "grove")
}

func requireToolsForBench(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testneed.Missing(t, tool, err)
		}
	}
}

// tinyWorkspaceForBench writes a two-crate workspace without dependencies
// (it builds offline in about a second) and commits it twice.
func tinyWorkspaceForBench(t *testing.T) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "tiny")
	files := map[string]string{
		"Cargo.toml":             "[workspace]\nmembers = [\"crates/core\", \"crates/app\"]\nresolver = \"2\"\n",
		"crates/core/Cargo.toml": "[package]\nname = \"tiny-core\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"crates/core/src/lib.rs": "pub fn add(a: u64, b: u64) -> u64 {\n    a + b\n}\n",
		"crates/app/Cargo.toml":  "[package]\nname = \"tiny-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntiny-core = { path = \"../core\" }\n",
		"crates/app/src/main.rs": "fn main() {\n    println!(\"{}\", tiny_core::add(1, 2));\n}\n",
		".gitignore":             "/target\n",
	}
	for name, content := range files {
		p := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitForBench(t, ws, "init", "-q", "-b", "main")
	gitForBench(t, ws, "add", "-A")
	gitForBench(t, ws, "commit", "-q", "-m", "one")
	return ws
}

func gitForBench(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgSign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestBenchSmoke(t *testing.T) {
	requireToolsForBench(t, "git", "cargo", "go")
	grove := buildGroveForBench(t)
	ws := tinyWorkspaceForBench(t)
	out := filepath.Join(t.TempDir(), "out")
	tmp := t.TempDir() // TMPDIR of the run: must stay empty

	cmd := exec.Command(grove, "bench", "--repo", ws, "--runs", "1",
		"--scenarios", "cold,fresh-worktree", "--strategies", "plain,shared,grove,grove-seeded",
		"--out", out, "--json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("grove bench: %v\nstderr:\n%s", err, stderr.String())
	}

	// The JSON on stdout and the file agree and hold every sample.
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout.String())
	}
	file, err := os.Open(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	fromFile, err := report.ReadJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromFile.Samples) != len(rep.Samples) {
		t.Errorf("bench.json has %d samples, stdout %d", len(fromFile.Samples), len(rep.Samples))
	}
	ran := 0
	for _, st := range rep.Strategies {
		if !st.Skipped {
			ran++
		} else if st.Name != "grove-seeded" {
			t.Errorf("strategy %s skipped: %s", st.Name, st.Note)
		}
	}
	if want := 2 * ran; len(rep.Samples) != want {
		t.Errorf("%d samples, want %d (2 scenarios × %d strategies × 1 run)", len(rep.Samples), want, ran)
	}
	for _, s := range rep.Samples {
		if s.Error != "" {
			t.Errorf("%s/%s failed: %s", s.Scenario, s.Strategy, s.Error)
		}
		if s.Scenario == "cold" && s.UnitsCompiled == 0 {
			t.Errorf("%s/%s: cold build compiled no units", s.Scenario, s.Strategy)
		}
	}
	if len(rep.Summaries) != 2*ran {
		t.Errorf("%d summaries, want %d", len(rep.Summaries), 2*ran)
	}

	checkSVGForBench(t, filepath.Join(out, "bench.svg"))

	// Cleanup: only the results are left; the user's repository is as it was.
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "bench.json,bench.svg" {
		t.Errorf("output dir holds %v, want only bench.json and bench.svg", names)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
	if wt := gitForBench(t, ws, "worktree", "list", "--porcelain"); strings.Count(wt, "worktree ") != 1 {
		t.Errorf("the user's repository got worktrees:\n%s", wt)
	}
	if st := gitForBench(t, ws, "status", "--porcelain", "--ignored"); st != "" {
		t.Errorf("the user's repository changed:\n%s", st)
	}
}

// checkSVGForBench parses the chart with encoding/xml.
func checkSVGForBench(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q, want svg", path, root)
	}
}

// TestBenchInterruptCleansUp interrupts a benchmark in the middle of a
// build (a stand-in cargo that sleeps) and checks that grove bench stops
// promptly, exits 1 and leaves no work dir behind.
func TestBenchInterruptCleansUp(t *testing.T) {
	requireToolsForBench(t, "git", "go")
	grove := buildGroveForBench(t)
	ws := tinyWorkspaceForBench(t)
	out := filepath.Join(t.TempDir(), "out")
	bin := t.TempDir()
	fake := "#!/bin/sh\ncase \"$1\" in build) exec sleep 60;; *) echo 'cargo 0.0.0 (fake)';; esac\n"
	if err := os.WriteFile(filepath.Join(bin, "cargo"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(grove, "bench", "--repo", ws, "--runs", "1", "--scenarios", "cold", "--strategies", "plain", "--out", out)
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		var seen strings.Builder
		signalled := false
		for {
			n, err := pr.Read(buf)
			seen.Write(buf[:n])
			if !signalled && strings.Contains(seen.String(), "cold · plain") {
				signalled = true
				close(started)
			}
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the build step never started")
	}
	time.Sleep(300 * time.Millisecond) // let the stand-in cargo start
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); pw.Close() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want exit code 1", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("grove bench did not stop within 30 s of SIGINT")
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "grove-bench-work-") {
			t.Errorf("work dir %s left behind", e.Name())
		}
	}
	if wt := gitForBench(t, ws, "worktree", "list", "--porcelain"); strings.Count(wt, "worktree ") != 1 {
		t.Errorf("the user's repository got worktrees:\n%s", wt)
	}
}

// TestBenchBadInput checks the one-line errors and exit codes.
func TestBenchBadInput(t *testing.T) {
	requireToolsForBench(t, "git", "go")
	grove := buildGroveForBench(t)
	notRepo := t.TempDir()
	noCargo := t.TempDir()
	gitForBench(t, noCargo, "init", "-q")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown strategy", []string{"--strategies", "plain,turbo"}, 2, `unknown strategy "turbo"`},
		{"unknown scenario", []string{"--scenarios", "warm"}, 2, `unknown scenario "warm"`},
		{"zero runs", []string{"--runs", "0"}, 2, "--runs"},
		{"not a git repo", []string{"--repo", notRepo}, 1, "not a git repository"},
		{"no Cargo.toml", []string{"--repo", noCargo}, 1, "no Cargo.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(grove, append([]string{"bench", "--out", out}, tc.args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want %d; stderr: %s", err, tc.code, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q, want one line with %q", msg, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("bad input left an output dir")
			}
		})
	}
}
