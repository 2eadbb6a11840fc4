// Package seed fills a new worktree's empty target dir from a worktree
// that has been built, so that its first `cargo build` is close to a no-op.
//
// Restoring units through the wrapper still runs every build script and
// asks grove for every unit. Seeding skips that: Cargo's fingerprints and
// build-script outputs are copied with their mtimes, and the write-once
// artifacts in deps/ are hardlinked (they are usually store blobs already).
// Cargo then finds the dependencies fresh by its own rules.
//
// The units of the workspace's own packages are left out: their sources in
// the new worktree are other files than the donor's, so Cargo must judge
// them itself. With no fingerprint it rebuilds them, and the wrapper serves
// them from the store. Copying their fingerprints would reproduce the bug
// of a shared target dir: a worktree whose files are older than the donor's
// build would be served the donor's code.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cargolock"
	"github.com/grove-rs/grove/internal/gitwt"
)

// Options says what to seed.
type Options struct {
	Dir    string          // a directory inside the worktree to seed
	Donor  string          // the worktree to copy from; "" picks the most recently built one
	DryRun bool            // plan only
	Env    cargoconfig.Env // environment lookup (os.Getenv)
	Cargo  string          // cargo binary, "cargo" if empty
}

// Result says what was done.
type Result struct {
	Worktree     string   `json:"worktree"`
	Target       string   `json:"target_dir"`
	Donor        string   `json:"donor"`
	DonorTarget  string   `json:"donor_target_dir"`
	Profiles     []string `json:"profiles"`
	Units        int      `json:"units"`         // fingerprints copied
	SkippedUnits int      `json:"skipped_units"` // units of workspace members, left to Cargo
	Linked       int      `json:"files_linked"`
	LinkedBytes  int64    `json:"bytes_linked"`
	Copied       int      `json:"files_copied"`
	CopiedBytes  int64    `json:"bytes_copied"`
	DryRun       bool     `json:"dry_run,omitempty"`
}

// ErrNothingToSeed means there is no built worktree to copy from.
var ErrNothingToSeed = errors.New("no other worktree has a built target dir to seed from")

