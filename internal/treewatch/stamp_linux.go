package treewatch

import (
	"fmt"
	"io/fs"
	"syscall"
	"time"
)

// stamp identifies a dir's state: its inode, mtime and ctime (ctime
// cannot be set back, so a tree unpacked with old mtimes still shows),
// and the newest of the two times.
func stamp(fi fs.FileInfo) (string, time.Time) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprint(fi.ModTime().UnixNano()), fi.ModTime()
	}
	c := time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	newest := fi.ModTime()
	if c.After(newest) {
		newest = c
	}
	return fmt.Sprintf("%d.%d.%d", st.Ino, fi.ModTime().UnixNano(), c.UnixNano()), newest
}
