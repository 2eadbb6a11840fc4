package seed

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cargolayout"
	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/gitwatch"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/restore"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/treewatch"
)

// Units of path packages (the workspace's members) are seeded only when
// the new worktree could not tell them from a build of its own:
//
//   - a compile unit (lib, bin, build-script compile): every file its
//     dep-info lists has the same bytes in both trees (sources of this
//     tree, OUT_DIR files of the seeded run, anything outside both trees
//     is the same file), and so does every file a workspace member's
//     compile read beyond dep-info, and every dir it listed lists the
//     same (its reads file, key/reads.go; a member without one is not
//     seeded where reads are watched); its outputs do not name the
//     donor's dirs;
//   - a build-script run: it declares rerun-if-changed (else Cargo reruns
//     it anyway); every file of its package and every rerun-if-changed
//     path has the same bytes in both trees; when the run read git (the
//     trampoline saw it open git's dirs, or could not tell: package
//     gitwatch), both trees have the same commit checked out, on the
//     same branch, with the same refs (key.GitHead: scripts read .git
//     undeclared to embed them); a run that read no git is seeded
//     whatever the branch, as the build-run key holds; and
//     its OUT_DIR and `cargo:` lines name neither the donor's worktree nor
//     its dirs, but for the OUT_DIR Cargo rewrites itself (root-output);
//     and the run read the tree the new one is (runSawThisTree): a script
//     reads files outside its package undeclared (`../shared/x`, an
//     ignored `../.env`, `.git`), and plain cargo in the new tree would
//     run it anew on that tree's files. Same HEAD now is not enough:
//     Cargo does not rerun a script declaring only build.rs when the
//     donor checks out another commit, nor when a file is edited and
//     reverted. So, as the build-run key holds (key.TreeState), the
//     donor's state beyond its commit equals the new tree's; the run
//     started after the donor's HEAD last moved (its per-worktree reflog
//     file, none: not seeded) and, when it read git, after its refs last
//     changed; and no tracked or untracked file of the
//     donor is newer than the run's start (an edit, or a revert, since);
//   - in both cases, the unit is fresh in the donor by Cargo's own rules,
//     and what Cargo makes fresh in the new tree is stamped by
//     restore.SeedClock (rule 4 of package restore, the one home of the
//     mtime rule).
//
// A unit that fails any test is left to Cargo, which rebuilds it and,
// through its own propagation, everything built on it. Only the legacy
// layout is handled; the per-unit one leaves path units to Cargo.

// unitKind orders the units of one package as Cargo makes them depend on
// each other: a run on its build-script compile, a lib on the run, every
// other target on the lib.
type unitKind int

const (
	kindScript unitKind = iota // build-script compile
	kindRun                    // build-script run
	kindLib                    // lib, proc-macro
	kindOther                  // bin, test, example, bench
	kindUnknown
)

// pathUnit is a donor's unit of a path package, with what the rule reads.
type pathUnit struct {
	cargolayout.Unit
	kind    unitKind
	anchor  string   // the file whose mtime Cargo compares inputs with
	outputs []string // the outputs Cargo compares (legacy: deps/ or build/<pkg>-<hash>/)
	all     []string // every regular file of the unit outside .fingerprint
	cargo   []string // of which the files Cargo writes: all but grove's marks
	depInfo string   // rustc's dep-info (compile units)
	reads   string   // the wrapper's reads file beside it (key/reads.go), "" if none
}

