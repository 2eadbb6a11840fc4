package cache_test

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Issue 7, case 13: after a grove build, every way of building without
// grove (or with grove stepping aside) must work as with plain cargo. rustc
// refuses to replace an output whose mode is read-only ("output file ... is
// not writeable"), whoever runs it.
func TestWritableBuildsWithoutGrove(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	builds := []struct {
		desc string
		env  []string
		args []string
	}{
		{"GROVE_DISABLE=1 cargo build", []string{"GROVE_DISABLE=1"}, []string{"build"}},
		{"RUSTC_WRAPPER= cargo build (as after grove off)", []string{"RUSTC_WRAPPER="}, []string{"build"}},
		{"GROVE_EXCLUDE=l cargo build", []string{"GROVE_EXCLUDE=l"}, []string{"build"}},
		{"grove's fallback (store unusable)", []string{"GROVE_DIR=" + notADir}, []string{"build"}},
		{"cargo fix --allow-dirty", nil, []string{"fix", "--allow-dirty", "--all-targets"}},
		{"cargo test", nil, []string{"test", "--no-run"}},
	}
	tw := newTwin(t, libWorkspace())
	v := 1
	for _, wt := range []string{"a", "b"} {
		for _, b := range builds {
			// A build through grove (a miss in a, a hit in b), then an edit
			// of the library, then the build under test.
			v = v%9 + 1
			tw.both(func(s *side) { s.write(wt, map[string]string{"l/src/lib.rs": libV(v)}) })
			tw.step(wt+": grove build before "+b.desc, func(s *side) string { return s.cargo(wt, "build") })
			tw.step(wt+": check before "+b.desc, func(s *side) string { return s.cargo(wt, "check", "--all-targets") })
			v = v%9 + 1
			tw.both(func(s *side) { s.write(wt, map[string]string{"l/src/lib.rs": libV(v)}) })
			tw.step(wt+": "+b.desc, func(s *side) string { return s.cargoEnv(wt, b.env, b.args...) })
			tw.step(wt+": cargo build after "+b.desc, func(s *side) string { return s.cargo(wt, "build") })
			tw.step(wt+": app after "+b.desc, func(s *side) string { return s.run(wt, "target/debug/app") })
		}
		tw.step(wt+": outputs that are not owner-writable", func(s *side) string { return notOwnerWritable(t, s.wt(wt)) })
		tw.step(wt+": cargo install's mode", func(s *side) string {
			root := filepath.Join(s.root, "install-"+wt)
			if out := s.cargo(wt, "install", "-q", "--path", "app", "--root", root); out != "ok" {
				return out
			}
			fi, err := os.Stat(filepath.Join(root, "bin", "app"))
			if err != nil {
				return err.Error()
			}
			return fi.Mode().String()
		})
	}
}

// notOwnerWritable lists the regular files under wt's target dir that
// their owner cannot write: a non-root owner could not replace or strip
// them.
func notOwnerWritable(t *testing.T, wt string) string {
	var bad []string
	filepath.WalkDir(filepath.Join(wt, "target"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o200 == 0 {
			rel, _ := filepath.Rel(wt, p)
			bad = append(bad, rel)
		}
		return nil
	})
	sort.Strings(bad)
	return fmt.Sprintf("%d %s", len(bad), strings.Join(bad, " "))
}

// Writes into a target dir stay in that tree: `strip` of a program (which
// writes in place when a file has several links) and an append to an rlib
// never change what another worktree gets, in the worktree that compiled
// the unit (a) and in one that restored it (b).
func TestWritesIntoTargetDirStayThere(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("strip"); err != nil {
		t.Fatal("strip not on PATH")
	}
	tw := newTwin(t, libWorkspace())
	for i, wt := range []string{"a", "b"} {
		tw.step(wt+": build", func(s *side) string { return s.cargo(wt, "build") })
		tw.step(wt+": strip target/debug/app", func(s *side) string {
			out, err := exec.Command("strip", filepath.Join(s.wt(wt), "target/debug/app")).CombinedOutput()
			if err != nil {
				return fmt.Sprintf("strip: %v %s", err, out)
			}
			return symtab(filepath.Join(s.wt(wt), "target/debug/app"))
		})
		tw.step(wt+": append to libl.rlib", func(s *side) string {
			rlibs, _ := filepath.Glob(filepath.Join(s.wt(wt), "target/debug/deps/libl-*.rlib"))
			if len(rlibs) != 1 {
				return fmt.Sprintf("rlibs: %d", len(rlibs))
			}
			f, err := os.OpenFile(rlibs[0], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err.Error()
			}
			defer f.Close()
			_, err = f.WriteString("\n")
			return fmt.Sprint(err)
		})
		c := fmt.Sprintf("c%d", i)
		tw.both(func(s *side) { s.addWorktree(c) })
		tw.step(c+": build", func(s *side) string { return s.cargo(c, "build") })
		tw.step(c+": app", func(s *side) string { return s.run(c, "target/debug/app") })
		tw.step(c+": app's symbol table", func(s *side) string { return symtab(filepath.Join(s.wt(c), "target/debug/app")) })
		tw.step(c+": its rlib is the one appended to", func(s *side) string {
			mine, _ := filepath.Glob(filepath.Join(s.wt(c), "target/debug/deps/libl-*.rlib"))
			theirs, _ := filepath.Glob(filepath.Join(s.wt(wt), "target/debug/deps/libl-*.rlib"))
			if len(mine) != 1 || len(theirs) != 1 {
				return fmt.Sprintf("rlibs: %d %d", len(mine), len(theirs))
			}
			m, err1 := os.ReadFile(mine[0])
			th, err2 := os.ReadFile(theirs[0])
			if err1 != nil || err2 != nil {
				return fmt.Sprint(err1, err2)
			}
			return fmt.Sprint(string(m) == string(th))
		})
	}
}

// symtab says whether an ELF program still has its symbol table.
func symtab(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if f.Section(".symtab") != nil {
		return "symtab"
	}
	return "stripped"
}
