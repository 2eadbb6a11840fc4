// Package buildscript caches build-script runs. Cargo runs a compiled
// build script itself, not through the rustc wrapper, so the wrapper
// (package wrapper), when it compiles or restores a build script, moves
// the real binary aside and puts a trampoline in its place: a small shell
// script that Cargo runs as the build script. The trampoline starts grove
// (Main), which replays a stored run or runs the real script and stores
// the run. What a run is keyed on is package key's rule (buildrun.go).
//
// The trampoline must never break a build, with grove or without:
//
//   - grove uninstalled or moved: the trampoline runs the real script;
//   - grove not Cargo's wrapper any more (`grove off`), GROVE_DISABLE=1,
//     or GROVE_CACHE_BUILD_SCRIPTS=0: grove runs the real script
//     (exec, so its exit status and signals are the script's own);
//   - an older grove that does not know trampolines: it is called as
//     `grove REAL`, which an older grove takes for a rustc-like program
//     with no input and runs as given;
//   - Cargo's fingerprint of the script's compile is that of the
//     trampoline file, written after the real binary, fresh like a
//     compile's output; a later plain compile replaces it with a real
//     binary, and the stale real copy beside it is never run.
package buildscript

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
)

// RealSuffix names the real binary beside the trampoline.
const RealSuffix = ".grove-real"

// EnvReal is set by the trampoline to the real binary's path when it
// starts grove: grove runs as a trampoline only when its one argument is
// that path, so an inherited value never turns a rustc call into a run.
const EnvReal = "GROVE_BUILD_SCRIPT_REAL"

// magic starts every trampoline, so grove can tell one from a binary.
const magic = "#!/bin/sh\n# grove build-script trampoline\n"

// Install replaces the compiled build script at bin with a trampoline:
// the binary moves to bin+RealSuffix (replacing an older one; never
// written through a link) and the trampoline, naming grove by grovePath
// and the binary by its base name (the dir is where Cargo runs it from,
// in both of Cargo's layouts), is written at bin.
func Install(bin, grovePath string) error {
	if IsTrampoline(bin) {
		return nil
	}
	real := bin + RealSuffix
	if err := os.Rename(bin, real); err != nil {
		return fmt.Errorf("install trampoline: %w", err)
	}
	script := magic +
		"# Cargo runs this file as the build script; the script itself is beside it.\n" +
		"# grove replays a stored run of it or runs it (README: build-script runs).\n" +
		"real=\"${0%/*}/" + filepath.Base(real) + "\"\n" +
		"grove=" + shellQuote(grovePath) + "\n" +
		"if [ -x \"$grove\" ]; then " + EnvReal + "=\"$real\" exec \"$grove\" \"$real\"; fi\n" +
		"exec \"$real\" \"$@\"\n"
	// The mode the linker gives the build script (umask).
	if err := atomicfile.WriteOutput(bin, []byte(script), true); err != nil {
		// Put the binary back: a missing build script breaks the build.
		_ = os.Rename(real, bin)
		return fmt.Errorf("install trampoline: %w", err)
	}
	return nil
}

// IsTrampoline reports whether the file at p is a trampoline.
func IsTrampoline(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(magic))
	n, _ := f.Read(b)
	return string(b[:n]) == magic
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
