// Package treewatch tells which files of a worktree a compile opened and
// which of its dirs it listed: an inotify watch (package fswatch) on every
// dir of the tree while rustc runs. What those reads mean for the key is
// key/reads.go's rule; this package only finds the dirs and reads the
// events.
package treewatch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/gitwt"
)

// MaxDirs bounds the dirs watched: a tree holding more is not watched
// (and its units are not stored), because every dir costs a watch of the
// user's inotify budget and a stat per miss.
const MaxDirs = 4096

// ErrTooMany: the tree has more than MaxDirs dirs.
var ErrTooMany = fmt.Errorf("more than %d dirs to watch", MaxDirs)

// Dirs returns root and every dir below it but those skip rejects (a
// target dir, .git, a nested repository) and those git ignores, without
// symlinks followed.
//
// Ignored dirs are left out because they are not the tree's sources and
// they are where the dirs are: a web frontend's node_modules inside the
// workspace holds tens of thousands, which would put the tree over
// MaxDirs and leave none of its members stored. A compile's reads there
// are not seen (key/reads.go says what that means). git is asked once per
// call that lists a dir again, never when every dir is as cached; a dir
// that a .gitignore edited in place un-ignores is watched once its parent
// changes.
//
// Listing the tree on every miss would be seen by the watches of the
// compiles running beside it as listings of every dir, so the list is
// kept in cache (a file in the target dir) with each dir's stamp (inode,
// mtime, ctime): a dir whose stamp is the one cached, and was old enough when cached to rule
// out a change in the same clock tick, has the same entries, so only its
// subdirs are visited (a stat each, which inotify does not report).
// A dir is listed again only when it changed.
func Dirs(root string, skip func(dir string) bool, cache string) ([]string, error) {
	// One process at a time: compiles that start together in a fresh tree
	// (no cache yet) would each list every dir and run git, and each
	// listing is seen by the watches of the compiles already running as
	// reads of theirs (listings, which differ between trees: lost hits).
	// The others wait for the cache the first one writes, and only stat.
	if l, err := os.OpenFile(cache+".lock", os.O_CREATE|os.O_RDWR, 0o644); err == nil {
		defer l.Close()
		_ = unix.Flock(int(l.Fd()), unix.LOCK_EX)
	}
	old := readCache(cache)
	now := time.Now()
	var dirs []string
	next := map[string]cached{}
	changed := false
	var ignored map[string]bool // asked of git on the first dir listed
	var visit func(dir string) error
	visit = func(dir string) error {
		if len(dirs) >= MaxDirs {
			return ErrTooMany
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			return err
		}
		dirs = append(dirs, dir)
		st, newest := stamp(fi)
		c, ok := old[dir]
		if !ok || c.stamp != st || c.stamp == "" {
			changed = true
			ents, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			c = cached{}
			if newest.Before(now.Add(-filehash.ClockLag)) {
				c.stamp = st
			}
			if ignored == nil {
				ignored = ignoredDirs(root)
			}
			for _, e := range ents {
				if e.IsDir() && !ignored[filepath.Join(dir, e.Name())] {
					c.subdirs = append(c.subdirs, e.Name())
				}
			}
		}
		next[dir] = c
		for _, name := range c.subdirs {
			sub := filepath.Join(dir, name)
			if skip(sub) {
				continue
			}
			if err := visit(sub); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if err := visit(root); err != nil {
		return nil, err
	}
	if changed || len(next) != len(old) {
		writeCache(cache, next)
	}
	return dirs, nil
}

// ignoredDirs returns the dirs below root that git ignores as a whole
// (absolute), an empty set when git cannot tell (not a repository).
func ignoredDirs(root string) map[string]bool {
	m := map[string]bool{}
	out, err := gitwt.Run(context.Background(), root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return m
	}
	for _, p := range strings.Split(out, "\x00") {
		if d, ok := strings.CutSuffix(p, "/"); ok {
			m[filepath.Join(root, filepath.FromSlash(d))] = true
		}
	}
	return m
}

// cached is one dir as the cache holds it: its stamp when listed (""
// when too recent to trust) and its subdirs.
type cached struct {
	stamp   string
	subdirs []string
}

// The cache file: one line per dir, "stamp\tdir\tsub1/sub2/...".
func readCache(path string) map[string]cached {
	m := map[string]cached{}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			return map[string]cached{} // corrupt: list everything again
		}
		var subs []string
		if f[2] != "" {
			subs = strings.Split(f[2], "/")
		}
		m[f[1]] = cached{stamp: f[0], subdirs: subs}
	}
	return m
}

func writeCache(path string, m map[string]cached) {
	if path == "" {
		return
	}
	var buf bytes.Buffer
	for d, c := range m {
		if strings.ContainsAny(d, "\t\n") || strings.ContainsAny(strings.Join(c.subdirs, ""), "\t\n/") {
			return // not representable: list again next time
		}
		fmt.Fprintf(&buf, "%s\t%s\t%s\n", c.stamp, d, strings.Join(c.subdirs, "/"))
	}
	_ = atomicfile.Write(path, buf.Bytes(), 0o644)
}
