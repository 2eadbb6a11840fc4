// Package restore materializes a stored unit into a target dir: its output
// files, its dep-info with this tree's paths, and its diagnostics.
//
// Which outputs may share the store's inode (a hardlink) and which are
// always private copies is one rule, in share.go (Shared); the wrapper and
// package seed ask it. This doc says what mtimes the shared ones carry.
//
// # Mtimes
//
// Cargo decides freshness by mtime: a unit is rebuilt when the newest
// output of a dependency is newer than the newest of its own outputs
// (cargo 1.95: StaleDependency compares the dependency's max mtime, or its
// rmeta's when only metadata is needed, with the unit's max over its
// outputs). make and other tools compare the same way. A hardlinked output
// carries the blob's mtime into this tree, and that mtime is shared by
// every tree linked to the blob, so it is never changed: touching it would
// re-date the unit in every other worktree.
//
// The rule: a restored output is never older than the output it replaces
// in this tree, nor than anything already built on top of it, and a
// restored unit is never older than its dependencies' outputs in this tree.
// Applied per unit (see linkable):
//
//  1. A restore that replaces an output in this tree (a file at an
//     output's name that is not already that output's blob: a revert, a
//     stash, a branch switch) writes every output fresh, a private copy
//     stamped now, as rustc would. Now is later than the output it
//     replaces and than anything built on top of that output so far, so
//     Cargo rebuilds those dependents, as it does after plain rustc.
//  2. Otherwise, when the newest shared output would be older than the
//     newest dependency output (DepOutputs), one output is written fresh.
//     Which one decides what the unit's dependents must do in turn:
//     Cargo compares a dependent that needs only metadata (a library
//     above a library) with the rmeta alone, and one that links (a
//     program, a proc-macro, a build script) with the newest output. A
//     fresh rmeta makes every library above this one older than it, so
//     each of them writes its own rmeta fresh, and so on up the graph: in
//     a new worktree every library above a build script or a proc-macro
//     (nearly all of them) writes a copy. A fresh rlib stops there:
//     dependents that link write fresh outputs anyway. So the rlib is
//     written fresh when it is small (freshRlib: under 2 MiB, or under
//     twice the rmeta), the rmeta otherwise (a 30 MB rlib of generated
//     code costs more than the copies above it). In a new worktree of the
//     corpus 89 hits write a private copy instead of 179, 407 MiB instead
//     of 448 (the program's 192 and the proc-macros' 100 are in both;
//     bench/README.md). A unit with no rmeta writes its smallest output
//     fresh.
//  3. Otherwise the shared outputs are hardlinked with their blobs'
//     mtimes: they replace nothing, and are not older than their
//     dependencies.
//
// Outputs that are never shared are always fresh. One output is outside
// rules 1 to 3: a build script's program behind a trampoline
// (Target.Trampoline). Cargo compares the trampoline, which the wrapper
// writes fresh after the restore, and never stats the program, so its
// mtime cannot matter and it is always linked. What rule 1 cannot see:
// a unit whose outputs were deleted alone (cargo clean -p) while units
// built on them stayed; it is restored by rule 2 or 3.
package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
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
	// Copied lists the libraries (Shared) written as private copies
	// of their blobs, by path, with their digests: the wrapper notes them
	// (key.Unit.NoteCopied) so that dependents know them without a read.
	Copied []Copied
}

// Copied is one library a restore wrote as a private copy of a blob.
type Copied struct{ Path, Digest string }

// Target is where, and for which invocation, a unit is restored.
type Target struct {
	Inv    *rustc.Invocation
	Cwd    string            // rustc's working directory: Inv's relative paths are relative to it
	OutDir string            // Inv's --out-dir, absolute
	Env    map[string]string // the environment Cargo gave the unit
	Norm   *key.Normalizer   // this tree's paths
	// Trampoline says the unit is a build script's compile whose program
	// the caller replaces with a trampoline right after the restore
	// (package buildscript): Cargo then never stats the program.
	Trampoline bool
}

