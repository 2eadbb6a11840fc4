package key

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/toolchain"
)

// Build-script runs: the rule.
//
// Cargo runs a build script itself, not through the rustc wrapper, when
// its own fingerprint says so: always in a fresh target dir, and later
// when a `rerun-if-changed` file or `rerun-if-env-changed` variable
// changed, or (none declared) any file of the package. grove serves Cargo
// a trampoline as the compiled script (package buildscript); Cargo's
// decision stays Cargo's, and grove only chooses between running the
// script and replaying a stored run. A run is replayed only when
// everything it could have read is the same as in the stored run:
//
//   - the script's binary, by content;
//   - its working dir and every environment variable it gets, not only
//     those Cargo sets (a script reads what it likes and declares little;
//     a fresh worktree under plain cargo runs it with today's values),
//     with the tree's paths normalized. Left out: shell bookkeeping
//     (OLDPWD, SHLVL, _), the jobserver (CARGO_MAKEFLAGS, MAKEFLAGS,
//     MFLAGS: descriptors and a fifo path, read for parallelism), and
//     grove's own GROVE_* settings. The target dir's entries of
//     LD_LIBRARY_PATH are left out for a script that loads only system
//     libraries (its ELF needs nothing else): Cargo's per-unit layout puts
//     some unrelated unit's dir there, differently from build to build;
//   - every file of its package (CARGO_MANIFEST_DIR, without .git,
//     nested repositories or worktrees, and target dirs; with the files
//     of git submodules, as Cargo lists them), whether or not
//     it declares rerun-if-changed: a script that declares only
//     build.rs may still read its other files;
//   - the files and dirs its `rerun-if-changed` lines name, known only
//     after the run: per run key the store keeps a manifest of the input
//     sets seen, like rustc's sources (inputs.go), and a lookup re-hashes
//     each candidate's. Paths inside OUT_DIR are outputs, not inputs. A
//     declared path outside the tree, target dir, CARGO_HOME and
//     RUSTUP_HOME pins the run to its tree: another tree's script would
//     have declared its own (a worktree's .git/worktrees/<name>/HEAD), and
//     checking the first tree's file says nothing about it. A package
//     outside the tree (a directory source's registry crate) declaring
//     its own files is not pinned: every tree's run reads that one dir;
//   - what another unit passes in a variable, by content, where the
//     path lies in the target dir or the tree: `links` metadata of a
//     dependency's run (DEP_<LINKS>_<KEY>: an include dir in its OUT_DIR,
//     or in a path dependency's sources, is read, never declared; Cargo
//     reruns the script whenever that run changed) and artifact
//     dependencies (CARGO_BIN_FILE_<DEP>, ...). A path outside both (a
//     system include dir) is keyed by name only;
//   - the Rust toolchain Cargo hands the script: RUSTC by its identity
//     (Cargo's fingerprint of a run keys rustc's version), RUSTDOC and
//     CARGO by content;
//   - the C toolchain (cc, c++, ar, or what CC, CXX, AR name) by content,
//     as the linker is for compiles: scripts compile C with it;
//   - an argument in its environment that is resolved from the host
//     (RUSTFLAGS with -C target-cpu=native, CFLAGS with -march=native):
//     the host CPU it resolves to (hostcpu.go);
//   - for a package inside the git worktree whose run read git's dirs,
//     the git state it saw: commit, branch HEAD is on, every ref
//     (GitHead; githead.go says how a run is seen to read git and why
//     that is sound). Scripts embed them (`git rev-parse HEAD`, `git
//     describe --tags`, vergen, built) reading .git outside their
//     package, often without declaring it. This is known only after the
//     run, like declared inputs: the argument key holds no git state, and
//     the candidate in the manifest notes the state when the run read
//     git (record.Candidate.Git); a lookup computes the tree's GitHead
//     only for such a candidate. A run that read no git is served on any
//     branch;
//   - for a package inside the git worktree, the rest of the tree
//     (treestate.go): the files of the commit checked out (its tree
//     object, not the commit), and every path git reports modified,
//     untracked or ignored outside the package and the target dir, by
//     content. A script reads `../shared/x` or a git-ignored `../.env`
//     without declaring it; plain cargo in a fresh worktree reads that
//     tree's copy;
//   - an empty OUT_DIR. Cargo keeps OUT_DIR between runs and a script may
//     read what it left there (caches, stamps): only a run into an empty
//     OUT_DIR (every fresh target dir) is stored or replayed.
//
// A run is not stored when it failed (its failure is Cargo's to report,
// and the next build runs it again), when it changed a file of its
// package or of the rest of the tree (what it wrote there is not
// replayed, and a fresh worktree under plain cargo has it), when OUT_DIR holds
// anything but files and dirs, or when a path of the tree holds a
// character that is escaped in some of the places a script writes paths
// (quotes, backslash, space, controls): then textual replacement could
// miss or mangle it.
//
// Outputs are OUT_DIR's files and the script's stdout and stderr. Text
// naming the tree's paths (`cargo:rustc-link-search=native=$OUT_DIR`,
// generated code with include!("$OUT_DIR/x.rs")) is stored normalized and
// replayed with this tree's paths; what still names the tree after that
// (a path inside a longer name), and any other file naming it outside
// debug info (a string in an object file), pins the entry to its tree, as
// for compiled units (pin.go). Debug info of objects a script compiled
// (cc) names the tree that ran it first, as rustc's debug info does.
//
// Known residue (README): a script that reads files outside its tree
// without declaring them, writes into the target dir outside OUT_DIR, or
// reads the network or the clock, is replayed as it first ran.
type BuildRun struct {
	Real        string // the script's binary
	OutDir      string
	ManifestDir string
	Norm        *Normalizer
	Hasher      *filehash.Hasher
	Comps       Builder
	ArgKey      string

	pkg  string // digest of the package's files at keying
	tree string // the worktree (empty: the package is in none)
	// git: the tree's GitHead, computed at the first candidate that
	// read git (gitDone)
	git     string
	gitDone bool
	rest    string // treeState at keying
	// scope: the entries between OUT_DIR and the target root at keying
	// (runwrites.go)
	scope map[string]dirEntryState
}

