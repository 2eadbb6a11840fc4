package key

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/treewatch"
)

// Reads dep-info never lists: the rule.
//
// A compile can read files of the worktree that rustc's dep-info does not
// list: a proc-macro reading a template or a schema with std::fs (sqlx's
// .sqlx/query-*.json), or walking a dir (include_dir!-style), a linker
// reading a script. Plain cargo in another worktree reads that tree's
// copy, so each of them is an input:
//
//   - On Linux, while rustc runs on a miss of a workspace member (its
//     input path is relative: Cargo runs it from the workspace root), the
//     wrapper watches every dir of the workspace (package treewatch) but
//     the target dir, .git and nested repositories or target dirs
//     (WatchSkip), and dirs git ignores (treewatch.Dirs: node_modules). Every regular file opened there that dep-info does not
//     list becomes an input of the stored candidate, keyed like a source:
//     by its path, normalized (so two worktrees agree), and content. Every
//     dir whose entries were read is keyed by its listing (each name, and
//     whether it is a dir; ListingPrefix), so a tree where the dir holds
//     another file does not match.
//   - A compile during which the watch could not be set up (more than
//     treewatch.MaxDirs dirs, the user's inotify limits reached), lost
//     events (queue overflow, a watched dir removed), or during which a
//     path in the tree was written, created or removed (what the compile
//     read may be gone; a proc-macro that writes into the tree has an
//     effect a hit would not repeat) is not stored.
//   - inotify names the file, never the process: a file another process
//     opened meanwhile (a concurrent rustc parsing its own crate, a build
//     script, grove hashing another unit's sources, an editor) becomes an
//     input too. That is a lost hit in a tree where that file differs,
//     never a wrong one.
//   - Opens stop counting when rustc reports its metadata written
//     (MetadataWritten): the crate is expanded by then (metadata holds its
//     expanded items), so no proc-macro runs after it, and what is left,
//     analysis, codegen and the linker, reads no file of the tree that is
//     not keyed otherwise (-L dirs and link-argument files: native.go,
//     link.go). That is exactly when Cargo starts the dependents
//     (pipelining), whose rustc would otherwise put their sources into
//     this unit's inputs, and a change to a dependent would cost this
//     unit its hit. Writes count until rustc exits. Left out: a
//     diagnostic emitted after that point whose snippet rustc loads from
//     another crate's source file (stderr text only).
//   - Not watched, and so still declared through GROVE_EXTRA_FILES
//     (keyExtraFiles): files outside the workspace root or in a dir git
//     ignores (generated, dist/; watching node_modules would put most
//     trees that hold one over MaxDirs, storing none of their units); reads by a
//     registry or other non-member crate's compile (run from its own
//     package dir); a file reached through a symlink that leads out of
//     the tree; environment variables read with std::env (GROVE_EXTRA_ENV),
//     which cannot be observed at all. On other systems there is no
//     inotify, and no compile is watched: only dep-info and the GROVE_EXTRA_*
//     declarations are inputs (README, Limits).
//   - A watched unit's argument key says so (keyTreeReads): candidates
//     stored before reads were watched, or where they are not, hold no
//     reads and must not match here.

// ListingPrefix starts the digest of an input that is a dir's listing.
const ListingPrefix = "list:"

// WatchRoot is the tree whose reads a miss of this unit watches, "" for
// none (see the rule above).
func (u *Unit) WatchRoot() string {
	if !treewatch.Supported || u.Inv == nil || u.Inv.Input == "" || filepath.IsAbs(u.Inv.Input) {
		return ""
	}
	return u.Cwd
}

// keyTreeReads puts into the argument key whether this unit's reads are
// watched (see the rule above).
func (u *Unit) keyTreeReads() {
	if u.WatchRoot() != "" {
		u.Comps.Add("tree-reads", "watched")
	}
}

// WatchSkip reports whether a dir below WatchRoot is left unwatched: the
// unit's target dir, a .git dir, another repository or worktree nested in
// the tree, or a Cargo target dir (skipPackageDir).
func (u *Unit) WatchSkip(dir string) bool {
	return filepath.Base(dir) == ".git" || within(dir, u.TargetRoot) || skipPackageDir(dir)
}

// treeDirsPrefix starts the name of WatchDirsCache.
const treeDirsPrefix = "grove-tree-dirs-"

// WatchDirsCache is the file in the target dir where treewatch keeps the
// tree's dirs between misses.
func (u *Unit) WatchDirsCache() string {
	return filepath.Join(u.TargetRoot, treeDirsPrefix+filehash.Bytes([]byte(u.WatchRoot()))[:16])
}

