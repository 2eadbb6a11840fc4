package incr

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/rustc"
)

func job(name, kind string, externs ...string) BatchJob {
	args := []string{"--crate-name", name, "--edition=2021", "src/" + name + ".rs", "--crate-type", kind,
		"--emit=dep-info,metadata,link", "-C", "metadata=1", "-C", "extra-filename=-" + name,
		"--out-dir", "/t/target/debug/deps", "-C", "incremental=/t/target/debug/incremental"}
	for _, e := range externs {
		args = append(args, "--extern", e+"=/t/target/debug/deps/lib"+e+"-"+e+".rmeta")
	}
	return BatchJob{Command: Command{Rustc: "rustc", Cwd: "/t", Args: args}}
}

// A batch compiles each member after the members it names in --extern,
// whatever order seed found them in.
func TestBatchDependencyOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		jobs []BatchJob
		want []string
	}{
		{"already in order", []BatchJob{job("base", "lib"), job("mid", "lib", "base"), job("app", "bin", "base", "mid")}, []string{"base", "mid", "app"}},
		{"reversed", []BatchJob{job("app", "bin", "base", "mid"), job("mid", "lib", "base"), job("base", "lib")}, []string{"base", "mid", "app"}},
		{"unrelated keep their order", []BatchJob{job("b", "lib"), job("a", "lib")}, []string{"b", "a"}},
		{"an extern outside the batch", []BatchJob{job("app", "bin", "serde"), job("x", "lib")}, []string{"app", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			us, err := (&Batch{Jobs: tc.jobs}).units()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range us {
				got = append(got, u.inv.CrateName)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// Kept outputs come back with their inodes on putBack; on keep the new
// ones stay, dated as the kept ones, and one that was not there before
// goes.
func TestAsideKeepAndPutBack(t *testing.T) {
	for _, keepNew := range []bool{false, true} {
		dir := t.TempDir()
		out := filepath.Join(dir, "deps")
		incrDir := filepath.Join(dir, "incremental")
		for _, d := range []string{out, incrDir} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		inv := rustc.Parse("rustc", []string{"--crate-name", "m", "src/lib.rs", "--crate-type", "lib", "--emit=dep-info,metadata,link",
			"-C", "extra-filename=-h", "--out-dir", out, "-C", "incremental=" + incrDir})
		u, _ := For(inv, dir)
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, n := range []string{"libm-h.rlib", "m-h.d"} {
			p := filepath.Join(out, n)
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, old, old)
		}
		a, ok := keepAside(u, inv, dir)
		if !ok {
			t.Fatal("keepAside failed")
		}
		if _, err := os.Stat(filepath.Join(out, "libm-h.rlib")); err == nil {
			t.Fatal("the kept output is still at its name")
		}
		for _, n := range []string{"libm-h.rlib", "libm-h.rmeta", "m-h.d"} { // the compile's
			os.WriteFile(filepath.Join(out, n), []byte("new"), 0o644)
		}
		want := "old"
		if keepNew {
			if !a.complete() {
				t.Fatal("complete: false")
			}
			if err := a.keep(); err != nil {
				t.Fatal(err)
			}
			want = "new"
		} else {
			a.putBack(false)
		}
		b, _ := os.ReadFile(filepath.Join(out, "libm-h.rlib"))
		fi, _ := os.Stat(filepath.Join(out, "libm-h.rlib"))
		if string(b) != want || !fi.ModTime().Equal(old) {
			t.Errorf("keep=%v: rlib holds %q dated %v, want %q dated %v", keepNew, b, fi.ModTime(), want, old)
		}
		if _, err := os.Stat(filepath.Join(out, "libm-h.rmeta")); err == nil {
			t.Errorf("keep=%v: an output that was not there before stayed", keepNew)
		}
		if _, err := os.Stat(u.savedPath()); err == nil {
			t.Errorf("keep=%v: the saved dir stayed", keepNew)
		}
	}
}