// buildRunRule changes when this rule does, so old entries stop matching.
const buildRunRule = "buildrun/3"

// maxPackageFiles bounds the walk of a package; a bigger one is run, not
// keyed (a script in a dir holding other trees' data).
const maxPackageFiles = 20000

// runEnvSkipped reports whether an environment variable is left out of a
// run's key (see the rule).
func runEnvSkipped(name string) bool {
	switch name {
	case "OLDPWD", "SHLVL", "_", "CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS":
		return true
	}
	return strings.HasPrefix(name, "GROVE_")
}

// NewBuildRun keys a run of the build script real, as Cargo starts it in
// this process: cwd and environ are the process's own.
func NewBuildRun(real, cwd string, environ []string, h *filehash.Hasher) (*BuildRun, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	r := &BuildRun{Real: real, OutDir: env["OUT_DIR"], ManifestDir: env["CARGO_MANIFEST_DIR"], Hasher: h}
	if !filepath.IsAbs(r.OutDir) || !filepath.IsAbs(r.ManifestDir) {
		return nil, NotCacheable("build script without absolute OUT_DIR and CARGO_MANIFEST_DIR")
	}
	ents, err := os.ReadDir(r.OutDir)
	if err != nil {
		return nil, fmt.Errorf("OUT_DIR: %w", err)
	}
	if len(ents) > 0 {
		return nil, NotCacheable("OUT_DIR not empty (a script may read what an earlier run left)")
	}
	targetRoot, err := findTargetRoot(r.OutDir)
	if err != nil {
		return nil, err
	}
	tree := worktreeRoot(env["CARGO_HOME"], r.ManifestDir, targetRoot, env["PWD"])
	for _, p := range []string{targetRoot, tree} {
		if !plainPath(p) {
			return nil, NotCacheable(fmt.Sprintf("path %q has characters a script may escape", p))
		}
	}
	home := env["HOME"]
	cargoHome, rustupHome := env["CARGO_HOME"], env["RUSTUP_HOME"]
	if cargoHome == "" && home != "" {
		cargoHome = filepath.Join(home, ".cargo")
	}
	if rustupHome == "" && home != "" {
		rustupHome = filepath.Join(home, ".rustup")
	}
	r.Norm = NewNormalizer(map[string]string{
		Target: targetRoot, Cwd: tree, CargoHome: cargoHome, RustupDir: rustupHome,
	})

	b := &r.Comps
	b.Add("rule", buildRunRule)
	d, _, err := h.File(real)
	if err != nil {
		return nil, fmt.Errorf("build script: %w", err)
	}
	b.Add("script", d)
	b.Add("cwd", r.Norm.Normalize(cwd))
	var names []string
	for k := range env {
		if !runEnvSkipped(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	selfContained := loadsOnlySystemLibs(real)
	for _, k := range names {
		v := env[k]
		if k == "LD_LIBRARY_PATH" && selfContained {
			v = withoutDirsIn(v, targetRoot)
		}
		b.Add("env:"+k, "="+r.Norm.Normalize(v))
		if !passedFromUnits(k) {
			continue
		}
		for _, p := range filepath.SplitList(env[k]) {
			p = filepath.Clean(p)
			if filepath.IsAbs(p) && (within(p, targetRoot) || tree != "" && within(p, tree)) {
				d, err := r.passedDigest(p)
				if err != nil {
					return nil, err
				}
				b.Add("dep-path:"+k, r.Norm.Normalize(p)+" "+d)
			}
		}
	}
	if err := r.keyPrograms(env); err != nil {
		return nil, err
	}
	if err := r.keyHostResolved(env, cwd); err != nil {
		return nil, err
	}
	r.keyCTools(env)
	if tree != "" && within(r.ManifestDir, tree) {
		// A path package: git state is keyed per candidate, when the
		// run read it (see the rule).
		r.tree = tree
		if r.rest, err = r.treeState(); err != nil {
			return nil, err
		}
		b.Add("tree-state", r.rest)
	}
	if r.pkg, err = r.packageDigest(); err != nil {
		return nil, err
	}
	b.Add("package", r.pkg)
	r.ArgKey = b.Sum()
	r.scope = r.snapshotScope()
	return r, nil
}

// plainPath reports whether p is written the same raw, in Rust and C
// string literals, in JSON and in Makefile-style dep-info.
func plainPath(p string) bool {
	for _, c := range p {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.ContainsRune("/._-+@,=~", c):
		default:
			return false
		}
	}
	return true
}

// worktreeRoot is the tree a run belongs to: the git worktree holding the
// package (a workspace member), else the one holding the target dir or
// the invoking shell's dir (a registry package's run). Every tree makes
// the same choice, so what lies below compares as normalized text; no
// git worktree found leaves the tree's own paths in the key (no hit
// across trees, never a wrong one).
func worktreeRoot(cargoHome string, dirs ...string) string {
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) || cargoHome != "" && within(d, cargoHome) {
			continue
		}
		for p := d; ; p = filepath.Dir(p) {
			if _, err := os.Lstat(filepath.Join(p, ".git")); err == nil {
				return p
			}
			if filepath.Dir(p) == p {
				break
			}
		}
	}
	return ""
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// packageDigest digests the package's files: relative path and content
// (a symlink by its target), in walk order.
func (r *BuildRun) packageDigest() (string, error) {
	dg, err := r.digestTree(r.ManifestDir, func(p string, d fs.DirEntry) bool {
		return d.Name() == ".git" || d.IsDir() && p != r.ManifestDir && skipPackageDir(p)
	}, "package")
	if err != nil {
		var nc NotCacheable
		if errors.As(err, &nc) {
			return "", nc
		}
		return "", fmt.Errorf("package %s: %w", r.ManifestDir, err)
	}
	return dg, nil
}

