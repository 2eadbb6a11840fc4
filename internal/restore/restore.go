// Package restore materializes a stored unit into a target dir: its output
// files, its dep-info with this tree's paths, and its diagnostics.
//
// Cargo decides freshness by mtime: a unit is rebuilt when the newest output
// of a dependency is newer than the newest of its own outputs (checked with
// cargo 1.95: StaleDependency compares dep max_mtime with our max over
// outputs). A hardlinked output carries the blob's mtime into this tree, and
// that mtime is shared by every tree linked to the blob, so it must never be
// changed: touching it would re-date the unit in every other worktree.
//
// The rule: if the newest blob is not older than the newest dependency
// output in this tree, hardlink everything. Otherwise give exactly one
// output, the smallest (the rmeta of a library), a fresh mtime by reflink
// or copy, and hardlink the rest. Cargo takes the newest output, so one
// fresh file is enough, and the big rlib stays shared. A blob is never
// touched.
package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// ErrCorrupt means a blob no longer has the content the entry recorded (it
// was written in place through a link); store.CheckBlob has quarantined it.
type ErrCorrupt struct{ Digest string }

func (e ErrCorrupt) Error() string { return "blob " + e.Digest + " changed in place; quarantined" }

// Result says what a restore wrote.
type Result struct {
	Bytes       int64 // output bytes restored
	SharedBytes int64 // of which restored by hardlink or reflink
}

// Unit materializes entry into outDir. depMtime is the newest mtime of the
// unit's dependency outputs in this tree.
func Unit(st *store.Store, h *filehash.Hasher, e *record.Entry, outDir string, norm *key.Normalizer, depMtime time.Time) (Result, error) {
	var res Result
	// Check every blob before writing anything, so a corrupt entry leaves
	// the tree untouched and the caller can compile instead.
	mtimes := make([]time.Time, len(e.Outputs))
	for i, o := range e.Outputs {
		// One stat; a re-hash only when size or mtime moved. What this
		// does not catch, and why, is stated at store.CheckBlob.
		fi, err := st.CheckBlob(o.Digest, store.Stamp{Size: o.Size, MtimeNs: o.MtimeNs}, false)
		if errors.Is(err, store.ErrCorrupt) {
			return res, ErrCorrupt{o.Digest}
		}
		if err != nil {
			return res, fmt.Errorf("restore %s: %w", o.Name, err)
		}
		mtimes[i] = fi.ModTime()
	}
	fresh := freshOutput(e.Outputs, mtimes, depMtime)
	for i, o := range e.Outputs {
		dst := filepath.Join(outDir, o.Name)
		allowLink := i != fresh
		m, err := st.Materialize(o.Digest, dst, allowLink)
		if err != nil {
			return res, fmt.Errorf("restore %s: %w", dst, err)
		}
		res.Bytes += o.Size
		if m == store.MethodHardlink || m == store.MethodReflink {
			res.SharedBytes += o.Size
		}
	}
	if e.DepName != "" {
		if err := writeFile(filepath.Join(outDir, e.DepName), []byte(norm.DenormalizeDepInfo(e.DepInfo))); err != nil {
			return res, fmt.Errorf("restore dep-info: %w", err)
		}
	}
	return res, nil
}

// freshOutput returns the index of the output that must get a fresh mtime,
// or -1 when hardlinking all of them keeps the unit fresh for Cargo.
func freshOutput(outs []record.Output, mtimes []time.Time, depMtime time.Time) int {
	var newest time.Time
	for _, m := range mtimes {
		if m.After(newest) {
			newest = m
		}
	}
	if !newest.Before(depMtime) {
		return -1
	}
	fresh := 0
	for i, o := range outs {
		if o.Size < outs[fresh].Size {
			fresh = i
		}
	}
	return fresh
}

// Replay writes the compile's stdout and stderr (artifact notifications and
// diagnostics) with this tree's paths, in their original order, so Cargo
// sees what rustc would have printed.
func Replay(e *record.Entry, norm *key.Normalizer, stdout, stderr io.Writer) error {
	if e.Stdout != "" {
		if _, err := io.WriteString(stdout, norm.DenormalizeStream(e.Stdout)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(stderr, norm.DenormalizeStream(e.Stderr))
	return err
}

// writeFile writes a regular file atomically: never a hardlink to anything
// shared, since Cargo reads and may rewrite it.
func writeFile(path string, data []byte) error {
	tmp := fmt.Sprintf("%s.grove-tmp-%d", path, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
