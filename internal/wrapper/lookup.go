package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/grove-rs/grove/internal/record"
)

// lookup finds a stored entry whose recorded inputs match this tree: for
// each candidate of the argument key, newest first, the env-deps must have
// the same values and every source file the same content.
func (w *wrapper) lookup(u *unit) (*record.Entry, string, error) {
	m, err := readManifest(w, u.argKey)
	if err != nil || m == nil {
		return nil, "", err
	}
	for _, c := range m.Candidates {
		if !w.candidateMatches(u, c) {
			continue
		}
		b, err := w.st.GetObject(record.NSEntry, c.Entry)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		var e record.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, "", fmt.Errorf("entry %s: %w", c.Entry, err)
		}
		return &e, c.Entry, nil
	}
	return nil, "", nil
}

func readManifest(w *wrapper, argKey string) (*record.Manifest, error) {
	b, err := w.st.GetObject(record.NSManifest, argKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m record.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", argKey, err)
	}
	return &m, nil
}

func (w *wrapper) candidateMatches(u *unit, c record.Candidate) bool {
	for _, e := range c.Env {
		v, set := u.env[e.Name]
		if !e.Raw {
			v = u.norm.Normalize(v)
		}
		if set != e.Set || (set && v != e.Value) {
			return false
		}
	}
	for _, in := range c.Inputs {
		d, _, err := u.hasher.File(u.abs(u.norm.Denormalize(in.Path)))
		if err != nil || d != in.Digest {
			return false
		}
	}
	return true
}
