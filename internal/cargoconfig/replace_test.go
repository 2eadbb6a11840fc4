package cargoconfig

import (
	"os"
	"path/filepath"
	"testing"
)

// Replace then Restore gives back the file byte for byte, whatever the old
// value's form and whatever else is on its line.
func TestReplaceRestoreRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, replaced, old string
	}{
		{
			name: "sccache", in: "[build]\nrustc-wrapper = \"sccache\"\n",
			replaced: "[build]\nrustc-wrapper = \"grove\" # grove off restores: \"sccache\"\n", old: "sccache",
		},
		{
			name: "literal string, user comment, spacing", in: "# mine\n[build]\nrustc-wrapper  =  'sccache'   # fast\njobs = 2\n",
			replaced: "# mine\n[build]\nrustc-wrapper  =  \"grove\" # grove off restores: 'sccache'   # fast\njobs = 2\n", old: "sccache",
		},
		{
			name: "dotted top level, CRLF", in: "build.rustc-wrapper = \"/opt/a b/#w\"\r\n[net]\r\noffline = true\r\n",
			replaced: "build.rustc-wrapper = \"grove\" # grove off restores: \"/opt/a b/#w\"\r\n[net]\r\noffline = true\r\n", old: "/opt/a b/#w",
		},
		{
			name: "multi-line string is recorded quoted", in: "[build]\nrustc-wrapper = \"\"\"\nx\"\"\"\n",
			replaced: "[build]\nrustc-wrapper = \"grove\" # grove off restores: \"x\"\n", old: "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(p, []byte(tt.in), 0o644)
			changed, old, err := Replace(p, "build", "rustc-wrapper", "grove")
			if err != nil || !changed || old != tt.old {
				t.Fatalf("Replace: changed=%v old=%q err=%v", changed, old, err)
			}
			if got, _ := os.ReadFile(p); string(got) != tt.replaced {
				t.Fatalf("after Replace\ngot  %q\nwant %q", got, tt.replaced)
			}
			if changed, _, err := Replace(p, "build", "rustc-wrapper", "grove"); err != nil || changed {
				t.Fatalf("Replace again: changed=%v err=%v", changed, err)
			}
			changed, restored, err := Restore(p, "build", "rustc-wrapper", "grove")
			if err != nil || !changed || restored != tt.old {
				t.Fatalf("Restore: changed=%v restored=%q err=%v", changed, restored, err)
			}
			want := tt.in
			if tt.name == "multi-line string is recorded quoted" {
				want = "[build]\nrustc-wrapper = \"x\"\n"
			}
			if got, _ := os.ReadFile(p); string(got) != want {
				t.Fatalf("after Restore\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

func TestRestore(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{name: "not replaced: removed", in: "[net]\noffline = true\n\n[build]\nrustc-wrapper = \"grove\"\n", want: "[net]\noffline = true\n", changed: true},
		{name: "user's value left alone", in: "[build]\nrustc-wrapper = \"sccache\" # grove off restores: \"x\"\n", want: "[build]\nrustc-wrapper = \"sccache\" # grove off restores: \"x\"\n"},
		{name: "absent", in: "[net]\noffline = true\n", want: "[net]\noffline = true\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(p, []byte(tt.in), 0o644)
			changed, _, err := Restore(p, "build", "rustc-wrapper", "grove")
			if err != nil || changed != tt.changed {
				t.Fatalf("changed=%v err=%v", changed, err)
			}
			if got, _ := os.ReadFile(p); string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	// A file grove created holds nothing else once restored: it goes, and
	// its dir too unless that holds other files.
	dir := t.TempDir()
	p := filepath.Join(dir, ".cargo", "config.toml")
	if _, _, err := Replace(p, "build", "rustc-wrapper", "grove"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".cargo", "other.toml"), nil, 0o644)
	if _, _, err := Restore(p, "build", "rustc-wrapper", "grove"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("config grove created still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cargo", "other.toml")); err != nil {
		t.Fatalf(".cargo with another file removed: %v", err)
	}
}
