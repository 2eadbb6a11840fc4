// Package trim keeps the store within an age and a size, least recently
// used entries first, as Go's build cache trims by age.
//
// Entries are the unit of eviction: a blob is removed once no remaining
// entry refers to it. Removing a blob that a target dir still hardlinks
// frees nothing (the tree keeps the inode), so the size budget counts only
// blobs that no tree uses. Trimming while builds run is safe: a wrapper
// that loses an entry or a blob mid-lookup compiles instead, and a blob
// removed under a fresh entry is stored again by the next miss.
package trim

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// Options bound the store. Zero values disable a bound.
type Options struct {
	MaxAge   time.Duration // entries unused for longer are removed
	MaxBytes int64         // store blobs that no target dir uses are kept under this
	DryRun   bool
	Now      time.Time
}

// Result says what was (or would be) removed.
type Result struct {
	Entries        int   `json:"entries"`
	EntriesRemoved int   `json:"entries_removed"`
	BlobsRemoved   int   `json:"blobs_removed"`
	BytesFreed     int64 `json:"bytes_freed"`
	BytesKept      int64 `json:"bytes_kept"`   // store-only blobs still referenced
	BytesInTrees   int64 `json:"bytes_in_use"` // blobs also hardlinked by target dirs
}

type entryInfo struct {
	ns      string // record.NSEntry or record.NSRun
	key     string
	mtime   time.Time
	digests []string
}

// Trim applies opts to st.
func Trim(st *store.Store, opts Options) (Result, error) {
	var res Result
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var entries []entryInfo
	err := st.WalkObjects(record.NSEntry, func(o store.ObjectInfo) error {
		e := entryInfo{ns: record.NSEntry, key: o.Key, mtime: o.ModTime}
		if b, err := st.GetObject(record.NSEntry, o.Key); err == nil {
			var ent record.Entry
			if json.Unmarshal(b, &ent) == nil {
				for _, out := range ent.Outputs {
					e.digests = append(e.digests, out.Digest)
				}
			}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return res, err
	}
	// Build-script runs hold blobs too, and age the same way.
	err = st.WalkObjects(record.NSRun, func(o store.ObjectInfo) error {
		e := entryInfo{ns: record.NSRun, key: o.Key, mtime: o.ModTime}
		if b, err := st.GetObject(record.NSRun, o.Key); err == nil {
			var run record.BuildRun
			if json.Unmarshal(b, &run) == nil {
				for _, f := range run.Files {
					if !f.Dir {
						e.digests = append(e.digests, f.Digest)
					}
				}
			}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Entries = len(entries)
	blobs := map[string]store.BlobInfo{}
	if err := st.WalkBlobs(func(b store.BlobInfo) error { blobs[b.Digest] = b; return nil }); err != nil {
		return res, err
	}
	refs := map[string]int{}
	for _, e := range entries {
		for _, d := range e.digests {
			refs[d]++
		}
	}
	// Store-only bytes still needed: what the size budget is about.
	var storeOnly int64
	for d, b := range blobs {
		if refs[d] > 0 && b.Links == 1 {
			storeOnly += b.Bytes
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].mtime.Before(entries[j].mtime) })
	for _, e := range entries {
		old := opts.MaxAge > 0 && opts.Now.Sub(e.mtime) > opts.MaxAge
		over := opts.MaxBytes > 0 && storeOnly > opts.MaxBytes
		if !old && !over {
			continue
		}
		res.EntriesRemoved++
		if !opts.DryRun {
			if err := st.RemoveObject(e.ns, e.key); err != nil {
				return res, err
			}
		}
		for _, d := range e.digests {
			if refs[d]--; refs[d] == 0 && blobs[d].Links == 1 {
				storeOnly -= blobs[d].Bytes
			}
		}
	}
	for d, b := range blobs {
		if refs[d] > 0 {
			if b.Links == 1 {
				res.BytesKept += b.Bytes
			} else {
				res.BytesInTrees += b.Bytes
			}
			continue
		}
		res.BlobsRemoved++
		if b.Links == 1 {
			res.BytesFreed += b.Bytes
		}
		if !opts.DryRun {
			if err := st.RemoveBlob(d); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}
