package treewatch

import (
	"errors"
	"path/filepath"
	"sort"

	"github.com/grove-rs/grove/internal/fswatch"
)

// Watch watches a tree's dirs while a compile runs.
type Watch struct{ w *fswatch.Watch }

// Start watches dirs (from Dirs). An error (no inotify, the user's
// inotify limits reached) means the compile cannot be watched.
func Start(dirs []string) (*Watch, error) {
	w, err := fswatch.Start(dirs)
	if err != nil {
		return nil, err
	}
	return &Watch{w: w}, nil
}

// Reads is what a watched compile did in the tree (or anything else
// running then: the watch cannot tell processes apart).
type Reads struct {
	Opened []string // files opened, sorted
	Listed []string // dirs whose entries were read, sorted
	// Wrote names a path written, created, removed or renamed in the
	// tree, "" when none was.
	Wrote string
}

// ErrLost: the watch lost events or a watched dir went away.
var ErrLost = errors.New("tree watch lost events")

// Result drains the queued events; call it after the child has exited.
func (w *Watch) Result() (Reads, error) {
	opened, listed := map[string]bool{}, map[string]bool{}
	var r Reads
	lost := false
	err := w.w.Events(func(ev fswatch.Event) {
		p := filepath.Join(ev.Dir, ev.Name)
		switch {
		case ev.Gone:
			lost = true
		case ev.Write:
			if r.Wrote == "" {
				r.Wrote = p
			}
		case ev.IsDir:
			// A dir's listing is reported by its own watch (Name ""),
			// and again by its parent's; only the first names a dir
			// that is watched (the parent's names skipped ones too).
			if ev.Access && ev.Name == "" {
				listed[ev.Dir] = true
			}
		case ev.Open:
			opened[p] = true
		}
	})
	if err != nil {
		return Reads{}, errors.Join(ErrLost, err)
	}
	if lost {
		return Reads{}, ErrLost
	}
	r.Opened, r.Listed = sorted(opened), sorted(listed)
	return r, nil
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close releases the watch.
func (w *Watch) Close() {
	if w != nil {
		w.w.Close()
	}
}
