// Package toolchain identifies the compiler and linker that produce a unit,
// for the key: two compilers, or one compiler with two different sysroots,
// must never share an entry.
//
// Identities are memoized in the store by the stat identity of the rustc
// binary and its library dirs, so a hit costs a few stat calls instead of a
// `rustc -vV` run.
package toolchain

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
)

// Rustc is the identity of one rustc toolchain. Its memo format (store
// namespace record.NSRustc) is owned by package record.
type Rustc = record.Rustc

// ErrNotToolchain means rustc is not a toolchain binary (for example a
// rustup proxy, whose identity depends on the directory it runs in).
var ErrNotToolchain = errors.New("rustc is not inside a toolchain (rustup proxy?)")

// IdentifyRustc returns the identity of the rustc binary at path. A bare
// name ("rustc", as a distro cargo or RUSTC=rustc passes it) is looked up on
// PATH, as exec does when the wrapper runs it, so the binary identified is
// the one that compiles.
func IdentifyRustc(memo filehash.Memo, path string) (*Rustc, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return nil, fmt.Errorf("identify rustc: %w", err)
		}
		if path, err = filepath.Abs(p); err != nil {
			return nil, fmt.Errorf("identify rustc: %w", err)
		}
	}
	libDir := filepath.Join(filepath.Dir(path), "..", "lib")
	rustlib := filepath.Join(libDir, "rustlib")
	stats := make([]filehash.Stat, 0, 3)
	for _, p := range []string{path, libDir, rustlib} {
		st, err := filehash.StatFile(p)
		if err != nil {
			if p != path && errors.Is(err, fs.ErrNotExist) {
				return nil, ErrNotToolchain // no ../lib/rustlib next to it
			}
			return nil, fmt.Errorf("identify rustc: %w", err)
		}
		stats = append(stats, st)
	}
	memoKey := filehash.Bytes([]byte(fmt.Sprintf("%s|%+v", path, stats)))[:32]
	if memo != nil {
		if b, err := memo.GetObject(record.NSRustc, memoKey); err == nil {
			if r, err := record.DecodeRustc(b); err == nil {
				return &r, nil
			}
		}
	}
	vv, err := exec.Command(path, "-vV").Output()
	if err != nil {
		return nil, fmt.Errorf("identify rustc: %s -vV: %w", path, err)
	}
	sr, err := exec.Command(path, "--print", "sysroot").Output()
	if err != nil {
		return nil, fmt.Errorf("identify rustc: %s --print sysroot: %w", path, err)
	}
	r := &Rustc{Version: string(vv), Sysroot: strings.TrimSpace(string(sr))}
	if r.SysrootDigest, err = sysrootDigest(r.Sysroot); err != nil {
		return nil, fmt.Errorf("identify rustc: %w", err)
	}
	if memo != nil {
		_ = memo.PutObject(record.NSRustc, memoKey, record.EncodeRustc(*r)) // a lost memo costs a `rustc -vV`
	}
	return r, nil
}

// sysrootDigest covers the compiler's own shared libraries (lib/*) and every
// target's standard library and tools (lib/rustlib/*/lib, */bin), by name,
// size and mtime. rust-src (lib/rustlib/src) is left out: it is not read by
// a normal compile, and is large.
func sysrootDigest(sysroot string) (string, error) {
	var lines []string
	add := func(dir string) error {
		return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if p != dir && filepath.Dir(p) == filepath.Join(sysroot, "lib") {
					return filepath.SkipDir // only top-level files of lib/
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(sysroot, p)
			lines = append(lines, fmt.Sprintf("%s %d %d", rel, info.Size(), info.ModTime().UnixNano()))
			return nil
		})
	}
	if err := add(filepath.Join(sysroot, "lib")); err != nil {
		return "", err
	}
	targets, _ := filepath.Glob(filepath.Join(sysroot, "lib", "rustlib", "*"))
	for _, t := range targets {
		if fi, err := os.Stat(t); err != nil || !fi.IsDir() || filepath.Base(t) == "src" {
			continue
		}
		for _, sub := range []string{"lib", "bin"} {
			if err := add(filepath.Join(t, sub)); err != nil {
				return "", err
			}
		}
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("sysroot %s has no libraries", sysroot)
	}
	sort.Strings(lines)
	return filehash.Bytes([]byte(strings.Join(lines, "\n"))), nil
}

// Linker returns the identity of a linker command: the content digests of
// the program (resolved on PATH, symlinks followed) and of the system `ld`
// that a cc driver runs. script is true when the linker is an interpreted
// script (#!), whose behaviour depends on files its content does not show.
func Linker(h *filehash.Hasher, linker, pathEnv string) (id string, script bool, err error) {
	if linker == "" {
		linker = "cc"
	}
	var parts []string
	for _, prog := range []string{linker, "ld"} {
		p, err := lookPath(prog, pathEnv)
		if err != nil {
			if prog == "ld" {
				parts = append(parts, "ld:none")
				continue
			}
			return "", false, fmt.Errorf("linker %s: %w", prog, err)
		}
		d, _, err := h.File(p)
		if err != nil {
			return "", false, fmt.Errorf("linker %s: %w", prog, err)
		}
		if prog == linker && isScript(p) {
			script = true
		}
		parts = append(parts, prog+":"+d)
	}
	return strings.Join(parts, " "), script, nil
}

// Program returns the content digest of a program (resolved on PATH,
// symlinks followed): the identity of a tool a build script is handed
// (CARGO, RUSTDOC).
func Program(h *filehash.Hasher, prog, pathEnv string) (string, error) {
	p, err := lookPath(prog, pathEnv)
	if err != nil {
		return "", err
	}
	d, _, err := h.File(p)
	return d, err
}

// isScript reports whether the file at p starts with "#!".
func isScript(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [2]byte
	n, _ := f.Read(head[:])
	return n == 2 && string(head[:]) == "#!"
}

// lookPath is exec.LookPath with an explicit PATH, returning the real path.
func lookPath(prog, pathEnv string) (string, error) {
	if strings.ContainsRune(prog, '/') {
		return filepath.EvalSymlinks(prog)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.EvalSymlinks(p)
		}
	}
	return "", fmt.Errorf("%s not found on PATH", prog)
}
