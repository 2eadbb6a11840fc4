// Package seed fills a new worktree's empty build dir from a worktree
// that has been built, so that its first `cargo build` is close to a no-op.
//
// Restoring units through the wrapper still runs every build script and
// asks grove for every unit. Seeding skips that: Cargo's fingerprints and
// build-script outputs are copied with their mtimes, and the outputs that
// may share an inode (restore.Shared: rlibs, rmetas, proc-macro libraries,
// build scripts' programs; they are usually store blobs already) are
// hardlinked, which keeps their mtimes too. Cargo then finds the
// dependencies fresh by its own rules.
//
// Units of registry and git packages are copied as they are: their
// sources at one version are the same everywhere. A unit of a path
// package — the workspace's members, and path dependencies outside the
// workspace — is copied only when its inputs have the same bytes in both
// trees and it is fresh in the donor (path.go); Cargo judges those by
// their sources' mtimes, so what it compares is stamped by restore's rule
// 4, never with the donor's build time, which would make older sources in
// the new worktree look fresh (the bug of a shared target dir). Nor is a
// unit whose outputs name the donor's worktree, target or build dir
// (namesDonor): the new worktree would read the donor's files at run time.
//
// Where the units are is Cargo's to say: the target and build dirs come
// from `cargo metadata` (so `build.build-dir` and its templates are
// honoured), and the layout inside from package cargolayout.
package seed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/cargolayout"
	"github.com/grove-rs/grove/internal/cargolock"
	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/gitwt"
	"github.com/grove-rs/grove/internal/incr"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/restore"
)

// Options says what to seed.
type Options struct {
	Dir    string // a directory inside the worktree to seed
	Donor  string // the worktree to copy from; "" picks the most recently built one
	DryRun bool   // plan only
	Cargo  string // cargo binary, "cargo" if empty; it runs with this process's environment
}

// Result says what was done.
type Result struct {
	Worktree        string   `json:"worktree"`
	Target          string   `json:"target_dir"`
	BuildDir        string   `json:"build_dir"`
	Donor           string   `json:"donor"`
	DonorTarget     string   `json:"donor_target_dir"`
	DonorBuildDir   string   `json:"donor_build_dir"`
	Profiles        []string `json:"profiles"`           // relative to the build dir
	Layouts         []string `json:"layouts"`            // of each profile: legacy or per-unit
	Units           int      `json:"units"`              // units copied
	PathUnits       int      `json:"path_units"`         // units of path packages copied: same inputs in both trees
	SkippedUnits    int      `json:"skipped_units"`      // units of path packages left to Cargo
	NamingDonor     int      `json:"units_naming_donor"` // units whose outputs name the donor's dirs, left to Cargo
	Linked          int      `json:"files_linked"`
	LinkedBytes     int64    `json:"bytes_linked"`
	Copied          int      `json:"files_copied"`
	CopiedBytes     int64    `json:"bytes_copied"`
	DryRun          bool     `json:"dry_run,omitempty"`
	donorDirs, dirs cargolayout.Dirs
	warm            map[string]*incr.Batch // by profile dir (warm.go)
}

// ErrNothingToSeed means there is no built worktree to copy from.
var ErrNothingToSeed = errors.New("no other worktree has a built target dir to seed from")

