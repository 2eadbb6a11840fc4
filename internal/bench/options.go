// Package bench implements `grove bench`: it measures ways of building one
// Rust repository across many git worktrees (strategies) in the situations
// that matter (scenarios), side by side, in throwaway clones and
// directories only.
//
// The work is split by job: this file holds the vocabulary (options,
// scenario and strategy names), repo.go and workspace.go the throwaway
// git clone and its worktrees, strategy*.go how each strategy builds,
// session.go the chain of scenarios one strategy runs in one round, and
// bench.go the loop that alternates strategies and assembles the report.
// Measuring, disk usage, rendering and the progress line live in
// subpackages.
package bench

import (
	"time"

	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/grove-rs/grove/internal/bench/progress"
)

// Scenario names, in the order a session runs them (each builds on the
// state the previous ones left, see session.go).
const (
	Cold          = "cold"
	Noop          = "noop"
	NextCommit    = "next-commit"
	FreshWorktree = "fresh-worktree"
	Edit          = "edit"
	EditLoop      = "edit-loop"
	Parallel      = "parallel"
	Disk          = "disk"
	OtherMachine  = "other-machine"
)

// ScenarioNames returns every scenario name in run order.
func ScenarioNames() []string {
	return []string{Cold, Noop, NextCommit, FreshWorktree, Edit, EditLoop, Parallel, Disk, OtherMachine}
}

// The report rows of the edit-loop scenario: it measures two builds.
const (
	EditLoopFirst  = "edit-loop-1"
	EditLoopSecond = "edit-loop-2"
)

// Rows returns the report rows (sample scenario names) of a scenario, in
// order: the scenario itself, except for edit-loop.
func Rows(scenario string) []string {
	if scenario == EditLoop {
		return []string{EditLoopFirst, EditLoopSecond}
	}
	return []string{scenario}
}

// ScenarioTitle says in one line what a scenario measures; the table and
// the chart print it.
func ScenarioTitle(name string) string {
	switch name {
	case Cold:
		return "first build, empty target dir and store"
	case Noop:
		return "build again, nothing changed"
	case NextCommit:
		return "a built worktree checks out the next commit and builds"
	case FreshWorktree:
		return "new worktree at a commit another worktree built"
	case Edit:
		return "one workspace source file changed, rebuild"
	case EditLoop:
		return "new worktree built, then edited twice, new code each time"
	case EditLoopFirst:
		return "first edit after a new worktree's build, rebuild"
	case EditLoopSecond:
		return "second edit of that worktree, rebuild"
	case Parallel:
		return "N new worktrees, each with its own edit, build at once"
	case Disk:
		return "build outputs after N built worktrees (each inode once)"
	case OtherMachine:
		return "fresh clone on a second machine (own path, CARGO_HOME, empty store) after CI's build"
	}
	return ""
}

// ScenarioTitles maps every scenario to its ScenarioTitle.
func ScenarioTitles() map[string]string {
	m := map[string]string{}
	for _, n := range ScenarioNames() {
		for _, r := range Rows(n) {
			m[r] = ScenarioTitle(r)
		}
	}
	return m
}

// Strategy names, in report order.
const (
	Plain       = "plain"
	Shared      = "shared"
	Sccache     = "sccache"
	Grove       = "grove"
	GroveSeeded = "grove-seeded"
	// With a remote cache (the bench's own MinIO; see remote.go).
	SccacheRemote   = "sccache-remote"
	GroveRemote     = "grove-remote"
	GroveRemoteDown = "grove-remote-down" // the remote's endpoint refuses every connection
)

// StrategyNames returns every strategy name in report order.
func StrategyNames() []string {
	return []string{Plain, Shared, Sccache, Grove, GroveSeeded, SccacheRemote, GroveRemote, GroveRemoteDown}
}

// Options configure one benchmark.
type Options struct {
	Repo       string   // directory with the workspace's Cargo.toml; "" = main worktree of the cwd's repository
	Runs       int      // rounds; each runs every strategy once
	Scenarios  []string // validated names, see ParseList
	Strategies []string
	Out        string // results directory; "" = a new directory under os.TempDir
	Parallel   int    // worktrees of the parallel and disk scenarios
	From, To   string // commits of next-commit; "" = HEAD~1 and HEAD
	NextEdit   bool   // make To a synthetic commit on top of the repository's commit
	MinIO      string // the minio binary of the remote strategies; "" = minio on PATH
	// RemoteLatency is added by the bench's proxy to every byte each way
	// between the remote strategies and MinIO (a network's one-way delay;
	// the round trip is twice it), without limiting throughput.
	RemoteLatency time.Duration

	Grove        string // absolute path of the grove binary (the RUSTC_WRAPPER of the grove strategies)
	GroveVersion string
	Progress     *progress.Line // nil = silent
	Log          io.Writer      // notes as they happen; nil = discard
}

// ParseList splits a comma-separated list of names, checks each against
// valid ("all" means every one), drops duplicates and returns the names in
// the order of valid, so runs and reports are always ordered the same way.
func ParseList(kind, list string, valid []string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case f == "all":
			for _, v := range valid {
				want[v] = true
			}
		case slices.Contains(valid, f):
			want[f] = true
		default:
			return nil, fmt.Errorf("unknown %s %q (valid: %s)", kind, f, strings.Join(valid, ", "))
		}
	}
	var out []string
	for _, v := range valid {
		if want[v] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s given (valid: %s)", kind, strings.Join(valid, ", "))
	}
	return out, nil
}
