package key

import (
	"slices"
	"testing"
)

func TestLinkerWritesFile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-Wl,--gc-sections", "-Tlink.x", "--nmagic"}, ""},
		{[]string{"-Wl,-Map=app.map"}, "-Map=app.map"},
		{[]string{"-Wl,-Map,app.map"}, "-Map"},
		{[]string{"-Map=fw.map"}, "-Map=fw.map"},
		{[]string{"--Map=fw.map"}, "--Map=fw.map"},
		{[]string{"-Wl,--dependency-file=app.d"}, "--dependency-file=app.d"},
		{[]string{"-save-temps"}, "-save-temps"},
		{[]string{"-Wl,--out-implib,libapp.dll.a"}, "--out-implib"},
		{[]string{"-Wl,-rpath,/x/Map"}, ""},
	} {
		if got := linkerWritesFile(tc.args); got != tc.want {
			t.Errorf("linkerWritesFile(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestDriverLinker(t *testing.T) {
	for _, tc := range []struct {
		args []string
		prog string
		dirs []string
		ok   bool
	}{
		{nil, "ld", nil, false},
		{[]string{"-Wl,--as-needed", "-nodefaultlibs"}, "ld", nil, false},
		{[]string{"-fuse-ld=mold"}, "ld.mold", nil, true},
		{[]string{"-fuse-ld=gold", "-fuse-ld=lld"}, "ld.lld", nil, true},
		{[]string{"-fuse-ld=/opt/mold/bin/mold"}, "/opt/mold/bin/mold", nil, true},
		{[]string{"--ld-path=/usr/local/bin/ld64.lld"}, "/usr/local/bin/ld64.lld", nil, true},
		{[]string{"-B/opt/linkers", "-fuse-ld=gold"}, "ld.gold", []string{"/opt/linkers"}, true},
		{[]string{"-B", "tools/ld", "-Bother"}, "ld", []string{"tools/ld", "other"}, true},
		{[]string{"-B"}, "ld", nil, false},
	} {
		prog, dirs, ok := driverLinker(tc.args)
		if prog != tc.prog || !slices.Equal(dirs, tc.dirs) || ok != tc.ok {
			t.Errorf("driverLinker(%q) = %q %q %v, want %q %q %v", tc.args, prog, dirs, ok, tc.prog, tc.dirs, tc.ok)
		}
	}
}
