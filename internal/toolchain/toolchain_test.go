package toolchain

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A bare name resolves on PATH to the same identity as the binary's full
// path; a name not on PATH is an error, a proxy outside a toolchain is
// ErrNotToolchain.
func TestIdentifyRustcByName(t *testing.T) {
	out, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		t.Fatalf("rustc: %v", err)
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), "bin")
	want, err := IdentifyRustc(nil, filepath.Join(bin, "rustc"))
	if err != nil {
		t.Fatal(err)
	}
	proxyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(proxyDir, "rustc"), []byte("#!/bin/sh\nexec "+filepath.Join(bin, "rustc")+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, prog string
		wantErr          error // nil: same identity as the full path
		anyErr           bool
	}{
		{name: "toolchain bin first on PATH", path: bin, prog: "rustc"},
		{name: "full path", path: "", prog: filepath.Join(bin, "rustc")},
		{name: "not on PATH", path: t.TempDir(), prog: "rustc", anyErr: true},
		{name: "script outside a toolchain", path: proxyDir, prog: "rustc", wantErr: ErrNotToolchain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			got, err := IdentifyRustc(nil, tc.prog)
			switch {
			case tc.wantErr != nil:
				if err != tc.wantErr {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.anyErr:
				if err == nil {
					t.Fatal("no error")
				}
			case err != nil:
				t.Fatal(err)
			case *got != *want:
				t.Fatalf("identity %+v, want %+v", got, want)
			}
		})
	}
}
