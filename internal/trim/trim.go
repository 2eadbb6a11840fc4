// Package trim keeps the store within an age and a size: every object kind
// of record.Kinds, the blobs, and the old generation of the stats log.
//
// The policy, in one place:
//
//   - Entries are the unit of eviction, least recently used first, by the
//     coarse mtime clock of Go's build cache (a hit refreshes an entry's
//     mtime at most once an hour, store.TouchObject). An entry unused for
//     longer than the age limit goes; then, while the store is over its
//     size, the oldest. Under size pressure an entry whose blobs are all
//     hardlinked by target dirs stays: removing it frees nothing but its
//     record, and it is what a new worktree is seeded from.
//   - A blob lives while an entry refers to it, a manifest while one of its
//     candidates' entries lives, a lib record while its rlib blob lives,
//     key components while their manifest lives. An entry no manifest
//     names is unreachable and goes.
//   - Caches (memos, explain data, kinds a newer grove wrote) go by age,
//     and oldest first when the store is over its size.
//   - The size counts what removing would free: objects, and blobs no
//     target dir hardlinks (one that a tree still links keeps its inode
//     there, so removing it frees nothing).
//
// Trimming while builds run is safe: a wrapper that loses an entry or a
// blob mid-lookup compiles instead. What a writer made in the last Grace
// and nothing refers to yet (a blob before its entry, an entry before its
// manifest) is kept. A manifest rewritten while a build adds a candidate
// to it may lose that candidate: a later miss, never a wrong hit.
package trim

import (
	"errors"
	"io/fs"
	"sort"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/store"
)

// Grace is how long an object or blob nothing refers to yet is kept: the
// time a wrapper may take between storing a blob and naming it in an entry
// and manifest (the same hour store.Clean leaves temp files).
const Grace = time.Hour

// Options bound the store. Zero values disable a bound.
type Options struct {
	MaxAge   time.Duration // entries and caches unused for longer are removed
	MaxBytes int64         // what removing would free is kept under this
	DryRun   bool
	Now      time.Time
	// Progress, if set, is called now and then with the objects and blobs
	// looked at so far.
	Progress func(seen int)
}

// Result says what was (or would be) removed and what is kept.
type Result struct {
	Entries        int            `json:"entries"` // entries found
	EntriesRemoved int            `json:"entries_removed"`
	Objects        map[string]int `json:"objects"`         // kept, by namespace
	Removed        map[string]int `json:"objects_removed"` // by namespace, entries included
	Blobs          int            `json:"blobs"`           // kept
	BlobsRemoved   int            `json:"blobs_removed"`
	BytesFreed     int64          `json:"bytes_freed"`
	BytesKept      int64          `json:"bytes_kept"`   // kept in the store only (blobs and objects)
	BytesInTrees   int64          `json:"bytes_in_use"` // kept blobs also hardlinked by target dirs: removing them would free nothing
	Seen           int            `json:"seen"`         // objects and blobs looked at
	Elapsed        time.Duration  `json:"elapsed_ns"`
}

type object struct {
	ns      string
	key     string
	mtime   time.Time
	bytes   int64
	removed bool
	// entries only
	digests []record.Digest
	args    []record.ArgKey // manifests naming it
	// manifests only
	cands []record.EntryKey
}

type trimmer struct {
	st   *store.Store
	rec  record.Store
	opts Options
	res  Result

	objs      []*object
	byNS      map[string]map[string]*object
	blobs     map[record.Digest]store.BlobInfo
	refs      map[record.Digest]int
	manLeft   map[record.ArgKey]int // live candidates per manifest
	used      int64                 // what removing everything would free
	freedBlob map[record.Digest]bool
}

// Trim applies opts to st.
func Trim(st *store.Store, opts Options) (Result, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	start := time.Now()
	t := &trimmer{
		st: st, rec: record.New(st), opts: opts,
		res:       Result{Objects: map[string]int{}, Removed: map[string]int{}},
		byNS:      map[string]map[string]*object{},
		blobs:     map[record.Digest]store.BlobInfo{},
		refs:      map[record.Digest]int{},
		manLeft:   map[record.ArgKey]int{},
		freedBlob: map[record.Digest]bool{},
	}
	if err := t.scan(); err != nil {
		return t.res, err
	}
	t.evict()
	if err := t.apply(); err != nil {
		return t.res, err
	}
	if !opts.DryRun && opts.MaxAge > 0 {
		stats.TrimLog(st.Dir(), opts.Now.Add(-opts.MaxAge))
	}
	t.res.Elapsed = time.Since(start)
	return t.res, nil
}