// Seed seeds the worktree containing opts.Dir.
func Seed(ctx context.Context, opts Options) (*Result, error) {
	repo, err := gitwt.Discover(ctx, opts.Dir)
	if err != nil {
		return nil, err
	}
	if repo.Current == "" {
		return nil, fmt.Errorf("%s is not inside a worktree", opts.Dir)
	}
	res := &Result{Worktree: repo.Current}
	// The workspace may live in a subdirectory (rust/): the same one in
	// every worktree.
	wsRel, err := workspaceIn(ctx, repo.Current, opts.Dir)
	if err != nil {
		return nil, err
	}
	if res.dirs, err = cargolayout.Resolve(ctx, opts.Cargo, filepath.Join(repo.Current, wsRel), nil); err != nil {
		return nil, err
	}
	res.Target, res.BuildDir = res.dirs.Target, res.dirs.Build
	if len(cargolayout.Profiles(res.BuildDir)) > 0 {
		return nil, fmt.Errorf("build dir %s has been built already; seeding only fills an empty one", res.BuildDir)
	}
	wts, err := repo.List(ctx)
	if err != nil {
		return nil, err
	}
	profiles, err := pickDonor(ctx, res, wts, opts, wsRel)
	if err != nil {
		return nil, err
	}
	if held, err := cargolock.Held(res.donorDirs.All()...); err != nil {
		return nil, err
	} else if len(held) > 0 {
		return nil, fmt.Errorf("a cargo build is running in %s (%s); seed when it has finished", res.Donor, held[0].Path)
	}
	sources, err := packageSources(ctx, opts.Cargo, filepath.Join(repo.Current, wsRel))
	if err != nil {
		return nil, err
	}
	res.DryRun = opts.DryRun
	c := &copier{res: res, dry: opts.DryRun, sources: sources, donorWS: filepath.Join(res.Donor, wsRel)}
	// What the build-run key holds of git's state for a run that read
	// it (commit, branch, refs): such a run is seeded only where its key
	// would be the same.
	if h := key.GitHead(res.Worktree); h != "" && h == key.GitHead(res.Donor) {
		c.sameHead = true
	}
	// Read before any content of the two trees is compared: see
	// restore.SeedClock.
	c.clock = time.Now()
	if !opts.DryRun {
		if c.clock, err = restore.SeedClock(res.Worktree); err != nil {
			return nil, err
		}
	}
	c.rewriter = pathRewriter(res.donorDirs, res.dirs)
	for _, p := range profiles {
		res.Profiles = append(res.Profiles, p.Rel)
		res.Layouts = append(res.Layouts, p.Layout.String())
		if err := c.profile(p, filepath.Join(res.BuildDir, p.Rel)); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"CACHEDIR.TAG", ".rustc_info.json"} {
		if err := c.copyFile(filepath.Join(res.DonorBuildDir, f), filepath.Join(res.BuildDir, f), nil); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if res.Target != res.BuildDir {
		if err := c.copyFile(filepath.Join(res.DonorTarget, "CACHEDIR.TAG"), filepath.Join(res.Target, "CACHEDIR.TAG"), nil); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return res, nil
}

// pickDonor chooses the donor: the one asked for, or the worktree whose
// build dir was built most recently, so its state is the likeliest match.
// Each worktree's dirs are Cargo's answer in that worktree (a per-worktree
// build-dir template gives each its own). It returns the donor's profiles.
func pickDonor(ctx context.Context, res *Result, wts []gitwt.Worktree, opts Options, wsRel string) ([]cargolayout.Profile, error) {
	var cands []string
	for _, wt := range wts {
		if wt.Bare || wt.Prunable || wt.Path == res.Worktree {
			continue
		}
		if opts.Donor != "" && !sameDir(wt.Path, opts.Donor) {
			continue
		}
		cands = append(cands, wt.Path)
	}
	// One cargo metadata per worktree, a few at a time: this runs in the
	// post-checkout hook of every git worktree add.
	all := make([]cargolayout.Dirs, len(cands))
	errs := make([]error, len(cands))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, wt := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			all[i], errs[i] = cargolayout.Resolve(ctx, opts.Cargo, filepath.Join(wt, wsRel), nil)
		}()
	}
	wg.Wait()
	var best time.Time
	var profiles []cargolayout.Profile
	for i, wt := range cands {
		dirs := all[i]
		if errs[i] != nil {
			continue
		}
		if dirs.Build == res.BuildDir {
			return nil, fmt.Errorf("%s and %s share the build dir %s (shared mode): nothing to seed", res.Worktree, wt, dirs.Build)
		}
		ps := cargolayout.Profiles(dirs.Build)
		for _, p := range ps {
			if t := p.LastBuilt(); t.After(best) {
				best, res.Donor, res.donorDirs, profiles = t, wt, dirs, ps
			}
		}
	}
	if res.Donor == "" {
		if opts.Donor != "" {
			return nil, fmt.Errorf("%s is not a built worktree of this repository", opts.Donor)
		}
		return nil, ErrNothingToSeed
	}
	res.DonorTarget, res.DonorBuildDir = res.donorDirs.Target, res.donorDirs.Build
	return profiles, nil
}

