// Package cargolayout says where Cargo keeps what in a build dir, for both
// layouts Cargo has shipped, so the rest of grove never assumes one shape.
//
// Cargo writes final artifacts to the target dir (artifact dir) and
// everything else to the build dir (`build.build-dir`, by default the target
// dir). Inside the build dir, each profile dir (`debug`, `release`, or
// `<triple>/<profile>` when cross-compiling) holds the units in one of two
// layouts (cargo src/compiler/layout.rs):
//
//   - Legacy (Cargo up to 1.99): `.fingerprint/<pkg>-<hash>/`, the rustc
//     outputs of every unit together in `deps/`, and
//     `build/<pkg>-<hash>/` for a build script's compile (the binary
//     `build-script-build`) or its run (`out/` = OUT_DIR, `output`,
//     `root-output`, `stderr`, `invoked.timestamp`).
//   - Unit (the default since Cargo 1.100, `-Zbuild-dir-new-layout` on
//     nightly before): one dir per unit, `build/<pkg>/<hash>/`, holding
//     `out/` (the rustc outputs, or a build script run's OUT_DIR),
//     `fingerprint/`, and for a build script run `run/` (`stdout`,
//     `stderr`, `root-output`, `invoked.timestamp`). Build-script binaries
//     lose their hash (`out/build_script_build`).
//
// The build dir itself is what Cargo says (`cargo metadata`'s
// build_directory), so `build.build-dir` templates such as
// `{workspace-path-hash}` are Cargo's to expand, not grove's.
package cargolayout

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Layout is the shape of one profile dir.
type Layout int

const (
	// Legacy is Cargo's layout up to 1.99: .fingerprint/, deps/, build/<pkg>-<hash>/.
	Legacy Layout = iota + 1
	// PerUnit is Cargo 1.100's layout: build/<pkg>/<hash>/{out,fingerprint,run}/.
	PerUnit
)

func (l Layout) String() string {
	switch l {
	case Legacy:
		return "legacy"
	case PerUnit:
		return "per-unit"
	}
	return "unknown"
}

// Lock files Cargo flocks in a profile dir. Up to 1.95 Cargo holds
// `.cargo-lock` exclusively for a whole build. From 1.96 it holds
// `.cargo-build-lock` (in the build dir's profile dir) and
// `.cargo-artifact-lock` (in the artifact dir's) exclusively, and takes
// `.cargo-lock` only shared, to keep older Cargos out. A probe must
// therefore look at all three: a shared hold of `.cargo-lock` alone does
// not show as busy to a shared probe.
var LockNames = []string{".cargo-lock", ".cargo-build-lock", ".cargo-artifact-lock"}

// Dirs are the two roots of one workspace's outputs.
type Dirs struct {
	Target string `json:"target_dir"` // final artifacts (uplifted binaries, doc/)
	Build  string `json:"build_dir"`  // units, fingerprints, build scripts; == Target by default
}

// All returns the distinct roots.
func (d Dirs) All() []string {
	if d.Build == "" || filepath.Clean(d.Build) == filepath.Clean(d.Target) {
		return []string{d.Target}
	}
	return []string{d.Target, d.Build}
}

// Resolve asks Cargo where a build started in dir puts its outputs: `cargo
// metadata --no-deps --offline`'s target_directory and build_directory
// (the latter since Cargo 1.91; an older Cargo builds into the target dir).
// env is the environment cargo runs with (nil: this process's).
func Resolve(ctx context.Context, cargo, dir string, env []string) (Dirs, error) {
	md, err := ReadMetadata(ctx, cargo, dir, env, false)
	if err != nil {
		return Dirs{}, err
	}
	build := md.BuildDirectory
	if build == "" {
		build = md.TargetDirectory
	}
	return Dirs{Target: filepath.Clean(md.TargetDirectory), Build: filepath.Clean(build)}, nil
}

// Profile is one profile dir of a build dir.
type Profile struct {
	Dir    string // absolute: <build>/debug, <build>/<triple>/release, ...
	Rel    string // relative to the build dir
	Layout Layout
}

// Profiles lists the profile dirs of a build dir that hold units, with
// their layout. A profile dir holding both layouts (a build dir used by
// two Cargo versions) is listed once per layout.
func Profiles(buildDir string) []Profile {
	var out []Profile
	for _, depth := range []string{"*", "*/*"} {
		dirs, _ := filepath.Glob(filepath.Join(buildDir, depth))
		for _, d := range dirs {
			rel, _ := filepath.Rel(buildDir, d)
			if isDir(filepath.Join(d, ".fingerprint")) {
				out = append(out, Profile{Dir: d, Rel: rel, Layout: Legacy})
			}
			if m, _ := filepath.Glob(filepath.Join(d, "build", "*", "*", "fingerprint")); len(m) > 0 {
				out = append(out, Profile{Dir: d, Rel: rel, Layout: PerUnit})
			}
		}
	}
	return out
}