// pathUnits seeds the units of path packages that pass the rule above,
// build-script runs first: a lib's dep-info names the run's OUT_DIR files,
// which must be in place to be compared.
func (c *copier) pathUnits(p cargolayout.Profile, dst string, all, units []cargolayout.Unit, byHash map[string][]string) error {
	if len(units) == 0 {
		return nil
	}
	// The newest output of every unit, by package, for the donor's
	// StaleDependency test: of the files Cargo writes, as Cargo compares
	// them (grove's marks, written after rustc ends, Cargo never reads).
	// An rlib that depends on a lib needs only its metadata: Cargo
	// starts it on the .rmeta (pipelining), so the dependency's codegen
	// may end after it; what it was compiled against is current as long
	// as the .rmeta is not newer (meta: the .rmeta's time, else the
	// newest; Cargo's DepFingerprint.only_requires_rmeta).
	describe := func(u cargolayout.Unit) pathUnit { return describeUnit(u, byHash[u.Hash]) }
	type dated struct {
		kind         unitKind
		newest, meta time.Time
	}
	newestOf := map[string][]dated{}
	for _, u := range all {
		d := describe(u)
		o := dated{kind: d.kind, newest: restore.Newest(d.cargo)}
		o.meta = o.newest
		for _, f := range d.outputs {
			if strings.HasSuffix(f, ".rmeta") {
				o.meta = restore.Newest([]string{f})
			}
		}
		newestOf[u.Pkg] = append(newestOf[u.Pkg], o)
	}
	var ordered []pathUnit
	for _, k := range []unitKind{kindScript, kindRun, kindLib, kindOther} {
		for _, u := range units {
			if d := describe(u); d.kind == k {
				ordered = append(ordered, d)
			}
		}
	}
	c.res.SkippedUnits += len(units) - len(ordered)
	// Localizing needs every lib member in the batch (package incr): a
	// unit of unknown kind may be one.
	localize := len(units) == len(ordered)
	for _, u := range ordered {
		// The newest output of the units this one depends on directly,
		// as Cargo draws the edges (by package and kind; several units
		// of one package and kind all count).
		var depNewest time.Time
		// An rlib (it has an .rmeta; a proc-macro links its deps).
		pipelined := u.kind == kindLib && slices.ContainsFunc(u.outputs, func(f string) bool { return strings.HasSuffix(f, ".rmeta") })
		take := func(pkg string, kinds ...unitKind) {
			for _, o := range newestOf[pkg] {
				t := o.newest
				if pipelined && o.kind == kindLib {
					t = o.meta
				}
				if slices.Contains(kinds, o.kind) && t.After(depNewest) {
					depNewest = t
				}
			}
		}
		deps := c.sources[u.Pkg].deps
		switch u.kind {
		case kindScript:
			for _, d := range deps["build"] {
				take(d, kindLib)
			}
		case kindRun:
			take(u.Pkg, kindScript)
			for _, d := range deps[""] {
				if c.sources[d].links {
					take(d, kindRun) // its links metadata: DEP_* variables
				}
			}
		case kindLib:
			take(u.Pkg, kindRun)
			for _, d := range deps[""] {
				take(d, kindLib)
			}
		default:
			take(u.Pkg, kindRun, kindLib)
			for _, d := range append(deps[""], deps["dev"]...) {
				take(d, kindLib)
			}
		}
		ok, err := c.pathUnit(u, depNewest)
		if err != nil {
			return err
		}
		if !ok {
			c.res.SkippedUnits++
			localize = localize && u.kind != kindLib
			continue
		}
		if err := c.copyPathUnit(u, dst); err != nil {
			return err
		}
		if c.warmJobs(p.Dir, u) == 0 && u.kind == kindLib {
			localize = false
		}
		c.res.PathUnits++
	}
	if !localize && c.res.warm[p.Dir] != nil {
		c.res.warm[p.Dir].Localize = false
	}
	return nil
}

// describeUnit finds a legacy unit's kind, anchor and outputs. depsFiles
// are its files in deps/.
func describeUnit(u cargolayout.Unit, depsFiles []string) pathUnit {
	d := pathUnit{Unit: u, kind: kindUnknown}
	ents, _ := os.ReadDir(u.Fingerprint)
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, "run-build-script-build-script-"): // run-build-script-<target name>
			d.kind = kindRun
			d.anchor = filepath.Join(u.Dir, "output")
		case strings.HasPrefix(n, "dep-"):
			d.anchor = filepath.Join(u.Fingerprint, n)
			switch kind := strings.TrimPrefix(n, "dep-"); {
			case strings.HasPrefix(kind, "build-script-"):
				d.kind = kindScript
			case strings.HasPrefix(kind, "lib-"):
				d.kind = kindLib
			default:
				d.kind = kindOther
			}
		}
	}
	add := func(f string) {
		d.all = append(d.all, f)
		if !strings.HasSuffix(f, key.ReadsFileName(".d")) && !strings.HasSuffix(f, key.EnvMarkName(".d")) {
			d.cargo = append(d.cargo, f)
		}
		switch {
		case strings.HasSuffix(f, ".d"):
			d.depInfo = f
		case strings.HasSuffix(f, key.ReadsFileName(".d")):
			d.reads = f
		case strings.HasSuffix(f, key.EnvMarkName(".d")): // grove's, not Cargo's
		case strings.HasSuffix(f, ".o"): // rustc's leftover objects: not outputs
		case d.kind == kindRun:
		default:
			d.outputs = append(d.outputs, f)
		}
	}
	for _, f := range depsFiles {
		add(f)
	}
	if u.Dir != "" {
		ents, _ := os.ReadDir(u.Dir)
		for _, e := range ents {
			if e.Type().IsRegular() {
				add(filepath.Join(u.Dir, e.Name()))
			}
		}
	}
	if d.kind == kindRun {
		d.outputs = []string{d.anchor}
	}
	if d.kind == kindUnknown || d.anchor == "" || len(d.outputs) == 0 || (d.kind != kindRun && d.depInfo == "") {
		d.kind = kindUnknown
	}
	return d
}

