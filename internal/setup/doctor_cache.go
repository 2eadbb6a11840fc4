package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/grove-rs/grove/internal/cargoconfig"
	"github.com/grove-rs/grove/internal/gitwt"
	"github.com/grove-rs/grove/internal/hook"
	"github.com/grove-rs/grove/internal/stats"
	"github.com/grove-rs/grove/internal/toolchain"
)

// NewestKnownCargo is the newest Cargo minor version whose target-dir
// layouts grove knows (the old one, and the per-unit build-dir layout that
// is Cargo 1.100's default). A newer Cargo may have moved files again.
const NewestKnownCargo = 100

// doctorCache checks what silently turns cache hits into misses or copies
// in cache mode: a store on another file system than the target dirs, a
// rustc that is not inside a toolchain, a stale seed hook, a Cargo whose
// layout grove does not know.
func (r *Repo) doctorCache(ctx context.Context, problem func(check, msg, fix string)) {
	wts, err := r.worktrees(ctx)
	if err != nil {
		problem("worktrees", err.Error(), "")
		return
	}
	var targets []string
	for _, w := range wts {
		if w.Prunable || !exists(w.Path) {
			continue
		}
		if td, _, err := cargoconfig.TargetDir(r.WorkspaceIn(w.Path), r.Env); err == nil {
			targets = append(targets, td)
		}
	}
	r.checkStoreFS(targets, problem)
	r.checkRustc(wts, problem)
	r.checkHook(ctx, problem)
	r.checkCargoLayout(targets, problem)
}

// checkStoreFS: a restore hardlinks or reflinks a blob into the target dir
// only on the same file system; elsewhere it copies every file.
func (r *Repo) checkStoreFS(targets []string, problem func(check, msg, fix string)) {
	if r.StoreDir == "" {
		return
	}
	storeDev, err := deviceOf(r.StoreDir)
	if err != nil {
		return
	}
	seen := map[uint64]bool{}
	for _, td := range targets {
		dev, err := deviceOf(td)
		if err != nil || dev == storeDev || seen[dev] {
			continue
		}
		seen[dev] = true
		problem("store-filesystem", fmt.Sprintf("the store %s is on another file system than the target dir %s: every restore copies its files (no hardlink or reflink), costing time and disk", r.StoreDir, td),
			"set GROVE_DIR to a directory on the file system of "+td)
	}
}

// deviceOf returns the device of p, or of its closest existing ancestor.
func deviceOf(p string) (uint64, error) {
	for {
		var st syscall.Stat_t
		err := syscall.Stat(p, &st)
		if err == nil {
			return uint64(st.Dev), nil
		}
		if !errors.Is(err, syscall.ENOENT) || filepath.Dir(p) == p {
			return 0, err
		}
		p = filepath.Dir(p)
	}
}

// checkRustc: a rustc grove cannot tie to a toolchain (a rustup proxy, a
// script) makes every unit uncacheable. It looks at the rustc the config
// names, and at what the wrapper recorded for builds in these worktrees.
func (r *Repo) checkRustc(wts []gitwt.Worktree, problem func(check, msg, fix string)) {
	ws := r.WorkspaceIn(r.Root)
	rustc, src := r.Env("RUSTC"), "RUSTC"
	if rustc == "" {
		if v, s, found, err := cargoconfig.Lookup(ws, r.Env, "build", "rustc"); err == nil && found {
			rustc, src = v, s
		}
	}
	if rustc != "" {
		if _, err := toolchain.IdentifyRustc(nil, rustc); errors.Is(err, toolchain.ErrNotToolchain) {
			problem("rustc-toolchain", fmt.Sprintf("%s names rustc %s, which is not inside a toolchain (no lib/rustlib next to it): grove caches nothing it compiles", src, rustc),
				"point it at a toolchain's bin/rustc (rustup which rustc), or unset it")
		}
	}
	if r.StoreDir == "" {
		return
	}
	evs, err := stats.Read(r.StoreDir)
	if err != nil {
		return
	}
	n := 0
	for _, e := range evs {
		if strings.Contains(e.Reason, toolchain.ErrNotToolchain.Error()) && inAny(e.Dir, wts) {
			n++
		}
	}
	if n > 0 {
		problem("rustc-toolchain", fmt.Sprintf("%d unit(s) built in this repository ran a rustc that is not inside a toolchain (%s) and were not cached", n, toolchain.ErrNotToolchain),
			"let Cargo run a toolchain's rustc: put the toolchain's bin dir first on PATH or set RUSTC to its bin/rustc")
	}
}

// inAny reports whether dir is inside one of the worktrees.
func inAny(dir string, wts []gitwt.Worktree) bool {
	if dir == "" {
		return false
	}
	for _, w := range wts {
		if rel, err := filepath.Rel(w.Path, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// checkHook: a seed hook grove wrote that is not executable, or older than
// this grove's, may not seed new worktrees (or not the way this grove does).
func (r *Repo) checkHook(ctx context.Context, problem func(check, msg, fix string)) {
	dir, err := gitwt.HooksDir(ctx, r.Root)
	if err != nil {
		return
	}
	p := filepath.Join(dir, hook.Name)
	b, err := os.ReadFile(p)
	if err != nil || !hook.IsGroves(b) {
		return
	}
	fix := fmt.Sprintf("grove seed --install-hook (replaces %s)", p)
	if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 == 0 {
		problem("hook-stale", p+" is grove's seed hook but not executable: git never runs it", "chmod +x "+p)
	} else if string(b) != hook.Script {
		problem("hook-stale", p+" is an older grove's seed hook", fix)
	}
}

var cargoVersion = regexp.MustCompile(`^cargo 1\.(\d+)\.`)

// checkCargoLayout: grove finds Cargo's files (fingerprints, build-script
// output) by layout; one it does not know makes restored units rebuild or
// seeding find nothing.
func (r *Repo) checkCargoLayout(targets []string, problem func(check, msg, fix string)) {
	cmd := exec.Command("cargo", "-V")
	cmd.Dir = r.WorkspaceIn(r.Root)
	if out, err := cmd.Output(); err == nil {
		if m := cargoVersion.FindSubmatch(out); m != nil {
			if minor, _ := strconv.Atoi(string(m[1])); minor > NewestKnownCargo {
				problem("cargo-layout", fmt.Sprintf("%s is newer than the Cargo layouts grove knows (up to 1.%d): restores may rebuild and seed may find nothing", strings.TrimSpace(string(out)), NewestKnownCargo),
					"check grove stats and grove explain after a build; update grove")
			}
		}
	}
	if _, _, found, _ := cargoconfig.Lookup(r.WorkspaceIn(r.Root), r.Env, "build", "build-dir"); found {
		return // intermediate files are elsewhere; the target dir holds only final artifacts
	}
	for _, td := range targets {
		for _, profile := range []string{"debug", "release"} {
			pd := filepath.Join(td, profile)
			if !exists(pd) || exists(filepath.Join(pd, ".fingerprint")) || exists(filepath.Join(pd, "build")) {
				continue
			}
			problem("cargo-layout", pd+" has neither .fingerprint/ (Cargo's old layout) nor build/ (the build-dir layout): grove does not know this Cargo layout",
				"check grove stats and grove explain after a build; update grove")
		}
	}
}
