package wrapper

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// racyMargin covers the lag of the kernel's coarse file clock behind the
// fine clock that timed the compile: a file written after rustc started can
// carry an mtime up to one tick before that start.
const racyMargin = 20 * time.Millisecond

// save stores the outputs of a successful compile. It returns a reason
// (and stores nothing) when the unit must not be cached after all.
func (w *wrapper) save(u *unit, res *compileResult) (reason string, err error) {
	names, err := u.inv.OutputNames()
	if err != nil {
		return "", err
	}
	if reason := unexpectedArtifacts(u, names, res.stderr); reason != "" {
		return reason, nil
	}
	depPath := filepath.Join(u.outDir, u.inv.DepInfoName())
	depText, err := os.ReadFile(depPath)
	if err != nil {
		return "", fmt.Errorf("read dep-info: %w", err)
	}
	info, err := depinfo.Parse(string(depText))
	if err != nil {
		return "", err
	}

	cand := record.Candidate{}
	racyAfter := res.start.Add(-racyMargin)
	for _, f := range info.Files {
		p := u.abs(f)
		d, st, err := u.hasher.File(p)
		if err != nil {
			// A source that vanished or cannot be read cannot be keyed.
			return "unreadable input " + f, nil
		}
		if !st.Newest().Before(racyAfter) && res.before[p] != d {
			return "input modified during compile: " + f, nil
		}
		cand.Inputs = append(cand.Inputs, record.Input{Path: u.norm.Normalize(p), Digest: d})
	}
	for _, e := range info.Env {
		cand.Env = append(cand.Env, envRecord(u, e))
	}

	entry := &record.Entry{
		Crate:     u.inv.CrateName,
		DepInfo:   u.norm.Normalize(string(depText)),
		DepName:   u.inv.DepInfoName(),
		Stderr:    u.norm.Normalize(string(res.stderr)),
		Stdout:    u.norm.Normalize(string(res.stdout)),
		CompileMs: res.dur.Milliseconds(),
		Origin:    u.origin(),
	}
	var rlibDigest string
	for _, n := range names {
		p := filepath.Join(u.outDir, n)
		d, _, err := u.hasher.File(p)
		if err != nil {
			return "", fmt.Errorf("hash output %s: %w", n, err)
		}
		if err := w.st.PutBlob(p, d, true); err != nil {
			return "", err
		}
		fi, err := w.st.BlobStat(d)
		if err != nil {
			return "", err
		}
		entry.Outputs = append(entry.Outputs, record.Output{Name: n, Digest: d, Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()})
		if strings.HasSuffix(n, ".rlib") {
			rlibDigest = d
		}
	}
	if rlibDigest != "" {
		if err := w.putLib(u.inv, rlibDigest); err != nil {
			return "", err
		}
	}
	eb, err := json.Marshal(entry)
	if err != nil {
		return "", err
	}
	// The entry key covers the argument key and the inputs found, so the
	// same arguments with other sources make another entry.
	ck, _ := json.Marshal(cand)
	entryKey := filehash.Bytes(append([]byte(u.argKey), ck...))
	if err := w.st.PutObject(record.NSEntry, entryKey, eb); err != nil {
		return "", err
	}
	cand.Entry = entryKey
	m, err := readManifest(w, u.argKey)
	if err != nil || m == nil {
		m = &record.Manifest{} // a corrupt manifest is replaced
	}
	m.Add(cand)
	mb, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	if err := w.st.PutObject(record.NSManifest, u.argKey, mb); err != nil {
		return "", err
	}
	w.rememberComponents(u)
	return "", nil
}

// putLib records which libraries an rlib was compiled against, for the
// link closure of binaries that depend on it.
func (w *wrapper) putLib(inv *rustc.Invocation, rlibDigest string) error {
	var lib record.Lib
	for _, e := range inv.Externs {
		if strings.HasSuffix(e.Path, ".rlib") || strings.HasSuffix(e.Path, ".rmeta") {
			lib.Externs = append(lib.Externs, filepath.Base(e.Path))
		}
	}
	b, err := json.Marshal(lib)
	if err != nil {
		return err
	}
	return w.st.PutObject(record.NSLib, rlibDigest, b)
}

// unexpectedArtifacts compares rustc's artifact notifications with the
// outputs grove expects; anything else written (split debuginfo, a renamed
// output) would not be restored, so such a unit is not cached.
func unexpectedArtifacts(u *unit, names []string, stderr []byte) string {
	want := map[string]bool{u.inv.DepInfoName(): true}
	for _, n := range names {
		want[n] = true
	}
	for _, line := range strings.Split(string(stderr), "\n") {
		if !strings.HasPrefix(line, `{"artifact":`) {
			continue
		}
		var a struct {
			Artifact string `json:"artifact"`
		}
		if json.Unmarshal([]byte(line), &a) != nil {
			continue
		}
		if filepath.Dir(u.abs(a.Artifact)) != u.outDir || !want[filepath.Base(a.Artifact)] {
			return "unexpected output " + filepath.Base(a.Artifact)
		}
	}
	return ""
}

// envRecord keys a variable read through env!/option_env! by the value
// rustc saw. A value naming a path of this worktree's sources (such as
// CARGO_MANIFEST_DIR) is kept raw (exact match): compiled into a binary it
// would point another worktree at this one's files. Paths into the target
// dir stay normalized: OUT_DIR and the variables build scripts point at
// generated files (typenum's TYPENUM_BUILD_OP) are read to include! code at
// compile time, and keying them raw would make every crate with generated
// code, and everything above it, miss in every new worktree. The exception
// is CARGO_TARGET_TMPDIR, which integration tests write to at run time.
func envRecord(u *unit, e depinfo.EnvDep) record.Env {
	norm := u.norm.Normalize(e.Value)
	intoTarget := strings.HasPrefix(norm, key.Target) && !strings.Contains(norm[len(key.Target):], "{{grove:")
	if norm != e.Value && (!intoTarget || e.Name == "CARGO_TARGET_TMPDIR") {
		return record.Env{Name: e.Name, Value: e.Value, Set: e.Set, Raw: true}
	}
	return record.Env{Name: e.Name, Value: norm, Set: e.Set}
}
