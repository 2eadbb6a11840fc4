//go:build !linux

package fswatch

import "errors"

// Watch is not available here.
type Watch struct{}

// ErrOverflow: the kernel's queue overflowed, events were lost.
var ErrOverflow = errors.New("inotify queue overflowed")

// Start fails: there is no inotify.
func Start(dirs []string) (*Watch, error) {
	return nil, errors.New("no inotify on this OS")
}

// StartOpens fails: there is no inotify.
func StartOpens(dirs []string) (*Watch, error) {
	return nil, errors.New("no inotify on this OS")
}

// Events reports that nothing can be told.
func (w *Watch) Events(fn func(Event)) error { return errors.New("no inotify on this OS") }

// Close does nothing.
func (w *Watch) Close() {}
