package treewatch

import (
	"errors"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/grove-rs/grove/internal/fswatch"
)

// Watch watches a tree's dirs while a compile runs. It drains the
// kernel's queue every drainEvery meanwhile, so a long compile beside
// busy ones does not overflow it.
type Watch struct {
	w        *fswatch.Watch
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu     sync.Mutex
	opened map[string]bool
	listed map[string]bool
	wrote  string
	err    error
	frozen bool // opens no longer count (Freeze)
}

const drainEvery = 200 * time.Millisecond

// Start watches dirs (from Dirs), for opens and writes. An error (no
// inotify, the user's inotify limits reached) means the compile cannot be
// watched.
func Start(dirs []string) (*Watch, error) {
	fw, err := fswatch.StartOpens(dirs)
	if err != nil {
		return nil, err
	}
	w := &Watch{w: fw, stop: make(chan struct{}), done: make(chan struct{}),
		opened: map[string]bool{}, listed: map[string]bool{}}
	go func() {
		defer close(w.done)
		t := time.NewTicker(drainEvery)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.drain()
			}
		}
	}()
	return w, nil
}

// Reads is what a watched compile did in the tree (or anything else
// running then: the watch cannot tell processes apart).
type Reads struct {
	Opened []string // files opened, sorted
	// Listed: dirs opened, sorted. A dir is opened to list it; one
	// opened for another reason counts as listed too (a miss, never a
	// wrong hit).
	Listed []string
	// Wrote names a path written, created, removed or renamed in the
	// tree, "" when none was.
	Wrote string
}

// ErrLost: the watch lost events or a watched dir went away.
var ErrLost = errors.New("tree watch lost events")

func (w *Watch) drain() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	err := w.w.Events(func(ev fswatch.Event) {
		p := filepath.Join(ev.Dir, ev.Name)
		switch {
		case ev.Gone:
			w.err = ErrLost
		case ev.Write:
			if w.wrote == "" {
				w.wrote = p
			}
		case w.frozen:
		case ev.IsDir:
			// A dir's open is reported by its own watch (Name ""),
			// and again by its parent's; only the first names a dir
			// that is watched (the parent's names skipped ones too).
			if ev.Open && ev.Name == "" {
				w.listed[ev.Dir] = true
			}
		case ev.Open:
			w.opened[p] = true
		}
	})
	if err != nil {
		w.err = errors.Join(ErrLost, err)
	}
}

// Freeze counts the opens seen so far and no later ones; writes still
// count. The caller knows the child reads nothing more in the tree (see
// key/reads.go for when).
func (w *Watch) Freeze() {
	w.drain()
	w.mu.Lock()
	w.frozen = true
	w.mu.Unlock()
}

// Result stops the watch's draining and drains what is left; call it
// after the child has exited.
func (w *Watch) Result() (Reads, error) {
	w.halt()
	w.drain()
	if w.err != nil {
		return Reads{}, w.err
	}
	return Reads{Opened: sorted(w.opened), Listed: sorted(w.listed), Wrote: w.wrote}, nil
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// halt stops the draining goroutine and waits for it.
func (w *Watch) halt() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

// Close releases the watch.
func (w *Watch) Close() {
	if w != nil {
		w.halt()
		w.w.Close()
	}
}
