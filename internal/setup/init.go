package setup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
)

// InitOptions tune InitShared.
type InitOptions struct {
	// All also writes a config into each worktree outside the repository
	// root (where the root's config is not seen), when that worktree's
	// config file is not tracked by git.
	All bool
}

// InitResult is what an init or off did.
type InitResult struct {
	Mode       Mode   `json:"mode"`
	Root       string `json:"root"`
	ConfigPath string `json:"config"`
	SharedDir  string `json:"shared_dir,omitempty"`
	// Changed lists the files written, in order; empty when nothing was
	// needed (the command is idempotent).
	Changed []string `json:"changed"`
	// SwitchedFrom is the mode that was turned off to turn this one on.
	SwitchedFrom Mode       `json:"switched_from,omitempty"`
	Worktrees    []Coverage `json:"worktrees"`
	// Notes are things the user should know (environment overrides, grove
	// missing from PATH, a key left alone because it is not grove's).
	Notes []string `json:"notes,omitempty"`
}

// plan is a list of edits checked up front and applied together.
type plan struct {
	steps []step
}

type step struct {
	path  string
	apply func() (bool, error)
}

func (p *plan) add(path string, apply func() (bool, error)) {
	p.steps = append(p.steps, step{path, apply})
}

func (p *plan) check() error {
	for _, s := range p.steps {
		if err := checkWritable(s.path); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) run() ([]string, error) {
	var changed []string
	for _, s := range p.steps {
		ok, err := s.apply()
		if err != nil {
			return changed, err
		}
		if ok {
			changed = append(changed, s.path)
		}
	}
	return changed, nil
}

// InitShared sets up the seed's shared target dir: `.shared-target/` in
// .gitignore, `[build] target-dir = "<root>/.shared-target"` in the root's
// Cargo config (which must not be tracked: the path is machine-specific),
// the config ignored via .git/info/exclude when nothing ignores it yet,
// and with opts.All the same target-dir for worktrees outside the root.
// Cache mode, if on in the root config, is switched off.
func InitShared(ctx context.Context, r *Repo, opts InitOptions) (*InitResult, error) {
	res := &InitResult{Mode: ModeShared, Root: r.Root, ConfigPath: r.ConfigPath, SharedDir: r.SharedDir, Changed: []string{}}
	if _, _, err := r.Mode(); err != nil { // parses the config: malformed stops here
		return nil, err
	}
	if r.ConfigTracked {
		if err := r.initSharedCommitted(ctx, opts, res); err != nil {
			return nil, err
		}
		wts, err := r.worktrees(ctx)
		if err != nil {
			return res, err
		}
		res.Worktrees = r.sharedCoverage(wts)
		res.Notes = append(res.Notes, r.envNotes()...)
		return res, nil
	}
	if err := r.refuseTracked(ctx, r.Root, r.ConfigPath); err != nil {
		return nil, err
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return nil, err
	}
	var p plan
	// 1. .gitignore
	gi := filepath.Join(r.Root, ".gitignore")
	ignored, err := gitwt.IsIgnored(ctx, r.Root, SharedDirName+"/")
	if err != nil {
		return nil, err
	}
	if !ignored {
		p.add(gi, func() (bool, error) { return appendLine(gi, SharedDirName+"/") })
	}
	// 2. The root config.
	cfgRel := rel(r.Root, r.ConfigPath)
	cfgIgnored, err := gitwt.IsIgnored(ctx, r.Root, cfgRel)
	if err != nil {
		return nil, err
	}
	exclude := filepath.Join(r.Git.CommonDir, "info", "exclude")
	if !cfgIgnored {
		p.add(exclude, func() (bool, error) { return appendLine(exclude, "/"+filepath.ToSlash(cfgRel)) })
		res.Notes = append(res.Notes, fmt.Sprintf("%s was not ignored by git; grove added it to %s (local to this clone)", cfgRel, exclude))
	}
	if td, ok, _ := cargoconfig.Get(r.ConfigPath, "build", "target-dir"); ok && !samePath(td, r.SharedDir) {
		res.Notes = append(res.Notes, replacedNote(r.ConfigPath, "target-dir", td, r.SharedDir))
	}
	p.add(r.ConfigPath, func() (bool, error) { return replace(r.ConfigPath, "target-dir", r.SharedDir) })
	if w, ok, _ := cargoconfig.Get(r.ConfigPath, "build", "rustc-wrapper"); ok && w == WrapperName {
		res.SwitchedFrom = ModeCache
		p.add(r.ConfigPath, func() (bool, error) { return restore(res, r.ConfigPath, "rustc-wrapper", WrapperName) })
	}
	// 3. Worktrees outside the root.
	if opts.All {
		for _, w := range wts {
			if w.Location != gitwt.LocElsewhere || w.Prunable || !exists(w.Path) {
				continue
			}
			cfg := ConfigPathIn(w.Path)
			if tracked, err := gitwt.IsTracked(ctx, w.Path, cfg); err != nil {
				return nil, err
			} else if tracked {
				res.Notes = append(res.Notes, fmt.Sprintf("%s is tracked by git there; not written (that worktree stays uncovered)", cfg))
				continue
			}
			if _, _, err := cargoconfig.Get(cfg, "build", "target-dir"); err != nil {
				return nil, err
			}
			wtIgnored, err := gitwt.IsIgnored(ctx, w.Path, rel(w.Path, cfg))
			if err != nil {
				return nil, err
			}
			if !wtIgnored && cfgIgnored {
				// Ignored at the root by a pattern that does not reach here.
				p.add(exclude, func() (bool, error) { return appendLine(exclude, "/"+filepath.ToSlash(rel(w.Path, cfg))) })
			}
			p.add(cfg, func() (bool, error) { return replace(cfg, "target-dir", r.SharedDir) })
		}
	}
	p.add(r.SharedDir, func() (bool, error) {
		if exists(r.SharedDir) {
			return false, nil
		}
		return true, os.MkdirAll(r.SharedDir, 0o755)
	})
	if err := p.check(); err != nil {
		return nil, err
	}
	if res.Changed, err = p.run(); err != nil {
		return res, err
	}
	res.Changed = dedup(res.Changed)
	if wts, err = r.worktrees(ctx); err != nil {
		return res, err
	}
	res.Worktrees = r.sharedCoverage(wts)
	res.Notes = append(res.Notes, r.envNotes()...)
	return res, nil
}

// InitCache turns on cache mode: build.rustc-wrapper = "grove" in the
// Cargo config of the worktree it runs in (CacheConfigPath; it may be
// committed: the value is a bare name Cargo looks up on PATH), or with
// user in $CARGO_HOME's config. Shared mode's target-dir, if set by grove
// in the root config, is removed.
func InitCache(ctx context.Context, r *Repo, user bool) (*InitResult, error) {
	cfg := r.CacheConfigPath()
	if user {
		home, err := cargoconfig.CargoHome(r.Env)
		if err != nil {
			return nil, err
		}
		cfg = userConfigPath(home)
	}
	res := &InitResult{Mode: ModeCache, Root: r.Root, ConfigPath: cfg, Changed: []string{}}
	// Parse both files first: a malformed one stops everything.
	if _, _, err := cargoconfig.Get(cfg, "build", "rustc-wrapper"); err != nil {
		return nil, err
	}
	if v, ok, _ := cargoconfig.Get(cfg, "build", "rustc-wrapper"); ok && v != WrapperName {
		res.Notes = append(res.Notes, replacedNote(cfg, "rustc-wrapper", v, WrapperName))
	}
	var p plan
	p.add(cfg, func() (bool, error) { return replace(cfg, "rustc-wrapper", WrapperName) })
	td, ok, err := cargoconfig.Get(r.ConfigPath, "build", "target-dir")
	if err != nil {
		return nil, err
	}
	if ok && r.isSharedDir(td) {
		res.SwitchedFrom = ModeShared
		p.add(r.ConfigPath, func() (bool, error) { return restore(res, r.ConfigPath, "target-dir", td) })
		if err := r.removeOutsideConfigs(ctx, &p, res); err != nil {
			return nil, err
		}
	} else if ok {
		res.Notes = append(res.Notes, fmt.Sprintf("%s sets build.target-dir = %s (not grove's); left as is", r.ConfigPath, td))
	}
	if on, err := r.committedMode(); err != nil {
		return nil, err
	} else if on {
		res.SwitchedFrom = ModeShared
		if err := r.removeCommittedConfigs(ctx, &p, res); err != nil {
			return nil, err
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	if res.Changed, err = p.run(); err != nil {
		return res, err
	}
	res.Changed = dedup(res.Changed)
	wts, err := r.worktrees(ctx)
	if err != nil {
		return res, err
	}
	res.Worktrees = r.cacheCoverage(wts)
	if _, err := exec.LookPath(WrapperName); err != nil {
		res.Notes = append(res.Notes, "grove is not on PATH: Cargo looks the bare name \"grove\" up on PATH, so builds will fail until it is (e.g. go install ./cmd/..., or copy grove and grove-cli to ~/.cargo/bin)")
	}
	res.Notes = append(res.Notes, r.envNotes()...)
	return res, nil
}

// Off removes what init wrote: build.rustc-wrapper if it is "grove" from
// the config of the worktree it runs in (CacheConfigPath), and
// build.target-dir if it points at this repository's shared dir from the
// root config (with user, from $CARGO_HOME's config: the wrapper only).
// When builds here still run grove afterwards (a config above a nested
// worktree, or the user config, sets it), a note says which file does.
// A value init replaced is put back (see cargoconfig.Restore). Every other
// byte stays. .gitignore and .shared-target/ are left alone
// (the dir may still hold builds; `grove reclaim` does not touch it).
func Off(ctx context.Context, r *Repo, user bool) (*InitResult, error) {
	res := &InitResult{Mode: ModeNone, Root: r.Root, ConfigPath: r.CacheConfigPath(), Changed: []string{}}
	files := dedup([]string{r.CacheConfigPath(), r.ConfigPath})
	if user {
		home, err := cargoconfig.CargoHome(r.Env)
		if err != nil {
			return nil, err
		}
		files = []string{userConfigPath(home)}
		res.ConfigPath = files[0]
	}
	var p plan
	for _, cfg := range files {
		w, ok, err := cargoconfig.Get(cfg, "build", "rustc-wrapper")
		if err != nil {
			return nil, err
		}
		if ok && w == WrapperName && (user || cfg == r.CacheConfigPath()) {
			p.add(cfg, func() (bool, error) { return restore(res, cfg, "rustc-wrapper", WrapperName) })
		}
		if user || cfg != r.ConfigPath {
			continue
		}
		td, ok, err := cargoconfig.Get(cfg, "build", "target-dir")
		if err != nil {
			return nil, err
		}
		if ok && r.isSharedDir(td) {
			if err := r.refuseTracked(ctx, r.Root, cfg); err != nil {
				return nil, err
			}
			p.add(cfg, func() (bool, error) { return restore(res, cfg, "target-dir", td) })
		}
	}
	if !user {
		if err := r.removeOutsideConfigs(ctx, &p, res); err != nil {
			return nil, err
		}
		if err := r.removeCommittedConfigs(ctx, &p, res); err != nil {
			return nil, err
		}
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	var err error
	if res.Changed, err = p.run(); err != nil {
		return res, err
	}
	res.Changed = dedup(res.Changed)
	if !user {
		if err := removeSeedHook(ctx, r, res); err != nil {
			return res, err
		}
	}
	if src, on, err := r.wrapperSource(); err == nil && on {
		res.Notes = append(res.Notes, fmt.Sprintf("builds in %s still run grove: %s sets build.rustc-wrapper = \"grove\" (grove off leaves that file alone%s)", r.Top, src, offHint(r, src)))
	}
	return res, nil
}

// offHint says how to remove the wrapper from src, a config file Off did
// not edit.
func offHint(r *Repo, src string) string {
	if home, err := cargoconfig.CargoHome(r.Env); err == nil && samePath(src, userConfigPath(home)) {
		return "; grove off --user removes it"
	}
	return "; remove the key there, or run grove off in that worktree"
}

// removeOutsideConfigs plans the removal of the target-dir that
// init --shared --all wrote into worktrees outside the root.
func (r *Repo) removeOutsideConfigs(ctx context.Context, p *plan, res *InitResult) error {
	wts, err := r.worktrees(ctx)
	if err != nil {
		return err
	}
	for _, w := range wts {
		if w.Location != gitwt.LocElsewhere || w.Prunable || !exists(w.Path) {
			continue
		}
		cfg := ConfigPathIn(w.Path)
		td, ok, err := cargoconfig.Get(cfg, "build", "target-dir")
		if err != nil {
			return err
		}
		if ok && samePath(td, r.SharedDir) {
			p.add(cfg, func() (bool, error) { return restore(res, cfg, "target-dir", td) })
		}
	}
	return nil
}

// removeCommittedConfigs plans undoing what shared mode with a committed
// root config wrote (committed.go).
func (r *Repo) removeCommittedConfigs(ctx context.Context, p *plan, res *InitResult) error {
	if !r.Committed {
		return nil
	}
	wts, err := r.worktrees(ctx)
	if err != nil {
		return err
	}
	for _, cfg := range r.committedConfigs(wts) {
		td, ok, err := cargoconfig.Get(cfg, "build", "target-dir")
		if err != nil {
			return err
		}
		if ok && samePath(td, r.SharedDir) {
			p.add(cfg, func() (bool, error) { return restore(res, cfg, "target-dir", td) })
		}
	}
	return nil
}

// replace sets build.key in cfg, keeping a value it replaces in a comment
// for off (cargoconfig.Replace).
func replace(cfg, key, value string) (bool, error) {
	changed, _, err := cargoconfig.Replace(cfg, "build", key, value)
	return changed, err
}

// restore undoes replace for build.key = value, noting in res a value put
// back.
func restore(res *InitResult, cfg, key, value string) (bool, error) {
	changed, old, err := cargoconfig.Restore(cfg, "build", key, value)
	if old != "" {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: put back build.%s = %q, which grove init had replaced", cfg, key, old))
	}
	return changed, err
}

func replacedNote(cfg, key, old, value string) string {
	return fmt.Sprintf("%s had build.%s = %q; replaced by %q (kept in a comment there: grove off puts it back)", cfg, key, old, value)
}

// refuseTracked fails when cfg is tracked by git in the worktree top: a
// machine-specific absolute path must not land in a commit.
func (r *Repo) refuseTracked(ctx context.Context, top, cfg string) error {
	tracked, err := gitwt.IsTracked(ctx, top, cfg)
	if err != nil {
		return err
	}
	if tracked {
		rp := rel(top, cfg)
		return fmt.Errorf("%s is tracked by git; grove will not write a machine-specific path into a committed file (untrack it: git rm --cached %s, then add it to .gitignore)", cfg, rp)
	}
	return nil
}

// appendLine adds line to a text file unless a line equal to it is there.
func appendLine(path, line string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == line {
			return false, nil
		}
	}
	var b bytes.Buffer
	b.Write(data)
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString(line + "\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := atomicfile.Write(path, b.Bytes(), mode); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// envNotes warns about environment variables that override config files.
// A wrapper variable set but empty counts too: Cargo then runs rustc with
// no wrapper at all, so builds started from this environment bypass grove
// as surely as with another wrapper.
func (r *Repo) envNotes() []string {
	var out []string
	for _, k := range []string{"CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER"} {
		if v := r.Env(k); v != "" {
			out = append(out, fmt.Sprintf("%s=%s is set in this environment and overrides the config files for builds started from it", k, v))
		} else if r.LookupEnv == nil {
			continue
		} else if _, set := r.LookupEnv(k); set && strings.HasSuffix(k, "RUSTC_WRAPPER") {
			out = append(out, fmt.Sprintf("%s is set but empty in this environment: Cargo then runs rustc with no wrapper, so builds started from it bypass grove", k))
		}
	}
	return out
}

func dedup(s []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
