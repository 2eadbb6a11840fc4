package gitwatch

import "github.com/grove-rs/grove/internal/fswatch"

// Watch is a watch on git's dirs (package fswatch), set before a run
// starts and read once after the child has exited.
type Watch struct{ w *fswatch.Watch }

// Start watches dirs. An error means the run cannot be watched.
func Start(dirs []string) (*Watch, error) {
	w, err := fswatch.Start(dirs)
	if err != nil {
		return nil, err
	}
	return &Watch{w: w}, nil
}

// Result drains the queued events. Anything it cannot read counts as a
// read and a move.
func (w *Watch) Result() Result {
	var res Result
	err := w.w.Events(func(ev fswatch.Event) {
		res.Read = true
		if ev.Gone {
			// The watched dir went away (a ref dir pruned): what
			// happens in its replacement is not seen.
			res.Moved = true
		}
		if ev.Write && refState(ev.Dir, ev.Name) {
			res.Moved = true
		}
	})
	if err != nil {
		return Result{Read: true, Moved: true}
	}
	return res
}

// Close releases the watch.
func (w *Watch) Close() {
	if w != nil {
		w.w.Close()
	}
}
