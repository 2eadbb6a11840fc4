package gitwt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParsePorcelain(t *testing.T) {
	const h = "cf594d7b909ad41efd2ed66e548b41442e8135e0"
	tests := []struct {
		name string
		in   string
		want []Worktree
		err  bool
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "main only",
			in:   "worktree /r\nHEAD " + h + "\nbranch refs/heads/main\n\n",
			want: []Worktree{{Path: "/r", Head: h, Branch: "main", Main: true}},
		},
		{
			name: "all kinds",
			in: "worktree /r\nHEAD " + h + "\nbranch refs/heads/main\n\n" +
				"worktree /ext\nHEAD " + h + "\ndetached\n\n" +
				"worktree /gone\nHEAD " + h + "\nbranch refs/heads/gone\nprunable gitdir file points to non-existent location\n\n" +
				"worktree /r/.worktrees/b\nHEAD " + h + "\nbranch refs/heads/feature/b\nlocked on usb\n\n" +
				"worktree /r/worktrees/c\nHEAD " + h + "\nbranch refs/heads/c\nlocked\nfuture-attribute x\n",
			want: []Worktree{
				{Path: "/r", Head: h, Branch: "main", Main: true},
				{Path: "/ext", Head: h, Detached: true},
				{Path: "/gone", Head: h, Branch: "gone", Prunable: true, PrunableReason: "gitdir file points to non-existent location"},
				{Path: "/r/.worktrees/b", Head: h, Branch: "feature/b", Locked: true, LockReason: "on usb"},
				{Path: "/r/worktrees/c", Head: h, Branch: "c", Locked: true},
			},
		},
		{
			name: "bare with worktree",
			in:   "worktree /b.git\nbare\n\nworktree /w\nHEAD " + h + "\nbranch refs/heads/x\n\n",
			want: []Worktree{{Path: "/b.git", Bare: true, Main: true}, {Path: "/w", Head: h, Branch: "x"}},
		},
		{
			name: "nul separated with newline in path",
			in:   "worktree /r\x00HEAD " + h + "\x00branch refs/heads/main\x00\x00worktree /odd\npath\x00HEAD " + h + "\x00detached\x00\x00",
			want: []Worktree{{Path: "/r", Head: h, Branch: "main", Main: true}, {Path: "/odd\npath", Head: h, Detached: true}},
		},
		{name: "attribute first", in: "HEAD " + h + "\n", err: true},
		{name: "empty path", in: "worktree \n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePorcelain([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	wts := []Worktree{
		{Path: "/r", Main: true},
		{Path: "/r/worktrees/a"},
		{Path: "/r/.worktrees/b"},
		{Path: "/r/other/c"},
		{Path: "/rx/d"},
		{Path: "/elsewhere/e"},
		{Path: "/r/worktrees"},
	}
	Classify(wts, "/r/")
	want := []Location{LocMain, LocWorktrees, LocWorktrees, LocInside, LocElsewhere, LocElsewhere, LocWorktrees}
	for i, w := range wts {
		if w.Location != want[i] {
			t.Errorf("%s: got %s, want %s", w.Path, w.Location, want[i])
		}
	}
}

func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

func TestDiscoverRealGit(t *testing.T) {
	ctx := context.Background()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(base, "repo")
	run(t, base, "git", "init", "-q", "-b", "main", root)
	run(t, root, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
	run(t, root, "git", "worktree", "add", "-q", "worktrees/a")
	run(t, root, "git", "worktree", "add", "-q", ".worktrees/b")
	run(t, root, "git", "worktree", "add", "-q", "--detach", filepath.Join(base, "ext"))
	run(t, root, "git", "worktree", "add", "-q", filepath.Join(base, "gone"))
	if err := os.RemoveAll(filepath.Join(base, "gone")); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(base, "ext", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, dir := range []string{root, filepath.Join(root, "worktrees", "a"), sub} {
		r, err := Discover(ctx, dir)
		if err != nil {
			t.Fatalf("Discover(%s): %v", dir, err)
		}
		if r.Root != root || r.Bare || r.CommonDir != filepath.Join(root, ".git") {
			t.Fatalf("Discover(%s) = %+v", dir, r)
		}
		wts, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, w := range wts {
			got[w.Path] = string(w.Location)
			if w.Prunable {
				got[w.Path] += ",prunable"
			}
			if w.Detached {
				got[w.Path] += ",detached"
			}
		}
		want := map[string]string{
			root:                                "main",
			filepath.Join(root, "worktrees/a"):  "worktrees",
			filepath.Join(root, ".worktrees/b"): "worktrees",
			filepath.Join(base, "ext"):          "elsewhere,detached",
			filepath.Join(base, "gone"):         "elsewhere,prunable",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("from %s: got %v, want %v", dir, got, want)
		}
	}
	if r, _ := Discover(ctx, sub); r.Current != filepath.Join(base, "ext") {
		t.Fatalf("Current = %q", r.Current)
	}

	// Not a repository.
	plain := filepath.Join(base, "plain")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CEILING_DIRECTORIES", base)
	if _, err := Discover(ctx, plain); !errors.Is(err, ErrNotRepo) || !strings.Contains(err.Error(), plain) {
		t.Fatalf("plain dir: %v", err)
	}

	// Tracked and ignored files.
	if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte("ign/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root, "git", "add", ".gitignore")
	for path, want := range map[string][2]bool{".gitignore": {true, false}, "ign/x": {false, true}, "other": {false, false}} {
		tr, err := IsTracked(ctx, root, path)
		if err != nil {
			t.Fatal(err)
		}
		ig, err := IsIgnored(ctx, root, path)
		if err != nil {
			t.Fatal(err)
		}
		if tr != want[0] || ig != want[1] {
			t.Errorf("%s: tracked=%v ignored=%v, want %v", path, tr, ig, want)
		}
	}
}

func TestDiscoverBare(t *testing.T) {
	ctx := context.Background()
	base, _ := filepath.EvalSymlinks(t.TempDir())
	bare := filepath.Join(base, "b.git")
	run(t, base, "git", "init", "-q", "--bare", bare)
	r, err := Discover(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Bare || r.Root != bare {
		t.Fatalf("%+v", r)
	}
}
