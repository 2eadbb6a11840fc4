package record

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// agree checks that the hit path's decoders give exactly what
// json.Unmarshal gives for b: the same value, or both an error.
func agree(t *testing.T, b []byte) {
	t.Helper()
	var we Entry
	werr := json.Unmarshal(b, &we)
	ge, gerr := unmarshalEntry(b)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(we, ge) {
		t.Fatalf("entry %q:\njson.Unmarshal %#v, %v\nunmarshalEntry %#v, %v", b, we, werr, ge, gerr)
	}
	var wm Manifest
	werr = json.Unmarshal(b, &wm)
	gm, gerr := unmarshalManifest(b)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(wm, gm) {
		t.Fatalf("manifest %q:\njson.Unmarshal %#v, %v\nunmarshalManifest %#v, %v", b, wm, werr, gm, gerr)
	}
	var wr Rustc
	werr = json.Unmarshal(b, &wr)
	gr, gerr := unmarshalRustc(b)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(wr, gr) {
		t.Fatalf("rustc %q:\njson.Unmarshal %#v, %v\nunmarshalRustc %#v, %v", b, wr, werr, gr, gerr)
	}
	wl, werr := jsonDecodeLib(b)
	gl, gerr := DecodeLib(b)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(wl, gl) {
		t.Fatalf("lib %q:\nencoding/json %#v, %v\nDecodeLib %#v, %v", b, wl, werr, gl, gerr)
	}
}

// jsonDecodeLib is DecodeLib as it was before the scanner: encoding/json
// alone.
func jsonDecodeLib(b []byte) (Lib, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Lib{}, err
	}
	if _, ok := raw["externs"]; !ok {
		return Lib{}, errors.New("lib record without externs")
	}
	var l Lib
	err := json.Unmarshal(b, &l)
	return l, err
}

// seedRecords are records real builds wrote (testdata/records: the
// example workspace and the corpus), and hand-made ones at the edges of
// the canonical form.
func seedRecords(t testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/records/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in testdata: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	d := strings.Repeat("a", 64)
	for _, s := range []string{
		`{}`, `null`, `[]`, `""`, `{"crate":null}`, `{"outputs":null}`, `{"outputs":[]}`,
		`{"Crate":"x"}`, `{"crate":"x","crate":"y"}`, `{"crate":"x","CRATE":"y"}`, `{"unknown":1}`,
		`{"crate":"\u00e9\ud83d\ude00 \u003c\/\"\\\b\f\n\r\t"}`, `{"crate":"\ud800"}`, `{"crate":"` + "\xff" + `"}`,
		`{"crate":"x"} `, `{"crate":"x"} x`, `{"crate":"x",}`, ` { "crate" : "x" } `,
		`{"outputs":[{"name":"a","digest":"` + d + `","size":1,"mtime_ns":-1}],"depinfo":"x","depinfo_name":"a.d","compile_ms":0}`,
		`{"outputs":[{"size":1.0}]}`, `{"outputs":[{"size":1e3}]}`, `{"outputs":[{"size":01}]}`, `{"outputs":[{"size":-0}]}`,
		`{"outputs":[{"size":9223372036854775807}]}`, `{"outputs":[{"size":9223372036854775808}]}`, `{"outputs":[{"size":"1"}]}`,
		`{"candidates":[]}`, `{"candidates":null}`, `{"candidates":[{"entry":"abcdef01","inputs":[{"p":"a","d":"absent"}]}]}`,
		`{"candidates":[{"entry":"abcdef01","inputs":[],"env":[{"n":"A","v":"b","s":true,"raw":false}],"pins":{"a":"b","a":"c"}}]}`,
		`{"candidates":[{"entry":"abcdef01","inputs":null,"env":null}]}`, `{"candidates":[{"env":[null]}]}`, `{"crate":nul}`, `{"crate":nullx}`, `{"candidates":[{"env":[{"s":"true"}]}]}`, `{"candidates":[{"pins":{}}]}`, `{"candidates":[{"pins":null}]}`,
		`{"candidates":[{"pins":{"a":1}}]}`,
		`{"externs":null}`, `{"externs":[]}`, `{"externs":["a",null]}`, `{"Externs":["a"]}`, `{"externs":["a"],"externs":["b"]}`,
		`{"externs":["a"],"x":1}`, `{"externs":[1]}`, `{"version":"v","sysroot":"/s","sysroot_digest":"d"}`, `{"version":null,"sysroot":"s"}`, `{"candidates":[{"inputs":[{"p":"a","d":"b","x":1}]}]}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

func TestDecodersAgreeWithEncodingJSON(t *testing.T) {
	for _, b := range seedRecords(t) {
		agree(t, b)
	}
}

// TestRealRecordsScan: the records grove writes are all in the form the
// scanner reads; a change to what grove writes that leaves it would make
// every hit fall back to encoding/json.
func TestRealRecordsScan(t *testing.T) {
	files, _ := filepath.Glob("testdata/records/*.json")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var err error
		switch base := filepath.Base(f); {
		case strings.HasPrefix(base, "entry"):
			_, err = scanEntry(b)
		case strings.HasPrefix(base, "manifest"):
			_, err = scanManifest(b)
		case strings.HasPrefix(base, "lib"):
			_, err = scanLib(b)
		case strings.HasPrefix(base, "rustc"):
			_, err = scanRustc(b)
		default:
			t.Fatalf("%s: name a record entry-*, manifest-*, lib-* or rustc-*", f)
		}
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	e := Entry{Crate: "c\u2028<&>\x01é", Outputs: []Output{{Name: "a", Digest: "d", Size: 1, MtimeNs: -5}}, Stdout: "o", Origin: "x"}
	b, _ := json.Marshal(&e)
	if got, err := scanEntry(b); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("scanEntry(%s) = %#v, %v", b, got, err)
	}
	m := Manifest{Candidates: []Candidate{{Entry: "k", Inputs: []Input{{"p", "d"}}, Env: []Env{{"n", "v", true, true}}, Pins: map[string]string{"a": "b"}}}}
	b, _ = json.Marshal(&m)
	if got, err := scanManifest(b); err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("scanManifest(%s) = %#v, %v", b, got, err)
	}
}