// digestTree digests the files under root, each by its relative path and
// content (a symlink by its target, normalized), in walk order; skip leaves
// out a file or a whole directory. More than maxPackageFiles files make the
// run not cacheable (what names the tree for that message).
func (r *BuildRun) digestTree(root string, skip func(p string, d fs.DirEntry) bool, what string) (string, error) {
	var buf bytes.Buffer
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip(p, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			fmt.Fprintf(&buf, "d %s\n", rel)
			return nil
		}
		if n++; n > maxPackageFiles {
			return NotCacheable(fmt.Sprintf("%s %s has more than %d files", what, root, maxPackageFiles))
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&buf, "l %s %s\n", rel, r.Norm.Normalize(l))
		case d.Type().IsRegular():
			dg, _, err := r.Hasher.File(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&buf, "f %s %s\n", rel, dg)
		default:
			fmt.Fprintf(&buf, "o %s %v\n", rel, d.Type())
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return filehash.Bytes(buf.Bytes()), nil
}

// skipPackageDir: another repository or worktree nested in the package,
// or a Cargo target dir. A git submodule is part of the package (Cargo
// lists its files as the package's; a -sys crate's vendored C sources
// often are one, and a fresh `git worktree add` leaves it empty until
// `git submodule update`): only its .git is left out.
func skipPackageDir(p string) bool {
	if b, err := os.ReadFile(filepath.Join(p, ".git")); err == nil {
		return !isSubmoduleLink(string(b))
	} else if _, err := os.Lstat(filepath.Join(p, ".git")); err == nil {
		return true // a .git dir: a repository of its own
	}
	for _, m := range targetMarkers {
		if _, err := os.Lstat(filepath.Join(p, m)); err == nil {
			return true
		}
	}
	return false
}

