package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/cargolayout"
)

func TestChooseEditFile(t *testing.T) {
	path := func(s string) *string { return &s }
	type dep = cargolayout.Dependency
	type target = cargolayout.Target
	d := func(name string, p *string) dep { return dep{Name: name, Path: p} }
	tg := func(kind, src string) target { return target{Kind: []string{kind}, SrcPath: src} }
	md := cargolayout.Metadata{WorkspaceMembers: []string{"core", "server", "cli"}}
	add := func(id string, deps []dep, targets ...target) {
		md.Packages = append(md.Packages, cargolayout.Package{ID: id, Name: id, Dependencies: deps, Targets: targets})
	}
	add("cli", []dep{d("core", path("/ws/crates/core")), d("server", path("/ws/crates/server")), d("serde", nil)},
		tg("bin", "/ws/crates/cli/src/main.rs"))
	add("server", []dep{d("core", path("/ws/crates/core"))}, tg("lib", "/ws/crates/server/src/lib.rs"))
	add("core", nil, tg("custom-build", "/ws/crates/core/build.rs"), tg("lib", "/ws/crates/core/src/lib.rs"))

	got, err := chooseEditFile(md, "/ws")
	if err != nil || got != "crates/core/src/lib.rs" {
		t.Fatalf("chooseEditFile = %q, %v; want the lib of the most depended-on member", got, err)
	}

	md.WorkspaceMembers = []string{"cli"}
	if got, _ := chooseEditFile(md, "/ws"); got != "crates/cli/src/main.rs" {
		t.Errorf("single bin member: %q", got)
	}
	if _, err := chooseEditFile(md, "/elsewhere"); err == nil {
		t.Error("a source file outside the workspace was accepted")
	}
	if _, err := chooseEditFile(cargolayout.Metadata{}, "/ws"); err == nil {
		t.Error("no members: no error")
	}
}

func TestApplyEditAppendsDistinctFunctions(t *testing.T) {
	f := filepath.Join(t.TempDir(), "lib.rs")
	if err := os.WriteFile(f, []byte("pub fn x() {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"edit", "parallel 1", "parallel 2"} {
		if err := applyEdit(f, tag); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(f)
	s := string(b)
	if !strings.HasPrefix(s, "pub fn x() {}\n") {
		t.Errorf("original content changed:\n%s", s)
	}
	for _, fn := range []string{"fn grove_bench_edit()", "fn grove_bench_parallel_1()", "fn grove_bench_parallel_2()"} {
		if strings.Count(s, fn) != 1 {
			t.Errorf("want exactly one %q in:\n%s", fn, s)
		}
	}
	if strings.Contains(s, "pub fn grove") {
		t.Error("edit functions must be private (a proc-macro crate cannot export them)")
	}
	if err := applyEdit(filepath.Join(t.TempDir(), "missing.rs"), "edit"); err == nil {
		t.Error("editing a missing file succeeded")
	}
}

func TestRelUp(t *testing.T) {
	for in, want := range map[string]string{".": ".", "rust": "..", "a/b": "../.."} {
		if got := relUp(in); got != want {
			t.Errorf("relUp(%q) = %q, want %q", in, got, want)
		}
	}
}
