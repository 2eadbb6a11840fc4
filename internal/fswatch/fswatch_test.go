package fswatch

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestEvents: a child that opens a file, lists a dir, or writes one is seen
// with the entry and the kind of access.
func TestEvents(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux's")
	}
	root := t.TempDir()
	sub := filepath.Join(root, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	type want struct{ open, list, write bool }
	tests := []struct {
		name, script string
		want         want
	}{
		{"stat only", "test -f sub/f", want{}},
		{"read file", "cat sub/f >/dev/null", want{open: true}},
		{"list dir", "ls sub >/dev/null", want{list: true}},
		{"write file", "echo y >sub/g", want{open: true, write: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Start([]string{root, sub})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cmd := exec.Command("sh", "-c", tt.script)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got want
			err = w.Events(func(ev Event) {
				t.Logf("%+v", ev)
				switch {
				case ev.Write:
					got.write = true
				case ev.Open && !ev.IsDir && ev.Dir == sub:
					got.open = true
				case ev.Access && ev.IsDir && ev.Name == "" && ev.Dir == sub:
					got.list = true
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.list != tt.want.list || got.write != tt.want.write || (!tt.want.write && got.open != tt.want.open) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
