package key

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/arhash"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
)

// Native inputs: the rule.
//
// A unit can link native code that its command line never names: a
// `#[link(name = "foo")]` attribute with only `cargo:rustc-link-search`, a
// `-l static:-bundle=foo` of a dependency that the final link resolves, a
// `+verbatim` file name, `-lfoo` inside a link argument. What all of these
// have in common is the directory: the linker (and rustc, when it bundles a
// static library into an rlib) finds them in the unit's `-L native=`,
// `-L all=` or plain `-L` directories, and, for a unit that links, in the
// `-L` dirs of its link arguments (`-C link-arg=-L…`, `-Wl,-L,…`). So
// every regular file directly in such a directory is keyed by content, by
// name (a -l lookup or a linker script's INPUT() can pick any of them):
// build-script outputs, vendored libraries, and a directory outside the
// tree just as well (a C library built next to the worktrees, in
// /opt/foo/lib or ~/src/foo, that a build script points at with
// rustc-link-search and reruns on with rerun-if-changed: when it changes,
// Cargo recompiles with the same command line, and the old key would serve
// the rlib that bundled the old archive). Cargo passes the search paths of
// every dependency's build script to the units above it, so a binary keys
// the native files of its whole closure.
//
// The system's own library dirs (/usr/lib, /lib, /usr/local/lib and what
// lies under them, Homebrew's prefix) and the sysroot are not scanned
// whole (pkg-config names them; they hold thousands of files): a library
// named with -l (rustc's, or inside a link argument) is looked up the way
// the linker does — the search dirs in order, then LIBRARY_PATH,
// lib<name>.so (Apple: .tbd, .dylib) before lib<name>.a unless static —
// and keyed by content; static and +verbatim ones also in the system dirs.
// The rest of the system toolchain (libc, crt objects, dynamic system
// libraries, and a library in a system dir named only by #[link]) is not
// keyed; README states it.
//
// Static archives, objects and shared libraries are digested without their
// debug sections, which embed the directory they were built in (arhash):
// the same C code built in two worktrees must key the same.

// systemLibDirs are searched for static libraries named with -l that no -L
// directory holds (the linker's default search path on Debian).
var systemLibDirs = []string{"/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib", "/lib"}

// appleSystemLibDirs are the same for a macOS host (Homebrew's prefixes
// included: Homebrew adds them to the default search of its compilers).
var appleSystemLibDirs = []string{"/usr/local/lib", "/opt/homebrew/lib", "/usr/lib"}

// appleTarget reports whether the unit links for an Apple target: its
// --target triple, else the host (as rustc.OutputNames decides it).
func appleTarget(target, hostGOOS string) bool {
	if target != "" {
		return strings.Contains(target, "-apple-")
	}
	return hostGOOS == "darwin"
}

// maxNativeFiles bounds how many files of one search dir are keyed; a dir
// with more (a whole C build tree) makes the unit uncacheable rather than
// slow.
const maxNativeFiles = 2000

func (u *Unit) keyNative() error {
	var dirs []string
	for _, sp := range u.Inv.SearchPaths {
		switch sp.Kind {
		case "native", "all", "":
			dirs = append(dirs, u.Abs(sp.Path))
		}
	}
	libs := u.Inv.Libs
	if u.Inv.Links() {
		// Link arguments reach the linker as they are: -L and -l there
		// search and name libraries just as rustc's own do.
		argDirs, argLibs := linkArgLibs(u.Inv.LinkArgs)
		for _, d := range argDirs {
			dirs = append(dirs, u.Abs(d))
		}
		libs = append(append([]rustc.Lib{}, libs...), argLibs...)
	}
	seen := map[string]bool{}
	for _, dir := range dirs {
		if seen[dir] || u.systemDir(dir) {
			continue
		}
		seen[dir] = true
		if err := u.keyNativeDir(dir); err != nil {
			return err
		}
	}
	// The linker (gcc's driver) also searches LIBRARY_PATH, after the -L
	// dirs and before its own.
	for _, d := range filepath.SplitList(u.Env["LIBRARY_PATH"]) {
		if d != "" {
			dirs = append(dirs, u.Abs(d))
		}
	}
	for _, l := range libs {
		found, err := u.findLib(l.Kind, l.Name, l.Verbatim, dirs)
		if err != nil {
			return err
		}
		u.Comps.Add("lib:"+l.Kind+":"+l.Name, found)
	}
	return nil
}

