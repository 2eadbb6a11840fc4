package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/grove-rs/grove/internal/arhash"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/toolchain"
)

// notCacheable is an error that makes the unit uncacheable (a reason, not a
// failure).
type notCacheable string

func (n notCacheable) Error() string { return string(n) }

// unit is one invocation with everything needed to key, store and restore
// it in this tree.
type unit struct {
	inv        *rustc.Invocation
	cwd        string
	outDir     string // absolute
	targetRoot string
	norm       *key.Normalizer
	hasher     *filehash.Hasher
	comps      key.Builder
	argKey     string
	// depFiles are the outputs of the units this one depends on, as Cargo
	// sees them: their mtimes decide whether a restore may hardlink.
	depFiles []string
	env      map[string]string
}

// envKeyed reports whether an environment variable is an input of every
// unit. These are the variables Cargo sets for each unit (CARGO_PKG_*,
// CARGO_MANIFEST_DIR, OUT_DIR, ...): proc-macros read them without a
// dep-info line. Variables the user sets for Cargo (CARGO_TARGET_DIR,
// CARGO_PROFILE_*, CARGO_TERM_COLOR) are not: Cargo turns their effect into
// arguments, which are keyed. Whatever a compile reads through env! or
// option_env! is keyed from its dep-info, per entry. RUSTC_BOOTSTRAP
// unlocks nightly features; LIBRARY_PATH steers the linker's search.
func envKeyed(name string) bool {
	switch name {
	case "CARGO", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR",
		"OUT_DIR", "RUSTC_BOOTSTRAP", "LIBRARY_PATH":
		return true
	}
	for _, p := range []string{"CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func newUnit(inv *rustc.Invocation, cfg settings.Settings, st *store.Store) (*unit, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	u := &unit{inv: inv, cwd: cwd, hasher: &filehash.Hasher{Memo: st}, env: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			u.env[k] = v
		}
	}
	u.outDir = u.abs(inv.OutDir)
	if u.targetRoot, err = findTargetRoot(u.outDir); err != nil {
		return nil, err
	}
	id, err := toolchain.IdentifyRustc(st, inv.Rustc)
	if err != nil {
		if errors.Is(err, toolchain.ErrNotToolchain) {
			return nil, notCacheable(err.Error())
		}
		return nil, err
	}
	u.norm = key.NewNormalizer(map[string]string{
		key.Target:    u.targetRoot,
		key.Cwd:       cwd,
		key.CargoHome: u.env["CARGO_HOME"],
		key.RustupDir: u.env["RUSTUP_HOME"],
		key.Sysroot:   id.Sysroot,
	})
	b := &u.comps
	b.Add("rustc", id.Version+id.SysrootDigest)
	b.Add("input", u.norm.Normalize(inv.Input))
	for _, o := range rustc.SplitOptions(inv.Args) {
		switch {
		case o.Flag == "--out-dir":
			b.Add("arg", "--out-dir") // where outputs go is not what they are
		case (o.Flag == "-C" || o.Flag == "--codegen") && strings.HasPrefix(o.Value, "incremental="):
			b.Add("arg", "-C incremental") // incremental state changes speed, not output
		case o.Flag == "":
			// the input, keyed above
		default:
			b.Add("arg", o.Flag+" "+u.norm.Normalize(o.Value))
		}
	}
	if err := u.keyEnv(cfg); err != nil {
		return nil, err
	}
	if err := u.keyExterns(); err != nil {
		return nil, err
	}
	if err := u.keyLibs(); err != nil {
		return nil, err
	}
	if strings.HasSuffix(inv.Target, ".json") {
		d, _, err := u.hasher.File(u.abs(inv.Target))
		if err != nil {
			return nil, fmt.Errorf("target spec: %w", err)
		}
		b.Add("target-spec", d)
	}
	if inv.Links() {
		if err := u.keyLink(st); err != nil {
			return nil, err
		}
	}
	if err := u.keyExtraFiles(cfg); err != nil {
		return nil, err
	}
	if od := u.env["OUT_DIR"]; od != "" {
		// The build script run this unit depends on: Cargo compares its
		// `output` file's mtime with ours.
		u.depFiles = append(u.depFiles, filepath.Join(filepath.Dir(od), "output"))
	}
	u.argKey = b.Sum()
	return u, nil
}

