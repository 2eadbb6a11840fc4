package record

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/zeebo/blake3"
)

// Objects is the bytes-only object store records live in; *store.Store
// implements it. GetObject's error wraps fs.ErrNotExist for a missing
// object; DropObject sets a corrupt object aside (quarantine) so it is
// counted and not read again; TouchObject refreshes the LRU clock.
type Objects interface {
	GetObject(ns, key string) ([]byte, error)
	PutObject(ns, key string, data []byte) error
	DropObject(ns, key string) error
	TouchObject(ns, key string)
}

// ErrCorrupt is wrapped by the error of a read whose object was there but
// did not decode to a valid record of its kind. The object has been dropped
// (Objects.DropObject) by then: its writer makes it again.
var ErrCorrupt = errors.New("corrupt record")

// Store reads and writes typed records. It is the only code that knows how
// a record is encoded; everything else goes through its methods (or the
// Decode functions, for bytes that came from elsewhere). A read of a missing
// record returns an error wrapping fs.ErrNotExist; of a corrupt one, an
// error wrapping ErrCorrupt, after dropping it, the same way for every kind.
type Store struct{ objs Objects }

// New returns a record store on objs.
func New(objs Objects) Store { return Store{objs: objs} }

// Entry returns the entry k, valid by Entry.Check.
func (s Store) Entry(k EntryKey) (Entry, error) {
	return get(s, NSEntry, string(k), DecodeEntry)
}

// PutEntry stores e as entry k.
func (s Store) PutEntry(k EntryKey, e *Entry) error { return put(s, NSEntry, string(k), e) }

// Manifest returns the manifest of argument key k.
func (s Store) Manifest(k ArgKey) (Manifest, error) {
	return get(s, NSManifest, string(k), DecodeManifest)
}

// PutManifest stores m as the manifest of k.
func (s Store) PutManifest(k ArgKey, m *Manifest) error { return put(s, NSManifest, string(k), m) }

// Lib returns the lib record of the rlib blob d.
func (s Store) Lib(d Digest) (Lib, error) { return get(s, NSLib, string(d), DecodeLib) }

// HasLib reports whether a lib record of the rlib blob d is there, without
// reading it, when the objects can say so (a stat); otherwise it reads it.
// A corrupt record counts as there: the closure walk that reads it drops
// it (Lib), and the next caller finds it missing.
func (s Store) HasLib(d Digest) bool {
	if h, ok := s.objs.(interface{ HasObject(ns, key string) bool }); ok {
		return h.HasObject(NSLib, string(d))
	}
	_, err := s.Lib(d)
	return err == nil
}

// PutLib stores l as the lib record of the rlib blob d.
func (s Store) PutLib(d Digest, l Lib) error { return put(s, NSLib, string(d), &l) }

// CrateID is the key of a crate's CrateKeys record. (BLAKE3 as in
// filehash.Bytes, which this package cannot import: filehash names its
// memo namespace from here.)
func CrateID(crate string) string {
	sum := blake3.Sum256([]byte("crate:" + crate))
	return hex.EncodeToString(sum[:16])
}

// CrateKeys returns the recent argument keys of crate.
func (s Store) CrateKeys(crate string) (CrateKeys, error) {
	return get(s, NSCrate, CrateID(crate), DecodeCrateKeys)
}

// PutCrateKeys stores the recent argument keys of crate.
func (s Store) PutCrateKeys(crate string, ck CrateKeys) error {
	return put(s, NSCrate, CrateID(crate), &ck)
}

// Components returns the key components stored for argument key k.
func (s Store) Components(k ArgKey) ([]Component, error) {
	return get(s, NSComponents, string(k), DecodeComponents)
}

// PutComponents stores the key components of argument key k.
func (s Store) PutComponents(k ArgKey, c []Component) error {
	return put(s, NSComponents, string(k), c)
}

func get[T any](s Store, ns, key string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := s.objs.GetObject(ns, key)
	if err != nil {
		return zero, err
	}
	v, err := decode(b)
	if err != nil {
		_ = s.objs.DropObject(ns, key)
		return zero, fmt.Errorf("%s %s: %w (dropped)", ns, key, err)
	}
	return v, nil
}

func put(s Store, ns, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", ns, key, err)
	}
	return s.objs.PutObject(ns, key, b)
}

// IsMissing reports whether err is a read of a record that is not there.
func IsMissing(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// TouchEntry marks entry k as used now, for LRU trimming (at most one write
// an hour, see store.TouchObject). Blobs are not touched: their mtime is the
// stamp restore checks, and a hardlinked blob's mtime is a target dir's file
// mtime, which Cargo reads. A blob lives as long as an entry refers to it.
func (s Store) TouchEntry(k EntryKey) { s.objs.TouchObject(NSEntry, string(k)) }

// DropEntry sets entry k aside as unusable (quarantine), for an entry that
// decodes but cannot serve the invocation that found it.
func (s Store) DropEntry(k EntryKey) { _ = s.objs.DropObject(NSEntry, string(k)) }
