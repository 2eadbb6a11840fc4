package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/bench/report"
)

// session is one strategy's turn in one round: a fresh strategy state
// and a chain of scenarios, each starting from what the previous left.
// Chaining keeps the cost down (one cold build per session, not one per
// scenario) and is what a user's day looks like:
//
//	cold            worktree A at From (To without next-commit), empty state
//	noop            A again
//	next-commit     A checks out To
//	fresh-worktree  new worktree B at To
//	edit            the edit file changes in the newest worktree at To
//	edit-loop       new worktree C at To is built (unmeasured), then edited
//	                twice, new code each time, and rebuilt after each edit
//	parallel        N new worktrees at To, each with its own edit, at once
//	disk            more worktrees at To until N are built; bytes counted
//	other-machine   the strategy moves to a second machine (empty local
//	                state, own CARGO_HOME, trees at another path) and
//	                builds a new worktree at To: with a remote cache, from
//	                what the first machine's build (A, CI) stored
//
// A scenario that was not asked for but is needed by a later one runs
// unmeasured ("setup").
type session struct {
	ws       *workspace
	st       strategy
	name     string // strategy name
	run      int    // 1-based round
	opts     *Options
	dir      string // the session's private state dir
	from, to string
	editFile string   // relative to the workspace dir
	env      []string // base environment of every build

	filled  int64    // bytes the first machine's build uploaded (remote strategies)
	seq     int      // worktrees added, for unique names
	trees   []string // workspace dirs of added worktrees
	built   []string // the ones built at least once
	samples []report.Sample
}

// errStepFailed marks a build failure already recorded as a sample; the
// session stops, the benchmark goes on.
var errStepFailed = errors.New("step failed")

// runAll runs every wanted scenario for one strategy in one round and
// returns the samples. A failed build ends the session with error samples
// for the scenarios left; only cancellation is returned as an error.
func (s *session) runAll(ctx context.Context, want map[string]bool) ([]report.Sample, error) {
	dir := filepath.Join(s.ws.root, "state", fmt.Sprintf("%s-r%d", s.name, s.run))
	s.dir = dir
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = s.st.setup(ctx, dir)
	}
	if err == nil {
		err = s.chain(ctx, want)
	}
	if terr := s.st.teardown(); terr != nil && err == nil {
		err = terr
	}
	for _, t := range s.trees {
		_ = s.ws.removeTree(context.WithoutCancel(ctx), t)
	}
	_ = removeAll(dir)
	if ctx.Err() != nil {
		return s.samples, ctx.Err()
	}
	if err != nil {
		msg := err.Error()
		if errors.Is(err, errStepFailed) {
			msg = "not run: an earlier step of this session failed"
		}
		for _, sc := range ScenarioNames() {
			for _, row := range Rows(sc) {
				if want[sc] && !s.has(row) {
					s.samples = append(s.samples, report.Sample{Scenario: row, Strategy: s.name, Run: s.run, Error: msg})
				}
			}
		}
	}
	return s.samples, nil
}

func (s *session) has(scenario string) bool {
	for _, x := range s.samples {
		if x.Scenario == scenario {
			return true
		}
	}
	return false
}

