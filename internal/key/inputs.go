package key

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/treewatch"
)

// Inputs known only after a compile: the rule.
//
// The dep-info of a compile lists every source file it read (modules,
// include!, include_str!, files under OUT_DIR) and every variable it read
// through env!/option_env!. Per argument key the store keeps the input
// sets seen (candidates); a lookup takes the first candidate whose files
// have the same content here and whose variables have the same values.
//
//   - Files are keyed by path (normalized) and content, never as a multiset
//     of contents: two swapped modules must not keep their key.
//   - A file modified while rustc ran makes the compile uncacheable: what
//     rustc read is unknown. Files under OUT_DIR written moments before the
//     compile are proven unchanged by a digest taken just before it started.
//   - A variable whose value names a path of this tree's sources (such as
//     CARGO_MANIFEST_DIR) is keyed exactly: compiled into an output it would
//     point another worktree at this one's files. Values into the target
//     dir (OUT_DIR, generated-code paths that build scripts hand over, as
//     typenum does) are keyed normalized, because they are overwhelmingly
//     read to include! code at compile time; one that reaches an output
//     anyway is found there by the pin rule (pin.go). CARGO_TARGET_TMPDIR
//     exists to be written at run time, so it is always exact.
//   - A file whose absence decided the compile is an input too. rustc
//     resolves `mod m;` by probing both m.rs and m/mod.rs and fails when
//     both exist (E0761), so for every module file read, the other
//     spelling is recorded as absent, and a tree where it exists does not
//     match. (A #[path] module makes this over-strict: a miss, never a
//     stale hit.)
//   - Files and dirs of the tree that the compile read without dep-info
//     listing them (a proc-macro's template) are inputs too (reads.go).
//   - The entry also records the pins (pin.go): the tree paths its outputs
//     name, which must be the same here for it to match.
//
// Matching costs stats, not reads, when nothing changed: a candidate's
// files are memoized as one set (inputmemo.go), and a library that is a
// store blob is known by its inode (blobinode.go).

// Compile is what the wrapper observed of one compile.
type Compile struct {
	Start time.Time
	// Before holds digests, taken just before rustc started, of files
	// under OUT_DIR that were written moments earlier.
	Before map[string]string
	// Reads is what the watch of WatchRoot saw (reads.go); ReadsErr says
	// why there was none.
	Reads    *treewatch.Reads
	ReadsErr string
}

// Candidate builds the input set of a finished compile from its dep-info.
// reason is non-empty (and the candidate unusable) when the compile must
// not be cached.
func (u *Unit) Candidate(info *depinfo.Info, c Compile) (cand record.Candidate, reason string) {
	racyAfter := c.Start.Add(-filehash.ClockLag)
	read := map[string]bool{}
	for _, f := range info.Files {
		read[u.Abs(f)] = true
	}
	undeclared, listings, reason := u.treeReads(c, read)
	if reason != "" {
		return cand, reason
	}
	var paths, digests []string
	var hashed []filehash.Stat
	for _, f := range append(slices.Clone(info.Files), undeclared...) {
		p := u.Abs(f)
		d, st, err := u.Hasher.File(p)
		if err != nil {
			// A source that vanished or cannot be read cannot be keyed.
			return cand, "unreadable input " + f
		}
		if !st.Newest().Before(racyAfter) && c.Before[p] != d {
			return cand, "input modified during compile: " + f
		}
		cand.Inputs = append(cand.Inputs, record.Input{Path: u.Norm.Normalize(p), Digest: d})
		paths, digests, hashed = append(paths, u.Abs(u.Norm.Denormalize(u.Norm.Normalize(p)))), append(digests, d), append(hashed, st)
	}
	// The set as the next lookup in any tree reads it (inputmemo.go).
	if set, ok := u.statInputs(paths); ok {
		u.putDigests(set, hashed, digests)
	}
	cand.Inputs = append(cand.Inputs, listings...)
	for _, f := range info.Files {
		alt := otherModuleFile(u.Abs(f))
		if alt == "" || read[alt] {
			continue
		}
		if _, err := os.Lstat(alt); err == nil {
			return cand, "module file and its other spelling both exist: " + alt
		}
		cand.Inputs = append(cand.Inputs, record.Input{Path: u.Norm.Normalize(alt), Digest: record.Absent})
	}
	for _, e := range info.Env {
		cand.Env = append(cand.Env, u.envDep(e))
	}
	return cand, ""
}

