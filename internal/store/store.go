// Package store is grove's content-addressed store.
//
// It is modelled on Go's build cache (cmd/go/internal/cache): a directory of
// small, content-addressed files in a two-level fan-out, written to a temporary
// name and renamed into place, so that readers never need a global lock and a
// killed writer never leaves a half-written entry behind.
//
// Layout, under the store directory:
//
//	blobs/<first 2 hex>/<digest>       compiled outputs (rlib, rmeta, executables), 0644 or 0755
//	objects/<ns>/<first 2 hex>/<key>   small records; package record owns their kinds and formats
//	tmp/                               files being written; anything here may be garbage
//	locks/<first 2 hex>/<key>.lock     per-key flock files for single-flight compiles
//	quarantine/                        blobs and objects found corrupt (CheckBlob, DropObject)
//	stats/events.jsonl                 the wrapper's event log (package stats)
//	trim.stamp                         when the last automatic trim started; its flock (package trim)
//
// Who may write it is the store's Access (access.go): by default only its
// owner, every directory 0700 whatever the umask.
//
// Invariants (every function in this package preserves them; code that touches
// the directory by hand must too):
//
//  1. A file at a final name (under blobs/ or objects/) is complete. It was
//     fully written (and, for copied blobs, fsync'ed) under tmp/ before one
//     rename(2) or renameat2(2) gave it its final name. A crash at any point
//     leaves at most a file under tmp/, which Clean removes once it is old.
//  2. A blob's content is the content its digest names and never changes in
//     place: the store never opens one for writing, and only its owner can
//     write it (Access). A blob name, once created, is not replaced by a
//     second writer (publish: an exclusive rename, else link(2)), so its
//     inode, size and mtime stay stable for callers that remember them
//     (Stamp).
//     Blobs are owner-writable (0644, 0755; see blobMode) because a target
//     dir shares their inode, so the store cannot stop its owner's tools
//     from writing through a hard link. Hence Materialize unlinks its
//     destination before writing it, and CheckBlob, the one integrity check,
//     re-hashes a blob whose size or mtime moved and quarantines it if the
//     content moved: such a blob is never served again.
//  3. An object may be replaced (manifests grow), but always whole: a reader
//     sees the old bytes or the new bytes, never a mix.
//  4. The store keeps no index and no global lock. Everything it knows is in
//     the file system, so any number of processes can use one store at once,
//     and deleting any file under the store loses cached work but never
//     corrupts the store.
//  5. Object mtimes are a coarse LRU clock: TouchObject only bumps an mtime
//     older than an hour, so a hit costs at most one stat and rarely a write.
//  6. Lock files are only ever unlinked by a holder of their flock, and
//     LockKey re-checks after acquiring that the file it locked is still the
//     one at the lock's name, so removing stale lock files is safe.
//
// Durability: copied blobs are fsync'ed before their rename, so a power loss
// leaves a missing blob, not a wrong one. Objects are not synced: a power loss
// can leave one empty, which its reader rejects as malformed (a miss). A blob ingested by hard
// link shares its source's inode and is only as durable as that source; the
// caller's size/mtime check plus re-hash on doubt covers that case.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Store is a content-addressed store rooted at one directory. A Store holds
// no mutable state, so it is safe for concurrent use by many goroutines, and
// any number of processes may open the same directory at once.
type Store struct {
	dir    string
	access Access
}

// Subdirectory names. tmp/ is created last by Open, so its existence tells a
// later Open that the others exist too.
const (
	blobsDir   = "blobs"
	objectsDir = "objects"
	tmpDir     = "tmp"
	locksDir   = "locks"
	// quarantineDir holds what was found corrupt, kept as evidence for
	// QuarantineAge: quarantine/blobs/<digest>, quarantine/objects/<ns>/<key>.
	quarantineDir = "quarantine"
)

// Open prepares dir as a private store (see Access) and returns it.
func Open(dir string) (*Store, error) { return OpenAccess(dir, Private) }

