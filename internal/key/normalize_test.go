package key

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/depinfo"
)

// Worktree names that need each place's escaping: a space (dep-info rule
// lines), a quote (JSON), a backslash (JSON, dep-info env-dep lines),
// non-ASCII (none, but every byte continues a name), a backslash before a
// space (both).
var treeNames = [][2]string{
	{"wt-a", "wt-b"},
	{"wt A", "wt B"},
	{`wt "qa"`, `wt "qb"`},
	{`wt\a`, `wt\b`},
	{"wt éa", "wt éb"},
	{`wt\ a`, `wt\ b`},
	{"wt é\\\" a", "wt ü"},
}

func treeNormalizer(root string) *Normalizer {
	return NewNormalizer(map[string]string{Cwd: root, Target: root + "/target", CargoHome: "/home/u/.cargo"})
}

// rustcDepInfo is the dep-info rustc writes for a library of the tree at
// root that includes a file generated into OUT_DIR, as rustc writes it:
// rule targets as they are, prerequisites with spaces escaped (`\ `),
// env-dep values with `\` and newlines escaped, checksum lines (nightly
// -Z checksum-freshness) with the prerequisite's escaping.
func rustcDepInfo(root string) string {
	esc := func(p string) string { return strings.ReplaceAll(p, " ", `\ `) }
	envEsc := func(p string) string {
		return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(p)
	}
	out := root + "/target/debug/build/x-1/out"
	deps := []string{"src/lib.rs", esc(root + "/src/m.rs"), esc(out + "/gen.rs"), esc("/home/u/.cargo/registry/src/y/lib.rs")}
	var b strings.Builder
	for _, target := range []string{root + "/target/debug/deps/x-1.d", root + "/target/debug/deps/libx-1.rmeta"} {
		b.WriteString(target + ": " + strings.Join(deps, " ") + "\n\n")
	}
	for _, d := range deps {
		b.WriteString(d + ":\n")
	}
	b.WriteString("\n# env-dep:OUT_DIR=" + envEsc(out) + "\n")
	b.WriteString("# env-dep:CARGO_MANIFEST_DIR=" + envEsc(root) + "\n")
	b.WriteString("# checksum:blake3=00ff file_len:12 " + esc(out+"/gen.rs") + "\n")
	return b.String()
}

