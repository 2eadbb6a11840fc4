package trim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

func setAge(t testing.TB, st *store.Store, ns, key string, age time.Duration, now time.Time) {
	t.Helper()
	p := filepath.Join(st.Dir(), "objects", ns, key[:2], key)
	if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
		t.Fatal(err)
	}
}

// unit stores what one compile leaves: an rlib blob of n bytes, its entry,
// manifest, lib record and key components, all last used age ago. It
// returns the blob's digest.
func unit(t testing.TB, st *store.Store, name string, n int, age time.Duration, now time.Time) record.Digest {
	t.Helper()
	src := filepath.Join(t.TempDir(), "out")
	data := make([]byte, n)
	copy(data, name)
	os.WriteFile(src, data, 0o644)
	d := filehash.Bytes(data)
	if err := st.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	rec := record.New(st)
	ek := record.EntryKey(filehash.Bytes([]byte("e" + name)))
	ak := record.ArgKey(filehash.Bytes([]byte("a" + name)))
	e := &record.Entry{Crate: name, Outputs: []record.Output{{Name: "lib" + name + ".rlib", Digest: record.Digest(d), Size: int64(n)}}, DepInfo: "x: y\n", DepName: name + ".d"}
	if err := rec.PutEntry(ek, e); err != nil {
		t.Fatal(err)
	}
	m := &record.Manifest{Candidates: []record.Candidate{{Entry: ek}}}
	if err := rec.PutManifest(ak, m); err != nil {
		t.Fatal(err)
	}
	rec.PutLib(record.Digest(d), record.Lib{})
	rec.PutComponents(ak, []record.Component{{Name: "crate", Value: name}})
	for ns, k := range map[string]string{record.NSEntry: string(ek), record.NSManifest: string(ak), record.NSLib: d, record.NSComponents: string(ak)} {
		setAge(t, st, ns, k, age, now)
	}
	return record.Digest(d)
}

func count(t *testing.T, st *store.Store, ns string) int {
	t.Helper()
	n := 0
	if err := st.WalkObjects(ns, func(store.ObjectInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTrimByAgeAndSize(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := unit(t, st, "old", 100<<10, 40*24*time.Hour, now)
	mid := unit(t, st, "mid", 100<<10, 5*24*time.Hour, now)
	recent := unit(t, st, "recent", 100<<10, 2*time.Hour, now)
	// A blob a target dir still links: removing it from the store frees nothing.
	os.Link(st.BlobPath(string(recent)), filepath.Join(t.TempDir(), "in-a-tree"))
	// A memo, old and young.
	oldMemo, newMemo := filehash.Bytes([]byte("m1"))[:32], filehash.Bytes([]byte("m2"))[:32]
	st.PutObject(record.NSFileHash, oldMemo, []byte(filehash.Bytes([]byte("x"))))
	st.PutObject(record.NSFileHash, newMemo, []byte(filehash.Bytes([]byte("y"))))
	setAge(t, st, record.NSFileHash, oldMemo, 40*24*time.Hour, now)

	dry, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, DryRun: true, Now: now})
	if err != nil || dry.EntriesRemoved != 1 || dry.BlobsRemoved != 1 || dry.Removed[record.NSFileHash] != 1 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if _, err := st.BlobStat(string(old)); err != nil || count(t, st, record.NSEntry) != 3 {
		t.Fatal("dry run removed something")
	}
	res, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, Now: now})
	if err != nil || res.EntriesRemoved != 1 || res.BytesFreed <= 0 {
		t.Fatalf("by age: %+v, %v", res, err)
	}
	if _, err := st.BlobStat(string(old)); err == nil {
		t.Error("old blob kept")
	}
	// Everything the old unit had goes with it; the young memo stays.
	for _, ns := range []string{record.NSEntry, record.NSManifest, record.NSLib, record.NSComponents} {
		if n := count(t, st, ns); n != 2 {
			t.Errorf("%s: %d objects after trimming one unit of three", ns, n)
		}
	}
	if n := count(t, st, record.NSFileHash); n != 1 {
		t.Errorf("memos: %d, want the young one", n)
	}
	// Size budget of one byte: everything store-only goes; the unit whose
	// blob a tree links stays, with its records.
	res, err = Trim(st, Options{MaxBytes: 1, Now: now})
	if err != nil || res.EntriesRemoved != 1 {
		t.Fatalf("by size: %+v, %v", res, err)
	}
	if _, err := st.BlobStat(string(mid)); err == nil {
		t.Error("LRU blob kept over budget")
	}
	if _, err := st.BlobStat(string(recent)); err != nil {
		t.Error("blob a tree links removed")
	}
	for _, ns := range []string{record.NSEntry, record.NSManifest, record.NSLib} {
		if n := count(t, st, ns); n != 1 {
			t.Errorf("%s: %d objects, want the tree-linked unit's", ns, n)
		}
	}
	if n := count(t, st, record.NSFileHash); n != 0 {
		t.Errorf("memos kept over budget: %d", n)
	}
	if res.BytesInTrees == 0 {
		t.Errorf("no bytes counted as in trees: %+v", res)
	}
}

// A manifest keeps the candidates whose entries live; an entry no manifest
// names, and a lib record whose rlib is gone, go once past the grace time.
func TestTrimPrunesRecords(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := record.New(st)
	var cands []record.Candidate
	for i, age := range []time.Duration{40 * 24 * time.Hour, 2 * time.Hour} {
		name := strings.Repeat(string(rune('a'+i)), 3)
		unit(t, st, name, 10, age, now)
		cands = append(cands, record.Candidate{Entry: record.EntryKey(filehash.Bytes([]byte("e" + name)))})
	}
	ak := record.ArgKey(filehash.Bytes([]byte("shared")))
	rec.PutManifest(ak, &record.Manifest{Candidates: cands})
	setAge(t, st, record.NSManifest, string(ak), 2*time.Hour, now)
	orphan := record.EntryKey(filehash.Bytes([]byte("orphan")))
	rec.PutEntry(orphan, &record.Entry{Outputs: []record.Output{{Name: "x", Digest: record.Digest(filehash.Bytes([]byte("none")))}}, DepInfo: "x", DepName: "x.d"})
	setAge(t, st, record.NSEntry, string(orphan), 2*time.Hour, now)
	lonelyLib := record.Digest(filehash.Bytes([]byte("no such rlib")))
	rec.PutLib(lonelyLib, record.Lib{})
	setAge(t, st, record.NSLib, string(lonelyLib), 2*time.Hour, now)

	if _, err := Trim(st, Options{MaxAge: 30 * 24 * time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	m, err := rec.Manifest(ak)
	if err != nil || len(m.Candidates) != 1 || m.Candidates[0].Entry != cands[1].Entry {
		t.Errorf("shared manifest: %+v, %v", m, err)
	}
	if _, err := rec.Entry(orphan); !record.IsMissing(err) {
		t.Errorf("orphan entry: %v", err)
	}
	if _, err := rec.Lib(lonelyLib); !record.IsMissing(err) {
		t.Errorf("lib record without its rlib: %v", err)
	}
}