// OpenAccess prepares dir and returns a Store for it, shared as a says.
//
// It refuses (with an error wrapping ErrUntrusted) a directory that users
// other than a allows could write: such a store may already hold a replaced
// blob, and using it silently would run someone else's program.
//
// Open is on the wrapper's hot path (once per rustc invocation), so when the
// store already exists it costs two stats: fan-out directories are created
// lazily by the writers that need them.
func OpenAccess(dir string, a Access) (*Store, error) {
	if dir == "" {
		return nil, errors.New("store: open: empty directory name")
	}
	if !filepath.IsAbs(dir) {
		// Materialize and LockKey may be called after the caller changes its
		// working directory; pin the store now.
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", dir, err)
		}
		dir = abs
	}
	dir = filepath.Clean(dir)
	s := &Store{dir: dir, access: a}
	fi, err := os.Stat(dir)
	switch {
	case err == nil:
		if !fi.IsDir() {
			return nil, fmt.Errorf("store: open %s: not a directory", dir)
		}
		if err := s.checkTrust(fi); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, tmpDir)); err == nil {
			return s, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	for _, sub := range []string{blobsDir, objectsDir, locksDir, tmpDir} {
		if sub == tmpDir {
			// before tmp/, so that every store Open finds complete has it
			if err := writeIgnoreMarker(dir); err != nil {
				return nil, fmt.Errorf("store: open %s: %w", dir, err)
			}
		}
		if err := s.mkdirAll(filepath.Join(dir, sub)); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", dir, err)
		}
	}
	return s, nil
}

// ignoreMarker makes git, and so Cargo, ignore the store when it lies
// inside a package (GROVE_DIR = { value = ".grove", relative = true } in
// a workspace's .cargo/config.toml). Cargo lists a package's files as git
// does, and reruns a build script without rerun-if-changed when any of
// them changes: the store's files, written by every build, would make
// every build rerun it and recompile the package.
const ignoreMarker = ".gitignore"

func writeIgnoreMarker(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, ignoreMarker), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString("# grove's store: a cache, never source\n*\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Dir returns the store's directory (absolute).
func (s *Store) Dir() string { return s.dir }

// validHex reports whether name is usable as a digest or key: lower-case hex,
// at least 8 characters (so the fan-out prefix is meaningful), short enough
// for a file name with a suffix. Restricting the alphabet keeps path
// separators, dots and case aliases out of the store.
func validHex(name string) bool {
	if len(name) < 8 || len(name) > 200 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validNamespace reports whether ns is a single, ordinary path element.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 100 || ns[0] == '.' {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// fan returns the two-character fan-out directory for name. It tolerates
// short names so that path helpers never panic; operations validate first.
func fan(name string) string {
	if len(name) < 2 {
		return "__"
	}
	return name[:2]
}

// tmpPath returns a fresh, unique name under tmp/. The random suffix makes
// collisions between concurrent writers (in any process) vanishingly rare;
// creators still use O_EXCL or link(2), which fail rather than share.
// TempPath returns a new name under tmp/ for a file of kind: grove clean
// removes what is left there by processes that died.
func (s *Store) TempPath(kind string) string { return s.tmpPath(kind) }

func (s *Store) tmpPath(kind string) string {
	return filepath.Join(s.dir, tmpDir, kind+"-"+strconv.FormatUint(rand.Uint64(), 36))
}

// mkdirParent creates the parent directory of path (a fan-out directory). It
// exists so that writers can create fan-out directories lazily instead of
// Open creating hundreds of them. The store's top-level directory may have
// been removed or never finished; mkdirAll repairs the whole chain.
func (s *Store) mkdirParent(path string) error {
	return s.mkdirAll(filepath.Dir(path))
}

// ErrInvalidName is wrapped by errors for a digest or key that is not
// lower-case hex of 8 to 200 characters, or a namespace that is not a plain
// file name.
var ErrInvalidName = errors.New("invalid name")
