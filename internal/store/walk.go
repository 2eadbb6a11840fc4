package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ObjectInfo describes one stored object for trimming.
type ObjectInfo struct {
	Key     string
	ModTime time.Time // the LRU clock (see TouchObject)
	Size    int64
	Bytes   int64 // allocated bytes (st_blocks*512): what removing it frees
}

// WalkObjects calls fn for every object of namespace ns. Objects written or
// removed meanwhile may or may not be seen.
func (s *Store) WalkObjects(ns string, fn func(ObjectInfo) error) error {
	if !validNamespace(ns) {
		return ErrInvalidName
	}
	return walkFiles(filepath.Join(s.dir, objectsDir, ns), func(name string, fi fs.FileInfo) error {
		o := ObjectInfo{Key: name, ModTime: fi.ModTime(), Size: fi.Size(), Bytes: fi.Size()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			o.Bytes = st.Blocks * 512
		}
		return fn(o)
	})
}

// RemoveObject deletes an object; a missing one is not an error.
func (s *Store) RemoveObject(ns, key string) error {
	if err := checkObjectName(ns, key); err != nil {
		return fmt.Errorf("store: remove object %q/%q: %w", ns, key, err)
	}
	if err := os.Remove(s.objectPath(ns, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: remove object %s/%s: %w", ns, key, err)
	}
	return nil
}

// BlobInfo describes one blob for trimming.
type BlobInfo struct {
	Digest string
	Bytes  int64  // allocated bytes (st_blocks*512)
	Links  uint64 // hard links: more than 1 means a target dir still uses it
	// Changed is the later of mtime and ctime: when the blob was stored
	// (a hardlinked blob keeps its source's mtime, but linking sets ctime),
	// or last linked into a tree.
	Changed time.Time
}

// WalkBlobs calls fn for every blob.
func (s *Store) WalkBlobs(fn func(BlobInfo) error) error {
	return walkFiles(filepath.Join(s.dir, blobsDir), func(name string, fi fs.FileInfo) error {
		b := BlobInfo{Digest: name, Bytes: fi.Size(), Links: 1, Changed: fi.ModTime()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			b.Bytes, b.Links = st.Blocks*512, uint64(st.Nlink)
			if c := ctime(st); c.After(b.Changed) {
				b.Changed = c
			}
		}
		return fn(b)
	})
}

// walkFiles visits the regular files of a two-level fan-out directory.
func walkFiles(root string, fn func(name string, fi fs.FileInfo) error) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(d.Name(), fi)
	})
	if err != nil {
		return fmt.Errorf("store: walk %s: %w", root, err)
	}
	return nil
}

// Namespaces lists the object namespaces present in the store, so that a
// caller walking every object (verify) also meets kinds it does not know.
func (s *Store) Namespaces() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, objectsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: list namespaces: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && validNamespace(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
