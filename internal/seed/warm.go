package seed

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

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
// whose command would still name the donor, is not warmed.
//
// The environment is this process's (what the next build here inherits)
// with what Cargo set for the donor's compile (incr.CargoEnv, pointed at
// this tree) and the values the unit's dep-info says the compile read
// (env-dep: a build script's rustc-env); a value that differs would only
// cost the state's reuse.
func (c *copier) warmJobs(p string, u pathUnit) {
	if c.dry || (u.kind != kindLib && u.kind != kindOther) || u.depInfo == "" {
		return
	}
	cmds, err := incr.Commands(filepath.Join(p, "incremental"), "-"+u.Hash)
	if err != nil || len(cmds) == 0 {
		return
	}
	from := []string{c.res.donorDirs.Build, c.res.donorDirs.Target, c.res.Donor}
	to := []string{c.res.BuildDir, c.res.Target, c.res.Worktree}
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		moved, ok := cmds[n].Moved(from, to)
		if !ok {
			continue
		}
		if job, ok := incr.JobFor(moved, unitEnv(c.here(u.depInfo), moved.Env), c.res.BuildDir); ok {
			c.res.warm = append(c.res.warm, job)
		}
	}
}

// unitEnv is this process's environment with cargo's values (NAME=value)
// and the env-dep values of the dep-info file d over it.
func unitEnv(d string, cargo []string) []string {
	set := map[string]string{}
	unset := map[string]bool{}
	for _, kv := range cargo {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set[k] = v
		}
	}
	if b, err := os.ReadFile(d); err == nil {
		if info, err := depinfo.Parse(string(b)); err == nil {
			for _, e := range info.Env {
				if e.Set {
					set[e.Name] = e.Value
				} else {
					delete(set, e.Name)
					unset[e.Name] = true
				}
			}
		}
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || unset[k] {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// WarmJobs are the background compiles that give the seeded members this
// tree's incremental state (warmJobs); the caller starts them when
// warming is on (settings.Warm).
func (r *Result) WarmJobs() []incr.Job { return r.warm }