// runEnvSame reports whether the run whose unit dir is unitDir ran with
// the environment a build of the new tree gets, this process's standing
// for it (key/runenv.go): a script reads variables it does not declare,
// and plain cargo in a fresh worktree runs it with that build's.
func (c *copier) runEnvSame(unitDir string) bool {
	if c.env == nil {
		c.loadEnv()
	}
	return key.RunEnvMatches(unitDir, c.res.Worktree, c.env.names, c.env.lookup)
}

// loadEnv reads once per seed what a build of the new tree gets of the
// environment.
func (c *copier) loadEnv() {
	{
		c.env = &seedEnv{vars: map[string]string{}, memo: map[string]envValue{}, ws: c.here(c.donorWS)}
		for _, kv := range key.SeedEnviron(os.Environ()) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				c.env.vars[k] = v
				c.env.names = append(c.env.names, k)
			}
		}
	}
}

// unitEnvSame reports whether the compile unit whose files (in deps/ or
// its unit dir) are files was compiled with what a build of the new tree
// gets of the variables grove keys beyond Cargo's fingerprint (the env
// mark beside its dep-info, key/unitenv.go). A unit with no dep-info among
// files has nothing to compare.
func (c *copier) unitEnvSame(files []string) bool {
	if c.env == nil {
		c.loadEnv()
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".d") {
			continue
		}
		if c.extraEnv == nil {
			get := func(k string) string { v, _ := c.env.lookup(k); return v }
			c.extraEnv = append([]string{}, settings.FromEnv(get).ExtraEnv...)
		}
		mark := filepath.Join(filepath.Dir(f), key.EnvMarkName(filepath.Base(f)))
		if !key.EnvMarkMatches(mark, c.env.names, c.env.lookup, c.extraEnv) {
			return false
		}
	}
	return true
}

// seedEnv is what a build of the new tree gets of the environment, once
// per seed: this process's variables, and `[env]` of the tree's config.
type seedEnv struct {
	vars  map[string]string
	names []string
	ws    string // the new tree's workspace root, where Cargo reads config
	memo  map[string]envValue
}

type envValue struct {
	v   string
	set bool
}

func (e *seedEnv) lookup(name string) (string, bool) {
	if r, ok := e.memo[name]; ok {
		return r.v, r.set
	}
	v, _, found, err := cargoconfig.EnvVar(e.ws, func(k string) string { return e.vars[k] }, name)
	if err != nil || !found {
		v, found = e.vars[name] // set and empty: Cargo passes it on
	}
	e.memo[name] = envValue{v, found}
	return v, found
}

