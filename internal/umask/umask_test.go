package umask

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want fs.FileMode
		ok   bool
	}{
		{"Name:\tx\nUmask:\t0022\nState:\tR\n", 0o022, true},
		{"Umask:\t0002\n", 0o002, true},
		{"Umask:\t0077", 0o077, true},
		{"Name:\tx\n", 0, false},
		{"Umask:\tzz\n", 0, false},
	} {
		got, ok := parseStatus(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseStatus(%q) = %o, %v; want %o, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// The mode Mode reports is the one a file created by a child of this
// process (as rustc is) gets, under several umasks.
func TestModeMatchesACreatedFile(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"022", "002", "077"} {
		dir := t.TempDir()
		cmd := exec.Command("sh", "-c", "umask "+u+" && exec \"$0\" -test.run=TestHelperMode", self)
		cmd.Env = append(os.Environ(), "UMASK_HELPER_DIR="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("umask %s: %v\n%s", u, err, out)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "modes"))
		// A file the shell creates under the same umask: what rustc gets.
		probe := filepath.Join(dir, "probe")
		if err := exec.Command("sh", "-c", "umask "+u+" && : > "+probe).Run(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(probe)
		if err != nil {
			t.Fatal(err)
		}
		want := fi.Mode().Perm().String() + " " + (fi.Mode().Perm() | (0o111 &^ fs.FileMode(mustOctal(t, u)))).String()
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("umask %s: Mode gives %q, want %q", u, got, want)
		}
	}
}

func mustOctal(t *testing.T, s string) uint32 {
	var n uint32
	for _, c := range s {
		n = n*8 + uint32(c-'0')
	}
	return n
}

// TestHelperMode runs in a child under a chosen umask and writes what Mode
// reports there.
func TestHelperMode(t *testing.T) {
	dir := os.Getenv("UMASK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper")
	}
	s := Mode(dir, false).String() + " " + Mode(dir, true).String()
	// The probe, used where /proc/self/status is missing, agrees.
	if p, ok := probe(dir); ok && p != Current(dir) {
		t.Errorf("probe says %o, Current %o", p, Current(dir))
	}
	if err := os.WriteFile(filepath.Join(dir, "modes"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
