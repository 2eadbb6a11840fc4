// Package setup is grove's setup workflow for one repository, in either
// mode: the config switch for the default cache mode (init, off, with the
// post-checkout hook that seeds new worktrees), the seed note's shared
// target dir (init --shared, reclaim), and what inspects both (status,
// doctor). Functions return data; cmd/grove-cli prints it.
//
// Nothing here writes before every check has passed: a failed command
// leaves the repository's files byte-for-byte as they were.
package setup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
	"golang.org/x/sys/unix"
)

// SharedDirName is the shared target dir's name at the repository root.
const SharedDirName = ".shared-target"

// WrapperName is what cache mode sets as build.rustc-wrapper. A bare name:
// Cargo looks it up on PATH, so the committed config holds no absolute path.
const WrapperName = "grove"

// Mode is how a repository is set up.
type Mode string

const (
	ModeNone   Mode = "none"
	ModeShared Mode = "shared" // build.target-dir at the root points at .shared-target
	ModeCache  Mode = "cache"  // build.rustc-wrapper = "grove" (repo or user config)
)

// Repo is a repository opened for the workflow.
type Repo struct {
	Git *gitwt.Repo
	// Root is the main worktree (symlinks resolved).
	Root string
	// ConfigPath is the root's Cargo config file: `.cargo/config` if that
	// exists (Cargo prefers it), else `.cargo/config.toml`. Shared mode's
	// file; cache mode edits CacheConfigPath.
	ConfigPath string
	// Top is the top of the worktree the command runs in (git's Current,
	// symlinks resolved): Root in the main worktree.
	Top string
	// SharedDir is <Root>/.shared-target.
	SharedDir string
	// Env is the environment Cargo would see.
	Env cargoconfig.Env
	// LookupEnv, when set, tells a variable set but empty from an unset
	// one in that environment (os.LookupEnv): an empty RUSTC_WRAPPER
	// turns the wrapper off.
	LookupEnv func(string) (string, bool)
	// Workspace is the Cargo workspace grove works on, relative to a
	// worktree's top: "." or a subdirectory such as "rust" (the same in
	// every worktree). WorkspaceErr says why none could be chosen (several
	// side by side); Workspace is "." then.
	Workspace    string
	WorkspaceErr error
	// ConfigTracked is true when git tracks the root config.
	ConfigTracked bool
	// Committed is true when the root config is tracked by git and sets no
	// target-dir: shared mode then leaves it alone and SharedDir is the
	// main worktree's own target dir (see committed.go).
	Committed bool
	// StoreDir is the cache-mode store builds here use (GROVE_DIR as
	// Cargo hands it to the wrapper); "" skips the checks that need it.
	StoreDir string
}

// Open finds the repository containing dir and checks that it is a Rust
// repository grove can set up.
func Open(ctx context.Context, dir string, env cargoconfig.Env) (*Repo, error) {
	g, err := gitwt.Discover(ctx, dir)
	if err != nil {
		return nil, err
	}
	if g.Bare {
		return nil, fmt.Errorf("%s is a bare repository: it has no main worktree to hold the shared config", g.Root)
	}
	root := g.Root
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	if !hasCargoManifest(ctx, root) {
		return nil, fmt.Errorf("%s has no Cargo.toml: not a Rust repository", root)
	}
	top := g.Current
	if top == "" {
		top = g.Root
	}
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	r := &Repo{
		Git:        g,
		Root:       root,
		ConfigPath: ConfigPathIn(root),
		Top:        top,
		SharedDir:  filepath.Join(root, SharedDirName),
		Env:        env,
		Workspace:  ".",
	}
	manifests, err := gitwt.TrackedManifests(ctx, top)
	if err != nil {
		return nil, err
	}
	cwd, _ := filepath.Abs(dir)
	if ws, err := cargoconfig.FindWorkspace(top, cwd, manifests); err == nil {
		r.Workspace = ws
	} else {
		r.WorkspaceErr = err
	}
	if tracked, err := gitwt.IsTracked(ctx, root, r.ConfigPath); err != nil {
		return nil, err
	} else if tracked {
		r.ConfigTracked = true
		_, setsTarget, err := cargoconfig.Get(r.ConfigPath, "build", "target-dir")
		if err == nil && !setsTarget {
			r.Committed = true
			// Cargo's default for the main worktree, from config files alone.
			if td, _, err := cargoconfig.TargetDir(r.WorkspaceIn(root), configEnv(env)); err == nil {
				r.SharedDir = td
			} else {
				r.SharedDir = filepath.Join(r.WorkspaceIn(root), "target")
			}
		}
	}
	return r, nil
}

// WorkspaceIn returns the directory of the repository's Cargo workspace in
// the worktree at top: where Cargo runs and resolves its target dir.
func (r *Repo) WorkspaceIn(top string) string {
	return filepath.Join(top, r.Workspace)
}

