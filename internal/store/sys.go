package store

import (
	"errors"
	"io/fs"
	"os"
)

// The platform primitives of the store. Each has one implementation per
// operating system (sys_linux.go, sys_darwin.go; build tags only there), all
// with the contract stated here; the declarations below make the compiler
// check that every implementation has the same signature. Callers keep their
// logic (which method to try first, fallbacks) in the portable files.
//
// cloneNew(src, dst, perm) creates dst, which must not exist, as a
// copy-on-write clone of the open file src, and returns it open for
// writing. perm must let the owner write. It is the one "restore as a fresh
// private file" operation, the same on every platform:
//   - dst is its own inode (writing to it can never reach src) sharing src's
//     data blocks;
//   - its mode is perm less the umask, as open(2) would make it, never
//     src's (a restore's clone is a private output, moded like rustc's);
//     the store's own clones set their exact mode with Chmod; its owner is
//     the caller;
//   - its mtime is fresh (now), as for a copy, never src's: a clone is an
//     ordinary new file for Cargo's freshness rule and Clean's age rule.
//     (Linux's FICLONE fills a file just created, so this comes free; macOS's
//     clonefile copies src's mtime, so the implementation re-stamps it.)
//
// On any error dst does not exist and the caller copies instead: the file
// system cannot clone, src is on another file system, or dst's directory is
// missing.
//
// renameNoReplace(old, new) renames old to new, failing with an error that
// matches fs.ErrExist if new exists. Where the kernel or file system cannot
// rename exclusively it does nothing and returns errNoExclusiveRename; the
// caller then uses linkNoReplace.
//
// mayReflink(dir) reports whether the file system holding dir might support
// cloneNew. It answers false only for file systems known to lack it, so an
// unknown one is probed by trying; one statfs is far cheaper than a failed
// probe.
var (
	_ func(src *os.File, dst string, perm fs.FileMode) (*os.File, error) = cloneNew
	_ func(oldpath, newpath string) error                                = renameNoReplace
	_ func(dir string) bool                                              = mayReflink
)

// errNoExclusiveRename is renameNoReplace's answer where no exclusive rename
// exists.
var errNoExclusiveRename = errors.New("no exclusive rename on this file system")

// linkNoReplace gives the file oldpath the name newpath without replacing an
// existing newpath, where renameNoReplace is missing: link(2) fails with
// EEXIST rather than replace, and oldpath is unlinked after a successful
// link. If newpath exists it returns an error matching fs.ErrExist and
// leaves oldpath in place. On a file system without hard links either (FAT,
// some FUSE) it falls back to a plain rename: still atomic, but it may
// replace a newpath created meanwhile.
func linkNoReplace(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		os.Remove(oldpath)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Rename(oldpath, newpath)
}