// isSubmoduleLink reports whether a .git file's content points into a
// superproject's modules dir ("gitdir: ../.git/modules/x"), as a
// submodule's does; a linked worktree's points into .git/worktrees/.
func isSubmoduleLink(dotgit string) bool {
	dir, ok := strings.CutPrefix(strings.TrimSpace(dotgit), "gitdir:")
	dir = filepath.ToSlash(strings.TrimSpace(dir))
	return ok && strings.Contains("/"+dir, "/modules/")
}

// PackageChanged reports whether the package's files, or the rest of
// the tree's files the key holds, differ from when the run was keyed: the
// script wrote into its package or its tree.
func (r *BuildRun) PackageChanged() bool {
	d, err := r.packageDigest()
	if err != nil || d != r.pkg {
		return true
	}
	if r.tree == "" {
		return false
	}
	rest, err := r.treeState()
	return err != nil || rest != r.rest
}

// Declared lists the absolute paths a run's stdout names in
// rerun-if-changed lines (both `cargo:` and `cargo::` forms; relative
// paths are relative to the package, as for Cargo).
func (r *BuildRun) Declared(stdout string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		rest, ok := strings.CutPrefix(l, "cargo::")
		if !ok {
			rest, ok = strings.CutPrefix(l, "cargo:")
		}
		if !ok {
			continue
		}
		p, ok := strings.CutPrefix(rest, "rerun-if-changed=")
		if !ok || p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.ManifestDir, p)
		}
		out = append(out, filepath.Clean(p))
	}
	return out
}

// Inputs digests the paths a run declared, after the run: a file by
// content, a dir by its files, a missing path as Absent. Paths in OUT_DIR
// are left out.
func (r *BuildRun) Inputs(stdout string) ([]record.Input, error) {
	seen := map[string]bool{}
	var in []record.Input
	for _, p := range r.Declared(stdout) {
		if within(p, r.OutDir) || seen[p] {
			continue
		}
		seen[p] = true
		d, err := r.pathDigest(p)
		if err != nil {
			return nil, err
		}
		in = append(in, record.Input{Path: r.Norm.Normalize(p), Digest: d})
	}
	return in, nil
}

func (r *BuildRun) pathDigest(p string) (string, error) {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return record.Absent, nil
	}
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		d, _, err := r.Hasher.File(p)
		return d, err
	}
	dg, err := r.digestTree(p, func(string, fs.DirEntry) bool { return false }, "rerun-if-changed dir")
	if err != nil {
		return "", err
	}
	return "dir:" + dg, nil
}

// Matches reports whether a stored candidate's declared inputs are the
// same here, and its pins name this tree.
func (r *BuildRun) Matches(c record.Candidate) bool {
	paths := r.Norm.Paths()
	for ph, p := range c.Pins {
		if paths[ph] != p {
			return false
		}
	}
	for _, in := range c.Inputs {
		d, err := r.pathDigest(r.Norm.Denormalize(in.Path))
		if err != nil || d != in.Digest {
			return false
		}
	}
	return c.Git == nil || *c.Git == r.GitHead()
}

