package setup

import (
	"context"
	"fmt"

	"github.com/grove-rs/grove/internal/hook"
	"github.com/grove-rs/grove/internal/seed"
)

// InstallSeedHook installs the post-checkout hook that seeds every new
// worktree, as part of cache mode (grove init without --no-hook): every
// new worktree starts from a built one. A --user setup does not call it:
// it covers repositories that have no hook, whose worktrees fall back to
// the cache. A hook that cannot be installed is a note, not an error; so
// is each worktree made before the hook, which is not seeded.
func InstallSeedHook(ctx context.Context, r *Repo, res *InitResult) {
	path, changed, err := hook.Install(ctx, r.Root)
	if err != nil {
		res.Notes = append(res.Notes, "new worktrees are not seeded: "+err.Error())
		return
	}
	if !changed {
		return
	}
	res.Changed = append(res.Changed, path)
	unseeded, _ := seed.Unseeded(ctx, r.Root, "")
	for _, wt := range unseeded {
		res.Notes = append(res.Notes, fmt.Sprintf("worktree %s was made before the hook and is not seeded: its first build restores every unit from the cache (run grove seed there to skip that)", wt))
	}
}

// removeSeedHook takes grove's hook out for Off, putting back a hook it
// chained.
func removeSeedHook(ctx context.Context, r *Repo, res *InitResult) error {
	path, changed, err := hook.Remove(ctx, r.Root)
	if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if changed {
		res.Changed = append(res.Changed, path)
	}
	return nil
}
