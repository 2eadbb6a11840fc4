package testneed

import "testing"

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env, what string
		want      bool
	}{
		{"", "cargo", false},
		{"all", "cargo", true},
		{"all", "nightly", true},
		{"cargo,nightly", "nightly", true},
		{"cargo, registry", "registry", true},
		{"cargo", "nightly", false},
		{"allx", "cargo", false},
	} {
		t.Setenv(Env, tc.env)
		if got := Required(tc.what); got != tc.want {
			t.Errorf("%s=%q: Required(%q) = %v, want %v", Env, tc.env, tc.what, got, tc.want)
		}
	}
}