func sameDir(a, b string) bool {
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	ea, err1 := filepath.EvalSymlinks(a)
	eb, err2 := filepath.EvalSymlinks(b)
	if err1 == nil && err2 == nil {
		return ea == eb
	}
	return a == b
}

// source says where the packages of one name come from in the worktree
// being seeded: roots are the dirs of the path packages of that name, deps
// the names the packages of that name declare as dependencies, by kind
// ("" normal, "build", "dev").
type source struct {
	path, other bool
	links       bool // some package of that name declares links
	roots       []string
	deps        map[string][]string
	// libTypes are the crate types of the packages' lib target (Cargo's
	// target kinds: ["lib"], ["proc-macro"], ["rlib", "cdylib"]), nil when
	// packages of that name disagree or have none.
	libTypes     []string
	libTypesSeen bool
}

// workspaceIn returns the Cargo workspace of the worktree top that grove
// works on from dir (see cargoconfig.FindWorkspace), relative to top.
func workspaceIn(ctx context.Context, top, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	manifests, err := gitwt.TrackedManifests(ctx, top)
	if err != nil {
		return "", err
	}
	return cargoconfig.FindWorkspace(top, abs, manifests)
}

// isLibKind reports whether a cargo metadata target kind is one of a lib
// target's crate types.
func isLibKind(k string) bool {
	switch k {
	case "lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro":
		return true
	}
	return false
}

// packageSources asks Cargo (`cargo metadata`, with the dependency graph)
// where each package of the worktree's build comes from: a path on disk
// (source null: members and path dependencies), or a registry or git
// source.
func packageSources(ctx context.Context, cargo, dir string) (map[string]source, error) {
	md, err := cargolayout.ReadMetadata(ctx, cargo, dir, nil, true)
	if err != nil {
		return nil, err
	}
	m := map[string]source{}
	for _, p := range md.Packages {
		s := m[p.Name]
		if p.Source == nil {
			s.path = true
			s.roots = append(s.roots, filepath.Dir(p.ManifestPath))
		} else {
			s.other = true
		}
		if p.Links != nil {
			s.links = true
		}
		for _, t := range p.Targets {
			if !slices.ContainsFunc(t.Kind, isLibKind) {
				continue
			}
			if !s.libTypesSeen {
				s.libTypes, s.libTypesSeen = t.Kind, true
			} else if !slices.Equal(s.libTypes, t.Kind) {
				s.libTypes = nil
			}
		}
		for _, d := range p.Dependencies {
			kind := ""
			if d.Kind != nil {
				kind = *d.Kind
			}
			if s.deps == nil {
				s.deps = map[string][]string{}
			}
			s.deps[kind] = append(s.deps[kind], d.Name)
		}
		m[p.Name] = s
	}
	return m, nil
}

// pathRewriter points paths of the donor's dirs at the new worktree's,
// longest first, so a build dir inside the target dir is rewritten whole.
func pathRewriter(from, to cargolayout.Dirs) *strings.Replacer {
	pairs := [][2]string{{from.Build, to.Build}, {from.Target, to.Target}}
	sort.Slice(pairs, func(i, j int) bool { return len(pairs[i][0]) > len(pairs[j][0]) })
	return strings.NewReplacer(pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1])
}

