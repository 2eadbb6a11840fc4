package store

import (
	"errors"
	"io/fs"
	"testing"
)

// CreateObject writes a new object in place, refuses to replace one (the
// caller then uses PutObject), leaves nothing in tmp/, and HasObject sees
// what is there.
func TestCreateObjectAndHasObject(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	const ns, key = "blobinode", "00fe0000000000002d80540000000000"
	if s.HasObject(ns, key) {
		t.Fatal("HasObject: missing object reported there")
	}
	if err := s.CreateObject(ns, key, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if !s.HasObject(ns, key) {
		t.Fatal("HasObject: created object reported missing")
	}
	if err := s.CreateObject(ns, key, []byte("two")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want fs.ErrExist", err)
	}
	if b, err := s.GetObject(ns, key); err != nil || string(b) != "one" {
		t.Fatalf("GetObject = %q, %v; want the first write", b, err)
	}
	if err := s.CreateObject(ns, "not hex", nil); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("invalid key: %v", err)
	}
	if s.HasObject(ns, "not hex") {
		t.Fatal("HasObject: invalid key reported there")
	}
	if left := tmpEntries(t, s); len(left) != 0 {
		t.Fatalf("tmp/ holds %v", left)
	}
}
