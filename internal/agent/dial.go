package agent

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dialUnix connects to the Unix socket at path within timeout. It makes
// the system calls itself instead of using package net, which would link
// cgo's name resolver (and with it the C runtime) into the wrapper, a
// binary that must start fast and stay static. The descriptor is
// non-blocking, so the returned file goes through Go's poller and honours
// deadlines.
func dialUnix(path string, timeout time.Duration) (*os.File, error) {
	var sa unix.SockaddrUnix
	sa.Name = path
	syscall.ForkLock.RLock() // no child inherits it between socket and cloexec
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	if err := connect(fd, &sa, time.Now().Add(timeout)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// connect connects the non-blocking fd. A Unix socket's connect is
// immediate or refused, except that Linux answers EAGAIN when the
// listener's backlog is full (try again) and other systems may answer
// EINPROGRESS (wait until writable, then read the result).
func connect(fd int, sa unix.Sockaddr, deadline time.Time) error {
	for {
		err := unix.Connect(fd, sa)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			if time.Now().After(deadline) {
				return os.ErrDeadlineExceeded
			}
			time.Sleep(time.Millisecond)
			continue
		case errors.Is(err, unix.EINPROGRESS):
			return waitConnected(fd, deadline)
		}
		return err
	}
}

func waitConnected(fd int, deadline time.Time) error {
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return os.ErrDeadlineExceeded
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			continue // timed out: the loop's check ends it
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		if soerr != 0 {
			return syscall.Errno(soerr)
		}
		return nil
	}
}
