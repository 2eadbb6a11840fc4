package record

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// objs is an in-memory Objects that remembers what was dropped.
type objs struct {
	m       map[string][]byte
	dropped []string
}

func (o *objs) GetObject(ns, key string) ([]byte, error) {
	b, ok := o.m[ns+"/"+key]
	if !ok {
		return nil, fmt.Errorf("get %s/%s: %w", ns, key, fs.ErrNotExist)
	}
	return b, nil
}
func (o *objs) PutObject(ns, key string, b []byte) error { o.m[ns+"/"+key] = b; return nil }
func (o *objs) DropObject(ns, key string) error {
	delete(o.m, ns+"/"+key)
	o.dropped = append(o.dropped, ns)
	return nil
}
func (o *objs) TouchObject(ns, key string) {}

// Every kind round-trips, and a corrupt record of any kind is dropped and
// reported as ErrCorrupt, a missing one as fs.ErrNotExist.
func TestStoreRoundTripAndCorrupt(t *testing.T) {
	o := &objs{m: map[string][]byte{}}
	s := New(o)
	d := Digest(strings.Repeat("a", 64))
	ek, ak := EntryKey(strings.Repeat("b", 64)), ArgKey(strings.Repeat("c", 64))
	e := &Entry{Crate: "x", Outputs: []Output{{Name: "libx.rlib", Digest: d, Size: 1}}, DepInfo: "x: y", DepName: "x.d"}
	if err := s.PutEntry(ek, e); err != nil {
		t.Fatal(err)
	}
	s.PutManifest(ak, &Manifest{Candidates: []Candidate{{Entry: ek}}})
	s.PutLib(d, Lib{Externs: []string{"liby.rlib"}})
	s.PutCrateKeys("x", CrateKeys{Keys: []ArgKey{ak}})
	s.PutComponents(ak, []Component{{Name: "n", Value: "v"}})
	if got, err := s.Entry(ek); err != nil || got.Outputs[0].Digest != d {
		t.Errorf("entry: %+v, %v", got, err)
	}
	if got, err := s.Manifest(ak); err != nil || got.Candidates[0].Entry != ek {
		t.Errorf("manifest: %+v, %v", got, err)
	}
	if got, err := s.Lib(d); err != nil || got.Externs[0] != "liby.rlib" {
		t.Errorf("lib: %+v, %v", got, err)
	}
	if got, err := s.CrateKeys("x"); err != nil || got.Keys[0] != ak {
		t.Errorf("crate keys: %+v, %v", got, err)
	}
	if got, err := s.Components(ak); err != nil || got[0].Value != "v" {
		t.Errorf("components: %+v, %v", got, err)
	}
	for k := range o.m {
		o.m[k] = []byte("null")
	}
	reads := map[string]func() error{
		NSEntry:      func() error { _, err := s.Entry(ek); return err },
		NSManifest:   func() error { _, err := s.Manifest(ak); return err },
		NSLib:        func() error { _, err := s.Lib(d); return err },
		NSComponents: func() error { _, err := s.Components(ak); return err },
	}
	for ns, read := range reads {
		if err := read(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s of null: %v, want ErrCorrupt", ns, err)
		}
		if err := read(); !IsMissing(err) {
			t.Errorf("%s: not dropped after a corrupt read: %v", ns, err)
		}
	}
	if len(o.dropped) != len(reads) {
		t.Errorf("dropped %v", o.dropped)
	}
}

// Every kind of Kinds has a Check, and Check refuses null where the kind
// needs content.
func TestCheckEveryKind(t *testing.T) {
	for _, k := range Kinds() {
		err := Check(k.NS, []byte("null"))
		if k.NS == NSCrate || k.NS == NSNativeDir {
			continue // an empty list / any text is valid
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Check(%s, null) = %v", k.NS, err)
		}
	}
}

// statObjs can say an object is there without a read, as *store.Store does.
type statObjs struct{ *objs }

func (o statObjs) HasObject(ns, key string) bool { _, ok := o.m[ns+"/"+key]; return ok }

// HasLib: false for a missing record, true once written, with or without
// the objects' stat; a corrupt record counts as there only when it is not
// read (the closure walk that reads it drops it).
func TestHasLib(t *testing.T) {
	d := Digest(strings.Repeat("ab", 32))
	for _, stat := range []bool{false, true} {
		o := &objs{m: map[string][]byte{}}
		var s Store
		if stat {
			s = New(statObjs{o})
		} else {
			s = New(o)
		}
		if s.HasLib(d) {
			t.Errorf("stat=%v: missing record reported there", stat)
		}
		if err := s.PutLib(d, Lib{}); err != nil {
			t.Fatal(err)
		}
		if !s.HasLib(d) {
			t.Errorf("stat=%v: written record reported missing", stat)
		}
		o.m[NSLib+"/"+string(d)] = []byte("garbage")
		if got := s.HasLib(d); got != stat {
			t.Errorf("stat=%v: corrupt record: HasLib = %v", stat, got)
		}
	}
}
