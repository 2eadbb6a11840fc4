//go:build !linux

package gitwatch

import "errors"

// Watch is not available here: every run counts as reading git.
type Watch struct{}

// Start fails: there is no inotify.
func Start(dirs []string) (*Watch, error) {
	return nil, errors.New("no inotify on this OS")
}

// Result says the run read git.
func (w *Watch) Result() Result { return Result{Read: true, Moved: true} }

// Close does nothing.
func (w *Watch) Close() {}
