package record

import (
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the record decoders the wrapper and
// `grove verify` use. Nothing may panic; an entry that validates must hold
// exactly the outputs asked for, each a plain file name with a digest; the
// hit path's decoders must agree with encoding/json (agree).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"crate":"x","outputs":[{"name":"libx-1.rlib","digest":"`+strings.Repeat("a", 64)+`","size":3,"mtime_ns":1}],"depinfo":"x","depinfo_name":"x-1.d"}`), "libx-1.rlib")
	f.Add([]byte(`{}`), "x")
	f.Add([]byte(`null`), "x")
	f.Add([]byte(`{"externs":["libx-1.rlib"]}`), "x")
	for _, b := range seedRecords(f) {
		f.Add(b, "x")
	}
	f.Fuzz(func(t *testing.T, b []byte, want string) {
		agree(t, b)
		for _, k := range Kinds() {
			_ = Check(k.NS, b)
		}
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		if e.Validate([]string{want}, "x-1.d") != nil {
			return
		}
		if len(e.Outputs) != 1 || e.Outputs[0].Name != want || !plainName(want) || !isDigest(string(e.Outputs[0].Digest)) {
			t.Fatalf("entry validated for %q but holds %+v", want, e.Outputs)
		}
	})
}
