package key

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/store"
	"github.com/grove-rs/grove/internal/toolchain"
)

// Which arguments rustc resolves from the host machine.
func TestHostResolved(t *testing.T) {
	for _, tc := range []struct {
		args string
		want bool
	}{
		{"-C target-cpu=native", true},
		{"-Ctarget-cpu=native", true},
		{"--codegen target-cpu=native", true},
		{"-Z tune-cpu=native", true},
		{"-C target-cpu=skylake", false},
		{"-C target-cpu=x86-64-v3", false},
		{"-C target-feature=+avx2", false},
		{"-C opt-level=3", false},
		{"--cfg native", false},
		{"--cfg target-cpu=native", false},
	} {
		got := false
		for _, o := range rustc.SplitOptions(strings.Fields(tc.args)) {
			got = got || hostResolved(o)
		}
		if got != tc.want {
			t.Errorf("%q: host-resolved %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestParseHostCPU(t *testing.T) {
	out := `target_abi=""
target_arch="x86_64"
target_feature="sse2"
target_feature="avx2"
Available CPUs for this target:
    native                  - Select the CPU of the current host (currently znver4).
    alderlake
`
	got, err := ParseHostCPU(out)
	if want := "cpu znver4\nfeature avx2\nfeature sse2"; err != nil || got != want {
		t.Errorf("ParseHostCPU = %q, %v; want %q", got, err, want)
	}
	if _, err := ParseHostCPU("target_feature=\"sse2\"\n"); err == nil {
		t.Error("no native line: resolved anyway")
	}
}

// Two different resolutions of -C target-cpu=native (another machine's
// CPU, met through a shared store's memo here) give two keys; a unit
// without it keys no host CPU; the resolution is rustc's own.
func TestHostCPUIsKeyed(t *testing.T) {
	needTool(t, "rustc")
	sysroot, err := exec.Command("rustc", "--print", "sysroot").Output()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(strings.TrimSpace(string(sysroot)), "bin", "rustc") // not rustup's proxy
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id, err := toolchain.IdentifyRustc(st, path)
	if err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	key := func(args string) string {
		t.Helper()
		u := &Unit{Inv: rustc.Parse(path, strings.Fields(args)), Cwd: cwd, records: st, Hasher: &filehash.Hasher{Memo: st}}
		if err := u.keyHostResolved(id); err != nil {
			t.Fatal(err)
		}
		for _, c := range u.Comps.Components {
			if c.Name == "host-cpu" {
				return c.Value
			}
		}
		return ""
	}
	const native = "--crate-name x lib.rs -C target-cpu=native"
	if got := key("--crate-name x lib.rs -C target-cpu=skylake"); got != "" {
		t.Errorf("target-cpu=skylake keyed a host CPU: %q", got)
	}
	here := key(native)
	out, err := exec.Command(path, "--print", "target-cpus", "--print", "cfg", "-C", "target-cpu=native").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := ParseHostCPU(string(out)); here != want || !strings.HasPrefix(here, "cpu ") {
		t.Errorf("keyed %q, rustc resolves %q", here, want)
	}
	memo := hostCPUMemoKey(id, "", bootID())
	if memo == "" {
		t.Skip("no boot identity on this system: nothing memoized")
	}
	other := "cpu some-other-cpu\nfeature sse2"
	if err := st.PutObject(record.NSHostCPU, memo, []byte(other)); err != nil {
		t.Fatal(err)
	}
	if got := key(native); got != other {
		t.Errorf("with another CPU's resolution memoized, keyed %q", got)
	}
	if key(native) == here {
		t.Error("two resolutions, one key")
	}
	// A corrupt memo is not believed: rustc is asked again.
	if err := st.PutObject(record.NSHostCPU, memo, []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if got := key(native); got != here {
		t.Errorf("with a corrupt memo, keyed %q, want %q", got, here)
	}
}
