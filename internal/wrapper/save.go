package wrapper

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/restore"
	"github.com/grove-rs/grove/internal/rustc"
)

// save stores the outputs of a successful compile. It returns a reason
// (and stores nothing) when the unit must not be cached after all.
func (w *wrapper) save(u *key.Unit, res *compileResult) (reason string, err error) {
	names, err := u.Inv.OutputNames()
	if err != nil {
		return "", err
	}
	if reason := unexpectedArtifacts(u, names, res.stderr); reason != "" {
		return reason, nil
	}
	depPath := filepath.Join(u.OutDir, u.Inv.DepInfoName())
	depText, err := os.ReadFile(depPath)
	if err != nil {
		return "", fmt.Errorf("read dep-info: %w", err)
	}
	info, err := depinfo.Parse(string(depText))
	if err != nil {
		return "", err
	}
	cand, reason := u.Candidate(info, key.Compile{Start: res.start, Before: res.before, Reads: res.reads, ReadsErr: res.readsErr})
	if reason != "" {
		return reason, nil
	}
	if extra := undeclaredInputs(u, cand, info); len(extra) > 0 {
		w.logf("reads %s: %d inputs beyond dep-info: %s", u.Inv.CrateName, len(extra), strings.Join(extra, " "))
	}
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(u.OutDir, n))
	}
	t0 := time.Now()
	if cand.Pins, err = u.Pins(paths, info.Files); err != nil {
		return "", fmt.Errorf("scan outputs: %w", err)
	}
	w.ev.ScanUs = time.Since(t0).Microseconds()

	entry := &record.Entry{
		Crate:     u.Inv.CrateName,
		DepInfo:   u.Norm.NormalizeDepInfo(string(depText)),
		DepName:   u.Inv.DepInfoName(),
		Stderr:    u.Norm.NormalizeStream(string(res.stderr)),
		Stdout:    u.Norm.NormalizeStream(string(res.stdout)),
		CompileMs: res.dur.Milliseconds(),
		Origin:    u.Origin(),
	}
	var held []heldOutput
	if entry.Outputs, held, err = w.storeOutputs(u, names, paths); err != nil {
		return "", err
	}
	if len(held) > 0 {
		// ingest.go: the big programs are stored, and the entry
		// published, after this process has exited.
		h := &handOff{ArgKey: u.ArgKey, EntryKey: u.EntryKey(cand), Cand: cand, Entry: *entry, Held: held}
		if err := w.handOffSave(h); err != nil {
			return "", err
		}
	} else if err := w.publish(u, cand, entry); err != nil {
		return "", err
	}
	w.writeReads(u, cand)
	w.rememberComponents(u)
	return "", nil
}

// storeOutputs puts the unit's outputs into the store as blobs, and the
// lib record of its rlib, and returns them as the entry lists them. A big
// program it only holds for the background process (ingest.go): held
// says which, and their entries' size and mtime are still to be filled.
func (w *wrapper) storeOutputs(u *key.Unit, names, paths []string) (outs []record.Output, held []heldOutput, err error) {
	var rlibDigest record.Digest
	kind := restore.KindOfInvocation(u.Inv, u.Env)
	for i, n := range names {
		p := paths[i]
		d, st, err := u.Hasher.File(p)
		if err != nil {
			return nil, nil, fmt.Errorf("hash output %s: %w", n, err)
		}
		// Only outputs that may share an inode are linked into the store
		// (the rule: restore.Shared); a program stays this tree's own
		// file, so `strip` in place here cannot reach the blob.
		shared := restore.Shared(kind, n)
		if w.mayDefer(shared, st.Size) && !w.haveBlob(d) {
			if tmp, err := w.st.HoldTemp(p); err == nil {
				held = append(held, heldOutput{Output: len(outs), Path: tmp, Exec: st.Mode&0o111 != 0})
				outs = append(outs, record.Output{Name: n, Digest: record.Digest(d)})
				continue
			}
		}
		if err := w.st.PutBlob(p, d, shared); err != nil {
			return nil, nil, err
		}
		if shared && rustc.IsLib(n) {
			u.NoteStored(p, d)
		}
		fi, err := w.st.BlobStat(d)
		if err != nil {
			return nil, nil, err
		}
		outs = append(outs, record.Output{Name: n, Digest: record.Digest(d), Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()})
		if strings.HasSuffix(n, ".rlib") {
			rlibDigest = record.Digest(d)
		}
	}
	if rlibDigest != "" {
		if err := w.putLib(u, rlibDigest); err != nil {
			return nil, nil, err
		}
	}
	return outs, held, nil
}

