package key

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/toolchain"
)

// NotCacheable is an error that makes a unit uncacheable: a reason, not a
// failure. The wrapper runs rustc as given and records the reason.
type NotCacheable string

func (n NotCacheable) Error() string { return string(n) }

// Records is what keying reads from the store: file-hash memos and the lib
// records of the rlibs a linker will read (through record.Store).
type Records interface {
	record.Objects
}

// Unit is one rustc invocation keyed in this tree. Its argument key (ArgKey)
// covers everything known before the compile; the sources it read, known
// from dep-info, are matched per candidate (see inputs.go).
//
// The rules, one file each:
//
//	unit.go     arguments, environment, externs, target spec, the tree's paths
//	hostcpu.go  arguments resolved from the host (-C target-cpu=native)
//	native.go   native libraries and objects the unit can link
//	link.go     the linker and the link closure of anything that links
//	inputs.go   sources and env-deps from dep-info; extra files; matching
//	reads.go    files and dirs of the tree a compile read beyond dep-info
//	inputmemo.go  a candidate's sources memoized as one set
//	blobinode.go  a file that is a store blob has the blob's digest
//	pin.go      outputs that name this tree's paths are served only to it
type Unit struct {
	Inv        *rustc.Invocation
	Cwd        string // rustc's working directory, symlinks resolved
	OutDir     string // absolute
	TargetRoot string // the target (or build) dir holding OutDir
	Norm       *Normalizer
	Hasher     *filehash.Hasher
	Env        map[string]string
	Comps      Builder
	ArgKey     record.ArgKey

	extraEnv   map[string]bool // GROVE_EXTRA_ENV names, keyed exactly
	records    Records
	nativeSeen map[string]string // native file → digest, within this unit
}

// New keys inv as Cargo runs it in this process: cwd and environment are
// the process's own.
func New(inv *rustc.Invocation, cfg settings.Settings, records Records, environ []string) (*Unit, error) {
	cwd, err := workingDir()
	if err != nil {
		return nil, err
	}
	u := &Unit{
		Inv: inv, Cwd: cwd, records: records,
		Hasher:   &filehash.Hasher{Memo: records},
		Env:      map[string]string{},
		extraEnv: map[string]bool{},
	}
	if bs, ok := records.(blobStore); ok {
		u.Hasher.Known = blobInodes{st: bs, now: time.Now}
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			u.Env[k] = v
		}
	}
	for _, k := range cfg.ExtraEnv {
		u.extraEnv[k] = true
	}
	u.OutDir = u.Abs(inv.OutDir)
	if u.TargetRoot, err = findTargetRoot(u.OutDir); err != nil {
		return nil, err
	}
	id, err := toolchain.IdentifyRustc(records, inv.Rustc)
	if err != nil {
		if errors.Is(err, toolchain.ErrNotToolchain) {
			return nil, NotCacheable(err.Error())
		}
		return nil, err
	}
	u.Norm = NewNormalizer(map[string]string{
		Target:    u.TargetRoot,
		Cwd:       cwd,
		CargoHome: u.Env["CARGO_HOME"],
		RustupDir: u.Env["RUSTUP_HOME"],
		Sysroot:   id.Sysroot,
	})
	b := &u.Comps
	b.Add("rustc", id.Version+id.SysrootDigest)
	b.Add("input", u.Norm.Normalize(inv.Input))
	u.keyArgs()
	if err := u.keyHostResolved(id); err != nil {
		return nil, err
	}
	u.keyEnv()
	if err := u.keyExterns(); err != nil {
		return nil, err
	}
	if err := u.keyNative(); err != nil {
		return nil, err
	}
	if strings.HasSuffix(inv.Target, ".json") {
		d, _, err := u.Hasher.File(u.Abs(inv.Target))
		if err != nil {
			return nil, fmt.Errorf("target spec: %w", err)
		}
		b.Add("target-spec", d)
	}
	if inv.Links() {
		if err := u.keyLink(); err != nil {
			return nil, err
		}
	}
	if err := u.keyExtraFiles(cfg.ExtraFiles); err != nil {
		return nil, err
	}
	u.keyTreeReads()
	u.ArgKey = record.ArgKey(b.Sum())
	return u, nil
}

// workingDir is rustc's working directory as Cargo computed the paths it
// passes: Cargo takes getcwd(3), which has symlinks resolved, while Go's
// os.Getwd prefers $PWD, which keeps them. A worktree entered through a
// symlink would otherwise normalize nothing Cargo passed, and never hit.
func workingDir() (string, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	return cwd, nil
}

// Abs makes p absolute against rustc's working directory.
func (u *Unit) Abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(u.Cwd, p)
}

// Origin identifies this tree (working dir and target dir), for
// GROVE_VERIFY and pins.
func (u *Unit) Origin() string { return u.Cwd + "\x00" + u.TargetRoot }

// keyArgs keys every argument, normalized. The output dir and the
// incremental dir are where outputs and rustc's private state go, not what
// the outputs are: only that incremental mode is on is kept (it changes
// codegen partitioning).
func (u *Unit) keyArgs() {
	for _, o := range rustc.SplitOptions(u.Inv.Args) {
		switch {
		case o.Flag == "--out-dir":
			u.Comps.Add("arg", "--out-dir")
		case (o.Flag == "-C" || o.Flag == "--codegen") && strings.HasPrefix(o.Value, "incremental="):
			u.Comps.Add("arg", "-C incremental")
		case o.Flag == "":
			// the input, keyed on its own
		default:
			u.Comps.Add("arg", o.Flag+" "+u.Norm.Normalize(o.Value))
		}
	}
}

