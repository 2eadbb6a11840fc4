package setup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestIsCargoTargetDir(t *testing.T) {
	const tag = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n"
	tests := []struct {
		name  string
		files map[string]string // "dir/" makes a directory
		want  bool
	}{
		{"cargo CACHEDIR.TAG", map[string]string{"CACHEDIR.TAG": tag}, true},
		{"other tool's CACHEDIR.TAG", map[string]string{"CACHEDIR.TAG": "Signature: 8a477f597d28d172789f06886806bc55\n# made by ccache\n"}, false},
		{"rustc_info", map[string]string{".rustc_info.json": "{}"}, true},
		{"debug fingerprint", map[string]string{"debug/.fingerprint/": ""}, true},
		{"release fingerprint", map[string]string{"release/.fingerprint/": ""}, true},
		{"fingerprint is a file", map[string]string{"debug/.fingerprint": ""}, false},
		{"plain dir", map[string]string{"notes.txt": "x", "debug/": ""}, false},
		{"empty", map[string]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "target")
			os.MkdirAll(d, 0o755)
			for p, c := range tt.files {
				if p[len(p)-1] == '/' {
					os.MkdirAll(filepath.Join(d, p), 0o755)
				} else {
					writeFile(t, filepath.Join(d, p), c)
				}
			}
			if got := IsCargoTargetDir(d); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// A symlink to a real target dir is not one.
	base := t.TempDir()
	real := filepath.Join(base, "real")
	writeFile(t, filepath.Join(real, ".rustc_info.json"), "{}")
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if IsCargoTargetDir(link) {
		t.Fatal("symlink accepted")
	}
}

// TestReclaimDoesNotFollowSymlinks: a symlink inside a deleted target
// dir is removed, never what it points to.
func TestReclaimDoesNotFollowSymlinks(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "precious")
	writeFile(t, filepath.Join(outside, "keep.txt"), "keep")
	target := filepath.Join(base, "wt", "target")
	writeFile(t, filepath.Join(target, ".rustc_info.json"), "{}")
	writeFile(t, filepath.Join(target, "debug", "deps", "libx.rlib"), "rlib")
	os.Link(filepath.Join(target, "debug", "deps", "libx.rlib"), filepath.Join(target, "debug", "libx.rlib"))
	if err := os.Symlink(outside, filepath.Join(target, "debug", "link")); err != nil {
		t.Fatal(err)
	}
	res, err := Reclaim(context.Background(), []Candidate{{Path: target, Kind: "obsolete"}}, nil)
	if err != nil || len(res.Deleted) != 1 || res.Freed == 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if exists(target) {
		t.Fatal("target left")
	}
	if b, err := os.ReadFile(filepath.Join(outside, "keep.txt")); err != nil || string(b) != "keep" {
		t.Fatalf("followed the symlink: %v", err)
	}
	// Not a Cargo dir (any more): skipped, untouched.
	res, err = Reclaim(context.Background(), []Candidate{{Path: outside, Kind: "orphan"}}, nil)
	if err != nil || len(res.Skipped) != 1 || !exists(filepath.Join(outside, "keep.txt")) {
		t.Fatalf("%v %+v", err, res)
	}
}
