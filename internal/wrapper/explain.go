package wrapper

import (
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/stats"
)

// maxCrateKeys bounds the argument keys remembered per crate for explain.
const maxCrateKeys = 8

// rememberComponents keeps this unit's key components and adds its
// argument key to the crate's recent keys, so that a later miss of the same
// crate can say which input differed. Runs on misses only.
func (w *wrapper) rememberComponents(u *key.Unit) {
	comps := make([]record.Component, len(u.Comps.Components))
	for i, c := range u.Comps.Components {
		comps[i] = record.Component(c)
	}
	_ = w.rec.PutComponents(u.ArgKey, comps)
	ck, _ := w.rec.CrateKeys(u.Inv.CrateName)
	keys := []record.ArgKey{u.ArgKey}
	for _, k := range ck.Keys {
		if k != u.ArgKey && len(keys) < maxCrateKeys {
			keys = append(keys, k)
		}
	}
	_ = w.rec.PutCrateKeys(u.Inv.CrateName, record.CrateKeys{Keys: keys})
}

// explainMiss says why a compiled unit was not in the store: either its
// arguments were known and a source differed (named), or the nearest known
// argument key of the same crate differs in the components listed.
func (w *wrapper) explainMiss(u *key.Unit) []stats.Change {
	// Known arguments: the newest other candidate tells which inputs moved.
	if m, err := readManifest(w, u.ArgKey); err == nil && m != nil && len(m.Candidates) > 1 {
		return diffCandidates(m.Candidates[1], m.Candidates[0])
	}
	ck, _ := w.rec.CrateKeys(u.Inv.CrateName)
	var best []key.Change
	found := false
	for _, k := range ck.Keys {
		if k == u.ArgKey {
			continue
		}
		stored, err := w.rec.Components(k)
		if err != nil {
			continue
		}
		comps := make([]key.Component, len(stored))
		for i, c := range stored {
			comps[i] = key.Component(c)
		}
		d := key.Diff(comps, u.Comps.Components)
		if !found || len(d) < len(best) {
			best, found = d, true
		}
	}
	if !found {
		return []stats.Change{{Name: "new", New: "no earlier build of this crate in the store"}}
	}
	out := make([]stats.Change, 0, len(best))
	for _, c := range best {
		out = append(out, stats.Change{Name: c.Name, Old: clip(c.Old), New: clip(c.New)})
	}
	return out
}

// diffCandidates names the inputs and env-deps that differ between two
// candidates of one argument key.
func diffCandidates(old, new record.Candidate) []stats.Change {
	var out []stats.Change
	om := map[string]string{}
	for _, in := range old.Inputs {
		om[in.Path] = in.Digest
	}
	nm := map[string]bool{}
	for _, in := range new.Inputs {
		nm[in.Path] = true
		switch d, ok := om[in.Path]; {
		case !ok:
			out = append(out, stats.Change{Name: "source " + in.Path, New: "added"})
		case d != in.Digest:
			out = append(out, stats.Change{Name: "source " + in.Path, Old: short(d), New: short(in.Digest)})
		}
	}
	for _, in := range old.Inputs {
		if !nm[in.Path] {
			out = append(out, stats.Change{Name: "source " + in.Path, Old: "removed"})
		}
	}
	oe := map[string]record.Env{}
	for _, e := range old.Env {
		oe[e.Name] = e
	}
	for _, e := range new.Env {
		if o, ok := oe[e.Name]; !ok || o != e {
			out = append(out, stats.Change{Name: "env " + e.Name, Old: clip(o.Value), New: clip(e.Value)})
		}
	}
	return out
}

// short abbreviates a digest for display.
func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// clip shortens a value for display.
func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
