package cache_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue 7, case 13, as a user who is not root: root ignores modes, so the
// failures a read-only output causes (strip, a build without grove) show
// only for an ordinary user. The same steps run as that user with plain
// cargo and through grove, and what each step shows must be equal.
//
// The user is the store tests' second account (grove2, made by .ci/run);
// the toolchain is the test process's own sysroot, as in cargoAs.
func TestWritableAsOtherUser(t *testing.T) {
	t.Parallel()
	u := otherUser(t)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	sysroot, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		t.Fatal(err)
	}
	toolchain := strings.TrimSpace(string(sysroot))

	root, err := os.MkdirTemp("", "grove-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin := filepath.Join(root, "grove-bin")
	copyFile(t, groveBin, bin, 0o755)

	type nrSide struct{ name, dir, home string }
	var sides []nrSide
	for _, name := range []string{"plain", "grove"} {
		s := nrSide{name: name, dir: filepath.Join(root, name, "ws"), home: filepath.Join(root, name, "home")}
		writeTree(t, s.dir, libWorkspace())
		os.MkdirAll(s.home, 0o755)
		sides = append(sides, s)
	}
	chownTree(t, root, uid, gid)
	os.Chmod(root, 0o755)

	as := func(s nrSide, env []string, name string, args ...string) string {
		full := []string{"-u", u.Username, "--", "env", "-i",
			"HOME=" + s.home, "CARGO_HOME=" + filepath.Join(s.home, ".cargo"),
			"PATH=" + filepath.Join(toolchain, "bin") + ":/usr/local/bin:/usr/bin:/bin",
			"RUSTC=" + filepath.Join(toolchain, "bin", "rustc"),
			"GROVE_DIR=" + filepath.Join(root, "store"), "CARGO_TERM_COLOR=never",
		}
		if s.name == "grove" {
			full = append(full, "RUSTC_WRAPPER="+bin)
		}
		full = append(append(append(full, env...), name), args...)
		cmd := exec.Command("runuser", full...)
		cmd.Dir = s.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Sprintf("%s %v: %v\n%s", name, args, err, lastLines(string(out), 3))
		}
		if name == filepath.Join(s.dir, "target/debug/app") {
			return strings.TrimSpace(string(out))
		}
		return "ok"
	}
	step := func(desc string, fn func(s nrSide) string) {
		t.Helper()
		p, g := fn(sides[0]), fn(sides[1])
		p = strings.ReplaceAll(p, sides[0].dir, "<ws>")
		g = strings.ReplaceAll(g, sides[1].dir, "<ws>")
		if p != g {
			t.Errorf("%s: grove differs from plain cargo\nplain: %s\ngrove: %s", desc, p, g)
		}
	}
	edit := func(s nrSide, v int) {
		p := filepath.Join(s.dir, "l/src/lib.rs")
		edit(t, p, libV(v))
		os.Chown(p, uid, gid)
	}

	step("cargo build", func(s nrSide) string { return as(s, nil, "cargo", "build") })
	step("strip target/debug/app", func(s nrSide) string { return as(s, nil, "strip", "target/debug/app") })
	step("app", func(s nrSide) string { return as(s, nil, filepath.Join(s.dir, "target/debug/app")) })
	for v, b := range []struct {
		desc string
		env  []string
	}{
		{"GROVE_DISABLE=1 cargo build", []string{"GROVE_DISABLE=1"}},
		{"RUSTC_WRAPPER= cargo build", []string{"RUSTC_WRAPPER="}},
	} {
		step("cargo build before "+b.desc, func(s nrSide) string { return as(s, nil, "cargo", "build") })
		step("edit l", func(s nrSide) string { edit(s, v+2); return "" })
		step(b.desc, func(s nrSide) string { return as(s, b.env, "cargo", "build") })
		step("app after "+b.desc, func(s nrSide) string { return as(s, nil, filepath.Join(s.dir, "target/debug/app")) })
	}
	step("cargo install's mode", func(s nrSide) string {
		inst := filepath.Join(s.home, "inst")
		if out := as(s, nil, "cargo", "install", "-q", "--path", "app", "--root", inst); out != "ok" {
			return out
		}
		fi, err := os.Stat(filepath.Join(inst, "bin", "app"))
		if err != nil {
			return err.Error()
		}
		return fi.Mode().String()
	})
}

func chownTree(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, uid, gid)
		}
		return err
	})
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}