// Tree is the git worktree of a path package's run, whose git dirs are
// watched while it runs; "" for a package in no worktree.
func (r *BuildRun) Tree() string { return r.tree }

// GitHead is the tree's git state (GitHead), computed once.
func (r *BuildRun) GitHead() string {
	if !r.gitDone {
		r.gitDone = true
		if r.tree != "" {
			r.git = GitHead(r.tree)
		}
	}
	return r.git
}

// InputPins returns the pins a run's declared inputs call for: all of the
// tree's paths when one of them lies outside every normalized root and
// outside the package. A package outside the tree (a registry crate in a
// directory source such as /usr/share/cargo/registry, a path dependency
// beside the repository) is the same dir for every tree (its path is in
// the key), so its own declared files say the same for all of them.
func (r *BuildRun) InputPins(in []record.Input) map[string]string {
	for _, i := range in {
		if !strings.HasPrefix(i.Path, placeholderPrefix) && !within(i.Path, r.ManifestDir) {
			pins := map[string]string{}
			for _, ph := range []string{Target, Cwd} {
				if p := r.Norm.Paths()[ph]; p != "" {
					pins[ph] = p
				}
			}
			return pins
		}
	}
	return nil
}

// EntryKey is the key of the run stored for candidate c.
func (r *BuildRun) EntryKey(c record.Candidate) string {
	b := Builder{Components: append([]Component(nil), r.Comps.Components...)}
	for _, in := range c.Inputs {
		b.Add("declared:"+in.Path, in.Digest)
	}
	if c.Git != nil {
		b.Add("git-head", *c.Git)
	}
	return b.Sum()
}

// RunOutput is one file or dir of OUT_DIR as it is to be stored: Data is
// the normalized text for a Text file, nil otherwise (the file is stored
// as it is).
type RunOutput struct {
	Rel  string // slash-separated, relative to OUT_DIR
	Path string
	Dir  bool
	Exec bool
	Text bool
	Data []byte
}

// Outputs reads what a run left: OUT_DIR's files, and stdout and stderr
// normalized. pins is non-empty when something names the tree in a way
// that cannot be replayed elsewhere (see the rule).
func (r *BuildRun) Outputs(stdout, stderr string) (outs []RunOutput, nStdout, nStderr string, pins map[string]string, err error) {
	s := &scanner{}
	for _, ph := range []string{Target, Cwd, CargoHome, RustupDir} {
		if p := r.Norm.Paths()[ph]; p != "" {
			s.paths = append(s.paths, treePath{ph, []byte(p)})
		}
	}
	text := func(b []byte) []byte {
		n := []byte(r.Norm.Normalize(string(b)))
		s.residue(n)
		return n
	}
	nStdout, nStderr = string(text([]byte(stdout))), string(text([]byte(stderr)))
	err = filepath.WalkDir(r.OutDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == r.OutDir {
			return nil
		}
		rel, _ := filepath.Rel(r.OutDir, p)
		o := RunOutput{Rel: filepath.ToSlash(rel), Path: p}
		switch {
		case d.IsDir():
			o.Dir = true
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			o.Exec = fi.Mode()&0o111 != 0
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if s.names(data) && utf8.Valid(data) && bytes.IndexByte(data, 0) < 0 {
				o.Text, o.Data = true, text(data)
			} else if err := s.output(p); err != nil {
				return err
			}
		default:
			return NotCacheable("OUT_DIR holds " + rel + ", neither a file nor a dir")
		}
		outs = append(outs, o)
		return nil
	})
	if err != nil {
		return nil, "", "", nil, err
	}
	if len(s.found) > 0 {
		pins = map[string]string{}
		for ph := range s.found {
			pins[ph] = r.Norm.Paths()[ph]
		}
	}
	return outs, nStdout, nStderr, pins, nil
}

// names reports whether data holds a tree path anywhere, boundary or not.
func (s *scanner) names(data []byte) bool {
	for _, tp := range s.paths {
		if bytes.Contains(data, tp.path) {
			return true
		}
	}
	return false
}

// residue pins on a tree path left in normalized text: one that did not
// end at a path boundary ("/x/wt" inside "/x/wt2"), which no placeholder
// replaced.
func (s *scanner) residue(data []byte) {
	for _, tp := range s.paths {
		if bytes.Contains(data, tp.path) {
			s.mark(tp.placeholder)
		}
	}
}

