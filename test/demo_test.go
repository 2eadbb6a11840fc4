package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// The README's first command, `go install ./cmd/... && ./example/demo.sh`,
// runs the grove it just installed: with GOBIN set, go install puts it
// there, not in $GOPATH/bin, where an older grove may still lie.
func TestDemoRunsTheInstalledGrove(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil {
		testneed.Missing(t, "cc", err)
	}
	gopath := t.TempDir()
	stale := filepath.Join(gopath, "bin", "grove")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	// An old install: a grove that fails whatever it is asked.
	if err := os.WriteFile(stale, []byte("#!/bin/sh\necho stale grove >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join("..", "example", "demo.sh"))
	cmd.Env = env("GOPATH="+gopath, "GOBIN="+filepath.Dir(grove), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "stale grove") || !strings.Contains(string(out), "hits") {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
}