// rustcJSON is rustc's JSON output for a warning in the generated file
// and an artifact notification, JSON-escaped as serde_json does (quote,
// backslash, controls; UTF-8 as is), with the ANSI-rendered text Cargo asks
// for when the terminal has colors.
func rustcJSON(root string) string {
	out := root + "/target/debug/build/x-1/out"
	diag := map[string]any{
		"$message_type": "diagnostic",
		"message":       "unused variable: `unused`",
		"spans":         []map[string]any{{"file_name": out + "/gen.rs", "line_start": 1}},
		"rendered":      "\x1b[1m\x1b[33mwarning\x1b[0m: unused\n \x1b[1m\x1b[94m--> \x1b[0m" + out + "/gen.rs:1:27\n",
	}
	plain := map[string]any{"rendered": "warning: unused\n --> " + out + "/gen.rs:1:27\n"}
	art := map[string]any{"$message_type": "artifact", "artifact": root + "/target/debug/deps/libx-1.rmeta", "emit": "metadata"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, v := range []any{diag, plain, art} {
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
	}
	// A plain line that starts with a path starts with a placeholder once
	// normalized; it must not be read back as JSON.
	return b.String() + "plain text " + out + "/gen.rs:1\n" + out + "/gen.rs:2: note\n"
}

// Every place's text, normalized in tree a and written back in tree b,
// is exactly what rustc writes in tree b; nothing of a remains.
func TestNormalizeEscapedForms(t *testing.T) {
	for _, names := range treeNames {
		a, b := "/w/"+names[0], "/w/"+names[1]
		na, nb := treeNormalizer(a), treeNormalizer(b)
		t.Run(names[0], func(t *testing.T) {
			forms := []struct {
				name   string
				text   func(string) string
				norm   func(*Normalizer, string) string
				denorm func(*Normalizer, string) string
			}{
				{"dep-info", rustcDepInfo, (*Normalizer).NormalizeDepInfo, (*Normalizer).DenormalizeDepInfo},
				{"stream", rustcJSON, (*Normalizer).NormalizeStream, (*Normalizer).DenormalizeStream},
				{"raw", func(r string) string { return "dependency=" + r + "/target/debug/deps" }, (*Normalizer).Normalize, (*Normalizer).Denormalize},
				{"raw out dir", func(r string) string { return r + "/target/debug/build/x-1/out" }, (*Normalizer).Normalize, (*Normalizer).Denormalize},
			}
			for _, f := range forms {
				norm := f.norm(na, f.text(a))
				if strings.Contains(norm, "/w/") {
					t.Errorf("%s: tree a's path left after normalizing:\n%s", f.name, norm)
				}
				if !strings.Contains(norm, "{{grove:") {
					t.Errorf("%s: nothing normalized", f.name)
				}
				if got := f.denorm(na, norm); got != f.text(a) {
					t.Errorf("%s: round trip in a:\n got %q\nwant %q", f.name, got, f.text(a))
				}
				if got := f.denorm(nb, norm); got != f.text(b) {
					t.Errorf("%s: written in b:\n got %q\nwant %q", f.name, got, f.text(b))
				}
			}
			// What grove and Cargo read back from b's dep-info is b's.
			info, err := depinfo.Parse(nb.DenormalizeDepInfo(na.NormalizeDepInfo(rustcDepInfo(a))))
			if err != nil {
				t.Fatal(err)
			}
			out := b + "/target/debug/build/x-1/out"
			wantFiles := []string{"src/lib.rs", b + "/src/m.rs", out + "/gen.rs", "/home/u/.cargo/registry/src/y/lib.rs"}
			if !reflect.DeepEqual(info.Files, wantFiles) {
				t.Errorf("files in b = %q, want %q", info.Files, wantFiles)
			}
			wantEnv := []depinfo.EnvDep{{Name: "OUT_DIR", Value: out, Set: true}, {Name: "CARGO_MANIFEST_DIR", Value: b, Set: true}}
			if !reflect.DeepEqual(info.Env, wantEnv) {
				t.Errorf("env in b = %+v, want %+v", info.Env, wantEnv)
			}
		})
	}
}

// Replacement is of whole paths only, in every form: a sibling whose name
// extends the tree's, a longer path ending in it, and a relative path
// ending in it stay as they are.
func TestNormalizeWholePaths(t *testing.T) {
	for _, names := range treeNames {
		root := "/w/" + names[0]
		n := treeNormalizer(root)
		t.Run(names[0], func(t *testing.T) {
			for _, other := range []string{root + "2/src", root + "-old/src", root + ".bak", root + "é/x", "/v" + root + "/src", "x" + root + "/src", "/w/" + names[1] + "/src"} {
				raw := "a " + other + " b"
				if got := n.Normalize(raw); got != raw {
					t.Errorf("raw: %q became %q", raw, got)
				}
				dep := "x.d: " + strings.ReplaceAll(other, " ", `\ `)
				if got := n.NormalizeDepInfo(dep); got != dep {
					t.Errorf("dep-info: %q became %q", dep, got)
				}
				js, _ := json.Marshal(map[string]string{"f": other})
				if got := n.NormalizeStream(string(js)); got != string(js) {
					t.Errorf("json: %s became %s", js, got)
				}
			}
			for _, in := range []struct{ text, want string }{
				{root, Cwd},
				{root + "/", Cwd + "/"},
				{root + ":1:2", Cwd + ":1:2"},
				{"=" + root + "/target", "=" + Target},
				{"-Wl,-rpath," + root + "/target/x", "-Wl,-rpath," + Target + "/x"},
				{"-Wl,--version-script=" + root + "/v.map", "-Wl,--version-script=" + Cwd + "/v.map"},
				// glued to a short option (-L/abs in a link argument)
				{"-L" + root + "/target/x", "-L" + Target + "/x"},
				{"x-L" + root + "/target/x", "x-L" + root + "/target/x"},
				{"a," + root + "/target,b", "a," + Target + ",b"},
				{"\x1b[0m" + root + "/src", "\x1b[0m" + Cwd + "/src"},
			} {
				if got := n.Normalize(in.text); got != in.want {
					t.Errorf("Normalize(%q) = %q, want %q", in.text, got, in.want)
				}
			}
		})
	}
}
