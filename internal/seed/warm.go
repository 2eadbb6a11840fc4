package seed

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/incr"
)

// A seeded workspace member is fresh here, so the new worktree's first
// build runs no compile of it, and rustc's incremental state of the donor
// is no use here (package incr: it is made under another working dir, and
// must not be reused: its objects name the donor's paths). So the first
// edit would compile the member from scratch. warmJobs gives each seeded
// compile unit of a path package a background compile in this tree, the
// donor's last compile of the unit (incr.Command) pointed at this tree:
// the one plain cargo would have run here. A donor unit with no recorded
// compile (built with warming off, or before grove recorded them), or
// whose command would still name the donor, is not warmed. The compiles
// of one build dir run as one batch, which replaces the seeded outputs
// with its own when every lib member is in it (incr.Batch.Localize: the
// rule is in package incr).
//
// The environment is this process's (what the next build here inherits)
// with what Cargo set for the donor's compile (incr.CargoEnv, pointed at
// this tree) and the values the unit's dep-info says the compile read
// (env-dep: a build script's rustc-env).
func (c *copier) warmJobs(p string, u pathUnit) int {
	if c.dry || (u.kind != kindLib && u.kind != kindOther) || u.depInfo == "" {
		return 0
	}
	cmds, err := incr.Commands(filepath.Join(p, "incremental"), "-"+u.Hash)
	if err != nil || len(cmds) == 0 {
		return 0
	}
	from := []string{c.res.donorDirs.Build, c.res.donorDirs.Target, c.res.Donor}
	to := []string{c.res.BuildDir, c.res.Target, c.res.Worktree}
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		moved, ok := cmds[name].Moved(from, to)
		if !ok {
			continue
		}
		if _, ok := incr.JobFor(moved, nil, c.res.BuildDir); !ok {
			continue
		}
		set, unset := envDeps(c.here(u.depInfo))
		b := c.res.batch(p)
		b.Jobs = append(b.Jobs, incr.BatchJob{Command: moved, Set: set, Unset: unset})
		n++
	}
	return n
}

// envDeps returns the env-dep values of the dep-info file d: what the
// compile read with env!, set (NAME=value) or unset.
func envDeps(d string) (set, unset []string) {
	b, err := os.ReadFile(d)
	if err != nil {
		return nil, nil
	}
	info, err := depinfo.Parse(string(b))
	if err != nil {
		return nil, nil
	}
	for _, e := range info.Env {
		if e.Set {
			set = append(set, e.Name+"="+e.Value)
		} else {
			unset = append(unset, e.Name)
		}
	}
	return set, unset
}

// batch is the warm batch of the profile dir p, made on first use.
func (r *Result) batch(p string) *incr.Batch {
	if r.warm == nil {
		r.warm = map[string]*incr.Batch{}
	}
	if r.warm[p] == nil {
		r.warm[p] = &incr.Batch{Localize: true}
	}
	return r.warm[p]
}

// WarmBatches are the background compiles that give the seeded members
// this tree's incremental state (warmJobs), one batch per build dir; the
// caller starts them when warming is on (settings.Warm).
func (r *Result) WarmBatches() []*incr.Batch {
	dirs := make([]string, 0, len(r.warm))
	for d := range r.warm {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []*incr.Batch
	for _, d := range dirs {
		if len(r.warm[d].Jobs) > 0 {
			out = append(out, r.warm[d])
		}
	}
	return out
}
