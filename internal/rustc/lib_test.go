package rustc

import "testing"

func TestLibMapping(t *testing.T) {
	for _, tc := range []struct{ p, sib, rlib string }{
		{"d/libfoo-1.rlib", "d/libfoo-1.rmeta", "d/libfoo-1.rlib"},
		{"d/libfoo-1.rmeta", "d/libfoo-1.rlib", "d/libfoo-1.rlib"},
		{"d/libfoo-1.so", "", ""},
	} {
		if got := SiblingLib(tc.p); got != tc.sib {
			t.Errorf("SiblingLib(%q) = %q, want %q", tc.p, got, tc.sib)
		}
		if got := RlibOf(tc.p); got != tc.rlib {
			t.Errorf("RlibOf(%q) = %q, want %q", tc.p, got, tc.rlib)
		}
		if IsLib(tc.p) != (tc.rlib != "") {
			t.Errorf("IsLib(%q) = %v", tc.p, IsLib(tc.p))
		}
	}
}