// ownTargets returns the default target dirs a worktree can have: target/
// at its top and, for a workspace in a subdirectory, target/ there.
func (r *Repo) ownTargets(top string) []string {
	out := []string{filepath.Join(top, "target")}
	if r.Workspace != "." {
		out = append(out, filepath.Join(r.WorkspaceIn(top), "target"))
	}
	return out
}

// ConfigPathIn returns the Cargo config file of dir's `.cargo/`.
func ConfigPathIn(dir string) string {
	old := filepath.Join(dir, ".cargo", "config")
	if st, err := os.Stat(old); err == nil && !st.IsDir() {
		return old
	}
	return filepath.Join(dir, ".cargo", "config.toml")
}

// CacheConfigPath is the Cargo config file cache-mode `grove init` and
// `grove off` (without --user) edit: the one at the top of the worktree the
// command runs in (Top), not the main worktree's. The rule: in cache mode
// the config Cargo reads is the one in the worktree being built — it is
// committed per branch, so every worktree has its own copy — and editing
// the main worktree's from a linked worktree would leave an uncommitted
// change in another checkout while builds here kept (or never got) the
// wrapper. Whether builds in a worktree use grove is decided by what Cargo
// reads there (wrapperSource), which also sees a config above a worktree
// nested inside the main one and the user config. Shared mode keeps the
// root's config (ConfigPath): the shared target dir is one setting for
// the whole repository.
func (r *Repo) CacheConfigPath() string {
	return ConfigPathIn(r.Top)
}

// wrapperSource reports whether a build started in the current worktree
// runs grove as rustc-wrapper according to the config files Cargo reads
// there (environment overrides are reported separately), and which file
// says so.
func (r *Repo) wrapperSource() (src string, on bool, err error) {
	v, src, found, err := cargoconfig.Lookup(r.WorkspaceIn(r.Top), configEnv(r.Env), "build", "rustc-wrapper")
	if err != nil {
		return "", false, err
	}
	return src, found && v == WrapperName, nil
}

// hasCargoManifest reports whether the main worktree has a Cargo.toml at
// its root or anywhere git tracks one.
func hasCargoManifest(ctx context.Context, root string) bool {
	if _, err := os.Stat(filepath.Join(root, "Cargo.toml")); err == nil {
		return true
	}
	tracked, err := gitwt.IsTracked(ctx, root, ":(glob)**/Cargo.toml")
	return err == nil && tracked
}

// Mode reports how the repository is set up: shared when the root config
// sets build.target-dir to the shared dir, cache when the config Cargo
// reads in the current worktree sets build.rustc-wrapper = "grove" (see
// CacheConfigPath), none otherwise. userWrapper is the user config file
// that enables cache mode for every repository, when that is the one.
func (r *Repo) Mode() (mode Mode, userWrapper string, err error) {
	td, ok, err := cargoconfig.Get(r.ConfigPath, "build", "target-dir")
	if err != nil {
		return ModeNone, "", err
	}
	if ok && r.isSharedDir(td) {
		return ModeShared, "", nil
	}
	if on, err := r.committedMode(); err != nil {
		return ModeNone, "", err
	} else if on {
		return ModeShared, "", nil
	}
	src, on, err := r.wrapperSource()
	if err != nil || !on {
		return ModeNone, "", err
	}
	if home, err := cargoconfig.CargoHome(r.Env); err == nil && samePath(src, userConfigPath(home)) {
		return ModeCache, src, nil
	}
	return ModeCache, "", nil
}

// userConfigPath returns $CARGO_HOME's config file (`config` if present).
func userConfigPath(home string) string {
	old := filepath.Join(home, "config")
	if st, err := os.Stat(old); err == nil && !st.IsDir() {
		return old
	}
	return filepath.Join(home, "config.toml")
}

// isSharedDir reports whether a target-dir value from the root config names
// this repository's shared dir (a relative value is relative to Root).
func (r *Repo) isSharedDir(v string) bool {
	if !filepath.IsAbs(v) {
		v = filepath.Join(r.Root, v)
	}
	return samePath(v, r.SharedDir)
}

func samePath(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// configEnv is the environment without the variables that override
// config files, to tell what the config files alone do.
func configEnv(env cargoconfig.Env) cargoconfig.Env {
	return func(k string) string {
		switch k {
		case "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER":
			return ""
		}
		return env(k)
	}
}

// checkWritable fails when path (or, if it does not exist, the closest
// existing ancestor) cannot be written, and for an existing file also
// when its directory cannot (atomic writes create a temp file there).
// access(2) honours read-only mounts and immutable files even for root.
func checkWritable(path string) error {
	p := path
	for {
		err := unix.Access(p, unix.W_OK)
		if err == nil {
			break
		}
		if errors.Is(err, unix.ENOENT) && filepath.Dir(p) != p {
			p = filepath.Dir(p)
			continue
		}
		return fmt.Errorf("cannot write %s: %w", p, err)
	}
	if p == path {
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return checkWritable(filepath.Dir(path))
		}
	}
	return nil
}

// rel shows p relative to root when it is inside it.
func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
