package stats

import (
	"encoding/json"
	"reflect"
	"testing"
)

// fill sets every field of the struct v points to, recursively, to a
// non-zero value built from s (and n for numbers), so that a field the
// hand-written encoder leaves out shows in the comparison with
// json.Marshal.
func fill(t *testing.T, v reflect.Value, s string, n int64) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.String:
			f.SetString(s + name)
		case reflect.Int, reflect.Int64:
			f.SetInt(n + int64(i))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			el := reflect.New(f.Type().Elem()).Elem()
			if el.Kind() != reflect.Struct {
				t.Fatalf("field %s: a slice of %s: teach fill and appendEvent", name, el.Kind())
			}
			fill(t, el, s, n)
			f.Set(reflect.Append(reflect.MakeSlice(f.Type(), 0, 2), el, el))
		default:
			t.Fatalf("field %s: kind %s: teach fill and appendEvent", name, f.Kind())
		}
	}
}

// The hand-written encoder writes exactly what json.Marshal writes, for
// every field of Event (filled by reflection: a new field not encoded
// fails here), for the zero event, and for strings that need escaping.
func TestAppendEventMatchesMarshal(t *testing.T) {
	var full Event
	fill(t, reflect.ValueOf(&full).Elem(), "v-", 1796281339205)
	cases := map[string]Event{"full": full, "zero": {}, "negative": {Time: -1, Ms: -2, Us: -3, KeyUs: -4}}
	for _, s := range []string{
		"", "plain/path-1_2.rs", `quote " and \ backslash`, "<html> & </html>",
		"tab\tnewline\nnul\x00 del\x7f", "ünïcödé 日本", "bad utf8 \xff\xfe", "sep \u2028 \u2029",
	} {
		cases["string "+s] = Event{Crate: s, Kind: s, Dir: s, Why: []Change{{Name: s, Old: s}}}
	}
	for name, ev := range cases {
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendEvent(nil, &ev); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	ev := Event{Time: 1796281349965, Build: 15152, Crate: "alpha", Kind: Hit, Ms: 1, Us: 1996, KeyUs: 578,
		LookupUs: 401, RestoreUs: 831, CPUUs: 3622, SavedMs: 244, Bytes: 146371, SharedBytes: 141924,
		Key: "ddf5b6bfa8662c7c8acbe0c43f3be735fa39dd4a5d8604ab2a03b5963f3bb7ce", Dir: "/work/bench/hitcost/wts/base-1796281349615440728"}
	b.Run("marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(ev)
		}
	})
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = appendEvent(buf[:0], &ev)
		}
	})
}