// pathUnit applies the rule to one unit of a path package.
func (c *copier) pathUnit(u pathUnit, depNewest time.Time) (bool, error) {
	anchor, err := os.Stat(u.anchor)
	if err != nil {
		return false, nil
	}
	var inputs []string // donor paths whose bytes must match the new tree's
	switch u.kind {
	case kindRun:
		// A run that read git is seeded only where git says the same.
		readGit := !gitwatch.ReadNoGit(u.Dir)
		if readGit && !c.sameHead {
			return false, nil
		}
		root, ok := c.packageRoot(u.Pkg)
		if !ok {
			return false, nil
		}
		rerun, ok := rerunPaths(u.anchor)
		if !ok {
			return false, nil
		}
		for _, r := range rerun {
			if !filepath.IsAbs(r) {
				r = filepath.Join(root.donor, r)
			}
			err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					inputs = append(inputs, p)
				}
				return err
			})
			if err != nil {
				return false, nil // a missing path: Cargo reruns the script
			}
		}
		same, err := sameTree(root.donor, root.here)
		if err != nil || !same {
			return false, err
		}
		if !c.runSawThisTree(u, root, readGit) {
			return false, nil
		}
		if !c.runEnvSame(u.Dir) {
			return false, nil
		}
		if names, err := c.runNamesDonor(u); err != nil || names {
			return false, err
		}
	default:
		if !c.unitEnvSame([]string{u.depInfo}) {
			return false, nil
		}
		b, err := os.ReadFile(u.depInfo)
		if err != nil {
			return false, nil
		}
		info, err := depinfo.Parse(string(b))
		if err != nil {
			return false, nil
		}
		for _, f := range info.Files {
			if !filepath.IsAbs(f) {
				f = filepath.Join(c.donorWS, f)
			}
			inputs = append(inputs, f)
		}
		// What the compile read beyond dep-info (key/reads.go): a
		// workspace member's (dep-info names its sources relative to
		// the workspace) is known only from its reads file.
		member := len(info.Files) > 0 && !filepath.IsAbs(info.Files[0])
		if member && treewatch.Supported {
			if u.reads == "" {
				return false, nil
			}
			b, err := os.ReadFile(u.reads)
			if err != nil {
				return false, nil
			}
			reads, err := key.ParseReads(string(b))
			if err != nil {
				return false, nil
			}
			inputs = append(inputs, reads.Files...)
			for d, digest := range reads.Listed {
				if !key.ListsAs(c.here(d), digest) {
					return false, nil
				}
			}
		}
		dirs := []string{c.res.Donor, c.res.donorDirs.Target, c.res.donorDirs.Build}
		allowed := append([]string{c.donorWS}, inputs...)
		if names, err := key.NamesTree(u.outputs, dirs, allowed); err != nil || names {
			return false, err
		}
	}
	mtimes := make([]time.Time, 0, len(inputs))
	for _, f := range inputs {
		fi, err := os.Stat(f)
		if err != nil {
			return false, nil
		}
		mtimes = append(mtimes, fi.ModTime())
		same, err := sameFile(f, c.here(f))
		if err != nil || !same {
			return false, nil
		}
	}
	return restore.DonorFresh(anchor.ModTime(), mtimes, restore.Newest(u.outputs), depNewest), nil
}

// here maps a donor path to the new tree's: the donor's build and target
// dirs and worktree to the new ones; anything else is the same file.
func (c *copier) here(p string) string {
	for _, m := range [][2]string{
		{c.res.donorDirs.Build, c.res.BuildDir},
		{c.res.donorDirs.Target, c.res.Target},
		{c.res.Donor, c.res.Worktree},
	} {
		if rel, err := filepath.Rel(m[0], p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.Join(m[1], rel)
		}
	}
	return p
}

type roots struct{ donor, here string }

// packageRoot returns the dir of the path package pkg in both trees; ok
// is false when there is not exactly one, or it lies outside the worktree.
func (c *copier) packageRoot(pkg string) (roots, bool) {
	rs := c.sources[pkg].roots
	if len(rs) != 1 {
		return roots{}, false
	}
	rel, err := filepath.Rel(c.res.Worktree, rs[0])
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return roots{}, false
	}
	return roots{donor: filepath.Join(c.res.Donor, rel), here: rs[0]}, true
}

// rerunPaths returns the rerun-if-changed paths a run's output file
// declares; ok is false when it declares none (Cargo then reruns the
// script whenever any file of the package is newer).
func rerunPaths(output string) ([]string, bool) {
	f, err := os.Open(output)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, pre := range []string{"cargo:rerun-if-changed=", "cargo::rerun-if-changed="} {
			if p, ok := strings.CutPrefix(line, pre); ok {
				paths = append(paths, p)
			}
		}
	}
	return paths, sc.Err() == nil && len(paths) > 0
}

