package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// mtimeInterval is how stale an object's mtime may get before TouchObject
// refreshes it. As in Go's build cache, an hour keeps the LRU clock useful
// for trimming (which works in days) while most hits cost no write.
const mtimeInterval = time.Hour

func (s *Store) objectPath(ns, key string) string {
	return filepath.Join(s.dir, objectsDir, ns, fan(key), key)
}

func checkObjectName(ns, key string) error {
	if !validNamespace(ns) || !validHex(key) {
		return ErrInvalidName
	}
	return nil
}

// HasObject reports whether object key is in namespace ns: one stat, for
// a caller that only needs to know a record is there (it does not read or
// check it).
func (s *Store) HasObject(ns, key string) bool {
	if checkObjectName(ns, key) != nil {
		return false
	}
	_, err := os.Stat(s.objectPath(ns, key))
	return err == nil
}

// GetObject returns the object key in namespace ns. A missing object gives an
// error that wraps fs.ErrNotExist. Because objects are only ever renamed into
// place, the bytes returned are one complete version of the object.
func (s *Store) GetObject(ns, key string) ([]byte, error) {
	if err := checkObjectName(ns, key); err != nil {
		return nil, fmt.Errorf("store: get object %q/%q: %w", ns, key, err)
	}
	data, err := os.ReadFile(s.objectPath(ns, key))
	if err != nil {
		return nil, fmt.Errorf("store: get object %s/%s: %w", ns, key, err)
	}
	return data, nil
}

// PutObject stores data as object key in namespace ns, replacing any previous
// version atomically: it writes a temp file under tmp/ and renames
// it into place, so concurrent readers and a crash see the old or the new
// bytes, never a mix. Concurrent writers of one key: the last rename wins.
func (s *Store) PutObject(ns, key string, data []byte) (err error) {
	if err := checkObjectName(ns, key); err != nil {
		return fmt.Errorf("store: put object %q/%q: %w", ns, key, err)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("store: put object %s/%s: %w", ns, key, err)
		}
	}()
	final := s.objectPath(ns, key)
	tmp := s.tmpPath("obj")
	f, err := s.createExcl(tmp, 0o644)
	if err != nil {
		return err
	}
	if err := s.fixFileMode(f, 0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	// No fsync: an object is a cache record that every reader validates
	// (it must parse), and a new file never shows stale bytes after a power
	// loss, only none. Syncing cost 2-4 ms per object on every miss.
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
		if errors.Is(err, fs.ErrNotExist) {
			// The fan-out dir is made on first use (see publish).
			if err = s.mkdirParent(final); err == nil {
				err = os.Rename(tmp, final)
			}
		}
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// CreateObject stores data as object key in namespace ns when there is no
// such object yet, written in place (O_EXCL) without PutObject's temp file
// and rename: a rename costs more than the rest of a small write. An
// existing object gives an error wrapping fs.ErrExist. A reader can see
// the object empty or partly written (and a crash can leave it so), so
// this is only for objects whose readers reject every strict prefix of
// what was written; a caller that finds it there uses PutObject.
func (s *Store) CreateObject(ns, key string, data []byte) (err error) {
	if err := checkObjectName(ns, key); err != nil {
		return fmt.Errorf("store: create object %q/%q: %w", ns, key, err)
	}
	final := s.objectPath(ns, key)
	f, err := s.createExcl(final, 0o644)
	if err != nil {
		return fmt.Errorf("store: create object %s/%s: %w", ns, key, err)
	}
	err = s.fixFileMode(f, 0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(final)
		return fmt.Errorf("store: create object %s/%s: %w", ns, key, err)
	}
	return nil
}

// TouchObject marks the object as recently used for LRU trimming by setting
// its mtime to now, but only when the mtime is older than an hour: one stat
// on a hit, a write at most hourly. Errors are ignored; a missed touch only
// makes the object look older to a trimmer.
func (s *Store) TouchObject(ns, key string) {
	if checkObjectName(ns, key) != nil {
		return
	}
	path := s.objectPath(ns, key)
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	now := time.Now()
	if now.Sub(fi.ModTime()) < mtimeInterval {
		return
	}
	os.Chtimes(path, now, now)
}
