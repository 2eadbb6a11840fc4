package key

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
)

// Build-script runs: the rest of the worktree (rule in buildrun.go).
//
// The commit checked out says what every tracked file of the tree holds,
// except what git reports as changed; it says nothing of untracked and
// ignored files. The key holds the commit's tree object (its files, by
// content), not the commit: two worktrees at one commit, or at two
// commits of the same files, hold the same files; the commit, the branch
// and the refs are keyed only for runs that read git (githead.go). A script reads such files without declaring them (a
// sibling crate's uncommitted data, a git-ignored `../.env`), and plain
// cargo in a fresh worktree reads that worktree's. So the key holds, for
// every path `git status` lists as modified, deleted, untracked or
// ignored, its content: a file by digest, a deleted one as absent, a dir
// (an ignored one is listed whole) by its files. Left out: the package
// (keyed whole), the target dir, any other Cargo target or build dir
// and nested repository or worktree (their markers, as for the package),
// and CARGO_HOME. A tree where git cannot say (no git, a broken
// repository) is not cached: its state is unknown.

// TreeState digests what git reports of tree beyond its commit by this
// rule, leaving out the package at manifestDir and the target dir
// targetRoot. Package seed compares a donor's with a new tree's before it
// copies a build-script run: one rule for what a run may have read of the
// rest of its tree, whether the run is replayed from the store or seeded.
// Paths are tree-relative, so two trees with the same state digest alike.
func TreeState(tree, manifestDir, targetRoot, cargoHome string, h *filehash.Hasher) (string, error) {
	r := &BuildRun{tree: tree, ManifestDir: manifestDir, Hasher: h,
		Norm: NewNormalizer(map[string]string{Target: targetRoot, Cwd: tree, CargoHome: cargoHome})}
	return r.treeState()
}

// treeState digests what git reports of r.tree beyond its commit.
func (r *BuildRun) treeState() (string, error) {
	var buf bytes.Buffer
	// No commit yet (an unborn branch): status lists every file.
	head, _ := exec.Command("git", "-C", r.tree, "rev-parse", "-q", "--verify", "HEAD^{tree}").Output()
	fmt.Fprintf(&buf, "tree %s\n", bytes.TrimSpace(head))
	out, err := exec.Command("git", "-C", r.tree, "status", "--porcelain=v1", "-z",
		"--untracked-files=all", "--ignored=matching", "--no-renames", "--ignore-submodules=none").Output()
	if err != nil {
		return "", NotCacheable("git status of the tree failed: " + err.Error())
	}
	targetRoot := r.Norm.Paths()[Target]
	cargoHome := r.Norm.Paths()[CargoHome]
	n := 0
	skipped := map[string]bool{}
	for _, ent := range strings.Split(string(out), "\x00") {
		if len(ent) < 4 {
			continue
		}
		status, rel := ent[:2], strings.TrimSuffix(ent[3:], "/")
		p := filepath.Join(r.tree, filepath.FromSlash(rel))
		if within(p, r.ManifestDir) || targetRoot != "" && within(p, targetRoot) ||
			cargoHome != "" && within(p, cargoHome) || within(r.ManifestDir, p) || r.inSkippedDir(p, skipped) {
			continue
		}
		d, err := r.restDigest(p, &n)
		if err != nil {
			return "", err
		}
		if d == "" {
			continue
		}
		fmt.Fprintf(&buf, "%s %s %s\n", status, rel, d)
	}
	return filehash.Bytes(buf.Bytes()), nil
}

// restDigest digests one path git listed: a file by content, a symlink by
// its target, a dir by its files (without target dirs and nested
// repositories; "" for one that holds nothing else, such as an ignored
// `.worktrees/` holding only worktrees, so that the tree holding them
// keys as they do), a missing path as absent. n counts files against
// maxPackageFiles across the whole tree.
func (r *BuildRun) restDigest(p string, n *int) (string, error) {
	fi, err := os.Lstat(p)
	switch {
	case err != nil && os.IsNotExist(err):
		return record.Absent, nil
	case err != nil:
		return "", err
	case fi.Mode()&fs.ModeSymlink != 0:
		l, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		return "link:" + r.Norm.Normalize(l), nil
	case fi.Mode().IsRegular():
		if *n++; *n > maxPackageFiles {
			return "", NotCacheable(fmt.Sprintf("tree %s has more than %d changed or ignored files", r.tree, maxPackageFiles))
		}
		d, _, err := r.Hasher.File(p)
		return d, err
	case fi.IsDir():
		skip := func(q string, d fs.DirEntry) bool {
			return d.Name() == ".git" || d.IsDir() && q != p && skipPackageDir(q)
		}
		if !holdsFiles(p, skip) {
			return "", nil
		}
		dg, err := r.digestTree(p, skip, "ignored dir")
		if err != nil {
			return "", err
		}
		return "dir:" + dg, nil
	default:
		return "other:" + fi.Mode().Type().String(), nil
	}
}

// inSkippedDir reports whether p, or a dir between it and the tree, is a
// target or build dir or another repository or worktree (git lists an
// untracked target dir file by file, and a nested worktree, such as
// `.worktrees/b`, as one entry): such paths are left out, so a tree that
// holds other worktrees keys as one that does not. memo caches the dirs.
func (r *BuildRun) inSkippedDir(p string, memo map[string]bool) bool {
	for d := p; d != r.tree && within(d, r.tree); d = filepath.Dir(d) {
		s, ok := memo[d]
		if !ok {
			fi, err := os.Lstat(d)
			s = err == nil && fi.IsDir() && skipPackageDir(d)
			memo[d] = s
		}
		if s {
			return true
		}
	}
	return false
}

// holdsFiles reports whether the dir root holds anything but dirs once
// skip has left out what it skips.
func holdsFiles(root string, skip func(string, fs.DirEntry) bool) bool {
	found := false
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			found = true // unreadable: let the digest say why
			return filepath.SkipAll
		}
		if skip(p, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
