// Package gitwatch tells whether a build-script run read git's state: the
// trampoline watches a worktree's git dirs while the script runs, and a
// run that opened nothing there is keyed without git state (key/githead.go
// holds the rule and why it is sound).
package gitwatch

import (
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
)

// maxDirs bounds the dirs watched; a git dir holding more is not watched
// (the run counts as reading git).
const maxDirs = 4096

// Dirs returns the dirs to watch for the worktree tree: its git dir
// (.git, or .git/worktrees/<name> for a linked worktree) and the common
// git dir, with every dir below them but object stores (objects/,
// lfs/objects/): refs/, logs/, reftable/, the other worktrees' dirs.
// Every way to learn git state (git, libgit2, gix, a script reading
// .git/HEAD or listing refs/heads itself) opens a file or lists a dir
// there; the `.git` file in a linked worktree's root names only the git
// dir, the same for every run of that tree. The dirs are resolved by git
// before the run, so nothing the run does opens them first.
func Dirs(tree string) ([]string, error) {
	out, err := exec.Command("git", "-C", tree, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir").Output()
	if err != nil {
		return nil, err
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) != 2 {
		return nil, errors.New("git rev-parse: unexpected output")
	}
	seen := map[string]bool{}
	var dirs []string
	for _, root := range lines {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if d.Name() == "objects" && p != root {
				return filepath.SkipDir
			}
			if seen[p] {
				return filepath.SkipDir
			}
			seen[p] = true
			if dirs = append(dirs, p); len(dirs) > maxDirs {
				return errors.New("git dir has too many dirs to watch")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return dirs, nil
}

// Result is what a watch saw.
type Result struct {
	// Read: something opened or changed a file or dir in the watched
	// dirs (or the watch cannot tell: overflow, no inotify).
	Read bool
	// Moved: HEAD, packed-refs or something under refs/ or reftable/
	// was written: the git state after the run may not be the one the
	// run saw.
	Moved bool
}

// refState reports whether an entry name in dir holds git state a write
// to which moves HEAD or a ref.
func refState(dir, name string) bool {
	for _, p := range strings.Split(filepath.ToSlash(dir), "/") {
		if p == "refs" || p == "reftable" || p == "logs" {
			return true
		}
	}
	switch strings.TrimSuffix(name, ".lock") {
	case "HEAD", "packed-refs", "refs", "reftable":
		return true
	}
	return false
}