type copier struct {
	res      *Result
	dry      bool
	sources  map[string]source
	rewriter *strings.Replacer
	// For units of path packages (path.go): the seed clock (restore rule
	// 4), whether both trees have the same git state (key.GitHead:
	// commit, branch, refs), and the
	// donor's workspace root, rustc's working dir there.
	clock    time.Time
	sameHead bool
	donorWS  string
	// What runSawThisTree reads of the donor once: when its HEAD or tags
	// last moved, and its newest tracked or untracked file.
	headRead, headOK     bool
	headMoved, refsMoved time.Time
	newestRead, newestOK bool
	newest               time.Time
	// copies maps a donor file with several names (Cargo hardlinks a
	// build script's build-script-build to build_script_build-<hash>) to
	// its first copy here, so the other names link to that copy as they
	// do in the donor instead of being copied again.
	copies map[fileID]string
	// env: what a build of the new tree gets of the environment, read
	// at the first run compared (path.go's runEnvSame).
	env      *seedEnv
	extraEnv []string // GROVE_EXTRA_ENV of the new tree's build (unitEnvSame)
}

type fileID struct{ dev, ino uint64 }

// copyable reports whether a unit of package pkg may be copied: the
// package comes from a registry or git source in the new worktree and no
// path package has its name. A name the new worktree does not build is not
// copied either: it would only take space.
func (c *copier) copyable(pkg string) bool {
	s := c.sources[pkg]
	return s.other && !s.path
}

// profile seeds one profile dir. Fingerprints and build-script run files
// are copied with their mtimes, as is a build script's OUT_DIR (scripts
// may rewrite their files in place); rustc outputs are hardlinked, their
// dep-info files rewritten with the new dirs. incremental/ is left out: it
// only speeds up path packages, which Cargo rebuilds anyway.
func (c *copier) profile(p cargolayout.Profile, dst string) error {
	units, err := cargolayout.Units(p)
	if err != nil {
		return err
	}
	// Legacy: the rustc outputs of all units share deps/; a file belongs to
	// a unit when its name carries the unit's hash (-C extra-filename).
	byHash := map[string][]string{}
	if p.Layout == cargolayout.Legacy {
		entries, err := os.ReadDir(filepath.Join(p.Dir, "deps"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				h := fileHash(e.Name())
				byHash[h] = append(byHash[h], filepath.Join(p.Dir, "deps", e.Name()))
			}
		}
	}
	var pathUnits []cargolayout.Unit
	for _, u := range units {
		if !c.copyable(u.Pkg) {
			if c.sources[u.Pkg].path && p.Layout == cargolayout.Legacy {
				pathUnits = append(pathUnits, u)
			} else {
				c.res.SkippedUnits++
			}
			continue
		}
		// A dependency's run too is copied only when it ran with the
		// environment the new tree's build gets (key/runenv.go); left
		// to Cargo, it runs, or the build-run cache replays a run with
		// that environment.
		if u.IsRunUnit() && !c.runEnvSame(u.Dir) {
			c.res.SkippedUnits++
			continue
		}
		// A compile unit only when it was compiled with what the new
		// tree's build gets of the variables grove keys beyond Cargo's
		// fingerprint (key/unitenv.go).
		if !u.IsRunUnit() && !c.unitEnvSame(unitFilesOf(u, byHash[u.Hash])) {
			c.res.SkippedUnits++
			continue
		}
		names, err := c.namesDonor(u, byHash[u.Hash])
		if err != nil {
			return err
		}
		if names {
			c.res.NamingDonor++
			delete(byHash, u.Hash)
			continue
		}
		c.res.Units++
		switch p.Layout {
		case cargolayout.Legacy:
			if err := c.tree(u.Fingerprint, filepath.Join(dst, ".fingerprint", filepath.Base(u.Fingerprint)), false); err != nil {
				return err
			}
			if u.Dir != "" {
				if err := c.tree(u.Dir, filepath.Join(dst, "build", filepath.Base(u.Dir)), !u.IsRunUnit()); err != nil {
					return err
				}
			}
			kind := c.kindOf(u.Pkg, byHash[u.Hash])
			for _, f := range byHash[u.Hash] {
				d := filepath.Join(dst, "deps", filepath.Base(f))
				if strings.HasSuffix(f, ".d") {
					err = c.copyFile(f, d, c.rewrite)
				} else {
					err = c.link(f, d, kind)
				}
				if err != nil {
					return err
				}
			}
		case cargolayout.PerUnit:
			rel, _ := filepath.Rel(p.Dir, u.Dir)
			if err := c.tree(u.Dir, filepath.Join(dst, rel), !u.IsRunUnit()); err != nil {
				return err
			}
		}
	}
	return c.pathUnits(p, dst, units, pathUnits, byHash)
}