// origin identifies this tree for GROVE_VERIFY.
func (u *unit) origin() string { return u.cwd + "\x00" + u.targetRoot }

func (u *unit) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(u.cwd, p)
}

// findTargetRoot walks up from the out dir to the directory Cargo marked
// with CACHEDIR.TAG: the target dir (or build dir). Paths below it are the
// same in every worktree; the root itself is not.
func findTargetRoot(outDir string) (string, error) {
	d := outDir
	for i := 0; i < 6; i++ {
		if _, err := os.Stat(filepath.Join(d, "CACHEDIR.TAG")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", notCacheable("no Cargo target dir (CACHEDIR.TAG) above --out-dir")
}

func (u *unit) keyEnv(cfg settings.Settings) error {
	var names []string
	for k := range u.env {
		if envKeyed(k) {
			names = append(names, k)
		}
	}
	for _, k := range cfg.ExtraEnv {
		if !envKeyed(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		v, set := u.env[k]
		if !set {
			u.comps.Add("env:"+k, "(unset)")
			continue
		}
		u.comps.Add("env:"+k, "="+u.norm.Normalize(v))
	}
	return nil
}

// keyExterns keys the content of every --extern file: the metadata of a
// dependency carries the hashes of its own dependencies, so a change
// anywhere below shows up here.
func (u *unit) keyExterns() error {
	for _, e := range u.inv.Externs {
		if e.Path == "" {
			u.comps.Add("extern:"+e.Name, "(sysroot)")
			continue
		}
		p := u.abs(e.Path)
		d, _, err := u.hasher.File(p)
		if err != nil {
			return fmt.Errorf("extern %s: %w", e.Name, err)
		}
		u.comps.Add("extern:"+e.Name, filepath.Base(p)+" "+d)
		// Cargo compares with the newest output of the dependency, which
		// may be the sibling rmeta or rlib of the file passed.
		u.depFiles = append(u.depFiles, p)
		if sib := siblingLib(p); sib != "" {
			u.depFiles = append(u.depFiles, sib)
		}
	}
	return nil
}

// siblingLib returns the rlib of an rmeta and the other way round.
func siblingLib(p string) string {
	switch {
	case strings.HasSuffix(p, ".rmeta"):
		return strings.TrimSuffix(p, ".rmeta") + ".rlib"
	case strings.HasSuffix(p, ".rlib"):
		return strings.TrimSuffix(p, ".rlib") + ".rmeta"
	}
	return ""
}

// systemLibDirs are searched for static libraries named with -l that no -L
// directory holds (the linker's default search path on Debian).
var systemLibDirs = []string{"/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"}

// keyLibs keys the content of every library named with -l, found the way
// the linker finds it: the -L native/all directories first.
func (u *unit) keyLibs() error {
	var dirs []string
	for _, sp := range u.inv.SearchPaths {
		if sp.Kind == "native" || sp.Kind == "all" {
			dirs = append(dirs, u.abs(sp.Path))
		}
	}
	for _, l := range u.inv.Libs {
		names := []string{"lib" + l.Name + ".a", "lib" + l.Name + ".so"}
		if l.Kind == "static" {
			names = names[:1]
		}
		search := dirs
		if l.Kind == "static" {
			search = append(append([]string{}, dirs...), systemLibDirs...)
		}
		found := "(not found: dynamic system library)"
	dirsLoop:
		for _, dir := range search {
			for _, n := range names {
				p := filepath.Join(dir, n)
				if _, err := os.Stat(p); err != nil {
					continue
				}
				d, err := libDigest(u.hasher, p)
				if err != nil {
					return fmt.Errorf("library %s: %w", l.Name, err)
				}
				found = n + " " + d
				break dirsLoop
			}
		}
		u.comps.Add("lib:"+l.Kind+":"+l.Name, found)
	}
	return nil
}

// libDigest digests a native library. Static libraries are digested
// without their debug sections, which embed the build dir (see arhash).
func libDigest(h *filehash.Hasher, p string) (string, error) {
	if strings.HasSuffix(p, ".a") {
		return arhash.Digest(p)
	}
	d, _, err := h.File(p)
	return d, err
}

// keyLink keys what only the linker reads: the linker itself, files named
// in link arguments, and every rlib in the dependency closure (a binary
// links all of them, and an rlib's content, such as a bundled static
// library, can change without changing the metadata of its dependents).
func (u *unit) keyLink(st *store.Store) error {
	id, err := toolchain.Linker(u.hasher, u.inv.Linker, u.env["PATH"])
	if err != nil {
		return notCacheable(err.Error())
	}
	u.comps.Add("linker", id)
	for _, arg := range u.inv.LinkArgs {
		// Files can hide inside an argument: -Tscript.ld,
		// -Wl,--version-script=exports.map.
		for _, a := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == '=' }) {
			a = strings.TrimPrefix(a, "-T")
			p := u.abs(a)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				d, _, err := u.hasher.File(p)
				if err != nil {
					return fmt.Errorf("link arg %s: %w", arg, err)
				}
				u.comps.Add("link-arg-file", u.norm.Normalize(a)+" "+d)
			}
		}
	}
	closure, err := u.linkClosure(st)
	if err != nil {
		return err
	}
	for _, c := range closure {
		u.comps.Add("closure", c)
	}
	return nil
}

