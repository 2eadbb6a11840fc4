package measure

import (
	"bufio"
	"bytes"
	"encoding/json"
)

// Units is what Cargo reported doing, from its JSON messages.
//
// Compiled counts compiler-artifact messages with "fresh": false: units
// Cargo found dirty and handed to rustc (or to the rustc-wrapper, which may
// have restored them from a cache instead). Fresh counts the ones with
// "fresh": true, which Cargo did not touch. Build-script runs are not
// counted: Cargo reports them as build-script-executed whether or not the
// script actually ran.
type Units struct {
	Compiled int
	Fresh    int
}

// Add accumulates o into u.
func (u *Units) Add(o Units) {
	u.Compiled += o.Compiled
	u.Fresh += o.Fresh
}

// CargoBuildArgs is the build command every strategy runs: JSON messages
// on stdout so units can be counted, human-readable diagnostics inside
// them. With locked (the workspace has a Cargo.lock) --locked makes sure
// every strategy builds exactly the committed versions; a repository
// without a Cargo.lock (a library) resolves in each worktree.
func CargoBuildArgs(locked bool) []string {
	args := []string{"cargo", "build", "--message-format=json-render-diagnostics"}
	if locked {
		args = append(args, "--locked")
	}
	return args
}

// ParseUnits counts the compiler-artifact messages in Cargo's JSON output.
// Lines that are not JSON (a build script's stray stdout) are ignored.
func ParseUnits(stdout []byte) Units {
	var u Units
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte(`"compiler-artifact"`)) {
			continue
		}
		var m struct {
			Reason string `json:"reason"`
			Fresh  bool   `json:"fresh"`
		}
		if json.Unmarshal(line, &m) != nil || m.Reason != "compiler-artifact" {
			continue
		}
		if m.Fresh {
			u.Fresh++
		} else {
			u.Compiled++
		}
	}
	return u
}
