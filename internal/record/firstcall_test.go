package record

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestFirstDecodeCost times the first decode of a manifest and an entry in
// a fresh process, as the wrapper does them once per unit: through
// DecodeManifest/DecodeEntry, and through encoding/json as before the
// scanner. It logs the figures (go test -v) and fails only if a child does.
func TestFirstDecodeCost(t *testing.T) {
	if mode := os.Getenv("GROVE_RECORD_FIRSTCALL"); mode != "" {
		firstDecode(t, mode)
		return
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"scan", "json"} {
		cmd := exec.Command(exe, "-test.run=^TestFirstDecodeCost$", "-test.v")
		cmd.Env = append(os.Environ(), "GROVE_RECORD_FIRSTCALL="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "first ") {
				t.Log(strings.TrimSpace(l))
			}
		}
	}
}

func firstDecode(t *testing.T, mode string) {
	eb, err := os.ReadFile("testdata/records/entry-example.json")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile("testdata/records/manifest-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var e Entry
	var m Manifest
	t0 := time.Now()
	if mode == "json" {
		err = json.Unmarshal(mb, &m)
	} else {
		m, err = DecodeManifest(mb)
	}
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if mode == "json" {
		err = json.Unmarshal(eb, &e)
	} else {
		e, err = DecodeEntry(eb)
	}
	if err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	t.Logf("%s: first manifest %v, first entry %v", mode, t1.Sub(t0), t2.Sub(t1))
}