// envKeyed reports whether an environment variable is an input of every
// unit. These are the variables Cargo sets for each unit (CARGO_PKG_*,
// CARGO_MANIFEST_DIR, OUT_DIR, ...): proc-macros read them without a
// dep-info line. Variables the user sets for Cargo (CARGO_TARGET_DIR,
// CARGO_PROFILE_*, CARGO_TERM_COLOR) are not: Cargo turns their effect into
// arguments, which are keyed. Whatever a compile reads through env! or
// option_env! is keyed from its dep-info, per entry. RUSTC_BOOTSTRAP
// unlocks nightly features. The rest are read by the cc driver and the
// linker it runs, and change what they write: LIBRARY_PATH steers the
// linker's search; GNU ld and gold write LD_RUN_PATH into a program as its
// RUNPATH; COMPILER_PATH and GCC_EXEC_PREFIX say where gcc finds the
// linker (keyDriverLinker). For Apple targets rustc reads the deployment
// target (MACOSX_DEPLOYMENT_TARGET, ...: the minimum OS version written
// into every object) and SDKROOT (the SDK it links against) from the
// environment, without a dep-info line (rust-lang/rust#129342).
func envKeyed(name string) bool {
	switch name {
	case "CARGO", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR",
		"OUT_DIR", "RUSTC_BOOTSTRAP", "LIBRARY_PATH", "LD_RUN_PATH", "COMPILER_PATH", "GCC_EXEC_PREFIX",
		"MACOSX_DEPLOYMENT_TARGET", "IPHONEOS_DEPLOYMENT_TARGET", "TVOS_DEPLOYMENT_TARGET",
		"WATCHOS_DEPLOYMENT_TARGET", "XROS_DEPLOYMENT_TARGET", "SDKROOT":
		return true
	}
	for _, p := range []string{"CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// keyEnv keys the per-unit environment normalized: a path of this tree in
// these values reaches an output only as a literal, which the pin rule
// (pin.go) finds in the output. Variables named in GROVE_EXTRA_ENV are
// keyed exactly, never normalized: the user asked for them because
// something reads them that grove cannot see, so their value is what
// matters, path or not.
func (u *Unit) keyEnv() {
	var names []string
	for k := range u.Env {
		if envKeyed(k) && !u.extraEnv[k] {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		u.Comps.Add("env:"+k, "="+u.Norm.Normalize(u.Env[k]))
	}
	var extra []string
	for k := range u.extraEnv {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		v, set := u.Env[k]
		if !set {
			u.Comps.Add("env-exact:"+k, "(unset)")
			continue
		}
		u.Comps.Add("env-exact:"+k, "="+v)
	}
}

// keyExterns keys the content of every --extern file: the metadata of a
// dependency carries the hashes of its own dependencies, so a change
// anywhere below shows up here.
func (u *Unit) keyExterns() error {
	for _, e := range u.Inv.Externs {
		if e.Path == "" {
			u.Comps.Add("extern:"+e.Name, "(sysroot)")
			continue
		}
		p := u.Abs(e.Path)
		d, _, err := u.Hasher.File(p)
		if err != nil {
			return fmt.Errorf("extern %s: %w", e.Name, err)
		}
		u.Comps.Add("extern:"+e.Name, filepath.Base(p)+" "+d)
	}
	return nil
}

// targetMarkers are files Cargo keeps at the root of a target or build dir.
// CACHEDIR.TAG is written only when Cargo creates the dir, so a target dir
// that existed before the first build (`mkdir target`, a symlink) has none;
// .rustc_info.json is written there on every build.
var targetMarkers = []string{"CACHEDIR.TAG", ".rustc_info.json"}

// lockMarkers sit in a profile dir (target/debug/.cargo-lock) or, since
// Cargo 1.96, the build dir root (.cargo-build-lock): their dir, or its
// parent for the profile lock, is the root.
var lockMarkers = []string{".cargo-build-lock", ".cargo-lock"}

// findTargetRoot walks up from the out dir to the target (or build) dir.
// Paths below it are the same in every worktree; the root itself is not.
// Any choice is safe for the key as long as every tree makes the same one
// (what lies below is compared as normalized text), so the markers are
// tried in a fixed order.
func findTargetRoot(outDir string) (string, error) {
	var dirs []string
	for d := outDir; ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if len(dirs) > 8 || filepath.Dir(d) == d {
			break
		}
	}
	for _, d := range dirs {
		for _, m := range targetMarkers {
			if _, err := os.Stat(filepath.Join(d, m)); err == nil {
				return d, nil
			}
		}
	}
	for _, d := range dirs {
		for _, m := range lockMarkers {
			if _, err := os.Stat(filepath.Join(d, m)); err == nil {
				if m == ".cargo-lock" {
					return filepath.Dir(d), nil
				}
				return d, nil
			}
		}
	}
	return "", NotCacheable("no Cargo target dir above --out-dir")
}