// publish writes the entry, then adds its candidate to the unit's manifest:
// in that order, so a reader that finds the candidate finds its entry.
func (w *wrapper) publish(u *key.Unit, cand record.Candidate, entry *record.Entry) error {
	return w.publishEntry(u.ArgKey, u.EntryKey(cand), cand, entry)
}

func (w *wrapper) publishEntry(argKey record.ArgKey, entryKey record.EntryKey, cand record.Candidate, entry *record.Entry) error {
	if err := w.rec.PutEntry(entryKey, entry); err != nil {
		return err
	}
	cand.Entry = entryKey
	m, err := readManifest(w, argKey)
	if err != nil || m == nil {
		m = &record.Manifest{} // a corrupt manifest is replaced
	}
	m.Add(cand)
	if err := w.rec.PutManifest(argKey, m); err != nil {
		return err
	}
	w.saved = string(entryKey)
	return nil
}

// putLib records which libraries an rlib was compiled against, for the
// link closure of binaries that depend on it (key/link.go).
func (w *wrapper) putLib(u *key.Unit, rlibDigest record.Digest) error {
	return w.rec.PutLib(rlibDigest, key.LibRecord(u.Inv))
}

// ensureLib rewrites the lib record of a restored rlib if it is missing
// (trimmed, or dropped as corrupt by a closure walk), so that binaries
// linking it become cacheable again. A stat, not a read: this runs on
// every hit, and a corrupt record is dropped by the closure walk that
// reads it, so the next hit finds it missing.
func (w *wrapper) ensureLib(u *key.Unit, e *record.Entry) {
	for _, o := range e.Outputs {
		if strings.HasSuffix(o.Name, ".rlib") {
			if !w.rec.HasLib(o.Digest) {
				_ = w.putLib(u, o.Digest)
			}
		}
	}
}

// unexpectedArtifacts compares rustc's artifact notifications with the
// outputs grove expects; anything else written (split debuginfo, a renamed
// output) would not be restored, so such a unit is not cached.
func unexpectedArtifacts(u *key.Unit, names []string, stderr []byte) string {
	want := map[string]bool{u.Inv.DepInfoName(): true}
	for _, n := range names {
		want[n] = true
	}
	for _, line := range strings.Split(string(stderr), "\n") {
		// rustc 1.95 writes {"$message_type":"artifact","artifact":...},
		// older ones {"artifact":...}: both, never a diagnostic (whose
		// rendered text may quote the word).
		if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"artifact":`) {
			continue
		}
		var a struct {
			Type     string `json:"$message_type"`
			Artifact string `json:"artifact"`
		}
		if json.Unmarshal([]byte(line), &a) != nil || a.Artifact == "" || (a.Type != "" && a.Type != "artifact") {
			continue
		}
		if filepath.Dir(u.Abs(a.Artifact)) != u.OutDir || !want[filepath.Base(a.Artifact)] {
			return "unexpected output " + filepath.Base(a.Artifact)
		}
	}
	return ""
}

// undeclaredInputs lists a candidate's inputs that are neither dep-info's
// files nor their absent other module spelling: what the tree watch added
// (key/reads.go), for the log.
func undeclaredInputs(u *key.Unit, c record.Candidate, info *depinfo.Info) []string {
	declared := map[string]bool{}
	for _, f := range info.Files {
		declared[u.Norm.Normalize(u.Abs(f))] = true
	}
	var out []string
	for _, in := range c.Inputs {
		if in.Digest != record.Absent && !declared[in.Path] {
			out = append(out, in.Path)
		}
	}
	return out
}