// linkArgLibs returns the search dirs (-L DIR, -LDIR, --library-path=DIR)
// and libraries (-lNAME, -l NAME, -l:FILE, --library=NAME) that link
// arguments give the linker, also inside -Wl,... (ld takes the same).
func linkArgLibs(args []string) (dirs []string, libs []rustc.Lib) {
	var toks []string
	for _, a := range args {
		if rest, ok := strings.CutPrefix(a, "-Wl,"); ok {
			toks = append(toks, strings.Split(rest, ",")...)
			continue
		}
		toks = append(toks, a)
	}
	lib := func(v string) {
		if name, ok := strings.CutPrefix(v, ":"); ok {
			libs = append(libs, rustc.Lib{Name: name, Verbatim: true})
		} else if v != "" {
			libs = append(libs, rustc.Lib{Name: v})
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch {
		case t == "-L" || t == "--library-path":
			if d := next(); d != "" {
				dirs = append(dirs, d)
			}
		case strings.HasPrefix(t, "--library-path="):
			dirs = append(dirs, strings.TrimPrefix(t, "--library-path="))
		case strings.HasPrefix(t, "-L"):
			dirs = append(dirs, t[2:])
		case t == "-l" || t == "--library":
			lib(next())
		case strings.HasPrefix(t, "--library="):
			lib(strings.TrimPrefix(t, "--library="))
		case strings.HasPrefix(t, "-l"):
			lib(t[2:])
		}
	}
	return dirs, libs
}

// systemRoots are the system's library dirs: a search dir under one of
// them is not scanned whole (see the rule).
var systemRoots = []string{"/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/usr/local/lib", "/opt/homebrew/lib"}

// systemDir reports whether dir is one of the system's library dirs, or
// lies under one, or in the sysroot.
func (u *Unit) systemDir(dir string) bool {
	dir = filepath.Clean(dir)
	roots := systemRoots
	if sys := u.Norm.Paths()[Sysroot]; sys != "" {
		roots = append(append([]string{}, roots...), sys)
	}
	for _, root := range roots {
		if dir == root || strings.HasPrefix(dir, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// keyNativeDir keys every regular file directly in dir by content.
//
// It runs on every lookup of every unit above the build script that made
// dir, and the per-file memo (filehash) takes only large files, so a dir
// of many small objects (ring's OUT_DIR) would be read and parsed whole
// each time. The dir's lines are memoized instead, keyed by the names and
// stat identities (device, inode, size, mtime, ctime) of its regular
// files, once every one of them has been still for filehash.RacyWindow:
// any change to a file moves its ctime, and so the memo key. A file whose
// content is known by its identity (Hasher.Known: a copy a build-script
// replay wrote from a blob, blobinode.go) counts as still from the start:
// the note that vouches for it has the same gap as the memo, no other.
// Without that, every unit keyed within two seconds of a replay in a new
// worktree would read the dir again (ring's: 28 files, 3 MB).
func (u *Unit) keyNativeDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			u.Comps.Add("native-dir", u.Norm.Normalize(dir)+" (missing)")
			return nil
		}
		return fmt.Errorf("native search dir %s: %w", dir, err)
	}
	if len(ents) > maxNativeFiles {
		return NotCacheable(fmt.Sprintf("native search dir %s holds %d files", u.Norm.Normalize(dir), len(ents)))
	}
	type file struct {
		name string
		st   filehash.Stat
	}
	var files []file
	id := blake3.New()
	id.WriteString(nativeDirMemoVersion)
	now := time.Now()
	if u.Hasher.Now != nil {
		now = u.Hasher.Now()
	}
	still := true
	for _, e := range ents { // in name order
		st, err := filehash.StatFile(filepath.Join(dir, e.Name()))
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		files = append(files, file{e.Name(), st})
		fmt.Fprintf(id, "%s\x00%d %d %d %d %d\n", e.Name(), st.Dev, st.Ino, st.Size, st.Mtime, st.Ctime)
		if still && now.Sub(st.Newest()) <= filehash.RacyWindow && !u.knownContent(filepath.Join(dir, e.Name()), st) {
			still = false
		}
	}
	memoKey := hex.EncodeToString(id.Sum(nil))
	memo := u.Hasher.Memo
	if memo != nil && still {
		if b, err := memo.GetObject(record.NSNativeDir, memoKey); err == nil {
			if lines, ok := u.nativeDirLines(dir, string(b), len(files)); ok {
				u.Comps.Add("native-dir", u.Norm.Normalize(dir)+"\n"+strings.Join(lines, "\n"))
				return nil
			}
		}
	}
	var lines []string
	for _, f := range files {
		d, err := u.nativeDigest(filepath.Join(dir, f.name))
		if err != nil {
			return fmt.Errorf("native file %s: %w", filepath.Join(dir, f.name), err)
		}
		lines = append(lines, f.name+" "+d)
	}
	sort.Strings(lines)
	if memo != nil && still {
		_ = memo.PutObject(record.NSNativeDir, memoKey, []byte(strings.Join(lines, "\n"))) // a lost memo costs a re-hash
	}
	u.Comps.Add("native-dir", u.Norm.Normalize(dir)+"\n"+strings.Join(lines, "\n"))
	return nil
}

// knownContent reports whether Hasher.Known vouches for the content of
// the file path with identity st.
func (u *Unit) knownContent(path string, st filehash.Stat) bool {
	if u.Hasher == nil || u.Hasher.Known == nil {
		return false
	}
	_, ok := u.Hasher.Known.Digest(path, st)
	return ok
}

// nativeDirMemoVersion starts every record.NSNativeDir memo key.
const nativeDirMemoVersion = "nativedir-1\x00" // change with NativeDigest

// nativeDirLines checks a memoized dir listing ("name digest" lines, one
// per regular file) and notes each file's digest for findLib.
func (u *Unit) nativeDirLines(dir, memo string, n int) ([]string, bool) {
	if n == 0 {
		return nil, memo == ""
	}
	lines := strings.Split(memo, "\n")
	if len(lines) != n {
		return nil, false
	}
	for _, l := range lines {
		name, d, ok := strings.Cut(l, " ")
		if !ok || len(d) != 64 {
			return nil, false
		}
		if u.nativeSeen == nil {
			u.nativeSeen = map[string]string{}
		}
		u.nativeSeen[filepath.Join(dir, name)] = d
	}
	return lines, true
}

// findLib looks a -l library up the way the linker does: the search dirs
// in order, in each lib<name>.so before lib<name>.a (ld's default
// -Bdynamic) unless the library is static; then, for static and verbatim
// libraries, the system dirs. A dynamic library found only in the system
// is not keyed (documented limit).
func (u *Unit) findLib(kind, name string, verbatim bool, dirs []string) (string, error) {
	apple := appleTarget(u.Inv.Target, runtime.GOOS)
	var names []string
	switch {
	case verbatim:
		names = []string{name}
	case kind == "static":
		names = []string{"lib" + name + ".a"}
	case apple:
		// ld64 takes a text stub or a dylib before the archive, per dir.
		names = []string{"lib" + name + ".tbd", "lib" + name + ".dylib", "lib" + name + ".a"}
	default:
		names = []string{"lib" + name + ".so", "lib" + name + ".a"}
	}
	search := dirs
	if kind == "static" || verbatim {
		sys := systemLibDirs
		if apple {
			sys = appleSystemLibDirs
		}
		search = append(append([]string{}, dirs...), sys...)
	}
	for _, dir := range search {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			d, err := u.nativeDigest(p)
			if err != nil {
				return "", fmt.Errorf("library %s: %w", name, err)
			}
			return n + " " + d, nil
		}
	}
	if kind == "static" || verbatim {
		return "(not found)", nil
	}
	return "(not found: dynamic system library)", nil
}

