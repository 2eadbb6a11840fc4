package incr

import (
	"reflect"
	"testing"
)

// Moved points a donor's compile at a new worktree, and refuses one that
// would still read or write the donor.
func TestCommandMoved(t *testing.T) {
	from := []string{"/w/a/target", "/w/a/target", "/w/a"}
	to := []string{"/w/b/target", "/w/b/target", "/w/b"}
	base := Command{
		Rustc: "/home/u/.rustup/toolchains/stable/bin/rustc",
		Cwd:   "/w/a",
		Args: []string{"--crate-name", "core2", "--edition=2021", "core/src/lib.rs",
			"-C", "incremental=/w/a/target/debug/incremental",
			"--out-dir", "/w/a/target/debug/deps",
			"-L", "dependency=/w/a/target/debug/deps",
			"--extern", "serde=/w/a/target/debug/deps/libserde-1.rlib",
			"--extern", "log=/home/u/.cargo/registry/x/liblog.rlib"},
		Env: []string{"CARGO_MANIFEST_DIR=/w/a/core", "CARGO_PKG_NAME=core2"},
	}
	want := Command{
		Rustc: base.Rustc,
		Cwd:   "/w/b",
		Args: []string{"--crate-name", "core2", "--edition=2021", "core/src/lib.rs",
			"-C", "incremental=/w/b/target/debug/incremental",
			"--out-dir", "/w/b/target/debug/deps",
			"-L", "dependency=/w/b/target/debug/deps",
			"--extern", "serde=/w/b/target/debug/deps/libserde-1.rlib",
			"--extern", "log=/home/u/.cargo/registry/x/liblog.rlib"},
		Env: []string{"CARGO_MANIFEST_DIR=/w/b/core", "CARGO_PKG_NAME=core2"},
	}
	got, ok := base.Moved(from, to)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("Moved = %+v, %v\nwant %+v", got, ok, want)
	}

	for _, c := range []struct {
		name     string
		cmd      Command
		from, to []string
		ok       bool
	}{
		{"a prefix that is not a path boundary stays", Command{Rustc: "rustc", Cwd: "/w/a", Args: []string{"-L", "native=/w/ab/lib"}}, []string{"/w/a"}, []string{"/w/b"}, true},
		{"a path naming the donor inside a longer text is refused", Command{Rustc: "rustc", Cwd: "/w/a", Args: []string{"--cfg", "p=\"x:/w/a/y\""}}, []string{"/w/a"}, []string{"/w/b"}, false},
		{"a working dir outside the trees is refused", Command{Rustc: "rustc", Cwd: "/elsewhere", Args: nil}, []string{"/w/a"}, []string{"/w/b"}, false},
		{"a new worktree inside the donor's", Command{Rustc: "rustc", Cwd: "/w/a", Args: []string{"--out-dir", "/w/a/target/debug/deps"}}, []string{"/w/a/target", "/w/a"}, []string{"/w/a/.wt/b/target", "/w/a/.wt/b"}, true},
		{"roots not paired", Command{Rustc: "rustc", Cwd: "/w/a"}, []string{"/w/a"}, nil, false},
	} {
		_, ok := c.cmd.Moved(c.from, c.to)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.ok)
		}
	}
}

// JobFor takes only a compile whose outputs and state stay in the build
// dir it is given.
func TestJobForStaysInTheBuildDir(t *testing.T) {
	c := Command{Rustc: "rustc", Cwd: "/w/b", Args: []string{"--crate-name", "core2", "core/src/lib.rs",
		"-C", "incremental=/w/b/target/debug/incremental", "-C", "extra-filename=-1", "--out-dir", "/w/b/target/debug/deps"}}
	if _, ok := JobFor(c, nil, "/w/b/target"); !ok {
		t.Error("a compile inside the build dir was refused")
	}
	if _, ok := JobFor(c, nil, "/w/c/target"); ok {
		t.Error("a compile outside the build dir was taken")
	}
	noIncr := Command{Rustc: "rustc", Cwd: "/w/b", Args: []string{"--crate-name", "x", "--out-dir", "/w/b/target/debug/deps"}}
	if _, ok := JobFor(noIncr, nil, "/w/b/target"); ok {
		t.Error("a compile Cargo does not make incremental was taken")
	}
}

// CargoEnv keeps what Cargo sets for a compile, and nothing a user's
// environment may hold.
func TestCargoEnv(t *testing.T) {
	got := CargoEnv([]string{"CARGO_MANIFEST_DIR=/w/a", "CARGO_PKG_VERSION=1.0.0", "OUT_DIR=/o",
		"CARGO_REGISTRY_TOKEN=secret", "AWS_SECRET_ACCESS_KEY=k", "HOME=/root", "CARGO_BIN_EXE_app=/w/a/app", "CARGO=/c"})
	want := []string{"CARGO_MANIFEST_DIR=/w/a", "CARGO_PKG_VERSION=1.0.0", "OUT_DIR=/o", "CARGO_BIN_EXE_app=/w/a/app", "CARGO=/c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CargoEnv = %q, want %q", got, want)
	}
}
