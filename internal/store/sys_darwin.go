package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/umask"
)

// cloneNew: see sys.go. macOS: fclonefileat(2) (APFS). Unlike FICLONE it
// creates dst itself and copies src's attributes, among them its mode (a
// blob's 0444) and its mtime, so both are reset here; the clone is its own
// inode, so re-dating it touches no other tree.
func cloneNew(src *os.File, dst string, perm fs.FileMode) (f *os.File, err error) {
	if err := unix.Fclonefileat(int(src.Fd()), unix.AT_FDCWD, dst, unix.CLONE_NOFOLLOW|unix.CLONE_NOOWNERCOPY); err != nil {
		return nil, &fs.PathError{Op: "fclonefileat", Path: dst, Err: err}
	}
	defer func() {
		if err != nil {
			if f != nil {
				f.Close()
				f = nil
			}
			os.Remove(dst)
		}
	}()
	// perm first: a clone of a 0444 blob cannot be opened for writing. A
	// clone keeps the blob's mode, so the umask that open(2) would apply
	// is applied here.
	if err := os.Chmod(dst, perm&^umask.Current(filepath.Dir(dst))); err != nil {
		return nil, err
	}
	f, err = os.OpenFile(dst, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	tv := unix.NsecToTimeval(time.Now().UnixNano())
	if err := unix.Futimes(int(f.Fd()), []unix.Timeval{tv, tv}); err != nil {
		return f, &fs.PathError{Op: "futimes", Path: dst, Err: err}
	}
	return f, nil
}

// renameNoReplace: see sys.go. macOS: renamex_np(RENAME_EXCL), since 10.12;
// file systems without it (some network and FUSE ones) answer ENOTSUP.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.RenamexNp(oldpath, newpath, unix.RENAME_EXCL)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return errNoExclusiveRename
	}
	if err != nil {
		return &os.LinkError{Op: "renamex_np", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

// mayReflink: see sys.go. macOS: by statfs f_fstypename; APFS clones, HFS+,
// FAT and exFAT do not.
func mayReflink(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil {
		return true
	}
	switch unix.ByteSliceToString(fs.Fstypename[:]) {
	case "hfs", "msdos", "exfat":
		return false
	}
	return true
}

// ctime is a file's inode change time.
func ctime(st *syscall.Stat_t) time.Time { return time.Unix(st.Ctimespec.Unix()) }
