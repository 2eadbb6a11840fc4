package rustc

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// cargoLib is a real command line Cargo 1.95 issued for a registry library.
const cargoLib = `--crate-name serde --edition=2018 /usr/share/cargo/registry/serde-1.0.195/src/lib.rs --error-format=json --json=diagnostic-rendered-ansi,artifacts,future-incompat --crate-type lib --emit=dep-info,metadata,link -C embed-bitcode=no -C debuginfo=2 --cfg feature="default" --cfg feature="std" -C metadata=8e4b0c2f5e7ae3a1 -C extra-filename=-8e4b0c2f5e7ae3a1 --out-dir /w/target/debug/deps -L dependency=/w/target/debug/deps --extern serde_derive=/w/target/debug/deps/libserde_derive-1d2c.so --cap-lints allow -L native=/w/target/debug/build/foo-1/out -l static=fastsum -l dylib=z`

// cargoBin is a real command line Cargo 1.95 issued for a workspace binary.
const cargoBin = `--crate-name b --edition=2024 src/bin/b.rs --error-format=json --json=diagnostic-rendered-ansi,artifacts,future-incompat --crate-type bin --emit=dep-info,link -C embed-bitcode=no -C debuginfo=2 --check-cfg cfg(docsrs,test) --check-cfg cfg(feature,values()) -C metadata=d59e225c6a2626fd -C extra-filename=-29c934acbb9349d1 --out-dir /tmp/p/target/debug/deps -C incremental=/tmp/p/target/debug/incremental -L dependency=/tmp/p/target/debug/deps`

