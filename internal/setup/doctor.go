package setup

import (
	"context"
	"fmt"
	"github.com/grove-rs/grove/internal/cli"
	"os/exec"
	"path/filepath"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
)

// Finding is one result of `grove doctor`.
type Finding struct {
	// Check names the check, stable for scripts ("config-present", ...).
	Check   string `json:"check"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Report is the outcome of Doctor. Problems make `grove doctor` fail;
// Caveats are the known limits of the mode, stated every time; Notes are
// informational.
type Report struct {
	Root     string    `json:"root"`
	Mode     Mode      `json:"mode"`
	OK       bool      `json:"ok"`
	Problems []Finding `json:"problems"`
	Caveats  []Finding `json:"caveats"`
	Notes    []Finding `json:"notes"`
}

// Doctor checks the repository's setup.
func Doctor(ctx context.Context, r *Repo) (*Report, error) {
	mode, userCfg, err := r.Mode()
	if err != nil {
		// A malformed config is itself the finding.
		return &Report{Root: r.Root, Mode: ModeNone, Problems: []Finding{{
			Check: "config-parses", Message: err.Error(), Fix: "fix the TOML syntax in " + r.ConfigPath,
		}}, Caveats: []Finding{}, Notes: []Finding{}}, nil
	}
	rep := &Report{Root: r.Root, Mode: mode, Problems: []Finding{}, Caveats: []Finding{}, Notes: []Finding{}}
	problem := func(check, msg, fix string) { rep.Problems = append(rep.Problems, Finding{check, msg, fix}) }
	note := func(check, msg, fix string) { rep.Notes = append(rep.Notes, Finding{check, msg, fix}) }
	for _, n := range r.envNotes() {
		problem("environment", n, "unset it, or keep it deliberately")
	}
	switch mode {
	case ModeNone:
		td, ok, _ := cargoconfig.Get(r.ConfigPath, "build", "target-dir")
		if ok {
			problem("config-target-dir", fmt.Sprintf("%s sets build.target-dir = %s, not %s", r.ConfigPath, td, r.SharedDir),
				"grove init --shared (rewrites it to this machine's path)")
		} else {
			problem("setup", "grove is not set up in this repository", "grove init (cache mode) or grove init --shared")
		}
	case ModeCache:
		if _, err := exec.LookPath(WrapperName); err != nil {
			problem("grove-on-path", "build.rustc-wrapper is \"grove\" but grove is not on PATH: every cargo build fails", "put the grove binary on PATH (go install ./cmd/...) or run grove off")
		}
		src, _, _ := r.wrapperSource()
		if userCfg != "" {
			src = userCfg
		}
		note("config-present", "cache mode: build.rustc-wrapper = \"grove\" in "+src, "")
		r.doctorCache(ctx, problem)
	case ModeShared:
		r.doctorShared(ctx, rep, problem, note)
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return nil, err
	}
	if mode != ModeNone {
		var cov []Coverage
		if mode == ModeShared {
			cov = r.sharedCoverage(wts)
		} else {
			cov = r.cacheCoverage(wts)
		}
		for _, c := range cov {
			if c.Covered {
				continue
			}
			if c.Prunable {
				note("worktree-prunable", fmt.Sprintf("worktree %s is missing (prunable)", c.Path), c.Fix)
				continue
			}
			problem("worktree-covered", fmt.Sprintf("worktree %s (%s) is not covered: %s", c.Path, c.Ref, c.Reason), c.Fix)
		}
	}
	if mode == ModeShared {
		rep.Caveats = sharedCaveats(r)
		for _, w := range wts {
			if w.Location == gitwt.LocElsewhere && !w.Prunable {
				note("worktree-elsewhere", fmt.Sprintf("worktree %s is outside %s; it is covered only by a config of its own", w.Path, r.Root), "")
			}
		}
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

func (r *Repo) doctorShared(ctx context.Context, rep *Report, problem, note func(check, msg, fix string)) {
	if r.Committed {
		r.doctorCommitted(ctx, problem, note)
	} else {
		r.doctorSharedConfig(ctx, problem)
	}
	if !exists(r.SharedDir) {
		problem("target-dir-exists", r.SharedDir+" does not exist", "grove init --shared (creates it), or just cargo build")
	}
	if rs, err := GetStatus(ctx, r); err == nil {
		for _, w := range rs.Worktrees {
			if w.Shared && w.BuildDir != "" && !samePath(w.BuildDir, r.SharedDir) {
				problem("build-dir-shared", fmt.Sprintf("worktree %s builds its units in %s (build.build-dir), not in the shared dir: only final artifacts are shared, every dependency is compiled again there", w.Path, w.BuildDir),
					"remove build.build-dir (CARGO_BUILD_BUILD_DIR, or the key in the config that sets it), or use cache mode (grove init)")
			}
		}
		for _, w := range rs.Worktrees {
			if w.Building && w.Shared {
				note("building", fmt.Sprintf("a Cargo build (pid %v) holds the shared target dir now: builds in other worktrees wait for it", w.BuildPIDs), "")
				break
			}
		}
		if rs.ReclaimBytes > 0 {
			note("reclaimable", fmt.Sprintf("%d obsolete target dir(s) hold %s", len(rs.Reclaim), cli.HumanBytes(rs.ReclaimBytes)), "grove reclaim")
		}
	}
}

// sharedCaveats states the shared mode's known limits plainly.
func sharedCaveats(r *Repo) []Finding {
	return []Finding{
		{Check: "caveat-lock", Message: "Builds in different worktrees block each other: Cargo locks the shared target dir for the whole build, so a second worktree's build waits (\"Blocking waiting for file lock on build directory\").",
			Fix: "use cache mode (grove init) when several worktrees build at once"},
		{Check: "caveat-path", Message: fmt.Sprintf("The path %s is machine-specific: the config must stay uncommitted, and a copy on another machine points nowhere.", r.SharedDir),
			Fix: "keep .cargo/config.toml ignored; run grove init --shared on each machine"},
		{Check: "caveat-thrash", Message: "Alternating builds between worktrees with different dependency versions or features rebuild the differing crates each time.",
			Fix: "expect some rebuilds when switching; cache mode keeps one copy of each variant"},
		{Check: "caveat-stale", Message: "A worktree whose sources are older than the shared artifacts can be served another worktree's build of the workspace crates: Cargo judges freshness by mtime, and member crates have the same artifact names in every worktree.",
			Fix: "touch the changed sources, or cargo clean -p <crate>, when a build looks stale; cache mode keys by content and does not have this problem"},
	}
}

// doctorSharedConfig checks the root config shared mode writes when that
// config is not committed.
func (r *Repo) doctorSharedConfig(ctx context.Context, problem func(check, msg, fix string)) {
	cfgRel := rel(r.Root, r.ConfigPath)
	if tracked, err := gitwt.IsTracked(ctx, r.Root, r.ConfigPath); err == nil && tracked {
		problem("config-ignored", cfgRel+" is tracked by git, but holds a machine-specific absolute path",
			fmt.Sprintf("git rm --cached %s && echo /%s >> .gitignore", cfgRel, filepath.ToSlash(cfgRel)))
	} else if ignored, err := gitwt.IsIgnored(ctx, r.Root, cfgRel); err == nil && !ignored {
		problem("config-ignored", cfgRel+" is not ignored by git (it could be committed by accident)",
			fmt.Sprintf("echo /%s >> %s", filepath.ToSlash(cfgRel), filepath.Join(r.Git.CommonDir, "info", "exclude")))
	}
	if ignored, err := gitwt.IsIgnored(ctx, r.Root, SharedDirName+"/"); err == nil && !ignored {
		problem("shared-dir-ignored", SharedDirName+"/ is not in .gitignore", "grove init --shared (adds it once)")
	}
	td, _, _ := cargoconfig.Get(r.ConfigPath, "build", "target-dir")
	if !filepath.IsAbs(td) {
		problem("target-dir-absolute", fmt.Sprintf("build.target-dir = %q is relative: Cargo resolves it against %s (the dir holding .cargo/), so a copy of this config in a worktree elsewhere would point into that worktree", td, r.Root),
			"grove init --shared (writes the absolute path)")
	}
}
