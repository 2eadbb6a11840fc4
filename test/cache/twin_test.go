package cache_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/stats"
)

// A twin is one everyday scenario built twice, side by side: once with
// plain cargo and once through grove, each side in two worktrees ("a", the
// repository, and "b", a `git worktree add` of it) with their own target
// dirs. The grove side's worktrees share one store. Every step runs on both
// sides and returns what a user would observe (a program's output, a test
// run's verdict, an exit status); the two must be equal once each side's
// root directory is replaced by "<root>".
//
// This is how every trust rule is proven: not "grove hits", but "grove gives
// what plain cargo gives", in the second worktree too.
type twin struct {
	t            *testing.T
	plain, grove *side
}

// side is one of the two builds of a twin.
type side struct {
	t     *testing.T
	e     *env
	grove bool
	root  string            // holds the worktrees; replaced by <root> before comparing
	wts   map[string]string // worktree name → path
	name  string            // "plain" or "grove"
	// cargoProg is the program run as cargo ("cargo" when empty), e.g. a
	// script that sets a umask first.
	cargoProg string
}

// newTwin makes the two sides from files, committed, with worktree "a"
// holding the repository and "b" a worktree added at the same commit.
// Names may contain spaces or other characters (see newTwinNamed).
func newTwin(t *testing.T, files map[string]string) *twin {
	return newTwinNamed(t, files, "a", "b")
}

// newTwinNamed is newTwin with the two worktrees' directory names chosen,
// e.g. "wt A" to test paths with spaces.
func newTwinNamed(t *testing.T, files map[string]string, nameA, nameB string) *twin {
	t.Helper()
	tw := &twin{t: t}
	store := filepath.Join(t.TempDir(), "store")
	for _, g := range []bool{false, true} {
		s := &side{t: t, grove: g, name: "plain", wts: map[string]string{}}
		if g {
			s.name = "grove"
		}
		s.e = &env{t: t, store: store}
		s.root = filepath.Join(t.TempDir(), s.name)
		a := filepath.Join(s.root, nameA)
		writeTree(t, a, files)
		git(t, a, "init", "-q", "-b", "main")
		git(t, a, "add", "-A")
		git(t, a, "commit", "-q", "-m", "init")
		b := filepath.Join(s.root, nameB)
		if validBranch(nameB) {
			git(t, a, "worktree", "add", "-q", b)
		} else {
			// git names the new branch after the dir, which it must be able to
			git(t, a, "worktree", "add", "-q", "--detach", b)
		}
		s.wts["a"], s.wts["b"] = a, b
		if g {
			tw.grove = s
		} else {
			tw.plain = s
		}
	}
	return tw
}

// validBranch reports whether git accepts name as the branch that
// `git worktree add` names after the worktree's dir.
func validBranch(name string) bool {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return name != ""
}

// both runs an action with no observable result (an edit, a git command)
// on each side.
func (tw *twin) both(fn func(s *side)) {
	tw.t.Helper()
	fn(tw.plain)
	fn(tw.grove)
}

// step runs fn on both sides and fails the test if grove's observation
// differs from plain cargo's. It returns grove's observation.
func (tw *twin) step(desc string, fn func(s *side) string) string {
	tw.t.Helper()
	p := tw.plain.normalize(fn(tw.plain))
	g := tw.grove.normalize(fn(tw.grove))
	if p != g {
		tw.t.Errorf("%s: grove differs from plain cargo\nplain: %s\ngrove: %s", desc, p, g)
	}
	return g
}

func (s *side) normalize(out string) string {
	return strings.TrimSpace(strings.ReplaceAll(out, s.root, "<root>"))
}

// wt returns the path of a worktree by name ("a", "b", or one made with
// addWorktree).
func (s *side) wt(name string) string {
	p, ok := s.wts[name]
	if !ok {
		s.t.Fatalf("%s: no worktree %q", s.name, name)
	}
	return p
}

// addWorktree adds another worktree of "a" named name, at the commit of a.
func (s *side) addWorktree(name string) string {
	s.t.Helper()
	p := filepath.Join(s.root, name)
	git(s.t, s.wt("a"), "worktree", "add", "-q", "--detach", p)
	s.wts[name] = p
	return p
}

// cargo runs cargo in worktree wt, through grove on the grove side, and
// returns "ok" or "exit N" followed by cargo's stderr on failure (so that a
// failing step shows why). Output of tests and programs is left to run.
func (s *side) cargo(wt string, args ...string) string {
	s.t.Helper()
	return s.cargoEnv(wt, nil, args...)
}

// cargoEnv is cargo with extra environment variables (which may override
// RUSTC_WRAPPER, e.g. to build without grove).
func (s *side) cargoEnv(wt string, extra []string, args ...string) string {
	s.t.Helper()
	code, _, _ := s.cargoOut(wt, extra, args...)
	if code == 0 {
		return "ok"
	}
	return fmt.Sprintf("exit %d", code)
}

// cargoOut runs cargo and returns its exit status, stdout and stderr.
func (s *side) cargoOut(wt string, extra []string, args ...string) (int, string, string) {
	s.t.Helper()
	prog := "cargo"
	if s.cargoProg != "" {
		prog = s.cargoProg
	}
	cmd := exec.Command(prog, args...)
	cmd.Dir = s.wt(wt)
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+s.e.store, "CARGO_TERM_COLOR=never")
	if s.grove {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER="+groveBin)
	} else {
		cmd.Env = append(cmd.Env, "RUSTC_WRAPPER=")
	}
	cmd.Env = append(cmd.Env, s.e.extra...)
	cmd.Env = append(cmd.Env, extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	default:
		s.t.Fatalf("%s: cargo %v: %v", s.name, args, err)
		return -1, "", ""
	}
}