// treeReads keys what the watch of the tree saw: the files opened and
// dirs listed that dep-info does not hold (declared: dep-info's files,
// absolute). It returns the files to key by content, and the listings'
// inputs.
func (u *Unit) treeReads(c Compile, declared map[string]bool) (files []string, listings []record.Input, reason string) {
	if u.WatchRoot() == "" {
		return nil, nil, ""
	}
	if c.ReadsErr != "" {
		return nil, nil, "tree reads not watched: " + c.ReadsErr
	}
	r := c.Reads
	if r == nil {
		return nil, nil, "tree reads not watched"
	}
	if r.Wrote != "" {
		return nil, nil, "tree written during compile: " + u.Norm.Normalize(r.Wrote)
	}
	for _, p := range r.Opened {
		if declared[p] {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, nil, "unreadable input " + p
		}
		if !fi.Mode().IsRegular() {
			continue // a fifo or device node: not content
		}
		files = append(files, p)
	}
	for _, d := range r.Listed {
		dg, err := listingDigest(d)
		if err != nil {
			return nil, nil, "unreadable dir " + d
		}
		listings = append(listings, record.Input{Path: u.Norm.Normalize(d), Digest: dg})
	}
	return files, listings, ""
}

// listingDigest keys a dir by its entries: each name, and whether it is a
// dir. A `.git` entry is keyed by name only: a dir in the main worktree,
// a file in a linked one, the same for what a compile can learn.
func listingDigest(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		kind := "f"
		if e.Name() == ".git" {
			kind = "g"
		} else if e.IsDir() {
			kind = "d"
		}
		names = append(names, fmt.Sprintf("%s\x00%s", kind, e.Name()))
	}
	sort.Strings(names)
	var b []byte
	for _, n := range names {
		b = append(append(b, n...), '\n')
	}
	return ListingPrefix + filehash.Bytes(b), nil
}

// The reads file: what seeding needs of the rule.
//
// Package seed copies a donor's unit of a path package into a new
// worktree when the new tree could not tell it from a build of its own;
// dep-info alone would hand it a unit whose proc-macro read a template
// that differs there. So beside every unit's dep-info that a watched
// compile stored or a hit restored, the wrapper writes the input set of
// its candidate, with this tree's paths (ReadsFileName): every file by
// path, every listed dir by path and listing digest. Seed compares the
// files in both trees by bytes, and each dir's listing here with the one
// the compile saw (the donor's dir may have changed since). A unit without the file (not
// watched, not stored, built by an older grove or without grove) is not
// seeded on a system that watches. The file is removed before rustc runs,
// so a stale one never outlives a compile.

// ReadsFileName is the name of the reads file beside a unit's dep-info
// file depInfoName.
func ReadsFileName(depInfoName string) string {
	return strings.TrimSuffix(depInfoName, ".d") + ".grovereads" // no "-": seed finds a unit's files by the hash after the last one
}

// ReadsFile is this unit's reads file; "" when its reads are not watched.
func (u *Unit) ReadsFile() string {
	if u.WatchRoot() == "" {
		return ""
	}
	return filepath.Join(u.OutDir, ReadsFileName(u.Inv.DepInfoName()))
}

// WriteReads writes the reads file for candidate c, matched or stored
// here.
func (u *Unit) WriteReads(c record.Candidate) error {
	p := u.ReadsFile()
	if p == "" {
		return nil
	}
	var b strings.Builder
	for _, in := range c.Inputs {
		if in.Digest == record.Absent {
			continue
		}
		abs := u.Abs(u.Norm.Denormalize(in.Path))
		if strings.ContainsAny(abs, "\n") {
			return fmt.Errorf("reads file: path with a newline")
		}
		if strings.HasPrefix(in.Digest, ListingPrefix) {
			fmt.Fprintf(&b, "l %s %s\n", in.Digest, abs)
		} else {
			fmt.Fprintf(&b, "f %s\n", abs)
		}
	}
	return atomicfile.Write(p, []byte(b.String()), 0o644)
}

// Reads is what a reads file names.
type Reads struct {
	Files []string // files, by path
	// Listed maps a dir's path to its listing's digest when the unit
	// was compiled (listingDigest).
	Listed map[string]string
}

// ParseReads reads a reads file.
func ParseReads(text string) (Reads, error) {
	r := Reads{Listed: map[string]string{}}
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			continue
		}
		kind, rest, _ := strings.Cut(l, " ")
		switch kind {
		case "f":
			r.Files = append(r.Files, rest)
		case "l":
			d, p, ok := strings.Cut(rest, " ")
			if !ok || !strings.HasPrefix(d, ListingPrefix) {
				return Reads{}, fmt.Errorf("reads file: bad line %q", l)
			}
			r.Listed[p] = d
		default:
			return Reads{}, fmt.Errorf("reads file: bad line %q", l)
		}
	}
	return r, nil
}

// ListsAs reports whether dir lists as a unit's reads file recorded it.
func ListsAs(dir, digest string) bool {
	d, err := listingDigest(dir)
	return err == nil && d == digest
}

// MetadataWritten reports whether a line of rustc's stderr is its
// artifact notification for the metadata (--json=artifacts, which Cargo
// passes for pipelining): see the rule above.
func MetadataWritten(line []byte) bool {
	// {"$message_type":"artifact","artifact":"…/libx.rmeta","emit":"metadata"}
	// (older rustc: without $message_type). A string value cannot hold
	// these unescaped.
	return bytes.HasPrefix(line, []byte(`{`)) && bytes.Contains(line, []byte(`"artifact":`)) &&
		bytes.Contains(line, []byte(`"emit":"metadata"`))
}