// nativeDigest is NativeDigest, once per file and unit: a library named
// with -l usually lies in a dir that was scanned whole.
func (u *Unit) nativeDigest(p string) (string, error) {
	if d, ok := u.nativeSeen[p]; ok {
		return d, nil
	}
	d, err := NativeDigest(u.Hasher, p)
	if err != nil {
		return "", err
	}
	if u.nativeSeen == nil {
		u.nativeSeen = map[string]string{}
	}
	u.nativeSeen[p] = d
	return d, nil
}

// NativeDigest digests a native library or object without its debug
// sections (see arhash); anything else byte for byte.
func NativeDigest(h *filehash.Hasher, p string) (string, error) {
	if arhash.IsNative(p) {
		if d, ok := nativeOfBlob(h, p); ok {
			return d, nil
		}
		d, _, err := h.FileWith(p, record.NSNativeHash, arhash.Digest)
		return d, err
	}
	d, _, err := h.File(p)
	return d, err
}

// nativeOfBlob digests a native file whose content Hasher.Known vouches
// for as blob D (a copy a build-script replay wrote into OUT_DIR, the
// rule in blobinode.go) without reading it: its digest is a function of
// D's bytes alone, so it is memoized by D, computed once per store from
// the store's own blob (which grove never writes after publishing it, and
// no tree links: a replay copies). Every later worktree whose replay
// wrote that file keys it by two small reads. ok is false when the
// content is not known that way; the caller reads the file.
func nativeOfBlob(h *filehash.Hasher, p string) (string, bool) {
	b, ok := h.Known.(blobInodes)
	if !ok || h.Memo == nil {
		return "", false
	}
	st, err := filehash.StatFile(p)
	if err != nil {
		return "", false
	}
	d, ok := b.Digest(p, st)
	if !ok {
		return "", false
	}
	k := blobNativeKey(d)
	if v, err := h.Memo.GetObject(record.NSNativeHash, k); err == nil && len(v) == 64 {
		return string(v), true
	}
	nd, err := arhash.Digest(b.st.BlobPath(d))
	if err != nil {
		return "", false
	}
	_ = h.Memo.PutObject(record.NSNativeHash, k, []byte(nd)) // a lost memo costs a read
	return nd, true
}

// blobNativeKey is the record.NSNativeHash key of blob digest d's native
// digest; the stat-identity keys of the same namespace hash other bytes.
func blobNativeKey(d string) string {
	sum := blake3.Sum256([]byte("native digest of blob\x00" + d))
	return hex.EncodeToString(sum[:16])
}