// cleanEnv is the test process's environment without the variables that
// would move a worktree's target dir or change how cargo reports.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "CARGO_TARGET_DIR" || k == "CARGO_BUILD_TARGET_DIR" || k == "RUSTFLAGS" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// test runs `cargo test` (with args) and returns the verdict of every test
// as cargo's harness prints it ("test it ... ok"), sorted, plus the exit
// status: the observable result of a test run, without timings.
func (s *side) test(wt string, args ...string) string {
	s.t.Helper()
	code, out, errOut := s.cargoOut(wt, nil, append([]string{"test"}, args...)...)
	var lines []string
	if code != 0 && !strings.Contains(out, "test result:") {
		// It did not get to run tests: say why.
		lines = append(lines, lastLines(errOut, 3))
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "test ") && !strings.HasPrefix(l, "test result:") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return fmt.Sprintf("exit %d\n%s", code, strings.Join(lines, "\n"))
}

// run runs a program of worktree wt (path relative to it, e.g.
// "target/debug/app") and returns its stdout and exit status.
func (s *side) run(wt, prog string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.wt(wt), prog), args...)
	cmd.Dir = s.wt(wt)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err := cmd.Run()
	status := "exit 0"
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = fmt.Sprintf("exit %d", ee.ExitCode())
	case err != nil:
		status = "cannot run: " + strings.ReplaceAll(err.Error(), s.wt(wt), "<wt>")
	}
	return strings.TrimSpace(stdout.String()) + "\n" + status
}

// write writes files into worktree wt, each with an mtime later than the
// file it replaces (as an editor would).
func (s *side) write(wt string, files map[string]string) {
	s.t.Helper()
	for p, c := range files {
		full := filepath.Join(s.wt(wt), p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			s.t.Fatal(err)
		}
		edit(s.t, full, c)
	}
}

// git runs git in worktree wt.
func (s *side) git(wt string, args ...string) string {
	s.t.Helper()
	return git(s.t, s.wt(wt), args...)
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	var ls []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// events returns the wrapper events recorded in the side's store so far
// (none on the plain side). Take its length before a step and slice after
// it to see what grove did in that step.
func (s *side) events() []stats.Event {
	s.t.Helper()
	if !s.grove {
		return nil
	}
	return mustEvents(s.t, s.e)
}

// toolchainBin returns the bin directory of the active toolchain (where the
// real rustc lives, not rustup's proxy).
func toolchainBin(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		t.Fatalf("rustc --print sysroot: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin")
}

// grove runs the grove CLI in worktree wt and returns "ok" or "exit N"
// with its output. Only the grove side has grove: on the plain side it does
// nothing and returns "ok", so a step that sets grove up and undoes it must
// leave the grove side as the plain side, which never had it.
func (s *side) groveCLI(wt string, args ...string) string {
	s.t.Helper()
	if !s.grove {
		return "ok"
	}
	_, out, err := s.groveOut(wt, args...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ee):
		return fmt.Sprintf("exit %d\n%s", ee.ExitCode(), out)
	default:
		s.t.Fatalf("grove %v: %v", args, err)
		return ""
	}
}

// groveOut runs the grove CLI (grove side only) and returns its stdout
// and combined output.
func (s *side) groveOut(wt string, args ...string) (stdout, combined string, err error) {
	s.t.Helper()
	cmd := exec.Command(groveBin, args...)
	cmd.Dir = s.wt(wt)
	cmd.Env = append(cleanEnv(), "GROVE_DIR="+s.e.store)
	var so, all bytes.Buffer
	cmd.Stdout = io.MultiWriter(&so, &all)
	cmd.Stderr = &all
	err = cmd.Run()
	return so.String(), all.String(), err
}

// cargoByConfig runs cargo in worktree wt with no RUSTC_WRAPPER in the
// environment, so the Cargo config files decide (grove is on PATH, as
// `grove init` expects), on both sides alike. It returns what cargo does.
func (s *side) cargoByConfig(wt string, extra []string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("cargo", args...)
	cmd.Dir = s.wt(wt)
	for _, kv := range cleanEnv() {
		if k, _, _ := strings.Cut(kv, "="); k != "RUSTC_WRAPPER" && k != "CARGO_BUILD_RUSTC_WRAPPER" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GROVE_DIR="+s.e.store, "CARGO_TERM_COLOR=never",
		"PATH="+filepath.Dir(groveBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, extra...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Sprintf("%v\n%s", err, lastLines(stderr.String(), 3))
	}
	return "ok"
}

// tree lists the files under dir of worktree wt with their contents, for
// comparing what a command left behind.
func (s *side) tree(wt, dir string) string {
	s.t.Helper()
	root := filepath.Join(s.wt(wt), dir)
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.wt(wt), p)
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", rel)
			return nil
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(&b, "%s: %q %v\n", rel, data, err)
		return nil
	})
	if err != nil {
		fmt.Fprintf(&b, "%v\n", strings.ReplaceAll(err.Error(), s.wt(wt), "<wt>"))
	}
	return b.String()
}

// alias names a directory inside worktree wt (rel to it, e.g. "rust" for a
// Cargo workspace in a subdirectory), so that cargo, run and the other
// steps can run there: s.cargo("a/rust", "build").
func (s *side) alias(name, wt, rel string) {
	s.wts[name] = filepath.Join(s.wt(wt), rel)
}
