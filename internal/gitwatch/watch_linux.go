package gitwatch

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watch is an inotify watch on git's dirs, set before a run starts and
// read once after the child has exited: inotify queues an event inside
// the open(2) or write that causes it, so every access of the child is
// queued by then.
type Watch struct {
	fd   int
	dirs map[int32]string // watch descriptor → dir
}

const readMask = unix.IN_OPEN | unix.IN_ACCESS
const writeMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_CREATE |
	unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// Start watches dirs. An error means the run cannot be watched.
func Start(dirs []string) (*Watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	w := &Watch{fd: fd, dirs: map[int32]string{}}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, readMask|writeMask|unix.IN_ONLYDIR)
		if err != nil {
			w.Close()
			return nil, err
		}
		w.dirs[int32(wd)] = d
	}
	return w, nil
}

// Result drains the queued events without blocking. Anything it cannot
// read counts as a read and a move.
func (w *Watch) Result() Result {
	var res Result
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return res
		}
		if err != nil || n <= 0 {
			return Result{Read: true, Moved: true}
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n {
				return Result{Read: true, Moved: true}
			}
			name := string(buf[off+unix.SizeofInotifyEvent : end])
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			off = end
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				return Result{Read: true, Moved: true}
			}
			if ev.Mask&unix.IN_IGNORED != 0 {
				// The watched dir went away (a ref dir pruned): what
				// happens in its replacement is not seen.
				res.Moved = true
			}
			res.Read = true
			if ev.Mask&writeMask != 0 && refState(w.dirs[ev.Wd], name) {
				res.Moved = true
			}
		}
	}
}

// Close releases the watch.
func (w *Watch) Close() {
	if w != nil && w.fd >= 0 {
		_ = unix.Close(w.fd)
		w.fd = -1
	}
}