// passedFromUnits reports whether Cargo sets the variable name to what
// another unit produced: `links` metadata of a dependency's run
// (DEP_<LINKS>_<KEY>) and artifact dependencies (CARGO_BIN_FILE_<DEP>,
// CARGO_CDYLIB_DIR_<DEP>, ...). A path such a value names is read by the
// script without being declared, so its content is an input (see the rule).
func passedFromUnits(name string) bool {
	for _, p := range []string{"DEP_", "CARGO_BIN_", "CARGO_CDYLIB_", "CARGO_STATICLIB_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// passedDigest digests a path passed from another unit: a file by
// content, a dir by its files without .git and target dirs (a path
// dependency's source dir holds both), a missing path as Absent.
func (r *BuildRun) passedDigest(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil || !fi.IsDir() {
		return r.pathDigest(p)
	}
	dg, err := r.digestTree(p, func(q string, d fs.DirEntry) bool {
		return d.Name() == ".git" || d.IsDir() && q != p && skipPackageDir(q)
	}, "links metadata dir")
	if err != nil {
		return "", err
	}
	return "dir:" + dg, nil
}

// keyPrograms keys the Rust tools Cargo hands a script to run: RUSTC by
// its identity (version and sysroot), as Cargo's own fingerprint of a run
// keys rustc's verbose version (autocfg, rustversion and version_check
// probe it), and RUSTDOC and CARGO by content. A toolchain updated in
// place (`rustup update` keeps the paths in RUSTC and CARGO) then runs
// every script again, as plain cargo would. A RUSTC that is not a
// toolchain binary (a rustup proxy) leaves the run uncached, as it does a
// compile.
func (r *BuildRun) keyPrograms(env map[string]string) error {
	if rc := env["RUSTC"]; rc != "" {
		id, err := toolchain.IdentifyRustc(r.Hasher.Memo, rc)
		if err != nil {
			return NotCacheable(fmt.Sprintf("RUSTC: %v", err))
		}
		r.Comps.Add("rustc", id.Version+id.SysrootDigest)
	}
	for _, k := range []string{"RUSTDOC", "CARGO"} {
		if env[k] == "" {
			continue
		}
		d, err := toolchain.Program(r.Hasher, env[k], env["PATH"])
		if err != nil {
			d = "(missing)"
		}
		r.Comps.Add("program:"+k, d)
	}
	return nil
}

// keyCTools keys the C toolchain a script most likely runs (the cc crate's
// defaults, or what CC, CXX and AR name) by content, as the linker is for
// compiles (toolchain.Linker): an upgraded compiler makes a fresh
// worktree compile its C code again under plain cargo, and so here. A
// tool that is not found is keyed as missing.
func (r *BuildRun) keyCTools(env map[string]string) {
	for _, t := range []struct{ envName, def string }{{"CC", "cc"}, {"CXX", "c++"}, {"AR", "ar"}} {
		prog := strings.Fields(env[t.envName])
		name := t.def
		if len(prog) > 0 {
			name = prog[0]
		}
		id, _, err := toolchain.Linker(r.Hasher, name, env["PATH"])
		if err != nil {
			id = "(missing)"
		}
		r.Comps.Add("c-tool:"+t.def, id)
	}
}

// loadsOnlySystemLibs reports whether the ELF program at p needs no
// shared library but the C runtime's, so that no dir of the target dir
// in LD_LIBRARY_PATH can change what it loads at start.
func loadsOnlySystemLibs(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return false
	}
	for _, l := range libs {
		base, _, _ := strings.Cut(l, ".so")
		switch base {
		case "libc", "libm", "libgcc_s", "libpthread", "libdl", "librt", "libutil":
		default:
			if !strings.HasPrefix(l, "ld-linux") {
				return false
			}
		}
	}
	return true
}

// withoutDirsIn drops the entries of a path list that lie in dir.
func withoutDirsIn(list, dir string) string {
	var keep []string
	for _, e := range filepath.SplitList(list) {
		if !within(filepath.Clean(e), dir) {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, string(filepath.ListSeparator))
}
