// Package fswatch reports what happened in a set of dirs while a child
// ran: an inotify watch on each dir, set before the child starts and read
// once after it has exited. inotify queues an event inside the open(2),
// getdents(2) or write that causes it, so every access of the child is
// queued by then. It names the dir and entry, never the process: another
// process touching the same dirs meanwhile is seen too (callers count
// that as the child's doing: a lost hit, never a wrong one).
//
// Only Linux has inotify; elsewhere Start fails and callers treat the run
// as unwatchable.
package fswatch

// Event is one access in a watched dir.
type Event struct {
	Dir string // the watched dir
	// Name is the entry the event is about, "" when it is about Dir
	// itself (Dir listed, or opened as a dir).
	Name  string
	IsDir bool // the entry (or Dir itself) is a dir
	Open  bool // opened
	// Access: read (for a dir, its entries listed).
	Access bool
	// Write: written, created, deleted, renamed or its metadata changed.
	Write bool
	// Gone: the watched dir itself went away; what happens in a
	// replacement is not seen.
	Gone bool
}
