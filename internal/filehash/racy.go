package filehash

import "time"

// The file clock's margins, in one place because they depend on each
// other. The kernel stamps mtimes and ctimes from a coarse clock (one tick
// is a jiffy, 1–10 ms) that lags the fine clock grove times compiles with,
// so "written after X" can only be told from a file's times with a margin.
const (
	// RacyWindow is how long a file must be unchanged before its digest is
	// memoized by stat identity (here, and for native dirs in key/native.go):
	// a file written again within one tick keeps its times, so a memo taken
	// too soon could outlive a change. Far larger than one tick.
	RacyWindow = 2 * time.Second

	// ClockLag is how far a file's time can trail the fine clock: a file
	// written after rustc started can carry an mtime up to one tick before
	// that start. key.Unit.Candidate counts a dep-info input whose time is
	// not older than start-ClockLag as modified during the compile, unless
	// its digest from just before the compile (PreHashWindow) still holds.
	ClockLag = 20 * time.Millisecond

	// PreHashWindow is how recent a file under OUT_DIR must be, when rustc
	// starts, for the wrapper to digest it first (wrapper/compile.go): a
	// build script writes its outputs milliseconds before the compile, too
	// close to tell from times alone whether they changed during it. It
	// must exceed ClockLag, or such a file would make every compile of its
	// unit uncacheable.
	PreHashWindow = time.Second
)
