package key

import "testing"

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
