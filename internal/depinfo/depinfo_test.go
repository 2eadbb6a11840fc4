package depinfo

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		files []string
		env   []EnvDep
	}{
		{"rustc 1.95 bin", `/tmp/p/target/debug/deps/p-e3f.d: src/main.rs

/tmp/p/target/debug/deps/p-e3f: src/main.rs

src/main.rs:

# env-dep:CARGO_PKG_NAME=p
# env-dep:FOOBAR
`, []string{"src/main.rs"}, []EnvDep{{"CARGO_PKG_NAME", "p", true}, {"FOOBAR", "", false}}},
		{"modules and include", `/t/deps/x.d: /r/x-1.0/src/lib.rs /r/x-1.0/src/a.rs /t/build/x-1/out/gen.rs /r/x-1.0/data\ file.txt

/t/deps/libx.rlib: /r/x-1.0/src/lib.rs /r/x-1.0/src/a.rs /t/build/x-1/out/gen.rs /r/x-1.0/data\ file.txt

/r/x-1.0/src/lib.rs:
/r/x-1.0/src/a.rs:
/t/build/x-1/out/gen.rs:
/r/x-1.0/data\ file.txt:

# env-dep:OUT_DIR=/t/build/x-1/out
# env-dep:MULTI=a\nb\\c
`, []string{"/r/x-1.0/src/lib.rs", "/r/x-1.0/src/a.rs", "/t/build/x-1/out/gen.rs", "/r/x-1.0/data file.txt"},
			[]EnvDep{{"OUT_DIR", "/t/build/x-1/out", true}, {"MULTI", "a\nb\\c", true}}},
		{"empty value", "/t/x.d: a.rs\n\n# env-dep:E=\n", []string{"a.rs"}, []EnvDep{{"E", "", true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(info.Files, tc.files) {
				t.Errorf("Files = %q, want %q", info.Files, tc.files)
			}
			if !reflect.DeepEqual(info.Env, tc.env) {
				t.Errorf("Env = %#v, want %#v", info.Env, tc.env)
			}
		})
	}
	if _, err := Parse("garbage without colon\n"); err == nil {
		t.Error("malformed dep-info parsed without error")
	}
}
