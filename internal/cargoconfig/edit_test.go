package cargoconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusConfig = `# Offline build against Debian's packaged crate sources (librust-*-dev).
# Written by setup.sh.
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
`

func TestSetString(t *testing.T) {
	const td = "/repo/.shared-target"
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{name: "new file", in: "\x00", want: "[build]\ntarget-dir = \"/repo/.shared-target\"\n", changed: true},
		{name: "empty file", in: "", want: "[build]\ntarget-dir = \"/repo/.shared-target\"\n", changed: true},
		{
			name: "corpus config keeps sources and comments",
			in:   corpusConfig, changed: true,
			want: corpusConfig + "\n[build]\ntarget-dir = \"/repo/.shared-target\"\n",
		},
		{
			name: "no trailing newline",
			in:   "[net]\noffline = true", changed: true,
			want: "[net]\noffline = true\n\n[build]\ntarget-dir = \"/repo/.shared-target\"\n",
		},
		{
			name: "existing build table, insert after its last key",
			in:   "[build]\n# jobs\njobs = 4 # four\n\n# net follows\n[net]\noffline = true\n", changed: true,
			want: "[build]\n# jobs\njobs = 4 # four\ntarget-dir = \"/repo/.shared-target\"\n\n# net follows\n[net]\noffline = true\n",
		},
		{
			name: "empty build table",
			in:   "[build]\n[net]\noffline = true\n", changed: true,
			want: "[build]\ntarget-dir = \"/repo/.shared-target\"\n[net]\noffline = true\n",
		},
		{
			name: "replace value only, keep comment and spacing",
			in:   "[build]\ntarget-dir   =   'old'  # mine\njobs = 2\n", changed: true,
			want: "[build]\ntarget-dir   =   \"/repo/.shared-target\"  # mine\njobs = 2\n",
		},
		{
			name: "idempotent",
			in:   "[build]\ntarget-dir = \"/repo/.shared-target\" # x\n",
			want: "[build]\ntarget-dir = \"/repo/.shared-target\" # x\n",
		},
		{
			name: "idempotent with literal string",
			in:   "[build]\ntarget-dir = '/repo/.shared-target'\n",
			want: "[build]\ntarget-dir = '/repo/.shared-target'\n",
		},
		{
			name: "top-level dotted key replaced",
			in:   "build.target-dir = \"x\"\n[net]\noffline = true\n", changed: true,
			want: "build.target-dir = \"/repo/.shared-target\"\n[net]\noffline = true\n",
		},
		{
			name: "quoted dotted key replaced",
			in:   "\"build\" . \"target-dir\" = \"x\"\n", changed: true,
			want: "\"build\" . \"target-dir\" = \"/repo/.shared-target\"\n",
		},
		{
			name: "top-level dotted sibling: add in the same style",
			in:   "build.jobs = 2\n\n[net]\noffline = true\n", changed: true,
			want: "build.jobs = 2\nbuild.target-dir = \"/repo/.shared-target\"\n\n[net]\noffline = true\n",
		},
		{
			name: "same key name in another table is not ours",
			in:   "[profile.dev]\ntarget-dir = \"nope\"\n[build]\njobs = 1\n", changed: true,
			want: "[profile.dev]\ntarget-dir = \"nope\"\n[build]\njobs = 1\ntarget-dir = \"/repo/.shared-target\"\n",
		},
		{
			name: "sub-table after build",
			in:   "[build]\njobs = 1\n[build.sub]\nx = 1\n", changed: true,
			want: "[build]\njobs = 1\ntarget-dir = \"/repo/.shared-target\"\n[build.sub]\nx = 1\n",
		},
		{
			name: "crlf",
			in:   "[build]\r\njobs = 1\r\n", changed: true,
			want: "[build]\r\njobs = 1\r\ntarget-dir = \"/repo/.shared-target\"\r\n",
		},
		{
			name: "array of tables and multiline string untouched",
			in:   "[[bin]]\nname = \"\"\"\n[build]\n\"\"\"\n", changed: true,
			want: "[[bin]]\nname = \"\"\"\n[build]\n\"\"\"\n\n[build]\ntarget-dir = \"/repo/.shared-target\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), ".cargo", "config.toml")
			if tt.in != "\x00" {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(tt.in), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			changed, err := SetString(p, "build", "target-dir", td)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tt.want || changed != tt.changed {
				t.Fatalf("changed=%v (want %v)\ngot:\n%q\nwant:\n%q", changed, tt.changed, got, tt.want)
			}
			st, _ := os.Stat(p)
			if tt.in != "\x00" && st.Mode().Perm() != 0o600 {
				t.Errorf("mode changed to %v", st.Mode())
			}
			// Second run is a no-op.
			if changed, err := SetString(p, "build", "target-dir", td); err != nil || changed {
				t.Fatalf("second SetString: changed=%v err=%v", changed, err)
			}
			v, ok, err := Get(p, "build", "target-dir")
			if err != nil || !ok || v != td {
				t.Fatalf("Get = %q %v %v", v, ok, err)
			}
			// Remove undoes an insertion exactly (not a replacement).
			if !strings.Contains(tt.in, "target-dir") || strings.Contains(tt.name, "another table") {
				if _, err := Remove(p, "build", "target-dir"); err != nil {
					t.Fatal(err)
				}
				back, err := os.ReadFile(p)
				wantBack := tt.in
				switch tt.in {
				case "\x00", "":
					if !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("file should be gone, got %q %v", back, err)
					}
					return
				case "[net]\noffline = true":
					wantBack += "\n"
				}
				if string(back) != wantBack {
					t.Fatalf("after Remove:\n%q\nwant\n%q", back, wantBack)
				}
			}
		})
	}
}

