package wrapper

import (
	"errors"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
)

// lookup finds a stored entry whose recorded inputs match this tree (see
// key.Unit.Matches), newest candidate first, and returns it with the
// candidate that matched. An entry that does not decode,
// or decodes but cannot serve this invocation (issue 7 case 14: `{}` or
// `null` restored nothing and counted as a hit), is dropped and the next
// candidate tried; a miss then writes it again.
func (w *wrapper) lookup(u *key.Unit) (*record.Entry, record.Candidate, error) {
	m, err := readManifest(w, u.ArgKey)
	if err != nil || m == nil {
		return nil, record.Candidate{}, err
	}
	names, err := u.Inv.OutputNames()
	if err != nil {
		return nil, record.Candidate{}, err
	}
	for _, c := range m.Candidates {
		if !u.Matches(c) {
			continue
		}
		e, err := w.rec.Entry(c.Entry)
		switch {
		case record.IsMissing(err):
			continue
		case errors.Is(err, record.ErrCorrupt):
			w.logf("%v", err) // dropped by the record store
			continue
		case err != nil:
			return nil, record.Candidate{}, err
		}
		if err := e.Validate(names, u.Inv.DepInfoName()); err != nil {
			w.logf("entry %s: %v; dropped", c.Entry, err)
			w.rec.DropEntry(c.Entry)
			continue
		}
		return &e, c, nil
	}
	return nil, record.Candidate{}, nil
}

// readManifest returns the manifest of argKey, nil if there is none. A
// corrupt one is dropped (and an error returned): the next save replaces it.
func readManifest(w *wrapper, argKey record.ArgKey) (*record.Manifest, error) {
	m, err := w.rec.Manifest(argKey)
	if record.IsMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}
