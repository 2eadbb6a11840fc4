package cache_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// A child of grove killed by a signal (package exitstatus): grove dies by
// the same signal, so Cargo says what it says with plain cargo
// ("signal: 6, SIGABRT: process abort signal"), not "exit status: 1".

// abortNow and killNow end the process they run in: by abort (SIGABRT)
// and by SIGKILL (kill -9 on its own pid, as no libc crate is at hand).
const (
	abortNow = `{ std::process::abort() }`
	killNow  = `{
        let _ = std::process::Command::new("kill").args(["-9", &std::process::id().to_string()]).status();
        loop { std::thread::sleep(std::time::Duration::from_secs(1)); }
    }`
)

// Rustc killed: a proc macro that aborts, or kills rustc, while the lib
// that uses it compiles (the wrapper path).
func TestTrustChildKilledBySignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, end string }{{"abort", abortNow}, {"sigkill", killNow}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{
				"Cargo.toml":      "[workspace]\nmembers = [\"pm\", \"app\"]\nresolver = \"2\"\n",
				"pm/Cargo.toml":   "[package]\nname = \"pm\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
				"pm/src/lib.rs":   "use proc_macro::TokenStream;\n#[proc_macro]\npub fn boom(_: TokenStream) -> TokenStream " + tc.end + "\n",
				"app/Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\npm = { path = \"../pm\" }\n",
				"app/src/main.rs": "pm::boom!();\nfn main() {}\n",
				".gitignore":      "target/\n",
			}
			tw := newTwin(t, files)
			tw.step("a: build", childEnd("a"))
			tw.step("b: build", childEnd("b"))
		})
	}
}

// A build script killed (the trampoline path, and the same again in the
// second worktree: a failed run is not stored).
func TestTrustBuildScriptAborts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, end string }{{"abort", abortNow}, {"sigkill", killNow}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			build := "fn main() {\n    println!(\"cargo:rerun-if-changed=build.rs\");\n    eprintln!(\"about to end\");\n    " + tc.end + "\n}\n"
			tw := newTwin(t, scriptCrate(build, "pub fn show() -> &'static str { \"x\" }\n", nil))
			cacheRuns(tw)
			tw.step("a: build", childEnd("a"))
			tw.step("b: build", childEnd("b"))
		})
	}
}

// childStatus is the end Cargo reports of the process it ran: "(signal:
// 9, SIGKILL: kill)" or "(exit status: 1)" at the end of a "process
// didn't exit successfully" line (whose command line names grove on one
// side only).
var childStatus = regexp.MustCompile(`process didn't exit successfully: .*(\((?:signal|exit status): [^)]*\))`)

// childEnd builds worktree wt and returns cargo's exit status, what it
// said of the child's end, and the script's stderr.
func childEnd(wt string) func(s *side) string {
	return func(s *side) string {
		code, _, stderr := s.cargoOut(wt, nil, "build")
		var ends []string
		for _, m := range childStatus.FindAllStringSubmatch(stderr, -1) {
			ends = append(ends, m[1])
		}
		if !strings.Contains(strings.Join(ends, ""), "signal: ") {
			s.t.Errorf("%s: cargo reported no child killed by a signal:\n%s", s.name, lastLines(stderr, 6))
		}
		var said []string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.TrimSpace(l) == "about to end" {
				said = append(said, "about to end")
			}
		}
		return fmt.Sprintf("exit %d\n%s\n%s", code, strings.Join(ends, "\n"), strings.Join(said, "\n"))
	}
}
