// Package cache_test runs real cargo builds through the grove binary and
// checks the cache both ways: unchanged inputs hit, any changed input
// misses and produces the same result as plain cargo.
package cache_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"

	"github.com/grove-rs/grove/internal/testneed"
)

var groveBin string

func TestMain(m *testing.M) {
	code := func() int {
		if _, err := exec.LookPath("cargo"); err != nil {
			if testneed.Required("cargo") {
				fmt.Printf("FAIL: cargo is required (%s=%s) but not on PATH\n", testneed.Env, os.Getenv(testneed.Env))
				return 1
			}
			fmt.Printf("SKIP: cargo not on PATH (set %s=cargo to make this a failure)\n", testneed.Env)
			return 0
		}
		dir, err := os.MkdirTemp("", "grove-test-bin-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		groveBin = filepath.Join(dir, "grove")
		// grove-cli beside grove: grove hands it every command line
		// that is not a compile (grove stats, the remote's agent).
		cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/grove", "./cmd/grove-cli")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Printf("build grove: %v\n%s", err, out)
			return 1
		}
		defer printVerifySummary()
		// No background trim in the builds of these tests: one that
		// outlives its test would race with the test's own checks of the
		// store and its cleanup. TestTrimKeepsStoreBounded turns it on.
		os.Setenv("GROVE_AUTO_TRIM", "0")
		// Nor background compiles of restored members (should the
		// developer's environment turn them on), for the same reason; the
		// tests of incr_test.go turn them on.
		os.Setenv("GROVE_WARM_INCREMENTAL", "0")
		// Build-script runs are cached by default; most of these tests
		// count compile events and read target dirs as they were
		// written before, so runs are cached only where a test says so
		// (cacheRuns; TestBuildScriptRunByDefault leaves the default).
		os.Setenv("GROVE_CACHE_BUILD_SCRIPTS", "0")
		return m.Run()
	}()
	os.Exit(code)
}

// registryConfig is the source replacement of the corpus: crates come from
// Debian's packages, offline.
const registryConfig = `[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
`

func needRegistry(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/share/cargo/registry"); err != nil {
		testneed.Missing(t, "registry", "Debian crate registry not installed (run ../shared/corpus/setup.sh)")
	}
}

// env is one test's grove setup: its own store.
type env struct {
	t     *testing.T
	store string
	extra []string
	// verifyDiffOK: the test expects GROVE_VERIFY to find a difference.
	verifyDiffOK bool
}

func newEnv(t *testing.T) *env {
	return &env{t: t, store: filepath.Join(t.TempDir(), "store")}
}

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newRepo makes a git repository with files, committed.
func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	writeTree(t, dir, files)
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "init")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// build is the outcome of one cargo run.
type build struct {
	compiled []string // packages cargo did not find fresh
	events   []stats.Event
	stdout   string
}

func (b build) count(kind string) int {
	n := 0
	for _, e := range b.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (b build) crates(kind string) []string {
	var out []string
	for _, e := range b.events {
		if e.Kind == kind {
			out = append(out, e.Crate)
		}
	}
	return out
}

// cargo runs cargo in dir through grove (or plain, if grove is false) and
// returns what it compiled and what the wrapper did.
func (e *env) cargo(dir string, grove bool, args ...string) build {
	e.t.Helper()
	b, err := e.tryCargo(dir, grove, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) tryCargo(dir string, grove bool, args ...string) (build, error) {
	before, _ := stats.Read(e.store)
	full := append([]string{}, args...)
	if args[0] == "build" || args[0] == "check" || args[0] == "test" {
		full = append(full, "--message-format=json-render-diagnostics")
	}
	cmd := exec.Command("cargo", full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GROVE_DIR="+e.store, "CARGO_TERM_COLOR=never")
	if grove {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER="+groveBin)
	} else {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER=")
	}
	cmd.Env = append(cmd.Env, e.extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return build{}, fmt.Errorf("cargo %v in %s: %v\n%s", args, dir, err, stderr.String())
	}
	var b build
	b.stdout = stdout.String()
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var msg struct {
			Reason    string `json:"reason"`
			PackageID string `json:"package_id"`
			Fresh     bool   `json:"fresh"`
			Target    struct {
				Name string `json:"name"`
			} `json:"target"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Reason == "compiler-artifact" && !msg.Fresh {
			b.compiled = append(b.compiled, msg.Target.Name)
		}
	}
	after, _ := stats.Read(e.store)
	if len(after) > len(before) {
		b.events = after[len(before):]
	}
	if err := e.checkVerify(b.events); err != nil {
		return b, err
	}
	return b, nil
}

// run runs a built program and returns its stdout.
func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).Output()
	if err != nil {
		t.Fatalf("run %s: %v", prog, err)
	}
	return strings.TrimSpace(string(out))
}

// edit rewrites one file and makes sure its mtime moves forward, as an
// editor would, even within one clock tick.
func edit(t *testing.T, path, content string) {
	t.Helper()
	fi, _ := os.Stat(path)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi != nil {
		nfi, _ := os.Stat(path)
		if !nfi.ModTime().After(fi.ModTime()) {
			later := fi.ModTime().Add(10 * 1e6)
			os.Chtimes(path, later, later)
		}
	}
}

func mustEvents(t *testing.T, e *env) []stats.Event {
	t.Helper()
	evs, err := stats.Read(e.store)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
