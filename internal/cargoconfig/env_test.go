package cargoconfig

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnvVar(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string // under a temp root; the build starts in ws/
		env        map[string]string
		want, from string // from: "environment", a file relative to root, or "" (not found)
	}{
		{name: "unset", want: "", from: ""},
		{name: "environment only", env: map[string]string{"GROVE_DIR": "/e"}, want: "/e", from: "environment"},
		{
			name:  "config string",
			files: map[string]string{"ws/.cargo/config.toml": "[env]\nGROVE_DIR = \"/c\"\n"},
			want:  "/c", from: "ws/.cargo/config.toml",
		},
		{
			name:  "environment wins over config without force",
			files: map[string]string{"ws/.cargo/config.toml": "[env]\nGROVE_DIR = \"/c\"\n"},
			env:   map[string]string{"GROVE_DIR": "/e"}, want: "/e", from: "environment",
		},
		{
			name:  "force wins over environment",
			files: map[string]string{"ws/.cargo/config.toml": "[env]\nGROVE_DIR = { value = \"/c\", force = true }\n"},
			env:   map[string]string{"GROVE_DIR": "/e"}, want: "/c", from: "ws/.cargo/config.toml",
		},
		{
			name:  "relative to the dir holding .cargo",
			files: map[string]string{".cargo/config.toml": "[env]\nGROVE_DIR = { value = \"store\", relative = true }\n"},
			want:  "<root>/store", from: ".cargo/config.toml",
		},
		{
			name: "closest file wins",
			files: map[string]string{
				".cargo/config.toml":    "[env]\nGROVE_DIR = \"/far\"\n",
				"ws/.cargo/config.toml": "[env]\nGROVE_DIR = \"/near\"\n",
			},
			want: "/near", from: "ws/.cargo/config.toml",
		},
		{
			name:  "CARGO_HOME config",
			files: map[string]string{"home/config.toml": "[env]\nGROVE_DIR = \"/h\"\n"},
			want:  "/h", from: "home/config.toml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, _ := filepath.EvalSymlinks(t.TempDir())
			os.MkdirAll(filepath.Join(root, "ws"), 0o755)
			for p, c := range tt.files {
				full := filepath.Join(root, p)
				os.MkdirAll(filepath.Dir(full), 0o755)
				os.WriteFile(full, []byte(c), 0o644)
			}
			env := map[string]string{"CARGO_HOME": filepath.Join(root, "home")}
			for k, v := range tt.env {
				env[k] = v
			}
			v, from, found, err := EnvVar(filepath.Join(root, "ws"), func(k string) string { return env[k] }, "GROVE_DIR")
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "<root>/store" {
				want = filepath.Join(root, "store")
			}
			wantFrom := tt.from
			if wantFrom != "" && wantFrom != "environment" {
				wantFrom = filepath.Join(root, wantFrom)
			}
			if v != want || from != wantFrom || found != (tt.from != "") {
				t.Fatalf("got %q from %q (found %v), want %q from %q", v, from, found, want, wantFrom)
			}
		})
	}
}