// linkClosure follows the Lib records from the direct rlib dependencies to
// every rlib the linker will read, and returns "name digest" for each, in
// name order. An rlib without a record (built without grove) makes the
// unit uncacheable: its dependencies are unknown.
func (u *unit) linkClosure(st *store.Store) ([]string, error) {
	var depDirs []string
	for _, sp := range u.inv.SearchPaths {
		if sp.Kind == "dependency" || sp.Kind == "all" || sp.Kind == "crate" {
			depDirs = append(depDirs, u.abs(sp.Path))
		}
	}
	find := func(name string) string {
		name = strings.TrimSuffix(name, ".rmeta")
		if !strings.HasSuffix(name, ".rlib") {
			name += ".rlib"
		}
		for _, d := range depDirs {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	seen := map[string]bool{}
	var queue, out []string
	for _, e := range u.inv.Externs {
		if strings.HasSuffix(e.Path, ".rlib") || strings.HasSuffix(e.Path, ".rmeta") {
			p := u.abs(e.Path)
			if strings.HasSuffix(p, ".rmeta") {
				p = strings.TrimSuffix(p, ".rmeta") + ".rlib"
			}
			queue = append(queue, p)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		d, _, err := u.hasher.File(p)
		if err != nil {
			return nil, notCacheable(fmt.Sprintf("link closure: %v", err))
		}
		out = append(out, filepath.Base(p)+" "+d)
		b, err := st.GetObject(record.NSLib, d)
		if err != nil {
			return nil, notCacheable("link closure: " + filepath.Base(p) + " was not built by grove")
		}
		var lib record.Lib
		if err := json.Unmarshal(b, &lib); err != nil {
			return nil, fmt.Errorf("lib record %s: %w", d, err)
		}
		for _, name := range lib.Externs {
			dep := find(name)
			if dep == "" {
				return nil, notCacheable("link closure: " + name + " not found in -L dependency dirs")
			}
			queue = append(queue, dep)
		}
	}
	sort.Strings(out)
	return out, nil
}

// keyExtraFiles keys the files matched by GROVE_EXTRA_FILES (inputs that a
// proc-macro or the compile reads without declaring them).
func (u *unit) keyExtraFiles(cfg settings.Settings) error {
	base := u.env["CARGO_MANIFEST_DIR"]
	if len(cfg.ExtraFiles) == 0 || base == "" {
		return nil
	}
	for _, pat := range cfg.ExtraFiles {
		matches, err := filepath.Glob(filepath.Join(base, pat))
		if err != nil {
			return notCacheable("GROVE_EXTRA_FILES: bad pattern " + pat)
		}
		sort.Strings(matches)
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			d, _, err := u.hasher.File(m)
			if err != nil {
				return fmt.Errorf("extra file %s: %w", m, err)
			}
			rel, _ := filepath.Rel(base, m)
			u.comps.Add("extra-file:"+rel, d)
		}
	}
	return nil
}
