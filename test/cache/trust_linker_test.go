package cache_test

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// The linker a link argument picks (key/link.go, driverLinker): with
// `-C link-arg=-fuse-ld=gold` (mold, lld alike) the cc driver runs ld.gold,
// found in a -B dir or on PATH, not the system `ld` the key held. After
// that linker changed (an upgrade; here the -B dir's ld.gold becoming GNU
// ld), b was served a's binary, linked by the old one. Observed: the
// section gold writes into what it links.
func TestTrustLinkerChosenByFuseLd(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/usr/bin/ld.gold", "/usr/bin/ld.bfd"} {
		if _, err := os.Stat(p); err != nil {
			testneed.Missing(t, "binutils", err)
		}
	}
	tw := newTwin(t, twoCrates())
	shim := func(s *side) string { return filepath.Join(s.root, "linkers") }
	use := func(target string) func(s *side) {
		return func(s *side) {
			dir := shim(s)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "ld.gold"))
			if err := os.Symlink(target, filepath.Join(dir, "ld.gold")); err != nil {
				t.Fatal(err)
			}
		}
	}
	build := func(wt string) func(s *side) string {
		return func(s *side) string {
			flags := []string{"RUSTFLAGS=-C link-arg=-B" + shim(s) + " -C link-arg=-fuse-ld=gold"}
			return s.cargoEnv(wt, flags, "build") + "\n" + s.run(wt, "target/debug/app") + "\n" +
				goldLinked(filepath.Join(s.wt(wt), "target/debug/app"))
		}
	}
	tw.both(use("/usr/bin/ld.gold"))
	tw.step("a: build, linked by gold", build("a"))
	tw.both(use("/usr/bin/ld.bfd"))
	tw.step("b: build after ld.gold became another linker", build("b"))
}

// goldLinked says whether gold linked the program (it writes
// .note.gnu.gold-version).
func goldLinked(bin string) string {
	f, err := elf.Open(bin)
	if err != nil {
		return "cannot open: " + err.Error()
	}
	defer f.Close()
	return fmt.Sprintf("gold: %v", f.Section(".note.gnu.gold-version") != nil)
}

// Variables the cc driver and GNU linkers read (key/unit.go, envKeyed):
// ld.bfd and gold write LD_RUN_PATH into the program as its RUNPATH when
// no -rpath is given. b, built with another LD_RUN_PATH, was served a's
// program, which looks for its libraries in a's dir.
func TestTrustLinkerEnvLdRunPath(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/ld.bfd"); err != nil {
		testneed.Missing(t, "binutils", err)
	}
	tw := newTwin(t, twoCrates())
	build := func(wt, runPath string) func(s *side) string {
		return func(s *side) string {
			env := []string{"RUSTFLAGS=-C link-arg=-fuse-ld=bfd", "LD_RUN_PATH=" + runPath}
			return s.cargoEnv(wt, env, "build") + "\n" + s.run(wt, "target/debug/app") + "\n" +
				runpath(filepath.Join(s.wt(wt), "target/debug/app"))
		}
	}
	tw.step("a: build", build("a", "/opt/one"))
	tw.step("b: build with another LD_RUN_PATH", build("b", "/opt/two"))
}

// runpath returns a program's DT_RUNPATH.
func runpath(bin string) string {
	f, err := elf.Open(bin)
	if err != nil {
		return "cannot open: " + err.Error()
	}
	defer f.Close()
	rp, err := f.DynString(elf.DT_RUNPATH)
	if err != nil {
		return "no dynamic section: " + err.Error()
	}
	return fmt.Sprintf("runpath: %q", rp)
}