func (t *trimmer) seen() {
	t.res.Seen++
	if t.opts.Progress != nil && t.res.Seen%1000 == 0 {
		t.opts.Progress(t.res.Seen)
	}
}

// scan reads every object and blob, and who refers to what.
func (t *trimmer) scan() error {
	nss, err := t.st.Namespaces()
	if err != nil {
		return err
	}
	for _, ns := range nss {
		m := map[string]*object{}
		t.byNS[ns] = m
		err := t.st.WalkObjects(ns, func(o store.ObjectInfo) error {
			t.seen()
			obj := &object{ns: ns, key: o.Key, mtime: o.ModTime, bytes: o.Bytes}
			switch ns {
			case record.NSEntry, record.NSManifest:
				if err := t.decode(obj); err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						return nil // removed meanwhile
					}
					if !errors.Is(err, record.ErrCorrupt) {
						return err
					}
					obj.removed = true // dropped by the record store
					t.res.Removed[ns]++
					return nil
				}
			}
			m[o.Key] = obj
			t.objs = append(t.objs, obj)
			t.used += obj.bytes
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, obj := range t.byNS[record.NSManifest] {
		for _, k := range obj.cands {
			if e := t.byNS[record.NSEntry][string(k)]; e != nil {
				e.args = append(e.args, record.ArgKey(obj.key))
				t.manLeft[record.ArgKey(obj.key)]++
			}
		}
	}
	t.res.Entries = len(t.byNS[record.NSEntry])
	for _, e := range t.byNS[record.NSEntry] {
		for _, d := range e.digests {
			t.refs[d]++
		}
	}
	err = t.st.WalkBlobs(func(b store.BlobInfo) error {
		t.seen()
		d := record.Digest(b.Digest)
		t.blobs[d] = b
		if t.refs[d] > 0 && b.Links == 1 {
			t.used += b.Bytes
		}
		return nil
	})
	return err
}

// decode reads what an entry or manifest refers to. A corrupt one is
// dropped as everywhere (record.Store), except in a dry run, which writes
// nothing.
func (t *trimmer) decode(obj *object) error {
	if !t.opts.DryRun {
		if obj.ns == record.NSEntry {
			e, err := t.rec.Entry(record.EntryKey(obj.key))
			obj.refsOf(e, record.Manifest{})
			return err
		}
		m, err := t.rec.Manifest(record.ArgKey(obj.key))
		obj.refsOf(record.Entry{}, m)
		return err
	}
	b, err := t.st.GetObject(obj.ns, obj.key)
	if err != nil {
		return err
	}
	if obj.ns == record.NSEntry {
		e, err := record.DecodeEntry(b)
		obj.refsOf(e, record.Manifest{})
		return err
	}
	m, err := record.DecodeManifest(b)
	obj.refsOf(record.Entry{}, m)
	return err
}

func (obj *object) refsOf(e record.Entry, m record.Manifest) {
	for _, o := range e.Outputs {
		obj.digests = append(obj.digests, o.Digest)
	}
	for _, c := range m.Candidates {
		obj.cands = append(obj.cands, c.Entry)
	}
}

// evict decides what goes: unreachable entries, then by age, then least
// recently used first while over the size. Derived objects (manifests, lib
// records, components) follow in apply; their bytes are counted as they go.
func (t *trimmer) evict() {
	young := func(o *object) bool { return t.opts.Now.Sub(o.mtime) < Grace }
	var lru []*object
	for _, o := range t.objs {
		switch {
		case o.ns == record.NSEntry:
			if len(o.args) == 0 && !young(o) {
				t.remove(o)
				continue
			}
		case record.IsCache(o.ns) && o.ns != record.NSComponents:
		default:
			continue // lives by what refers to it
		}
		if t.opts.MaxAge > 0 && t.opts.Now.Sub(o.mtime) > t.opts.MaxAge {
			t.remove(o)
			continue
		}
		lru = append(lru, o)
	}
	if t.opts.MaxBytes <= 0 {
		return
	}
	sort.SliceStable(lru, func(i, j int) bool { return lru[i].mtime.Before(lru[j].mtime) })
	for _, o := range lru {
		if t.used <= t.opts.MaxBytes {
			return
		}
		if o.ns == record.NSEntry && t.inTrees(o) {
			continue
		}
		t.remove(o)
	}
}

// inTrees reports whether every blob of entry o is hardlinked by a target
// dir, so that removing the entry frees only its record.
func (t *trimmer) inTrees(o *object) bool {
	for _, d := range o.digests {
		if b, ok := t.blobs[d]; !ok || b.Links == 1 {
			return false
		}
	}
	return true
}

// remove marks o as going, and what goes with it: the blobs only it used,
// the manifests left without candidates, their components, and the lib
// records of the freed blobs.
func (t *trimmer) remove(o *object) {
	if o.removed {
		return
	}
	o.removed = true
	t.used -= o.bytes
	if o.ns != record.NSEntry {
		return
	}
	for _, d := range o.digests {
		if t.refs[d]--; t.refs[d] == 0 {
			t.freedBlob[d] = true
			if b, ok := t.blobs[d]; ok && b.Links == 1 {
				t.used -= b.Bytes
			}
			if lib := t.byNS[record.NSLib][string(d)]; lib != nil && !lib.removed {
				lib.removed = true
				t.used -= lib.bytes
			}
		}
	}
	for _, a := range o.args {
		if t.manLeft[a]--; t.manLeft[a] == 0 {
			if m := t.byNS[record.NSManifest][string(a)]; m != nil && !m.removed {
				m.removed = true
				t.used -= m.bytes
			}
			if c := t.byNS[record.NSComponents][string(a)]; c != nil && !c.removed {
				c.removed = true
				t.used -= c.bytes
			}
		}
	}
}

// apply removes what evict chose, rewrites manifests that lost some
// candidates, and removes what nothing refers to any more.
func (t *trimmer) apply() error {
	young := func(tm time.Time) bool { return t.opts.Now.Sub(tm) < Grace }
	for _, o := range t.objs {
		if !o.removed {
			switch {
			case o.ns == record.NSLib:
				if _, ok := t.blobs[record.Digest(o.key)]; !ok && !young(o.mtime) {
					o.removed = true // its rlib is gone
				}
			case o.ns == record.NSComponents:
				if t.byNS[record.NSManifest][o.key] == nil && !young(o.mtime) {
					o.removed = true // its manifest is gone
				}
			case o.ns == record.NSManifest && t.manLeft[record.ArgKey(o.key)] == 0:
				if !young(o.mtime) {
					o.removed = true // none of its entries exists
				}
			case o.ns == record.NSManifest:
				if err := t.pruneManifest(o); err != nil {
					return err
				}
			}
		}
		if !o.removed {
			t.res.Objects[o.ns]++
			t.res.BytesKept += o.bytes
			continue
		}
		t.res.Removed[o.ns]++
		if o.ns == record.NSEntry {
			t.res.EntriesRemoved++
		}
		t.res.BytesFreed += o.bytes
		if !t.opts.DryRun {
			if err := t.st.RemoveObject(o.ns, o.key); err != nil {
				return err
			}
		}
	}
	for d, b := range t.blobs {
		if t.refs[d] > 0 || !t.freedBlob[d] && young(b.Changed) {
			t.res.Blobs++
			if b.Links == 1 {
				t.res.BytesKept += b.Bytes
			} else {
				t.res.BytesInTrees += b.Bytes
			}
			continue
		}
		t.res.BlobsRemoved++
		if b.Links == 1 {
			t.res.BytesFreed += b.Bytes
		}
		if !t.opts.DryRun {
			if err := t.st.RemoveBlob(string(d)); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneManifest drops the candidates whose entries this trim removes. One
// whose entry it never saw (written since the scan) is kept.
func (t *trimmer) pruneManifest(o *object) error {
	gone := 0
	for _, k := range o.cands {
		if e := t.byNS[record.NSEntry][string(k)]; e != nil && e.removed {
			gone++
		}
	}
	if gone == 0 || t.opts.DryRun {
		return nil
	}
	m, err := t.rec.Manifest(record.ArgKey(o.key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, record.ErrCorrupt) {
		o.removed = true // gone or dropped meanwhile
		return nil
	}
	if err != nil {
		return err
	}
	keep := m.Candidates[:0]
	for _, c := range m.Candidates {
		if e := t.byNS[record.NSEntry][string(c.Entry)]; e == nil || !e.removed {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		o.removed = true
		return nil
	}
	m.Candidates = keep
	return t.rec.PutManifest(record.ArgKey(o.key), &m)
}
