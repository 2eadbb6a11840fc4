package store

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cloneNew: see sys.go. Linux: create dst, then ioctl FICLONE into it (XFS
// with reflink=1, Btrfs, bcachefs); ext4 and tmpfs answer EOPNOTSUPP, another
// file system EXDEV. The new inode's mtime is its creation time.
func cloneNew(src *os.File, dst string, perm fs.FileMode) (*os.File, error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	if err := unix.IoctlFileClone(int(out.Fd()), int(src.Fd())); err != nil {
		out.Close()
		os.Remove(dst)
		return nil, &fs.PathError{Op: "ficlone", Path: dst, Err: err}
	}
	return out, nil
}

// renameNoReplace: see sys.go. Linux: renameat2(RENAME_NOREPLACE), since
// 3.15; not every file system has it (EINVAL), and seccomp filters of some
// sandboxes refuse it (ENOSYS).
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExclusiveRename
	}
	if err != nil {
		return &os.LinkError{Op: "renameat2", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// mayReflink: see sys.go. Linux: by statfs f_type; ext4 and tmpfs have no
// FICLONE.
func mayReflink(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil {
		return true
	}
	switch uint32(fs.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.TMPFS_MAGIC:
		return false
	}
	return true
}

// ctime is a file's inode change time.
func ctime(st *syscall.Stat_t) time.Time { return time.Unix(st.Ctim.Unix()) }