func TestParse(t *testing.T) {
	tests := []struct {
		name        string
		args        string
		uncacheable string // "" = cacheable
		links       bool
		outputs     []string
	}{
		{"registry lib", cargoLib, "", false, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", "libserde-8e4b0c2f5e7ae3a1.rlib"}},
		{"workspace bin", cargoBin, "", true, []string{"b-29c934acbb9349d1"}},
		{"check (metadata only)", strings.Replace(cargoLib, "dep-info,metadata,link", "dep-info,metadata", 1), "", false, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta"}},
		{"proc-macro", strings.Replace(cargoLib, "--crate-type lib", "--crate-type proc-macro", 1), "", true, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", dylibName("serde-8e4b0c2f5e7ae3a1", "", runtime.GOOS)}},
		{"cdylib for macOS", strings.Replace(cargoLib, "--crate-type lib", "--crate-type cdylib", 1) + " --target aarch64-apple-darwin", "", true, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", "libserde-8e4b0c2f5e7ae3a1.dylib"}},
		{"cdylib for Linux", strings.Replace(cargoLib, "--crate-type lib", "--crate-type cdylib", 1) + " --target aarch64-unknown-linux-gnu", "", true, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", "libserde-8e4b0c2f5e7ae3a1.so"}},
		{"test harness", strings.Replace(cargoBin, "--crate-type bin", "--test", 1), "", true, []string{"b-29c934acbb9349d1"}},
		{"version query", "-vV", "no input file (query)", false, nil},
		{"print query", "- --crate-name ___ --print=file-names --crate-type bin", "print query", false, nil},
		{"stdin", "- --crate-name x --crate-type lib --out-dir /o --emit=dep-info,link", "input from stdin", false, nil},
		{"argfile", "@args.txt", "argument file (@file)", false, nil},
		{"explicit -o", cargoBin + " -o /tmp/x", "explicit output file (-o)", true, nil},
		{"emit path", strings.Replace(cargoBin, "--emit=dep-info,link", "--emit=dep-info,link=/tmp/x", 1), "--emit with an explicit path", true, nil},
		{"emit asm", strings.Replace(cargoBin, "--emit=dep-info,link", "--emit=dep-info,asm,link", 1), "--emit asm", true, nil},
		{"no dep-info", strings.Replace(cargoBin, "--emit=dep-info,link", "--emit=link", 1), "no dep-info emitted", true, nil},
		{"split debuginfo", cargoBin + " -C split-debuginfo=unpacked", "-C split-debuginfo=unpacked", true, nil},
		{"split debuginfo off", cargoBin + " -Csplit-debuginfo=off", "", true, []string{"b-29c934acbb9349d1"}},
		{"profile-use", cargoBin + " -Cprofile-use=/x.profdata", "-C profile-use", true, nil},
		{"LTO dependency (bitcode rlib)", strings.Replace(cargoLib, "-C embed-bitcode=no", "-C linker-plugin-lto", 1), "", false, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", "libserde-8e4b0c2f5e7ae3a1.rlib"}},
		{"linker-plugin-lto link", strings.Replace(cargoBin, "-C embed-bitcode=no", "-C linker-plugin-lto", 1), "-C linker-plugin-lto", true, nil},
		{"rustc LTO bin", strings.Replace(cargoBin, "-C embed-bitcode=no", "-C lto=thin", 1), "", true, []string{"b-29c934acbb9349d1"}},
		{"codegen backend plugin", cargoBin + " -Zcodegen-backend=/x/librustc_codegen_cranelift.so", "-Z codegen-backend", true, nil},
		{"no out-dir", "--crate-name a a.rs --crate-type lib --emit=dep-info,link", "no --out-dir", false, nil},
		{"staticlib", strings.Replace(cargoLib, "--crate-type lib", "--crate-type staticlib", 1), "", true, []string{"libserde-8e4b0c2f5e7ae3a1.rmeta", "libserde-8e4b0c2f5e7ae3a1.a"}},
		{"unknown crate type", strings.Replace(cargoLib, "--crate-type lib", "--crate-type sdylib", 1), "crate-type sdylib", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := Parse("/tc/bin/rustc", strings.Fields(tc.args))
			if inv.Uncacheable != tc.uncacheable {
				t.Fatalf("Uncacheable = %q, want %q", inv.Uncacheable, tc.uncacheable)
			}
			if inv.Input != "" && inv.Links() != tc.links {
				t.Errorf("Links() = %v, want %v", inv.Links(), tc.links)
			}
			if tc.outputs != nil {
				got, err := inv.OutputNames()
				if err != nil || !reflect.DeepEqual(got, tc.outputs) {
					t.Errorf("OutputNames() = %v, %v; want %v", got, err, tc.outputs)
				}
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	inv := Parse("/tc/bin/rustc", strings.Fields(cargoLib))
	if inv.CrateName != "serde" || inv.ExtraFilename != "-8e4b0c2f5e7ae3a1" || inv.OutDir != "/w/target/debug/deps" {
		t.Errorf("name/extra/outdir = %q %q %q", inv.CrateName, inv.ExtraFilename, inv.OutDir)
	}
	if inv.Input != "/usr/share/cargo/registry/serde-1.0.195/src/lib.rs" {
		t.Errorf("Input = %q", inv.Input)
	}
	wantExt := []Extern{{"serde_derive", "/w/target/debug/deps/libserde_derive-1d2c.so"}}
	if !reflect.DeepEqual(inv.Externs, wantExt) {
		t.Errorf("Externs = %v", inv.Externs)
	}
	wantL := []SearchPath{{"dependency", "/w/target/debug/deps"}, {"native", "/w/target/debug/build/foo-1/out"}}
	if !reflect.DeepEqual(inv.SearchPaths, wantL) {
		t.Errorf("SearchPaths = %v", inv.SearchPaths)
	}
	wantLibs := []Lib{{Kind: "static", Name: "fastsum"}, {Kind: "dylib", Name: "z"}}
	if !reflect.DeepEqual(inv.Libs, wantLibs) {
		t.Errorf("Libs = %v", inv.Libs)
	}
	if !inv.JSONArtifacts {
		t.Error("JSONArtifacts = false")
	}
}

func TestSplitOptions(t *testing.T) {
	tests := []struct {
		in   string
		want []Option
	}{
		{"-Cdebuginfo=2", []Option{{"-C", "debuginfo=2"}}},
		{"-C debuginfo=2", []Option{{"-C", "debuginfo=2"}}},
		{"--emit=link", []Option{{"--emit", "link"}}},
		{"--emit link", []Option{{"--emit", "link"}}},
		{"-Lnative=/x", []Option{{"-L", "native=/x"}}},
		{"-O -g src/lib.rs", []Option{{"-O", ""}, {"-g", ""}, {"", "src/lib.rs"}}},
		{"-l static:+whole-archive=foo", []Option{{"-l", "static:+whole-archive=foo"}}},
		{"--test", []Option{{"--test", ""}}},
	}
	for _, tc := range tests {
		got := SplitOptions(strings.Fields(tc.in))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitOptions(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]Lib{
		"static:+whole-archive=foo:bar": {Kind: "static", Name: "foo"},
		"static:+verbatim=libfoo.a":     {Kind: "static", Name: "libfoo.a", Verbatim: true},
		"static:-bundle,+verbatim=x.o":  {Kind: "static", Name: "x.o", Verbatim: true},
		"foo":                           {Name: "foo"},
		"dylib=z":                       {Kind: "dylib", Name: "z"},
	} {
		if l := parseLib(in); l != want {
			t.Errorf("parseLib(%q) = %v, want %v", in, l, want)
		}
	}
}

// A dynamic library's name follows the target (--target, else the host),
// not the OS grove was built for: a proc-macro is a .dylib on a Mac.
func TestDylibName(t *testing.T) {
	for _, tc := range []struct{ target, host, want string }{
		{"", "linux", "libm-1.so"},
		{"", "darwin", "libm-1.dylib"},
		{"aarch64-apple-darwin", "linux", "libm-1.dylib"},
		{"x86_64-apple-darwin", "darwin", "libm-1.dylib"},
		{"x86_64-unknown-linux-gnu", "darwin", "libm-1.so"},
		{"/specs/custom.json", "linux", "libm-1.so"},
	} {
		if got := dylibName("m-1", tc.target, tc.host); got != tc.want {
			t.Errorf("dylibName(target %q, host %s) = %s, want %s", tc.target, tc.host, got, tc.want)
		}
	}
}

// Every way rustc takes a link argument reaches LinkArgs, where the key
// reads the files and the linker they name.
func TestParseLinkArgs(t *testing.T) {
	args := append(strings.Fields(cargoBin), "-C", "link-arg=-fuse-ld=mold", "-Clink-args=-Wl,-z,now -Tx.ld",
		"-Z", "pre-link-arg=-B/opt/ld", "-Zpre-link-args=-Wl,--as-needed")
	want := []string{"-fuse-ld=mold", "-Wl,-z,now", "-Tx.ld", "-B/opt/ld", "-Wl,--as-needed"}
	if got := Parse("/tc/bin/rustc", args).LinkArgs; !reflect.DeepEqual(got, want) {
		t.Errorf("LinkArgs = %q, want %q", got, want)
	}
}
