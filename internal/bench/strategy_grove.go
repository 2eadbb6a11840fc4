package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/grove-rs/grove/internal/bench/measure"
	"github.com/grove-rs/grove/internal/bench/report"
	"github.com/grove-rs/grove/internal/incr"
)

// groveStrategy is grove's cache mode: grove itself as RUSTC_WRAPPER with a
// private store. With seed set it is grove-seeded: `grove seed` runs in
// every new worktree before its first build, as its post-checkout hook
// would do.
type groveStrategy struct {
	bin   string // absolute path of the running grove
	seed  bool
	store string
	// noStats is set once `grove stats --json` fails, so a grove without
	// stats is not asked again for every step.
	noStats bool
}

func (g *groveStrategy) setup(_ context.Context, dir string) error {
	g.store = filepath.Join(dir, "grove-store")
	return os.MkdirAll(g.store, 0o755)
}

func (g *groveStrategy) env(tree string) map[string]string {
	e := ownTarget(tree)
	e["RUSTC_WRAPPER"] = g.bin
	e["GROVE_DIR"] = g.store
	return e
}

func (g *groveStrategy) stores() []string { return []string{g.store} }

func (g *groveStrategy) otherMachine(ctx context.Context, dir string) error {
	return g.setup(ctx, dir)
}

func (g *groveStrategy) prepare(tree string) *measure.Command {
	if !g.seed {
		return nil
	}
	return &measure.Command{
		Dir: tree,
		Env: measure.Env(baseEnv(os.Environ()), g.env(tree)),
		// --quiet: a worktree with no built sibling (the cold build) is
		// not an error, it just is not seeded.
		Args: []string{g.bin, "seed", "--quiet"},
	}
}

// counters reads `grove stats --json` for the private store. Only the
// fields hits, misses and uncacheable are used; a grove that has no stats
// yet makes the report fall back to Cargo's own counts.
func (g *groveStrategy) counters(ctx context.Context) *report.Cache {
	if g.noStats {
		return nil
	}
	cmd := exec.CommandContext(ctx, g.bin, "stats", "--json")
	cmd.Env = measure.Env(os.Environ(), map[string]string{"GROVE_DIR": g.store})
	out, err := cmd.Output()
	if err != nil {
		g.noStats = true
		return nil
	}
	var st struct {
		Hits        *int           `json:"hits"`
		Misses      *int           `json:"misses"`
		Uncacheable *int           `json:"uncacheable"`
		Remote      map[string]int `json:"remote"`
		HitMs       float64        `json:"median_hit_ms"`
		RemoteHitMs float64        `json:"median_remote_hit_ms"`
		Runs        struct {
			Replayed  int            `json:"replayed"`
			Stored    int            `json:"stored"`
			NotStored int            `json:"not_stored"`
			Errors    int            `json:"errors"`
			Failed    int            `json:"failed"`
			Remote    map[string]int `json:"remote"`
		} `json:"build_script_runs"`
	}
	if json.NewDecoder(bytes.NewReader(out)).Decode(&st) != nil || st.Hits == nil || st.Misses == nil {
		g.noStats = true
		return nil
	}
	c := &report.Cache{Hits: *st.Hits, Misses: *st.Misses, Remote: st.Remote, HitMedianMs: st.HitMs, RemoteHitMedianMs: st.RemoteHitMs,
		RunsReplayed: st.Runs.Replayed, RunsRemote: st.Runs.Remote,
		RunsRun: st.Runs.Stored + st.Runs.NotStored + st.Runs.Errors + st.Runs.Failed}
	if st.Uncacheable != nil {
		c.Uncacheable = *st.Uncacheable
	}
	return c
}

func (*groveStrategy) outside() (time.Duration, int64) { return 0, 0 }
func (*groveStrategy) teardown() error                 { return nil }

// idle waits for grove's background compiles in tree's target dir (the
// incremental warm-up of restored workspace members, package incr).
func (*groveStrategy) idle(ctx context.Context, tree string) error {
	target := filepath.Join(tree, "target")
	for incr.Pending(target) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// groveHasSeed reports whether this grove has a seed command yet.
func groveHasSeed(ctx context.Context, bin string) bool {
	return exec.CommandContext(ctx, bin, "seed", "--help").Run() == nil
}