// Unit materializes entry into t.OutDir, following the package's rules.
func Unit(st *store.Store, e *record.Entry, t Target) (Result, error) {
	var res Result
	// Check every blob before writing anything, so a corrupt entry leaves
	// the tree untouched and the caller can compile instead.
	blobs := make([]os.FileInfo, len(e.Outputs))
	for i, o := range e.Outputs {
		// One stat; a re-hash only when size or mtime moved. What this
		// does not catch, and why, is stated at store.CheckBlob.
		fi, err := st.CheckBlob(string(o.Digest), store.Stamp{Size: o.Size, MtimeNs: o.MtimeNs}, false)
		if errors.Is(err, store.ErrCorrupt) {
			return res, ErrCorrupt{string(o.Digest)}
		}
		if err != nil {
			return res, fmt.Errorf("restore %s: %w", o.Name, err)
		}
		blobs[i] = fi
	}
	mtimes := make([]time.Time, len(blobs))
	for i, fi := range blobs {
		mtimes[i] = fi.ModTime()
	}
	kind := KindOfInvocation(t.Inv, t.Env)
	shared := make([]bool, len(e.Outputs))
	unseen := make([]bool, len(e.Outputs))
	for i, o := range e.Outputs {
		shared[i] = Shared(kind, o.Name)
		unseen[i] = shared[i] && t.Trampoline && kind == KindBuildScript
	}
	link := linkable(e.Outputs, shared, unseen, mtimes, replaces(t.OutDir, e.Outputs, blobs), Newest(DepOutputs(t.Inv, t.Cwd, t.Env)))
	for i, o := range e.Outputs {
		dst := filepath.Join(t.OutDir, o.Name)
		m, err := st.Materialize(string(o.Digest), dst, link[i])
		if err != nil {
			return res, err // names the blob and dst already
		}
		res.Bytes += o.Size
		if m == store.MethodHardlink || m == store.MethodReflink {
			res.SharedBytes += o.Size
		}
		if m != store.MethodHardlink && shared[i] {
			res.Copied = append(res.Copied, Copied{dst, string(o.Digest)})
		}
	}
	if e.DepName != "" {
		if err := writeFile(filepath.Join(t.OutDir, e.DepName), []byte(t.Norm.DenormalizeDepInfo(e.DepInfo))); err != nil {
			return res, fmt.Errorf("restore dep-info: %w", err)
		}
	}
	return res, nil
}

// replaces reports whether restoring outs into outDir replaces a file of
// this tree: something is at an output's name that is not its blob.
func replaces(outDir string, outs []record.Output, blobs []os.FileInfo) bool {
	for i, o := range outs {
		fi, err := os.Lstat(filepath.Join(outDir, o.Name))
		if err == nil && !os.SameFile(fi, blobs[i]) {
			return true
		}
	}
	return false
}

// linkable decides, per output, whether it is hardlinked to its blob
// (true) or written fresh, a private copy stamped now (false): rules 1 to 3
// of the package doc. shared says which outputs may share their inode at
// all (Shared); unseen, which of those Cargo never stats (a program behind
// a trampoline): they are linked whatever the rules say, and the rules
// apply to the others. mtimes are the blobs'; replacing says the restore
// replaces a file of this tree; depMtime is the newest mtime of the unit's
// dependency outputs here.
func linkable(outs []record.Output, shared, unseen []bool, mtimes []time.Time, replacing bool, depMtime time.Time) []bool {
	link := make([]bool, len(outs))
	seen := -1 // an output Cargo compares, if any
	for i := range outs {
		link[i] = unseen[i]
		if !unseen[i] {
			seen = i
		}
	}
	if seen < 0 || replacing {
		return link // nothing Cargo compares; rule 1
	}
	var newest time.Time
	anyFresh := false
	for i := range outs {
		if unseen[i] {
			continue
		}
		if !shared[i] {
			anyFresh = true // now: not older than any dependency
			continue
		}
		link[i] = true
		if mtimes[i].After(newest) {
			newest = mtimes[i]
		}
	}
	if anyFresh || !newest.Before(depMtime) {
		return link // rule 3
	}
	fresh, rmeta, rlib := seen, -1, -1 // rule 2
	for i, o := range outs {
		if unseen[i] {
			continue
		}
		switch {
		case strings.HasSuffix(o.Name, ".rmeta"):
			rmeta = i
		case strings.HasSuffix(o.Name, ".rlib"):
			rlib = i
		}
		if o.Size < outs[fresh].Size {
			fresh = i
		}
	}
	switch {
	case rmeta >= 0 && rlib >= 0 && freshRlib(outs[rlib].Size, outs[rmeta].Size):
		fresh = rlib
	case rmeta >= 0:
		fresh = rmeta
	}
	link[fresh] = false
	return link
}

// freshRlib reports whether rule 2 writes a library's rlib fresh rather
// than its rmeta, from their sizes: when the rlib is small, which stops
// the fresh copies at this library (the package doc).
func freshRlib(rlib, rmeta int64) bool {
	return rlib < max(2*rmeta, 2<<20)
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