func TestSetStringErrors(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"malformed", "[build\ntarget-dir = 1\n", "not valid TOML: line 1"},
		{"duplicate key", "[build]\njobs = 1\njobs = 2\n", "not valid TOML"},
		{"inline table", "build = { jobs = 1 }\n", "inline value"},
		{"not a string", "[build]\ntarget-dir = 5\n", "not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(p, []byte(tt.in), 0o644)
			_, err := SetString(p, "build", "target-dir", "/x")
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %q", err, tt.msg)
			}
			if got, _ := os.ReadFile(p); string(got) != tt.in {
				t.Fatalf("file changed: %q", got)
			}
			if tt.name == "not a string" {
				return
			}
			if _, err := Remove(p, "build", "target-dir"); err == nil {
				t.Fatal("Remove should fail too")
			}
			if got, _ := os.ReadFile(p); string(got) != tt.in {
				t.Fatalf("file changed by Remove: %q", got)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{name: "absent", in: corpusConfig, want: corpusConfig},
		{
			name: "keeps other keys and header", changed: true,
			in:   "[build]\nrustc-wrapper = \"grove\" # cache\njobs = 2\n",
			want: "[build]\njobs = 2\n",
		},
		{
			name: "comment in table keeps header", changed: true,
			in:   "[build]\n# keep me\nrustc-wrapper = \"grove\"\n",
			want: "[build]\n# keep me\n",
		},
		{
			name: "emptied table in the middle keeps header", changed: true,
			in:   "[build]\nrustc-wrapper = \"grove\"\n\n[net]\noffline = true\n",
			want: "[build]\n\n[net]\noffline = true\n",
		},
		{
			name: "top-level dotted", changed: true,
			in:   "# top\nbuild.rustc-wrapper = \"grove\"\n[net]\noffline = true\n",
			want: "# top\n[net]\noffline = true\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(p, []byte(tt.in), 0o644)
			changed, err := Remove(p, "build", "rustc-wrapper")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tt.want || changed != tt.changed {
				t.Fatalf("changed=%v\ngot  %q\nwant %q", changed, got, tt.want)
			}
		})
	}
	// Missing file: no error, no change, nothing created.
	p := filepath.Join(t.TempDir(), "none", "config.toml")
	if changed, err := Remove(p, "build", "x"); err != nil || changed {
		t.Fatalf("missing file: %v %v", changed, err)
	}
	if _, err := os.Stat(filepath.Dir(p)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Remove created a directory")
	}
}

func TestQuote(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	weird := "/a b/\"q\"\\x\tü"
	if _, err := SetString(p, "build", "target-dir", weird); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := Get(p, "build", "target-dir"); v != weird {
		t.Fatalf("round trip: %q", v)
	}
}
