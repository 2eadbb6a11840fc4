package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
)

// ErrCorrupt is wrapped by errors for a blob whose content no longer hashes
// to its name. The blob has been quarantined: it is never served again.
var ErrCorrupt = errors.New("blob content does not match its digest")

// QuarantineAge is how long Clean keeps what was quarantined, as evidence
// for whoever wonders why a unit was compiled again.
const QuarantineAge = 7 * 24 * time.Hour

// Stamp is what a record remembers of a blob when it stores it: enough for
// one stat to notice that the blob was written in place since.
type Stamp struct {
	Size    int64
	MtimeNs int64
}

// CheckBlob is the store's one integrity check of a blob: restore calls it
// (full false) before serving a blob, `grove verify` (full true) on every
// blob. It returns the blob's FileInfo (restore needs its mtime; one stat
// serves both). When the blob's content does not hash to digest, CheckBlob moves it
// to the quarantine and returns an error wrapping ErrCorrupt; a missing blob
// gives an error wrapping fs.ErrNotExist.
//
// What a quick check (restore) checks, and why. A hit must cost stats, not
// reads: re-hashing every output on every hit would cost a 200 MB debug
// binary about 0.5 s per hit (BLAKE3 at 360 MB/s, BenchmarkVerify on the
// 2-core test machine), far more than the rest of the hit. So a
// quick check is one stat: the size and mtime must be those in want (the
// blob's as stored), and only when either moved is the blob re-hashed. Any
// ordinary write through a hard link moves the mtime, so it is caught here,
// before the blob is served again. Not caught: a write in place that puts
// back both size and mtime (utimensat after writing, `strip -p`). ctime
// would catch it, but link(2) and unlink(2) of any name of the inode move
// ctime too, and every restore by hard link does that, so a ctime rule
// re-hashes nearly every hit. What closes that gap instead:
//
//   - no other user can write a blob (Access: a private store is 0700);
//   - restores hardlink only rlib/rmeta files (package restore), which
//     only rustc writes, and it replaces them rather than writing in
//     place; the other files a target dir shares with the store are the
//     outputs of the compile that stored them (PutBlob links them in), in
//     that one tree;
//   - `grove verify` re-hashes every blob (a full check), and GROVE_VERIFY
//     compiles again and compares.
func (s *Store) CheckBlob(digest string, want Stamp, full bool) (fs.FileInfo, error) {
	if !validHex(digest) {
		return nil, fmt.Errorf("store: check blob %q: %w", digest, ErrInvalidName)
	}
	path := s.BlobPath(digest)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: check blob %s: %w", digest, err)
	}
	if !full && fi.Size() == want.Size && fi.ModTime().UnixNano() == want.MtimeNs {
		return fi, nil
	}
	got, _, err := (&filehash.Hasher{}).File(path) // no memo: read the bytes
	if err != nil {
		return nil, fmt.Errorf("store: check blob %s: %w", digest, err)
	}
	if got == digest {
		return fi, nil
	}
	if err := s.quarantine(path, filepath.Join(s.dir, quarantineDir, blobsDir, digest)); err != nil {
		return nil, fmt.Errorf("store: check blob %s: %w; quarantine: %w", digest, ErrCorrupt, err)
	}
	return nil, fmt.Errorf("store: check blob %s: %w (it hashes to %s; quarantined)", digest, ErrCorrupt, got)
}

// DropObject takes an object that its reader found corrupt (it does not
// parse, or parses to nothing usable) out of the store, into the
// quarantine, so that the next writer of that key starts afresh: a corrupt
// object must heal, never stay in the way of every later build. Dropping an
// object that is already gone is not an error.
func (s *Store) DropObject(ns, key string) error {
	if err := checkObjectName(ns, key); err != nil {
		return fmt.Errorf("store: drop object %q/%q: %w", ns, key, err)
	}
	err := s.quarantine(s.objectPath(ns, key), filepath.Join(s.dir, quarantineDir, objectsDir, ns, key))
	if err != nil {
		return fmt.Errorf("store: drop object %s/%s: %w", ns, key, err)
	}
	return nil
}

// quarantine renames path to dst (a newer corrupt copy replaces an older
// one) and dates it now, so that Clean keeps it for QuarantineAge. A path
// already gone was quarantined or removed by another process.
func (s *Store) quarantine(path, dst string) error {
	if err := s.mkdirAll(filepath.Dir(dst)); err != nil {
		return err
	}
	if err := os.Rename(path, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	now := time.Now()
	os.Chtimes(dst, now, now) // best effort: only shortens the evidence's life
	return nil
}

// Quarantine counts what was found corrupt and set aside in the last
// QuarantineAge.
type Quarantine struct {
	Blobs   int            `json:"blobs"`
	Objects map[string]int `json:"objects"` // by namespace
}

// Total is the number of quarantined files.
func (q Quarantine) Total() int {
	n := q.Blobs
	for _, c := range q.Objects {
		n += c
	}
	return n
}

// Quarantined counts the quarantined blobs and objects.
func (s *Store) Quarantined() (Quarantine, error) {
	q := Quarantine{Objects: map[string]int{}}
	root := filepath.Join(s.dir, quarantineDir)
	err := walkQuarantine(root, func(p string, _ fs.FileInfo) {
		rel, _ := filepath.Rel(root, p)
		if dir := filepath.Dir(rel); dir == blobsDir {
			q.Blobs++
		} else {
			q.Objects[filepath.Base(dir)]++
		}
	})
	if err != nil {
		return q, fmt.Errorf("store: count quarantine: %w", err)
	}
	return q, nil
}

// cleanQuarantine removes quarantined files older than QuarantineAge.
func (s *Store) cleanQuarantine() error {
	cutoff := time.Now().Add(-QuarantineAge)
	var errs []error
	err := walkQuarantine(filepath.Join(s.dir, quarantineDir), func(p string, fi fs.FileInfo) {
		if fi.ModTime().Before(cutoff) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(append(errs, err)...)
}

// walkQuarantine calls fn for every regular file under root.
func walkQuarantine(root string, fn func(path string, fi fs.FileInfo)) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				fn(p, fi)
			}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
