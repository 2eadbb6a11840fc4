package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/bench/report"

	"github.com/grove-rs/grove/internal/testneed"
)

// fakeCargo stands in for cargo so the orchestration can be tested in
// milliseconds: `build` writes a file into the target dir it was given and
// reports one compiled and one fresh unit; `metadata` describes a
// one-package workspace.
const fakeCargo = `#!/bin/sh
case "$1" in
-V) echo "cargo 0.0.0 (fake)" ;;
metadata)
	printf '{"packages":[{"id":"core","name":"core","dependencies":[],"targets":[{"kind":["lib"],"src_path":"%s/src/lib.rs"}]}],"workspace_members":["core"]}\n' "$(pwd)" ;;
build)
	[ -n "$CARGO_BUILD_TARGET_DIR" ] || { echo "no target dir set" >&2; exit 1; }
	mkdir -p "$CARGO_BUILD_TARGET_DIR/debug" || exit 1
	head -c 65536 /dev/zero > "$CARGO_BUILD_TARGET_DIR/debug/out-$$"
	grep -q grove_bench_ src/lib.rs && echo edited > "$CARGO_BUILD_TARGET_DIR/debug/edited-$$"
	[ -z "$FAKE_CARGO_LOG" ] || echo "$(pwd) $(cksum < src/lib.rs | tr ' ' -)" >> "$FAKE_CARGO_LOG"
	echo '{"reason":"compiler-artifact","fresh":false}'
	echo '{"reason":"compiler-artifact","fresh":true}'
	echo '{"reason":"build-finished","success":true}' ;;
*) echo "fake cargo: unexpected $*" >&2; exit 2 ;;
esac
`

// setupFakeRepo puts the fake cargo first on PATH and returns a git
// repository with commits commits of a one-crate workspace.
func setupFakeRepo(t *testing.T, commits int) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		testneed.Missing(t, "git", err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "cargo"), []byte(fakeCargo), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	repo := filepath.Join(t.TempDir(), "repo")
	write := func(name, content string) {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Cargo.toml", "[package]\nname = \"core\"\nversion = \"0.1.0\"\n")
	write("src/lib.rs", "pub fn f() {}\n")
	write(".gitignore", "/target\n/.cargo/\n")
	write(".cargo/config.toml", "[net]\noffline = true\n") // untracked: must travel
	run := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@x", "-c", "commit.gpgSign=false"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q")
	run("add", "-A")
	run("commit", "-q", "-m", "one")
	for i := 2; i <= commits; i++ {
		write("src/lib.rs", strings.Repeat("pub fn f() {}\n", i))
		run("commit", "-q", "-am", "more")
	}
	return repo
}

