package key

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// A worktree entered through a symlink: $PWD names the link, Cargo passes
// real paths; the working dir must be the real one.
func TestWorkingDirResolvesSymlinks(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "b")
	link := filepath.Join(root, "linkB")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(real)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(link)
	t.Setenv("PWD", link)
	if got, err := workingDir(); err != nil || got != want {
		t.Errorf("workingDir() = %q, %v; want %q", got, err, want)
	}
}

// keyEnv: Cargo's per-unit variables are keyed normalized (the same in
// every tree); a GROVE_EXTRA_ENV name is keyed exactly, even one that is
// also normalized by default.
func TestKeyEnv(t *testing.T) {
	comps := func(root string, extra ...string) []Component {
		u := &Unit{
			Norm: NewNormalizer(map[string]string{Cwd: root, Target: root + "/target"}),
			Env: map[string]string{
				"CARGO_MANIFEST_DIR": root + "/app",
				"OUT_DIR":            root + "/target/debug/build/app-1/out",
				"CARGO_PKG_NAME":     "app",
				"HOME":               "/home/u",
				"MY_SETTING":         "x",
			},
			extraEnv: map[string]bool{},
		}
		for _, e := range extra {
			u.extraEnv[e] = true
		}
		u.keyEnv()
		return u.Comps.Components
	}
	a, b := comps("/w/a"), comps("/w/b")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("default keying differs between trees:\n%v\n%v", a, b)
	}
	for _, c := range a {
		if c.Name == "env:HOME" || c.Name == "env:MY_SETTING" {
			t.Errorf("%s keyed: not a per-unit variable", c.Name)
		}
	}
	a, b = comps("/w/a", "CARGO_MANIFEST_DIR", "MY_SETTING", "UNSET_ONE"), comps("/w/b", "CARGO_MANIFEST_DIR", "MY_SETTING", "UNSET_ONE")
	want := map[string]string{"env-exact:CARGO_MANIFEST_DIR": "=/w/a/app", "env-exact:MY_SETTING": "=x", "env-exact:UNSET_ONE": "(unset)"}
	got := map[string]string{}
	for _, c := range a {
		if c.Name == "env:CARGO_MANIFEST_DIR" {
			t.Errorf("CARGO_MANIFEST_DIR keyed normalized too")
		}
		if _, ok := want[c.Name]; ok {
			got[c.Name] = c.Value
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exact components = %v, want %v", got, want)
	}
	if reflect.DeepEqual(a, b) {
		t.Error("GROVE_EXTRA_ENV=CARGO_MANIFEST_DIR keys the same in two trees")
	}
}
