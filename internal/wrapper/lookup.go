package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
)

// lookup finds a stored entry whose recorded inputs match this tree (see
// key.Unit.Matches), newest candidate first.
func (w *wrapper) lookup(u *key.Unit) (*record.Entry, string, error) {
	m, err := readManifest(w, u.ArgKey)
	if err != nil || m == nil {
		return nil, "", err
	}
	for _, c := range m.Candidates {
		if !u.Matches(c) {
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
