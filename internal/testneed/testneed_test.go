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

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper()                       {}
func (r *recorder) Fatalf(string, ...any)         { r.ended = "fail" }
func (r *recorder) Skipf(format string, a ...any) { r.ended = "skip" }

func TestMissing(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", "skip"},
		{"nightly", "skip"},
		{"cargo", "fail"},
		{"all", "fail"},
	} {
		t.Setenv(Env, tc.env)
		r := &recorder{TB: t}
		Missing(r, "cargo", "not on PATH")
		if r.ended != tc.want {
			t.Errorf("%s=%q: missing cargo ends the test with %q, want %q", Env, tc.env, r.ended, tc.want)
		}
	}
}