func (s *session) chain(ctx context.Context, want map[string]bool) error {
	next := want[NextCommit] && s.from != ""
	start := s.to
	if next {
		start = s.from
	}
	if !s.needsFirstTree(want) {
		return s.otherMachine(ctx)
	}
	a, err := s.newTree(ctx, start)
	if err != nil {
		return err
	}
	if err := s.step(ctx, Cold, want[Cold], []string{a}, true); err != nil {
		return err
	}
	if want[Noop] {
		if err := s.step(ctx, Noop, true, []string{a}, false); err != nil {
			return err
		}
	}
	if next {
		if _, err := git(ctx, a, "checkout", "--quiet", "--force", "--detach", s.to); err != nil {
			return err
		}
		if err := s.step(ctx, NextCommit, true, []string{a}, false); err != nil {
			return err
		}
	}
	latest := a
	if want[FreshWorktree] {
		b, err := s.newTree(ctx, s.to)
		if err != nil {
			return err
		}
		if err := s.step(ctx, FreshWorktree, true, []string{b}, true); err != nil {
			return err
		}
		latest = b
	}
	if want[Edit] {
		if err := applyEdit(filepath.Join(latest, s.editFile), "edit"); err != nil {
			return err
		}
		if err := s.step(ctx, Edit, true, []string{latest}, false); err != nil {
			return err
		}
	}
	if want[EditLoop] {
		if err := s.editLoop(ctx); err != nil {
			return err
		}
	}
	if want[Parallel] {
		var trees []string
		for i := range s.opts.Parallel {
			t, err := s.newTree(ctx, s.to)
			if err != nil {
				return err
			}
			if err := applyEdit(filepath.Join(t, s.editFile), fmt.Sprintf("parallel %d", i+1)); err != nil {
				return err
			}
			trees = append(trees, t)
		}
		if err := s.step(ctx, Parallel, true, trees, true); err != nil {
			return err
		}
	}
	if want[Disk] {
		for len(s.built) < s.opts.Parallel {
			t, err := s.newTree(ctx, s.to)
			if err != nil {
				return err
			}
			if err := s.step(ctx, Disk, false, []string{t}, true); err != nil {
				return err
			}
		}
		if err := s.diskSample(ctx); err != nil {
			return err
		}
	}
	if want[OtherMachine] {
		return s.otherMachine(ctx)
	}
	return nil
}

// editLoop is the daily loop in a new worktree: it is built as the
// strategy builds a new worktree (unmeasured: plain compiles everything,
// grove restores from the store, grove-seeded seeds first), then edited
// and rebuilt twice. Each edit appends new code, never text built before,
// so no cache can serve the edited crate and each rebuild costs what the
// edit costs. Before the first edit the strategy's background work on the
// tree ends (the user reads code first); the wait is the sample's idle_s.
func (s *session) editLoop(ctx context.Context) error {
	t, err := s.newTree(ctx, s.to)
	if err != nil {
		return err
	}
	if err := s.step(ctx, EditLoop, false, []string{t}, true); err != nil {
		return err
	}
	idleStart := time.Now()
	if err := s.st.idle(ctx, t); err != nil {
		return err
	}
	idle := time.Since(idleStart)
	for i, row := range Rows(EditLoop) {
		if err := applyEdit(filepath.Join(t, s.editFile), fmt.Sprintf("edit loop %d", i+1)); err != nil {
			return err
		}
		err := s.step(ctx, row, true, []string{t}, false)
		if i == 0 && len(s.samples) > 0 {
			s.samples[len(s.samples)-1].IdleSeconds = idle.Seconds()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// needsFirstTree says whether the session builds worktree A at all: every
// scenario but other-machine builds on it, and other-machine needs it
// only when A's build fills a remote (CI's build). Without a remote the
// second machine starts from nothing anyway.
func (s *session) needsFirstTree(want map[string]bool) bool {
	for sc, w := range want {
		if w && sc != OtherMachine {
			return true
		}
	}
	ru, ok := s.st.(remoteUser)
	return ok && ru.fills()
}

// otherMachine moves the session to a second machine and builds a new
// clone at To there: another path (machine2/…, of another length
// than the first machine's), another CARGO_HOME, an empty target dir and
// empty local store or cache; a remote cache is all it shares with the
// first machine.
func (s *session) otherMachine(ctx context.Context) error {
	dir := filepath.Join(s.dir, "machine2")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := s.st.otherMachine(ctx, dir); err != nil {
		return fmt.Errorf("moving to the second machine: %w", err)
	}
	vars, err := machineTwoEnv(dir)
	if err != nil {
		return err
	}
	s.env = measure.Env(s.env, vars)
	s.built = nil // the disk figure of the second machine is its own
	s.seq++
	t, err := s.ws.addClone(ctx, fmt.Sprintf("machine2/home/dev/src/%s-r%d-%d", s.name, s.run, s.seq), s.to)
	if t != "" {
		s.trees = append(s.trees, t)
	}
	if err != nil {
		return err
	}
	return s.step(ctx, OtherMachine, true, []string{t}, true)
}

func (s *session) newTree(ctx context.Context, commit string) (string, error) {
	s.seq++
	t, err := s.ws.addTree(ctx, fmt.Sprintf("%s-r%d-%d", s.name, s.run, s.seq), commit)
	if t != "" {
		s.trees = append(s.trees, t)
	}
	return t, err
}