// runNamesDonor reports whether a run's OUT_DIR files or its `cargo:`
// lines name the donor's worktree or dirs. The donor's OUT_DIR in the
// output is allowed: Cargo replaces it with the new one (root-output).
func (c *copier) runNamesDonor(u pathUnit) (bool, error) {
	dirs := []string{c.res.Donor, c.res.donorDirs.Target, c.res.donorDirs.Build}
	var files []string
	err := filepath.WalkDir(filepath.Join(u.Dir, "out"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if names, err := key.NamesTree(files, dirs, nil); err != nil || names {
		return names, err
	}
	root, err := os.ReadFile(filepath.Join(u.Dir, "root-output"))
	if err != nil {
		return true, nil
	}
	out, err := os.ReadFile(u.anchor)
	if err != nil {
		return true, nil
	}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "cargo:") {
			continue
		}
		line = strings.ReplaceAll(line, string(root), "")
		for _, d := range dirs {
			if strings.Contains(line, filepath.Clean(d)) {
				return true, nil
			}
		}
	}
	return false, nil
}

// copyPathUnit copies a unit that passed the rule: rlibs hardlinked with
// their mtimes, the anchor and the outputs Cargo compares as private
// copies stamped with the seed clock (restore rule 4), dep-info rewritten
// to the new dirs, a run's OUT_DIR with its mtimes (not newer than the
// stamp, which the lib's dep-info is compared with).
func (c *copier) copyPathUnit(u pathUnit, dst string) error {
	stamp := func(f string) error { return os.Chtimes(f, c.clock, c.clock) }
	fp := filepath.Join(dst, ".fingerprint", filepath.Base(u.Fingerprint))
	if err := c.tree(u.Fingerprint, fp, false); err != nil {
		return err
	}
	if !c.dry {
		if err := stampAll(fp, stamp); err != nil {
			return err
		}
	}
	for _, f := range u.all {
		if strings.HasSuffix(f, ".o") {
			continue
		}
		d := c.here(f)
		var err error
		switch {
		case strings.HasSuffix(f, ".d"), f == u.reads:
			err = c.copyFile(f, d, c.rewrite)
		case strings.HasSuffix(f, ".rlib"):
			err = c.link(f, d, c.kindOf(u.Pkg, u.all))
		default:
			err = c.copyFile(f, d, nil)
		}
		if err != nil {
			return err
		}
		if !strings.HasSuffix(f, ".rlib") && !c.dry {
			if err := stamp(d); err != nil {
				return err
			}
		}
	}
	if u.kind == kindRun {
		if !c.dry {
			gitwatch.CopyMark(u.Dir, c.here(u.Dir))
			key.CopyRunEnvMark(u.Dir, c.here(u.Dir))
		}
		return c.tree(filepath.Join(u.Dir, "out"), filepath.Join(c.here(u.Dir), "out"), false)
	}
	return nil
}

func stampAll(dir string, stamp func(string) error) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return stamp(p)
	})
}

// sameTree reports whether two package dirs hold the same regular files
// with the same bytes (symlinks by target), leaving out .git and build
// dirs (those holding CACHEDIR.TAG, as Cargo's target dir does).
func sameTree(a, b string) (bool, error) {
	list := func(root string) (map[string]fs.FileMode, error) {
		m := map[string]fs.FileMode{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() && rel != "." {
				if d.Name() == ".git" || exists(filepath.Join(p, "CACHEDIR.TAG")) {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				m[rel] = d.Type()
			}
			return nil
		})
		return m, err
	}
	ma, err := list(a)
	if err != nil {
		return false, err
	}
	mb, err := list(b)
	if err != nil || len(ma) != len(mb) {
		return false, err
	}
	for rel, t := range ma {
		if tb, ok := mb[rel]; !ok || tb != t {
			return false, nil
		}
		pa, pb := filepath.Join(a, rel), filepath.Join(b, rel)
		switch {
		case t&fs.ModeSymlink != 0:
			la, _ := os.Readlink(pa)
			lb, _ := os.Readlink(pb)
			if la != lb {
				return false, nil
			}
		case t.IsRegular():
			if same, err := sameFile(pa, pb); err != nil || !same {
				return false, err
			}
		}
	}
	return true, nil
}

