package record

import (
	"encoding/json"
	"strings"
	"testing"
)

// Issue 7 case 14: an entry that is valid JSON but empty ({} or null)
// restored nothing and counted as a hit. An entry serves an invocation only
// when it holds exactly the outputs that invocation writes.
func TestEntryValidate(t *testing.T) {
	const d = "aa00000000000000000000000000000000000000000000000000000000000001"
	good := func() *Entry {
		return &Entry{
			Crate:   "app",
			Outputs: []Output{{Name: "libapp-1.rlib", Digest: d, Size: 10}, {Name: "libapp-1.rmeta", Digest: d, Size: 3}},
			DepInfo: "x: y\n",
			DepName: "app-1.d",
		}
	}
	want := []string{"libapp-1.rmeta", "libapp-1.rlib"}
	cases := []struct {
		name  string
		json  string // decoded instead of good() when set
		edit  func(e *Entry)
		want  []string
		error string // what Validate's error names; "" means valid
		check bool   // Check (no invocation at hand) finds it too
	}{
		{name: "complete", edit: func(*Entry) {}},
		{name: "{}", json: `{}`, error: "no outputs", check: true},
		{name: "null", json: `null`, error: "no outputs", check: true},
		{name: "missing rlib", edit: func(e *Entry) { e.Outputs = e.Outputs[1:] }, error: "libapp-1.rlib"},
		{name: "extra output", edit: func(e *Entry) {
			e.Outputs = append(e.Outputs, Output{Name: "app-1", Digest: d})
		}, error: "app-1"},
		{name: "duplicate output", edit: func(e *Entry) { e.Outputs[1].Name = "libapp-1.rlib" }, error: "twice", check: true},
		{name: "bad digest", edit: func(e *Entry) { e.Outputs[0].Digest = "../../etc" }, error: "digest", check: true},
		{name: "path as name", edit: func(e *Entry) { e.Outputs[0].Name = "../libapp-1.rlib" }, error: "not a file name", check: true},
		{name: "negative size", edit: func(e *Entry) { e.Outputs[0].Size = -1 }, error: "size", check: true},
		{name: "other dep-info", edit: func(e *Entry) { e.DepName = "other.d" }, error: "dep-info"},
		{name: "no dep-info text", edit: func(e *Entry) { e.DepInfo = "" }, error: "dep-info", check: true},
		{name: "binary", edit: func(e *Entry) { e.Outputs = []Output{{Name: "app-1", Digest: d, Size: 9}} }, want: []string{"app-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := good()
			if c.json != "" {
				e = &Entry{}
				if err := json.Unmarshal([]byte(c.json), e); err != nil {
					t.Fatal(err)
				}
			} else {
				c.edit(e)
			}
			w := want
			if c.want != nil {
				w = c.want
			}
			err := e.Validate(w, "app-1.d")
			switch {
			case c.error == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case c.error != "" && (err == nil || !strings.Contains(err.Error(), c.error)):
				t.Fatalf("Validate: %v, want an error naming %q", err, c.error)
			}
			// Check is what verify can say without the invocation.
			if cerr := e.Check(); (cerr != nil) != c.check {
				t.Errorf("Check: %v, want error %v", cerr, c.check)
			}
		})
	}
	var nilEntry *Entry
	if err := nilEntry.Validate(want, "app-1.d"); err == nil {
		t.Error("nil entry is valid")
	}
}

func TestDecodeLib(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"externs":["liba-1.rlib"]}`: true,
		`{"externs":null}`:            true, // an rlib without dependencies
		`{}`:                          false,
		`null`:                        false,
		`{"externs":[`:                false,
		`{"externs":"x"}`:             false,
	} {
		if _, err := DecodeLib([]byte(in)); (err == nil) != ok {
			t.Errorf("DecodeLib(%s): %v", in, err)
		}
	}
}