// LastBuilt is the newest mtime of the unit directories of a profile: a
// directory's mtime moves when Cargo adds a unit to it.
func (p Profile) LastBuilt() time.Time {
	var t time.Time
	sub := ".fingerprint"
	if p.Layout == PerUnit {
		sub = "build"
	}
	if fi, err := os.Stat(filepath.Join(p.Dir, sub)); err == nil {
		t = fi.ModTime()
	}
	if p.Layout == PerUnit {
		pkgs, _ := filepath.Glob(filepath.Join(p.Dir, "build", "*"))
		for _, d := range pkgs {
			if fi, err := os.Stat(d); err == nil && fi.ModTime().After(t) {
				t = fi.ModTime()
			}
		}
	}
	return t
}

// Unit is one of Cargo's units in a profile dir, found by its fingerprint.
type Unit struct {
	Pkg  string // package name, as Cargo names the unit's dir
	Hash string // the unit's hash (Cargo's pkg_dir hash)
	// Fingerprint is the unit's fingerprint dir.
	Fingerprint string
	// Dir is the unit's own dir in the per-unit layout (build/<pkg>/<hash>),
	// or in the legacy layout its build-script dir build/<pkg>-<hash>
	// ("" if it has none).
	Dir string
}

// Units lists the units of a profile dir that have a fingerprint.
func Units(p Profile) ([]Unit, error) {
	var out []Unit
	switch p.Layout {
	case Legacy:
		ents, err := os.ReadDir(filepath.Join(p.Dir, ".fingerprint"))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			i := strings.LastIndexByte(e.Name(), '-')
			if !e.IsDir() || i <= 0 {
				continue
			}
			u := Unit{Pkg: e.Name()[:i], Hash: e.Name()[i+1:], Fingerprint: filepath.Join(p.Dir, ".fingerprint", e.Name())}
			if d := filepath.Join(p.Dir, "build", e.Name()); isDir(d) {
				u.Dir = d
			}
			out = append(out, u)
		}
	case PerUnit:
		fps, err := filepath.Glob(filepath.Join(p.Dir, "build", "*", "*", "fingerprint"))
		if err != nil {
			return nil, err
		}
		for _, fp := range fps {
			dir := filepath.Dir(fp)
			out = append(out, Unit{Pkg: filepath.Base(filepath.Dir(dir)), Hash: filepath.Base(dir), Fingerprint: fp, Dir: dir})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Fingerprint < out[j].Fingerprint })
	return out, nil
}

// IsRunUnit reports whether u is a build script run (its dir holds the
// script's OUT_DIR and its recorded output), in either layout.
func (u Unit) IsRunUnit() bool {
	if u.Dir == "" {
		return false
	}
	return exists(filepath.Join(u.Dir, "run", "stdout")) || exists(filepath.Join(u.Dir, "output")) ||
		exists(filepath.Join(u.Dir, "run", "root-output")) || exists(filepath.Join(u.Dir, "root-output"))
}

// IsBuildDir reports whether dir is a real directory (not a symlink) that
// Cargo made as a target or build dir: Cargo's CACHEDIR.TAG, its
// .rustc_info.json, or a profile dir with units in either layout.
func IsBuildDir(dir string) bool {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() {
		return false
	}
	if b, err := os.ReadFile(filepath.Join(dir, "CACHEDIR.TAG")); err == nil &&
		strings.HasPrefix(string(b), "Signature: 8a477f597d28d172789f06886806bc55") &&
		strings.Contains(string(b), "cargo") {
		return true
	}
	if fi, err := os.Lstat(filepath.Join(dir, ".rustc_info.json")); err == nil && fi.Mode().IsRegular() {
		return true
	}
	return len(Profiles(dir)) > 0
}

// LockFiles returns Cargo's lock files present in the profile dirs of the
// given target and build dirs ("" is skipped).
func LockFiles(roots ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range roots {
		if r == "" {
			continue
		}
		for _, name := range LockNames {
			for _, pat := range []string{"*/" + name, "*/*/" + name} {
				m, _ := filepath.Glob(filepath.Join(r, pat))
				for _, f := range m {
					if !seen[f] {
						seen[f] = true
						out = append(out, f)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