func TestRunChainsEveryScenario(t *testing.T) {
	repo := setupFakeRepo(t, 2)
	out := t.TempDir()
	rep, err := Run(t.Context(), Options{
		Repo: repo, Runs: 2, Scenarios: ScenarioNames(), Strategies: []string{Plain, Shared},
		Out: out, Parallel: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.From == "" || rep.To == "" || rep.From == rep.To {
		t.Errorf("commits not resolved: from %q to %q", rep.From, rep.To)
	}
	if rep.EditFile != "src/lib.rs" {
		t.Errorf("edit file %q", rep.EditFile)
	}
	counts := map[string]int{}
	for _, s := range rep.Samples {
		if s.Error != "" {
			t.Errorf("%s/%s run %d: %s", s.Scenario, s.Strategy, s.Run, s.Error)
		}
		counts[s.Scenario+"/"+s.Strategy]++
	}
	for _, sc := range ScenarioNames() {
		for _, row := range Rows(sc) {
			for _, st := range []string{Plain, Shared} {
				if counts[row+"/"+st] != 2 {
					t.Errorf("%s/%s: %d samples, want one per run", row, st, counts[row+"/"+st])
				}
			}
		}
	}
	// Rounds alternate: round 1 starts with plain, round 2 with shared.
	if rep.Samples[0].Strategy != Plain || firstOfRun(rep.Samples, 2) != Shared {
		t.Errorf("rounds do not rotate the strategies: round 1 %s, round 2 %s", rep.Samples[0].Strategy, firstOfRun(rep.Samples, 2))
	}
	for _, s := range rep.Samples {
		switch {
		case s.Scenario == Parallel && s.UnitsCompiled != 3:
			t.Errorf("parallel/%s: %d units compiled, want one per worktree (3)", s.Strategy, s.UnitsCompiled)
		case s.Scenario == Disk && (s.Worktrees != 6 || s.DiskBytes <= 0):
			// cold A, fresh B, edit-loop C, 3 parallel: already ≥ N, so no more are added.
			t.Errorf("disk/%s: %d bytes in %d worktrees, want >0 in 6", s.Strategy, s.DiskBytes, s.Worktrees)
		case s.Scenario == Cold && s.Worktrees != 1:
			t.Errorf("cold/%s: %d worktrees", s.Strategy, s.Worktrees)
		}
	}
	if len(rep.Summaries) != (len(ScenarioNames())+1)*2 { // edit-loop has two rows
		t.Errorf("%d summaries", len(rep.Summaries))
	}
	assertCleanedUp(t, out, repo)
}

// edit-loop builds a new worktree, then edits it twice, each build with
// source text no build of the session had before, so no cache can serve
// the edited crate; the first build (the new worktree's) is not a sample.
func TestEditLoopEditsANewWorktreeTwice(t *testing.T) {
	repo := setupFakeRepo(t, 1)
	log := filepath.Join(t.TempDir(), "builds")
	t.Setenv("FAKE_CARGO_LOG", log)
	out := t.TempDir()
	rep, err := Run(t.Context(), Options{Repo: repo, Runs: 1, Scenarios: []string{Cold, FreshWorktree, Edit, EditLoop},
		Strategies: []string{Plain}, Out: out, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, s := range rep.Samples {
		if s.Error != "" {
			t.Errorf("%s: %s", s.Scenario, s.Error)
		}
		rows = append(rows, s.Scenario)
	}
	if want := []string{Cold, FreshWorktree, Edit, EditLoopFirst, EditLoopSecond}; !slices.Equal(rows, want) {
		t.Fatalf("samples %v, want %v", rows, want)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// One line per build: the tree, then the edit file's checksum.
	type build struct{ tree, sum string }
	var builds []build
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		tree, sum, _ := strings.Cut(l, " ")
		builds = append(builds, build{tree, sum})
	}
	if len(builds) != 6 { // cold, fresh, edit, then the loop's tree 3 times
		t.Fatalf("%d builds, want 6:\n%s", len(builds), b)
	}
	loop := builds[3:]
	for i, bd := range builds[:3] {
		if bd.tree == loop[0].tree {
			t.Errorf("build %d was in the edit loop's tree: it is not new", i+1)
		}
	}
	seen := map[string]bool{}
	for _, bd := range builds[:4] {
		seen[bd.sum] = true // the new tree's first build is of the commit
	}
	for i, bd := range loop[1:] {
		if bd.tree != loop[0].tree {
			t.Errorf("edit %d built %s, not the loop's tree %s", i+1, bd.tree, loop[0].tree)
		}
		if seen[bd.sum] {
			t.Errorf("edit %d built source text built before", i+1)
		}
		seen[bd.sum] = true
	}
	assertCleanedUp(t, out, repo)
}

func firstOfRun(samples []report.Sample, run int) string {
	for _, s := range samples {
		if s.Run == run {
			return s.Strategy
		}
	}
	return ""
}

func TestRunSingleCommit(t *testing.T) {
	repo := setupFakeRepo(t, 1)
	t.Run("skips next-commit with a note", func(t *testing.T) {
		out := t.TempDir()
		rep, err := Run(t.Context(), Options{Repo: repo, Runs: 1, Scenarios: []string{Cold, NextCommit},
			Strategies: []string{Plain}, Out: out, Parallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Scenarios) != 1 || rep.Scenarios[0] != Cold {
			t.Errorf("scenarios %v, want only cold", rep.Scenarios)
		}
		if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "single commit") {
			t.Errorf("notes %v", rep.Notes)
		}
		assertCleanedUp(t, out, repo)
	})
	t.Run("next-edit makes a synthetic commit", func(t *testing.T) {
		out := t.TempDir()
		rep, err := Run(t.Context(), Options{Repo: repo, Runs: 1, Scenarios: []string{NextCommit},
			Strategies: []string{Plain}, Out: out, Parallel: 1, NextEdit: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Samples) != 1 || rep.Samples[0].Scenario != NextCommit || rep.Samples[0].Error != "" {
			t.Fatalf("samples %+v", rep.Samples)
		}
		head, _ := git(t.Context(), repo, "rev-parse", "HEAD")
		if rep.From != head || rep.To == head {
			t.Errorf("from %s to %s, want from the repository's HEAD %s to a new commit", rep.From, rep.To, head)
		}
		if _, err := git(t.Context(), repo, "cat-file", "-e", rep.To); err == nil {
			t.Error("the synthetic commit landed in the user's repository")
		}
		assertCleanedUp(t, out, repo)
	})
}

func TestRunBuildFailureIsASample(t *testing.T) {
	repo := setupFakeRepo(t, 1)
	out := t.TempDir()
	// A cargo whose builds fail: the failure is the cold sample, the
	// scenarios after it are marked not run, and Run itself succeeds.
	bin := t.TempDir()
	broken := "#!/bin/sh\n[ \"$1\" = build ] && { echo 'error: boom' >&2; exit 101; }\nexec " + filepath.Join(firstPathDir(t), "cargo") + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "cargo"), []byte(broken), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	rep, err := Run(t.Context(), Options{Repo: repo, Runs: 1, Scenarios: []string{Cold, Noop, FreshWorktree},
		Strategies: []string{Plain}, Out: out, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Samples) != 3 {
		t.Fatalf("%d samples, want 3 (one failed, two not run): %+v", len(rep.Samples), rep.Samples)
	}
	if !strings.Contains(rep.Samples[0].Error, "boom") || !strings.Contains(rep.Samples[1].Error, "not run") {
		t.Errorf("errors: %q / %q", rep.Samples[0].Error, rep.Samples[1].Error)
	}
	assertCleanedUp(t, out, repo)
}

func firstPathDir(t *testing.T) string {
	t.Helper()
	return strings.Split(os.Getenv("PATH"), string(os.PathListSeparator))[0]
}

func TestRunRejectsBadRepos(t *testing.T) {
	notGit := t.TempDir()
	if _, err := Run(t.Context(), Options{Repo: notGit, Runs: 1, Parallel: 1, Out: t.TempDir(),
		Scenarios: []string{Cold}, Strategies: []string{Plain}}); err == nil || !strings.Contains(err.Error(), "not a git repository") {
		t.Errorf("not a git repo: %v", err)
	}
}

// assertCleanedUp checks that nothing but results is left in out and that
// the user's repository has no extra worktrees and no changes.
func assertCleanedUp(t *testing.T, out, repo string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(out, "grove-bench-work-*")); len(left) != 0 {
		t.Errorf("work dirs left: %v", left)
	}
	wt, _ := git(t.Context(), repo, "worktree", "list", "--porcelain")
	if strings.Count(wt, "worktree ") != 1 {
		t.Errorf("the repository got worktrees:\n%s", wt)
	}
	st, _ := git(t.Context(), repo, "status", "--porcelain")
	if st != "" {
		t.Errorf("the repository changed:\n%s", st)
	}
}
