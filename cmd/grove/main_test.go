package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/testneed"
)

// Cargo runs grove once per compilation unit, so grove must start fast:
// it links neither the CLI library, nor the remote's backends, nor the
// agent's server, nor cgo (a static binary; package net or os/user would
// bring cgo in). Those live in grove-cli.
func TestLinksNoCLINorBackendNorCgo(t *testing.T) {
	goBin := lookGo(t)
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{
		"github.com/spf13/", "github.com/minio/", "github.com/redis/",
		"github.com/grove-rs/grove/internal/agentd", "github.com/grove-rs/grove/internal/remote",
		"runtime/cgo", "os/user", "net", "net/http", "crypto/tls",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			if dep == b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b) {
				t.Errorf("cmd/grove links %s", dep)
			}
		}
	}
}

// A command line that is not a compile goes to grove-cli; without one
// beside grove or on PATH, grove says so in one line and fails.
func TestCLIMissing(t *testing.T) {
	goBin := lookGo(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "grove")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"status"}, {"version"}, {"--help"}, {}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); !ok {
			t.Errorf("grove %v without grove-cli: err %v, want a non-zero exit\n%s", args, err, out)
		}
		msg := string(out)
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "grove-cli is not installed") {
			t.Errorf("grove %v without grove-cli printed %q, want one line naming grove-cli", args, msg)
		}
	}
}

func lookGo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		testneed.Missing(t, "go", err)
	}
	return p
}