// namesDonor reports whether a unit's rustc outputs name the donor's
// worktree, target dir or build dir (key.NamesTree: outside debug info and
// the metadata's source map), as a registry crate's
// `concat!(env!("OUT_DIR"), "/data")` read at run time does: copied, the
// new worktree's program would read the donor's file, and fail once the
// donor is cleaned. Such a unit is left to Cargo, which compiles it here
// (grove stores it pinned to its tree). depsFiles are its files in a
// legacy deps/ dir.
func (c *copier) namesDonor(u cargolayout.Unit, depsFiles []string) (bool, error) {
	var outputs, depInfos []string
	add := func(f string) {
		if strings.HasSuffix(f, ".d") {
			depInfos = append(depInfos, f)
		} else {
			outputs = append(outputs, f)
		}
	}
	for _, f := range depsFiles {
		add(f)
	}
	if u.Dir != "" && !u.IsRunUnit() {
		err := filepath.WalkDir(u.Dir, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "fingerprint":
				return filepath.SkipDir
			case d.Type().IsRegular():
				add(p)
			}
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	// The source map may name the sources the compile read, OUT_DIR's
	// generated files among them: the dep-info lists them.
	var allowed []string
	for _, f := range depInfos {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		if info, err := depinfo.Parse(string(b)); err == nil {
			allowed = append(allowed, info.Files...)
		}
	}
	dirs := []string{c.res.Donor, c.res.donorDirs.Target, c.res.donorDirs.Build}
	return key.NamesTree(outputs, dirs, allowed)
}

// fileHash returns the unit hash in a legacy deps/ file name:
// libfoo-0123456789abcdef.rlib, foo-0123456789abcdef.d, foo-0123456789abcdef.
func fileHash(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return ""
	}
	h, _, _ := strings.Cut(name[i+1:], ".")
	return h
}

// rewrite points a dep-info file at the new dirs.
func (c *copier) rewrite(b []byte) []byte {
	return []byte(c.rewriter.Replace(string(b)))
}

// tree copies a unit's directory, keeping every file's mtime. In a
// compile unit's dir (outputs=true), the rustc outputs restore.Shared
// allows are hardlinked and dep-info files rewritten; everything else —
// fingerprints, a build script run's files and its OUT_DIR — is copied.
func (c *copier) tree(src, dst string, outputs bool) error {
	kind := restore.KindProgram // links rlib and rmeta only
	if outputs {
		files, err := unitFiles(src)
		if err != nil {
			return err
		}
		kind = c.kindOf(unitPkg(src), files)
	}
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		inFingerprint := rel == "fingerprint" || strings.HasPrefix(rel, "fingerprint"+string(filepath.Separator))
		switch {
		case d.IsDir():
			if c.dry {
				return nil
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			if c.dry {
				return nil
			}
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			switch {
			case outputs && !inFingerprint && strings.HasSuffix(p, ".d"):
				return c.copyFile(p, target, c.rewrite)
			case outputs && !inFingerprint:
				return c.link(p, target, kind)
			}
			return c.copyFile(p, target, nil)
		}
		return nil
	})
}

// kindOf classifies a donor's compile unit of package pkg, with files its
// outputs, for restore.Shared: a build script's compile holds the program
// Cargo names build-script-build; a unit that left no rlib, library or
// program, only an rmeta, did not link (cargo check); any other unit is
// its package's lib target, of the crate types cargo metadata says (a
// proc-macro, say). Registry packages' bins, tests and examples are not
// built as dependencies; a unit of one would be a program, whose outputs
// are not rlibs, rmetas or a proc-macro's library, and so are copied.
func (c *copier) kindOf(pkg string, files []string) restore.Kind {
	links := false
	for _, f := range files {
		n := filepath.Base(f)
		if strings.HasPrefix(n, restore.BuildScriptPrefix) || strings.HasPrefix(n, "build-script-") {
			return restore.KindOf(true, []string{"bin"}, true)
		}
		if !strings.HasSuffix(n, ".d") && !strings.HasSuffix(n, ".rmeta") {
			links = true
		}
	}
	return restore.KindOf(false, c.sources[pkg].libTypes, links)
}