// Seed seeds the worktree containing opts.Dir.
func Seed(ctx context.Context, opts Options) (*Result, error) {
	repo, err := gitwt.Discover(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	if repo.Current == "" {
		return nil, fmt.Errorf("%s is not inside a worktree", opts.Dir)
	}
	res := &Result{Worktree: repo.Current}
	// The workspace may live in a subdirectory (rust/): the same one in
	// every worktree.
	wsRel, err := workspaceIn(ctx, repo.Current, opts.Dir)
	if err != nil {
		return nil, err
	}
	if res.Target, _, err = cargoconfig.TargetDir(filepath.Join(repo.Current, wsRel), opts.Env); err != nil {
		return nil, err
	}
	if profiles := profileDirs(res.Target); len(profiles) > 0 {
		return nil, fmt.Errorf("target dir %s has been built already; seeding only fills an empty one", res.Target)
	}
	wts, err := repo.List(ctx)
	if err != nil {
		return nil, err
	}
	if err := pickDonor(res, wts, opts, wsRel); err != nil {
		return nil, err
	}
	if held, err := cargolock.Held(res.DonorTarget); err != nil {
		return nil, err
	} else if len(held) > 0 {
		return nil, fmt.Errorf("a cargo build is running in %s (%s); seed when it has finished", res.Donor, held[0].Path)
	}
	members, err := workspacePackages(ctx, opts.Cargo, filepath.Join(repo.Current, wsRel))
	if err != nil {
		return nil, err
	}
	res.DryRun = opts.DryRun
	c := &copier{res: res, dry: opts.DryRun, members: members}
	for _, rel := range profileDirs(res.DonorTarget) {
		res.Profiles = append(res.Profiles, rel)
		if err := c.profile(filepath.Join(res.DonorTarget, rel), filepath.Join(res.Target, rel)); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"CACHEDIR.TAG", ".rustc_info.json"} {
		if err := c.copyFile(filepath.Join(res.DonorTarget, f), filepath.Join(res.Target, f), nil); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return res, nil
}

// pickDonor chooses the donor: the one asked for, or the worktree whose
// target dir was built most recently, so its state is the likeliest match.
func pickDonor(res *Result, wts []gitwt.Worktree, opts Options, wsRel string) error {
	var best time.Time
	for _, wt := range wts {
		if wt.Bare || wt.Prunable || wt.Path == res.Worktree {
			continue
		}
		if opts.Donor != "" && !sameDir(wt.Path, opts.Donor) {
			continue
		}
		target, _, err := cargoconfig.TargetDir(filepath.Join(wt.Path, wsRel), opts.Env)
		if err != nil {
			continue
		}
		if target == res.Target {
			return fmt.Errorf("%s and %s share the target dir %s (shared mode): nothing to seed", res.Worktree, wt.Path, target)
		}
		for _, p := range profileDirs(target) {
			fi, err := os.Stat(filepath.Join(target, p, ".fingerprint"))
			if err == nil && fi.ModTime().After(best) {
				best, res.Donor, res.DonorTarget = fi.ModTime(), wt.Path, target
			}
		}
	}
	if res.Donor == "" {
		if opts.Donor != "" {
			return fmt.Errorf("%s is not a built worktree of this repository", opts.Donor)
		}
		return ErrNothingToSeed
	}
	return nil
}

func sameDir(a, b string) bool {
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	ea, err1 := filepath.EvalSymlinks(a)
	eb, err2 := filepath.EvalSymlinks(b)
	if err1 == nil && err2 == nil {
		return ea == eb
	}
	return a == b
}

// profileDirs lists the profile dirs of a target dir (relative): those
// holding a .fingerprint dir, at <target>/<profile> or
// <target>/<triple>/<profile>.
func profileDirs(target string) []string {
	var out []string
	for _, pat := range []string{"*/.fingerprint", "*/*/.fingerprint"} {
		m, _ := filepath.Glob(filepath.Join(target, pat))
		for _, p := range m {
			rel, _ := filepath.Rel(target, filepath.Dir(p))
			out = append(out, rel)
		}
	}
	return out
}

// workspacePackages returns the names of the workspace's own packages.
// workspaceIn returns the Cargo workspace of the worktree top that grove
// works on from dir (see cargoconfig.FindWorkspace), relative to top.
func workspaceIn(ctx context.Context, top, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	manifests, err := gitwt.TrackedManifests(ctx, top)
	if err != nil {
		return "", err
	}
	return cargoconfig.FindWorkspace(top, abs, manifests)
}

func workspacePackages(ctx context.Context, cargo, dir string) (map[string]bool, error) {
	if cargo == "" {
		cargo = "cargo"
	}
	cmd := exec.CommandContext(ctx, cargo, "metadata", "--format-version", "1", "--no-deps", "--offline")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cargo metadata in %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var md struct {
		Packages []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(out, &md); err != nil {
		return nil, fmt.Errorf("cargo metadata: %w", err)
	}
	m := map[string]bool{}
	for _, p := range md.Packages {
		m[p.Name] = true
	}
	return m, nil
}

type copier struct {
	res     *Result
	dry     bool
	members map[string]bool
}

// isMemberUnit reports whether a unit dir name (<package>-<16 hex>) is one
// of the workspace's own packages.
func (c *copier) isMemberUnit(name string) bool {
	i := strings.LastIndexByte(name, '-')
	return i > 0 && c.members[name[:i]]
}

// profile seeds one profile dir: fingerprints and build-script dirs of
// non-member units, copied with their mtimes (OUT_DIRs may be rewritten in
// place by build scripts, so they are copies); deps/ hardlinked, dep-info
// files rewritten with the new target dir. incremental/ is left out: it is
// only a speed-up for workspace members, which Cargo rebuilds anyway.
func (c *copier) profile(src, dst string) error {
	for _, sub := range []string{".fingerprint", "build"} {
		entries, err := os.ReadDir(filepath.Join(src, sub))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if c.isMemberUnit(e.Name()) {
				if sub == ".fingerprint" {
					c.res.SkippedUnits++
				}
				continue
			}
			if sub == ".fingerprint" {
				c.res.Units++
			}
			if err := c.tree(filepath.Join(src, sub, e.Name()), filepath.Join(dst, sub, e.Name()), sub == "build"); err != nil {
				return err
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(src, "deps"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		s, d := filepath.Join(src, "deps", e.Name()), filepath.Join(dst, "deps", e.Name())
		if strings.HasSuffix(e.Name(), ".d") {
			err = c.copyFile(s, d, c.rewrite)
		} else {
			err = c.link(s, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rewrite points a dep-info file at the new target dir.
func (c *copier) rewrite(b []byte) []byte {
	return []byte(strings.ReplaceAll(string(b), c.res.DonorTarget, c.res.Target))
}

// tree copies a directory, keeping every file's mtime. In a build-script
// dir (build=true) the compiled script, written once like everything in
// deps/, is hardlinked; its OUT_DIR is copied, since build scripts may
// rewrite their own files in place.
func (c *copier) tree(src, dst string, build bool) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if c.dry {
				return nil
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			if c.dry {
				return nil
			}
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			inOutDir := rel == "out" || strings.HasPrefix(rel, "out"+string(filepath.Separator))
			switch {
			case build && !inOutDir && strings.HasSuffix(p, ".d"):
				return c.copyFile(p, target, c.rewrite)
			case build && !inOutDir:
				if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
					return c.link(p, target)
				}
			}
			return c.copyFile(p, target, nil)
		}
		return nil
	})
}

// link hardlinks src to dst, falling back to a copy across file systems.
func (c *copier) link(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	c.res.Linked++
	c.res.LinkedBytes += fi.Size()
	if c.dry {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	c.res.Linked--
	c.res.LinkedBytes -= fi.Size()
	return c.copyFile(src, dst, nil)
}

// copyFile copies src to dst with src's mode and mtime, optionally
// transforming the content.
func (c *copier) copyFile(src, dst string, transform func([]byte) []byte) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	c.res.Copied++
	c.res.CopiedBytes += fi.Size()
	if c.dry {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if transform != nil {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, transform(b), fi.Mode().Perm()); err != nil {
			return err
		}
	} else if err := copyContent(src, dst, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

func copyContent(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}
