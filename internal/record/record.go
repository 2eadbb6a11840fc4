// Package record defines what grove keeps in the store for each compiled
// unit. Every path in a record is normalized (see package key): records are
// shared by all worktrees, so they must not name any one of them.
//
// Three levels, as in ccache's direct mode:
//
//	argument key  → Manifest: the input sets seen for these arguments
//	entry key     → Entry: the outputs of one compile, by blob digest
//	rlib digest   → Lib: the libraries an rlib was compiled against,
//	                used to key what a linker will pull in
package record

// Typed identities, as Go's build cache separates an ActionID from an
// OutputID: the compiler stops an entry key being passed where a blob digest
// belongs. The JSON of a record is unchanged (they encode as strings).
type (
	// Digest names a blob by its content: 64 lower-case hex digits
	// (BLAKE3-256, as package filehash writes them).
	Digest string
	// ArgKey names a Manifest: the key of a unit's arguments, toolchain
	// and environment, before its sources are read.
	ArgKey string
	// EntryKey names an Entry: the argument key plus one input set.
	EntryKey string
)

// Input is one source file a compile read, with its content digest, or a
// file whose absence the compile depended on (Digest == Absent).
type Input struct {
	Path   string `json:"p"` // normalized
	Digest string `json:"d"`
}

// Absent is the digest of an input that must not exist.
const Absent = "absent"

// Env is one environment variable a compile read through env!/option_env!.
type Env struct {
	Name  string `json:"n"`
	Value string `json:"v,omitempty"` // normalized, unless Raw
	Set   bool   `json:"s"`
	// Raw is set when the value names a path of the tree that compiled it
	// and so must match exactly: env!("CARGO_MANIFEST_DIR") is compiled
	// into the output, and a binary restored into another worktree would
	// read that worktree's neighbour's files.
	Raw bool `json:"raw,omitempty"`
}

// Candidate is one input set seen for an argument key, and the entry it
// produced.
type Candidate struct {
	Entry  EntryKey `json:"entry"`
	Inputs []Input  `json:"inputs"`
	Env    []Env    `json:"env,omitempty"`
	// Pins are the tree paths (placeholder → absolute path) the entry's
	// outputs name outside debug info: it is served only where they are
	// the same (see key/pin.go).
	Pins map[string]string `json:"pins,omitempty"`
	// Git is the git state (key.GitHead) a build-script run saw, set
	// when it read git's dirs: the entry is served only to a tree whose
	// state is the same. nil: the run read no git, and its key holds
	// none (key/buildrun.go).
	Git *string `json:"git,omitempty"`
}

// MaxCandidates bounds a manifest; the oldest candidates are dropped.
const MaxCandidates = 32

// Manifest lists the candidates for one argument key, newest first.
type Manifest struct {
	Candidates []Candidate `json:"candidates"`
}

// Add puts c first, replacing a candidate with the same entry.
func (m *Manifest) Add(c Candidate) {
	out := []Candidate{c}
	for _, old := range m.Candidates {
		if old.Entry != c.Entry && len(out) < MaxCandidates {
			out = append(out, old)
		}
	}
	m.Candidates = out
}

// Output is one file a compile wrote into its --out-dir.
type Output struct {
	Name    string `json:"name"` // file name inside --out-dir
	Digest  Digest `json:"digest"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"` // the blob's mtime when stored: a change means it was written in place
}

// Entry is the result of one successful compile.
type Entry struct {
	Crate     string   `json:"crate"`
	Outputs   []Output `json:"outputs"`
	DepInfo   string   `json:"depinfo"`      // normalized .d text
	DepName   string   `json:"depinfo_name"` // file name of the .d inside --out-dir
	Stderr    string   `json:"stderr"`       // normalized, replayed on a hit
	Stdout    string   `json:"stdout,omitempty"`
	CompileMs int64    `json:"compile_ms"`
	// Origin names the tree that compiled the entry (cwd and target dir).
	// Not part of any key: outputs embed these paths only in debug info and
	// source maps, so GROVE_VERIFY compares byte for byte only in the
	// same tree.
	Origin string `json:"origin,omitempty"`
}

// Lib records the libraries an rlib was compiled against (file names of
// its --extern rlibs/rmetas), so that the link closure of a binary can be
// followed without parsing rlib metadata.
type Lib struct {
	Externs []string `json:"externs"`
}

// CrateKeys lists recent argument keys of one crate, newest first.
type CrateKeys struct {
	Keys []ArgKey `json:"keys"`
}

// Component is one named part of a key, kept for explain (see key.Builder).
type Component struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// Rustc is the identity of one rustc toolchain (package toolchain computes
// it), memoized under NSRustc.
type Rustc struct {
	Version       string `json:"version"`        // `rustc -vV` output
	Sysroot       string `json:"sysroot"`        // `rustc --print sysroot`
	SysrootDigest string `json:"sysroot_digest"` // over the names, sizes and mtimes of its libraries
}

// BuildRun is one successful run of a build script: what it left in its
// empty OUT_DIR and what it printed. Files marked Text and the streams are
// normalized (key.Normalizer, raw form) and written back with the tree's
// paths.
type BuildRun struct {
	Package string    `json:"package"`
	Files   []RunFile `json:"files"`
	Stdout  string    `json:"stdout"`
	Stderr  string    `json:"stderr"`
	RunMs   int64     `json:"run_ms"`
}

// RunFile is one file or directory of a run's OUT_DIR.
type RunFile struct {
	Path    string `json:"path"` // slash-separated, relative to OUT_DIR
	Dir     bool   `json:"dir,omitempty"`
	Digest  Digest `json:"digest,omitempty"` // of the stored blob (normalized text when Text)
	Size    int64  `json:"size,omitempty"`
	MtimeNs int64  `json:"mtime_ns,omitempty"` // the blob's, when stored
	Exec    bool   `json:"exec,omitempty"`
	Text    bool   `json:"text,omitempty"`
}
