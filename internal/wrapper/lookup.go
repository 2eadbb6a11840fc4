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
// key.Unit.Matches), newest candidate first. An entry that does not decode,
// or decodes but cannot serve this invocation (issue 7 case 14: `{}` or
// `null` restored nothing and counted as a hit), is dropped and the next
// candidate tried; a miss then writes it again.
func (w *wrapper) lookup(u *key.Unit) (*record.Entry, string, error) {
	m, err := readManifest(w, u.ArgKey)
	if err != nil || m == nil {
		return nil, "", err
	}
	names, err := u.Inv.OutputNames()
	if err != nil {
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
		err = json.Unmarshal(b, &e)
		if err == nil {
			err = e.Validate(names, u.Inv.DepInfoName())
		}
		if err != nil {
			w.logf("entry %s: %v; dropped", c.Entry, err)
			_ = w.st.DropObject(record.NSEntry, c.Entry)
			continue
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
