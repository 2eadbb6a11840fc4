// Package verify checks a whole store, for `grove verify`: every blob is
// re-hashed (store.CheckBlob, full), every record decoded. What is wrong is
// set aside, and what points at it dropped or repaired, so that the next
// build compiles those units again instead of failing or being served bad
// outputs:
//
//   - a blob whose content no longer hashes to its name is quarantined,
//     and every entry using it dropped;
//   - an entry that does not decode, or decodes to nothing servable
//     (record.Entry.Check), or names a missing blob, is dropped; one whose
//     blob is intact but whose remembered size and mtime are not the blob's
//     any more is repaired (else every hit re-hashes that blob);
//   - a manifest's candidates whose entry is gone are removed, and a
//     manifest left with none is removed;
//   - a lib record, crate list, key components or memo that does not decode
//     is dropped (its writers make it again).
//
// Verify is safe while builds run: objects may come and go under it
// (invariant 4 of package store), and a wrapper that loses an entry
// compiles instead.
package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// Problem is one thing verify found wrong, and what it did about it.
type Problem struct {
	Kind   string `json:"kind"` // "blob" or an object namespace
	Key    string `json:"key"`
	Reason string `json:"reason"`
	Action string `json:"action"` // "quarantined", "dropped", "repaired", "removed"
}

// Result is what Store found.
type Result struct {
	Blobs     int            `json:"blobs"`      // blobs re-hashed
	BlobBytes int64          `json:"blob_bytes"` // their bytes (allocated)
	Objects   map[string]int `json:"objects"`    // objects checked, by namespace
	Problems  []Problem      `json:"problems"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
}

// OK reports whether nothing was wrong.
func (r Result) OK() bool { return len(r.Problems) == 0 }

type verifier struct {
	st  *store.Store
	rec record.Store
	res Result
	bad map[string]string // digest → why the blob cannot be served
}

// Store verifies st. An error means verify could not finish (the store
// could not be read); problems found are in the Result.
func Store(st *store.Store) (Result, error) {
	start := time.Now()
	v := &verifier{st: st, rec: record.New(st), bad: map[string]string{}, res: Result{Objects: map[string]int{}, Problems: []Problem{}}}
	if err := v.blobs(); err != nil {
		return v.res, err
	}
	// Entries before manifests: a manifest loses the candidates whose
	// entry this pass dropped.
	if err := v.entries(); err != nil {
		return v.res, err
	}
	if err := v.manifests(); err != nil {
		return v.res, err
	}
	nss, err := st.Namespaces()
	if err != nil {
		return v.res, err
	}
	for _, ns := range nss {
		if ns == record.NSEntry || ns == record.NSManifest {
			continue
		}
		if err := v.objects(ns); err != nil {
			return v.res, err
		}
	}
	v.res.Elapsed = time.Since(start)
	return v.res, nil
}

func (v *verifier) problem(kind, key, reason, action string) {
	v.res.Problems = append(v.res.Problems, Problem{Kind: kind, Key: key, Reason: reason, Action: action})
}

func (v *verifier) blobs() error {
	return v.st.WalkBlobs(func(b store.BlobInfo) error {
		_, err := v.st.CheckBlob(b.Digest, store.Stamp{}, true)
		switch {
		case err == nil:
		case errors.Is(err, store.ErrCorrupt):
			v.bad[b.Digest] = "corrupt"
			v.problem("blob", b.Digest, "content does not hash to its name", "quarantined")
		case errors.Is(err, fs.ErrNotExist):
			return nil // removed meanwhile (trim)
		default:
			return err
		}
		v.res.Blobs++
		v.res.BlobBytes += b.Bytes
		return nil
	})
}

func (v *verifier) entries() error {
	return v.st.WalkObjects(record.NSEntry, func(o store.ObjectInfo) error {
		b, err := v.st.GetObject(record.NSEntry, o.Key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		v.res.Objects[record.NSEntry]++
		e, err := record.DecodeEntry(b)
		if err != nil {
			return v.drop(record.NSEntry, o.Key, err.Error())
		}
		repaired := false
		for i, out := range e.Outputs {
			if why, ok := v.bad[string(out.Digest)]; ok {
				return v.drop(record.NSEntry, o.Key, fmt.Sprintf("output %s: blob %s is %s", out.Name, out.Digest, why))
			}
			fi, err := v.st.BlobStat(string(out.Digest))
			if errors.Is(err, fs.ErrNotExist) {
				return v.drop(record.NSEntry, o.Key, fmt.Sprintf("output %s: blob %s is missing", out.Name, out.Digest))
			}
			if err != nil {
				return err
			}
			// The blob was re-hashed above: its content is right, so
			// the entry's stamp is what is out of date.
			if fi.Size() != out.Size || fi.ModTime().UnixNano() != out.MtimeNs {
				e.Outputs[i].Size, e.Outputs[i].MtimeNs = fi.Size(), fi.ModTime().UnixNano()
				repaired = true
			}
		}
		if !repaired {
			return nil
		}
		if err := v.rec.PutEntry(record.EntryKey(o.Key), &e); err != nil {
			return err
		}
		v.problem(record.NSEntry, o.Key, "size or mtime of an intact blob changed since stored", "repaired")
		return nil
	})
}

func (v *verifier) manifests() error {
	return v.st.WalkObjects(record.NSManifest, func(o store.ObjectInfo) error {
		b, err := v.st.GetObject(record.NSManifest, o.Key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		v.res.Objects[record.NSManifest]++
		m, err := record.DecodeManifest(b)
		if err != nil {
			return v.drop(record.NSManifest, o.Key, err.Error())
		}
		var keep []record.Candidate
		for _, c := range m.Candidates {
			if _, err := v.st.GetObject(record.NSEntry, string(c.Entry)); err == nil {
				keep = append(keep, c)
			}
		}
		switch {
		case len(keep) == len(m.Candidates) && len(keep) > 0:
			return nil
		case len(keep) == 0:
			if err := v.st.RemoveObject(record.NSManifest, o.Key); err != nil {
				return err
			}
			v.problem(record.NSManifest, o.Key, "no candidate's entry exists", "removed")
			return nil
		}
		m.Candidates = keep
		if err := v.rec.PutManifest(record.ArgKey(o.Key), &m); err != nil {
			return err
		}
		v.problem(record.NSManifest, o.Key, fmt.Sprintf("%d candidates' entries are gone", len(m.Candidates)-len(keep)), "repaired")
		return nil
	})
}

// objects checks that every object of ns decodes as its kind; kinds this
// package does not know are only counted.
func (v *verifier) objects(ns string) error {
	return v.st.WalkObjects(ns, func(o store.ObjectInfo) error {
		b, err := v.st.GetObject(ns, o.Key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		v.res.Objects[ns]++
		if err := record.Check(ns, b); err != nil {
			return v.drop(ns, o.Key, err.Error())
		}
		return nil
	})
}

func (v *verifier) drop(ns, key, why string) error {
	if err := v.st.DropObject(ns, key); err != nil {
		return err
	}
	v.problem(ns, key, why, "dropped")
	return nil
}

// Sorted returns the problems ordered by kind and key, for stable output.
func (r Result) Sorted() []Problem {
	ps := append([]Problem(nil), r.Problems...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Kind != ps[j].Kind {
			return ps[i].Kind < ps[j].Kind
		}
		return ps[i].Key < ps[j].Key
	})
	return ps
}