// unitFiles lists the regular files of a unit's dir, but for its
// fingerprint (per-unit layout).
func unitFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "fingerprint":
			return filepath.SkipDir
		case d.Type().IsRegular():
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

// unitPkg is the package of a unit's dir: build/<pkg>-<hash> (legacy) or
// build/<pkg>/<hash> (per-unit).
func unitPkg(dir string) string {
	base := filepath.Base(dir)
	if i := strings.LastIndexByte(base, '-'); i > 0 && filepath.Base(filepath.Dir(dir)) == "build" {
		return base[:i]
	}
	return filepath.Base(filepath.Dir(dir))
}

// link hardlinks src, an output of a unit of kind, to dst when the rule
// (restore.Shared) lets it share its inode, falling back to a copy across
// file systems; anything else is copied, so `strip` in one worktree stays
// there. A link keeps the donor's mtime, as a copy would: seed never
// re-dates what it links.
func (c *copier) link(src, dst string, kind restore.Kind) error {
	if !restore.Shared(kind, filepath.Base(src)) {
		return c.copyFile(src, dst, nil)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	c.res.Linked++
	c.res.LinkedBytes += fi.Size()
	if c.dry {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	c.res.Linked--
	c.res.LinkedBytes -= fi.Size()
	return c.copyFile(src, dst, nil)
}

// copyFile copies src to dst with src's mode and mtime, optionally
// transforming the content.
func (c *copier) copyFile(src, dst string, transform func([]byte) []byte) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	var id fileID
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 && transform == nil {
		id = fileID{uint64(st.Dev), uint64(st.Ino)}
		if first, ok := c.copies[id]; ok && !c.dry {
			if err := os.Link(first, dst); err == nil {
				return nil
			}
		}
	}
	c.res.Copied++
	c.res.CopiedBytes += fi.Size()
	if c.dry {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if id != (fileID{}) {
		if c.copies == nil {
			c.copies = map[fileID]string{}
		}
		c.copies[id] = dst
	}
	if transform != nil {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(dst, transform(b), fi.Mode().Perm()|0o200); err != nil {
			return err
		}
	} else if err := atomicfile.Copy(src, dst, fi.Mode().Perm()|0o200); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

// Unseeded lists the worktrees of the repository containing dir whose
// build dir is empty while another worktree's is built: worktrees made
// before the seeding hook was installed. Seeding them (grove seed) makes
// their first build skip the dependencies; otherwise that build restores
// every unit from the cache. Worktrees whose dirs Cargo cannot tell are
// left out.
func Unseeded(ctx context.Context, dir, cargo string) ([]string, error) {
	repo, err := gitwt.Discover(ctx, dir)
	if err != nil {
		return nil, err
	}
	wts, err := repo.List(ctx)
	if err != nil {
		return nil, err
	}
	var empty []string
	built := false
	for _, wt := range wts {
		if wt.Bare || wt.Prunable {
			continue
		}
		dirs, err := cargolayout.Resolve(ctx, cargo, wt.Path, nil)
		if err != nil {
			continue
		}
		if len(cargolayout.Profiles(dirs.Build)) > 0 {
			built = true
		} else {
			empty = append(empty, wt.Path)
		}
	}
	if !built {
		return nil, nil
	}
	return empty, nil
}

// unitFilesOf lists a unit's files: depsFiles (its files in a legacy
// deps/ dir) and the regular files of its unit dir.
func unitFilesOf(u cargolayout.Unit, depsFiles []string) []string {
	files := append([]string{}, depsFiles...)
	if u.Dir != "" {
		ents, _ := os.ReadDir(u.Dir)
		for _, e := range ents {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(u.Dir, e.Name()))
			}
		}
	}
	return files
}
