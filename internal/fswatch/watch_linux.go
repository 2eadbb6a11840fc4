package fswatch

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watch is an inotify watch on a set of dirs.
type Watch struct {
	fd   int
	dirs map[int32]string // watch descriptor → dir
}

const readMask = unix.IN_OPEN | unix.IN_ACCESS
const writeMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_CREATE |
	unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF

// ErrOverflow: the kernel's queue overflowed, events were lost.
var ErrOverflow = errors.New("inotify queue overflowed")

// Start watches dirs for every read (opens and reads) and write. An error
// (no inotify, the user's watch or instance limit reached, a dir gone)
// means the run cannot be watched.
func Start(dirs []string) (*Watch, error) {
	return start(dirs, readMask|writeMask)
}

// StartOpens is Start without reads of open files: an open is reported,
// not every read(2) after it, so a long run fills the kernel's queue
// (which overflows at fs.inotify.max_queued_events) far more slowly. A
// dir listed is opened first, so it shows as an Open of the dir itself.
func StartOpens(dirs []string) (*Watch, error) {
	return start(dirs, unix.IN_OPEN|writeMask)
}

func start(dirs []string, mask uint32) (*Watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if errors.Is(err, unix.EMFILE) {
		return nil, fmt.Errorf("inotify: no instance left (raise sysctl fs.inotify.max_user_instances): %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &Watch{fd: fd, dirs: make(map[int32]string, len(dirs))}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, mask|unix.IN_ONLYDIR)
		if errors.Is(err, unix.ENOSPC) {
			w.Close()
			return nil, fmt.Errorf("inotify: no watch left (raise sysctl fs.inotify.max_user_watches): %w", err)
		}
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("inotify: watch %s: %w", d, err)
		}
		w.dirs[int32(wd)] = d
	}
	return w, nil
}

// Events drains the queued events without blocking, calling fn for each.
// An error means events were lost (overflow, a read failed): the caller
// must assume anything happened.
func (w *Watch) Events(fn func(Event)) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return errors.New("inotify: empty read")
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n {
				return errors.New("inotify: short event")
			}
			name := string(buf[off+unix.SizeofInotifyEvent : end])
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			off = end
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				return ErrOverflow
			}
			fn(Event{
				Dir:    w.dirs[ev.Wd],
				Name:   name,
				IsDir:  ev.Mask&unix.IN_ISDIR != 0,
				Open:   ev.Mask&unix.IN_OPEN != 0,
				Access: ev.Mask&unix.IN_ACCESS != 0,
				Write:  ev.Mask&writeMask != 0,
				Gone:   ev.Mask&unix.IN_IGNORED != 0,
			})
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
