package setup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
)

// Shared mode with a committed Cargo config.
//
// Teams commit .cargo/config.toml (source replacement, aliases, rustflags),
// so the machine-specific target-dir cannot go there. Cargo merges the
// config files of the build's directory and every parent (closest wins, key
// by key), then $CARGO_HOME's. $CARGO_HOME would reach every repository of
// the user, and a parent of the root every repository beside it, so grove
// uses the directories that hold only this repository's worktrees:
//
//   - the main worktree keeps Cargo's default target dir, which becomes the
//     shared dir (<root>/target, or <root>/<workspace>/target): no file is
//     needed for it;
//   - worktrees under the root sit in container directories (worktrees/,
//     .worktrees/) with no committed files: grove writes
//     <root>/<container>/.cargo/config.toml there, which every worktree in
//     it reads after its own committed config (which sets no target-dir);
//   - with --all, a worktree outside the root is covered through its parent
//     directory's .cargo/config.toml, when that parent holds nothing but
//     worktrees of this repository, the main one included (else the setting
//     would reach other projects, and grove says so and leaves it). The main
//     worktree reads that file too, harmlessly: it names its own default.
//
// Each file grove writes is kept out of git (.git/info/exclude) when
// nothing ignores it yet, and nothing committed is changed.

// containerConfigs returns the config files grove may have written in the
// container directories under the root: <root>/*/.cargo/config{,.toml}.
func (r *Repo) containerConfigs() []string {
	var out []string
	for _, name := range []string{"config", "config.toml"} {
		m, _ := filepath.Glob(filepath.Join(r.Root, "*", ".cargo", name))
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

// committedMode reports whether shared mode is on through container
// configs: one of them sets target-dir to the shared dir.
func (r *Repo) committedMode() (bool, error) {
	if !r.Committed {
		return false, nil
	}
	for _, cfg := range r.containerConfigs() {
		td, ok, err := cargoconfig.Get(cfg, "build", "target-dir")
		if err != nil {
			return false, err
		}
		if ok && samePath(td, r.SharedDir) {
			return true, nil
		}
	}
	return false, nil
}

// initSharedCommitted is InitShared for a repository whose root config is
// committed.
func (r *Repo) initSharedCommitted(ctx context.Context, opts InitOptions, res *InitResult) error {
	if td, ok, _ := cargoconfig.Get(r.ConfigPath, "build", "target-dir"); ok {
		return fmt.Errorf("%s is committed and sets build.target-dir = %q: a committed setting is read before any file grove may write, so shared mode cannot change it (the repository already chooses its target dir)", r.ConfigPath, td)
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return err
	}
	var p plan
	exclude := filepath.Join(r.Git.CommonDir, "info", "exclude")
	ignore := func(path string) error {
		rp := rel(r.Root, path)
		ignored, err := gitwt.IsIgnored(ctx, r.Root, rp)
		if err != nil || ignored {
			return err
		}
		p.add(exclude, func() (bool, error) { return appendLine(exclude, "/"+filepath.ToSlash(rp)) })
		return nil
	}
	if err := ignore(r.SharedDir + "/"); err != nil {
		return err
	}
	res.Notes = append(res.Notes, fmt.Sprintf("%s is committed, so grove leaves it alone: the main worktree's own target dir %s is the shared dir, and the other worktrees find it through config files in the directories that hold them (see grove status)", rel(r.Root, r.ConfigPath), r.SharedDir))
	if w, ok, _ := cargoconfig.Get(r.ConfigPath, "build", "rustc-wrapper"); ok && w == WrapperName {
		res.Notes = append(res.Notes, "cache mode stays on: build.rustc-wrapper = \"grove\" is in the committed config (grove off removes it)")
	}
	containers := map[string]bool{}
	for _, c := range []string{"worktrees", ".worktrees"} {
		if fi, err := os.Stat(filepath.Join(r.Root, c)); err == nil && fi.IsDir() {
			containers[c] = true
		}
	}
	for _, w := range wts {
		if w.Prunable || !exists(w.Path) {
			continue
		}
		switch w.Location {
		case gitwt.LocWorktrees, gitwt.LocInside:
			first, _, _ := strings.Cut(rel(r.Root, w.Path), string(filepath.Separator))
			containers[first] = true
		case gitwt.LocElsewhere:
			if !opts.All {
				continue
			}
			parent := filepath.Dir(w.Path)
			if why := r.holdsOnlyWorktrees(parent, wts); why != "" {
				res.Notes = append(res.Notes, fmt.Sprintf("worktree %s not covered: its parent %s %s, and a config there would reach it too (move the worktree under %s)", w.Path, parent, why, filepath.Join(r.Root, "worktrees")))
				continue
			}
			cfg := ConfigPathIn(parent)
			if _, _, err := cargoconfig.Get(cfg, "build", "target-dir"); err != nil {
				return err
			}
			p.add(cfg, func() (bool, error) { return replace(cfg, "target-dir", r.SharedDir) })
		}
	}
	names := make([]string, 0, len(containers))
	for c := range containers {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		dir := filepath.Join(r.Root, c)
		if tracked, err := gitwt.IsTracked(ctx, r.Root, c); err != nil {
			return err
		} else if tracked {
			res.Notes = append(res.Notes, fmt.Sprintf("%s holds committed files: grove writes no config there, so worktrees in it stay uncovered (move them under %s)", dir, filepath.Join(r.Root, "worktrees")))
			continue
		}
		cfg := ConfigPathIn(dir)
		if _, _, err := cargoconfig.Get(cfg, "build", "target-dir"); err != nil {
			return err
		}
		if err := ignore(filepath.Join(dir, ".cargo") + "/"); err != nil {
			return err
		}
		p.add(cfg, func() (bool, error) { return replace(cfg, "target-dir", r.SharedDir) })
	}
	p.add(r.SharedDir, func() (bool, error) {
		if exists(r.SharedDir) {
			return false, nil
		}
		return true, os.MkdirAll(r.SharedDir, 0o755)
	})
	if err := p.check(); err != nil {
		return err
	}
	if res.Changed, err = p.run(); err != nil {
		return err
	}
	res.Changed = dedup(res.Changed)
	return nil
}

// holdsOnlyWorktrees says why dir is not a directory holding only
// worktrees of this repository (and grove's .cargo), or "" if it is.
func (r *Repo) holdsOnlyWorktrees(dir string, wts []gitwt.Worktree) string {
	known := map[string]bool{}
	for _, w := range wts {
		known[filepath.Clean(w.Path)] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "cannot be read"
	}
	for _, e := range ents {
		if e.Name() == ".cargo" || known[filepath.Join(dir, e.Name())] {
			continue
		}
		return fmt.Sprintf("also holds %s", e.Name())
	}
	return ""
}

// committedConfigs returns every config grove may have written for shared
// mode with a committed root config: the container configs and the parents
// of worktrees outside the root.
func (r *Repo) committedConfigs(wts []gitwt.Worktree) []string {
	out := r.containerConfigs()
	for _, w := range wts {
		if w.Location == gitwt.LocElsewhere {
			out = append(out, ConfigPathIn(filepath.Dir(w.Path)))
		}
	}
	return dedup(out)
}

// doctorCommitted checks shared mode with a committed root config: the
// shared dir and every config grove wrote are kept out of git.
func (r *Repo) doctorCommitted(ctx context.Context, problem, note func(check, msg, fix string)) {
	exclude := filepath.Join(r.Git.CommonDir, "info", "exclude")
	check := func(path string) {
		rp := rel(r.Root, path)
		if tracked, err := gitwt.IsTracked(ctx, r.Root, path); err == nil && tracked {
			problem("config-ignored", rp+" is tracked by git, but holds a machine-specific absolute path",
				fmt.Sprintf("git rm --cached %s", rp))
		} else if ignored, err := gitwt.IsIgnored(ctx, r.Root, rp); err == nil && !ignored {
			problem("config-ignored", rp+" is not ignored by git (it could be committed by accident)",
				fmt.Sprintf("echo /%s >> %s", filepath.ToSlash(rp), exclude))
		}
	}
	for _, cfg := range r.containerConfigs() {
		if td, ok, _ := cargoconfig.Get(cfg, "build", "target-dir"); ok && samePath(td, r.SharedDir) {
			check(cfg)
		}
	}
	if ignored, err := gitwt.IsIgnored(ctx, r.Root, rel(r.Root, r.SharedDir)+"/"); err == nil && !ignored {
		problem("shared-dir-ignored", r.SharedDir+" is not ignored by git", fmt.Sprintf("echo /%s/ >> %s", filepath.ToSlash(rel(r.Root, r.SharedDir)), exclude))
	}
	note("committed-config", fmt.Sprintf("%s is committed: the main worktree's target dir %s is the shared dir, and worktrees find it through the config files grove wrote in the directories that hold them", rel(r.Root, r.ConfigPath), r.SharedDir), "")
}
