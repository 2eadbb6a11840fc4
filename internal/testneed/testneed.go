// Package testneed is the one place a test says it cannot run because
// something it needs (a tool, a toolchain, the crate registry, root) is
// missing.
//
// On a developer's machine such a test skips, with the reason. Where the
// environment promises the tools (CI: `.ci/run` sets GROVE_TEST_REQUIRE=all)
// a missing tool is a failure, so a suite can never pass by skipping.
package testneed

import (
	"os"
	"strings"
	"testing"
)

// Env names the variable that says what must be present: "all", or a
// comma-separated list of the names tests pass to Missing ("cargo",
// "nightly", "registry", ...).
const Env = "GROVE_TEST_REQUIRE"

// Missing ends the test because what is missing (err or a message says
// why): a failure if what is required, a skip otherwise.
func Missing(t testing.TB, what string, why any) {
	t.Helper()
	if Required(what) {
		t.Fatalf("%s is required (%s=%s) but missing: %v", what, Env, os.Getenv(Env), why)
		return
	}
	t.Skipf("%s missing: %v (set %s=%s to make this a failure)", what, why, Env, what)
}

// Required reports whether the environment says what must be present.
func Required(what string) bool {
	for _, w := range strings.Split(os.Getenv(Env), ",") {
		if w = strings.TrimSpace(w); w == "all" || w == what {
			return true
		}
	}
	return false
}
