package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
)

// Coverage says whether one worktree's builds use the repository's setup.
type Coverage struct {
	Path     string         `json:"path"`
	Ref      string         `json:"ref"`
	Location gitwt.Location `json:"location"`
	Prunable bool           `json:"prunable,omitempty"`
	Covered  bool           `json:"covered"`
	// Reason explains an uncovered worktree.
	Reason string `json:"reason,omitempty"`
	// Fix is the command or edit that would cover it.
	Fix string `json:"fix,omitempty"`
}

// sharedCoverage resolves each worktree's target dir from config files
// alone (environment overrides are reported separately) and compares it
// with the shared dir.
func (r *Repo) sharedCoverage(wts []gitwt.Worktree) []Coverage {
	out := make([]Coverage, 0, len(wts))
	for _, w := range wts {
		c := Coverage{Path: w.Path, Ref: w.Ref(), Location: w.Location, Prunable: w.Prunable}
		switch {
		case w.Prunable || !exists(w.Path):
			c.Reason = "worktree is missing (prunable)"
			c.Fix = "git worktree prune"
		default:
			td, src, err := cargoconfig.TargetDir(r.WorkspaceIn(w.Path), configEnv(r.Env))
			switch {
			case errors.Is(err, cargoconfig.ErrNoManifest):
				c.Reason = "no Cargo.toml in this worktree"
			case err != nil:
				c.Reason = err.Error()
			case samePath(td, r.SharedDir):
				c.Covered = true
			case src == cargoconfig.SourceDefault && w.Location == gitwt.LocElsewhere:
				c.Reason = "outside the repository root: Cargo never reads " + r.ConfigPath
				c.Fix = "grove init --shared --all"
			case src == cargoconfig.SourceDefault:
				c.Reason = "uses its own target dir " + td
				c.Fix = "grove init --shared"
			default:
				c.Reason = fmt.Sprintf("%s sets build.target-dir = %s", src, td)
				c.Fix = "remove build.target-dir from " + src
			}
		}
		out = append(out, c)
	}
	return out
}

// cacheCoverage checks which worktrees' builds run grove as rustc-wrapper.
func (r *Repo) cacheCoverage(wts []gitwt.Worktree) []Coverage {
	out := make([]Coverage, 0, len(wts))
	for _, w := range wts {
		c := Coverage{Path: w.Path, Ref: w.Ref(), Location: w.Location, Prunable: w.Prunable}
		if w.Prunable || !exists(w.Path) {
			c.Reason = "worktree is missing (prunable)"
			c.Fix = "git worktree prune"
			out = append(out, c)
			continue
		}
		v, src, found, err := cargoconfig.Lookup(r.WorkspaceIn(w.Path), configEnv(r.Env), "build", "rustc-wrapper")
		switch {
		case err != nil:
			c.Reason = err.Error()
		case found && v == WrapperName:
			c.Covered = true
		case found:
			c.Reason = fmt.Sprintf("%s sets build.rustc-wrapper = %q", src, v)
		case w.Location == gitwt.LocElsewhere:
			c.Reason = "no config Cargo reads there sets build.rustc-wrapper (outside the repository root, " + r.ConfigPath + " is never read)"
			c.Fix = "grove init in that worktree, or commit .cargo/config.toml on its branch, or grove init --user"
		default:
			c.Reason = "no config Cargo reads there sets build.rustc-wrapper"
			c.Fix = "grove init in that worktree, or commit .cargo/config.toml on its branch"
		}
		out = append(out, c)
	}
	return out
}

// worktrees lists the repository's worktrees.
func (r *Repo) worktrees(ctx context.Context) ([]gitwt.Worktree, error) {
	wts, err := r.Git.List(ctx)
	if err != nil {
		return nil, err
	}
	if len(wts) > 0 {
		wts[0].Path = r.Root
	}
	return wts, nil
}