// sameFile reports whether two files have the same bytes; a missing one
// is not the same.
func sameFile(a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	fa, err := os.Open(a)
	if err != nil {
		return false, nil
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, nil
	}
	defer fb.Close()
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	if err1 != nil || err2 != nil || sa.Size() != sb.Size() || !sa.Mode().IsRegular() || !sb.Mode().IsRegular() {
		return false, nil
	}
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea != nil || eb != nil {
			return (ea == io.EOF || ea == io.ErrUnexpectedEOF) && (eb == io.EOF || eb == io.ErrUnexpectedEOF), nil
		}
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// runSawThisTree applies the tree half of the rule for a run (see the
// top): what the run may have read of its worktree outside its package is
// what the new tree holds. Anything it cannot tell is a no. readGit: the
// run may have read git's state, so the donor's refs must not have moved
// since either.
func (c *copier) runSawThisTree(u pathUnit, root roots, readGit bool) bool {
	inv, err := os.Stat(filepath.Join(u.Dir, "invoked.timestamp"))
	if err != nil {
		return false
	}
	// Strictly after: the coarse file-system clock stamps a HEAD move
	// and a run start in the same tick alike, whatever their order.
	start := inv.ModTime()
	head, refs, ok := c.donorGitMoved()
	if !ok || !start.After(head) || readGit && !start.After(refs) {
		return false
	}
	newest, ok := c.donorNewestFile()
	if !ok || !newest.Before(start) {
		return false
	}
	cargoHome := os.Getenv("CARGO_HOME")
	if home, err := os.UserHomeDir(); cargoHome == "" && err == nil {
		cargoHome = filepath.Join(home, ".cargo")
	}
	h := &filehash.Hasher{}
	donor, err := key.TreeState(c.res.Donor, root.donor, c.res.donorDirs.Target, cargoHome, h)
	if err != nil {
		return false
	}
	here, err := key.TreeState(c.res.Worktree, root.here, c.res.Target, cargoHome, h)
	return err == nil && donor == here
}

// donorGitMoved returns when what key.GitHead reads of the donor last
// changed. Its HEAD (commit, branch): the mtime of its per-worktree
// reflog, which git appends to on every move (commit, checkout, reset)
// and rewrites only to expire entries, so it is never older than the
// last move; a move also changes the tree's files, so every run is
// checked against it. It is read rather than the last entry's time (`git
// log -g -1 --date=unix`), which has whole seconds only and could not
// order a move and a run within one second. Its refs, which need not
// have a reflog (tags): the newest mtime of the refs tree (a ref added or
// removed changes a dir's mtime), packed-refs and a reftable dir, in the
// common git dir. ok is false without a reflog.
func (c *copier) donorGitMoved() (head, refs time.Time, ok bool) {
	if !c.headRead {
		c.headRead = true
		out, err := exec.Command("git", "-C", c.res.Donor, "rev-parse", "--git-path", "logs/HEAD", "--git-common-dir").Output()
		if err != nil {
			return time.Time{}, time.Time{}, false
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 {
			return time.Time{}, time.Time{}, false
		}
		abs := func(p string) string {
			if !filepath.IsAbs(p) {
				return filepath.Join(c.res.Donor, p)
			}
			return p
		}
		fi, err := os.Stat(abs(lines[0]))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
			return time.Time{}, time.Time{}, false
		}
		c.headMoved = fi.ModTime()
		var moved time.Time
		common := abs(lines[1])
		for _, p := range []string{"packed-refs", "reftable"} {
			if fi, err := os.Stat(filepath.Join(common, p)); err == nil && fi.ModTime().After(moved) {
				moved = fi.ModTime()
			}
		}
		_ = filepath.WalkDir(filepath.Join(common, "refs"), func(_ string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.ModTime().After(moved) {
				moved = fi.ModTime()
			}
			return nil
		})
		c.refsMoved, c.headOK = moved, true
	}
	return c.headMoved, c.refsMoved, c.headOK
}

// donorNewestFile returns the newest mtime of the donor's tracked and
// untracked (not ignored) files: one written after a run started may
// have held other bytes when the run read it. Ignored files are compared
// by content only (key.TreeState). Nested repositories and worktrees,
// listed as dirs, and deleted files are left out: they are not read as
// files of this tree.
func (c *copier) donorNewestFile() (time.Time, bool) {
	if !c.newestRead {
		c.newestRead = true
		out, err := exec.Command("git", "-C", c.res.Donor, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
		if err != nil {
			return time.Time{}, false
		}
		var newest time.Time
		for _, rel := range strings.Split(string(out), "\x00") {
			if rel == "" || strings.HasSuffix(rel, "/") {
				continue
			}
			fi, err := os.Lstat(filepath.Join(c.res.Donor, filepath.FromSlash(rel)))
			if err != nil || fi.IsDir() {
				continue
			}
			if fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
		}
		c.newest, c.newestOK = newest, true
	}
	return c.newest, c.newestOK
}