// envDep keys a variable read through env!/option_env! (see the rule above).
func (u *Unit) envDep(e depinfo.EnvDep) record.Env {
	norm := u.Norm.Normalize(e.Value)
	intoTarget := strings.HasPrefix(norm, Target) && !strings.Contains(norm[len(Target):], placeholderPrefix)
	if norm != e.Value && (!intoTarget || e.Name == "CARGO_TARGET_TMPDIR") || u.extraEnv[e.Name] {
		return record.Env{Name: e.Name, Value: e.Value, Set: e.Set, Raw: true}
	}
	return record.Env{Name: e.Name, Value: norm, Set: e.Set}
}

// Matches reports whether a stored candidate's inputs are the same here:
// every variable has its value, every file its content, every pinned path
// is this tree's.
func (u *Unit) Matches(c record.Candidate) bool {
	for ph, p := range c.Pins {
		if u.Norm.Paths()[ph] != p {
			return false
		}
	}
	for _, e := range c.Env {
		v, set := u.Env[e.Name]
		if !e.Raw {
			v = u.Norm.Normalize(v)
		}
		if set != e.Set || (set && v != e.Value) {
			return false
		}
	}
	var paths, want []string
	for _, in := range c.Inputs {
		p := u.Abs(u.Norm.Denormalize(in.Path))
		if in.Digest == record.Absent {
			if _, err := os.Lstat(p); err == nil {
				return false
			}
			continue
		}
		if strings.HasPrefix(in.Digest, ListingPrefix) {
			if d, err := listingDigest(p); err != nil || d != in.Digest {
				return false
			}
			continue
		}
		paths = append(paths, p)
		want = append(want, in.Digest)
	}
	// The files as one set (inputmemo.go): one object read, not a read
	// of every file, when none of them changed.
	set, ok := u.statInputs(paths)
	if !ok {
		return false // a file is gone
	}
	if got, ok := u.memoDigests(set); ok {
		return slices.Equal(got, want)
	}
	hashed := make([]filehash.Stat, len(paths))
	for i, p := range paths {
		d, st, err := u.Hasher.File(p)
		if err != nil || d != want[i] {
			return false
		}
		hashed[i] = st
	}
	u.putDigests(set, hashed, want)
	return true
}

// otherModuleFile returns the other file rustc probes for the module a
// .rs file defines: dir/m/mod.rs for dir/m.rs and the other way round.
func otherModuleFile(p string) string {
	if filepath.Ext(p) != ".rs" {
		return ""
	}
	dir, base := filepath.Split(p)
	if base == "mod.rs" {
		d := filepath.Clean(dir)
		return d + ".rs"
	}
	return filepath.Join(dir, strings.TrimSuffix(base, ".rs"), "mod.rs")
}

// EntryKey is the key of the entry a candidate leads to: the argument key
// and the whole input set, pins included, so the same arguments with other
// sources, or pinned to another tree, make another entry.
func (u *Unit) EntryKey(c record.Candidate) record.EntryKey {
	c.Entry = ""
	b, _ := json.Marshal(c)
	return record.EntryKey(filehash.Bytes(append([]byte(u.ArgKey), b...)))
}

// keyExtraFiles keys the files matched by GROVE_EXTRA_FILES (inputs that a
// proc-macro or the compile reads without declaring them). Patterns are
// relative to the unit's CARGO_MANIFEST_DIR and may use ** for any depth
// (doublestar: `templates/**/*.html` matches at every depth, including
// templates/ itself). A pattern may climb out of the manifest dir with
// leading `../` (a workspace-wide templates dir seen from a member) or be
// absolute; a match is keyed by its path as the pattern spells it, so the
// key does not depend on where the tree is. An unreadable directory is an
// error, never a silent non-match.
func (u *Unit) keyExtraFiles(patterns []string) error {
	base := u.Env["CARGO_MANIFEST_DIR"]
	if len(patterns) == 0 || base == "" {
		return nil
	}
	for _, pat := range patterns {
		dir, prefix, rest := base, "", pat
		if filepath.IsAbs(rest) {
			dir, prefix, rest = "/", "/", strings.TrimLeft(rest, "/")
		}
		for strings.HasPrefix(rest, "./") {
			rest = rest[2:]
		}
		for strings.HasPrefix(rest, "../") {
			dir, prefix, rest = filepath.Dir(dir), prefix+"../", rest[3:]
		}
		if rest == "" || !doublestar.ValidatePattern(rest) {
			return NotCacheable("GROVE_EXTRA_FILES: bad pattern " + pat)
		}
		matches, err := doublestar.Glob(os.DirFS(dir), rest, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
		if err != nil {
			return fmt.Errorf("GROVE_EXTRA_FILES %s: %w", pat, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			d, _, err := u.Hasher.File(filepath.Join(dir, m))
			if err != nil {
				return fmt.Errorf("extra file %s: %w", m, err)
			}
			u.Comps.Add("extra-file:"+prefix+m, d)
		}
	}
	return nil
}
