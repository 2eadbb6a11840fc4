package record

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func hexKey(i int) string { return fmt.Sprintf("%064x", i) }

func TestKeyIndexMerge(t *testing.T) {
	a, b, c := KeyRef{NSManifest, hexKey(1)}, KeyRef{NSManifest, hexKey(2)}, KeyRef{NSRunManifest, hexKey(1)}
	for _, tc := range []struct {
		name       string
		old, newer []KeyRef
		want       []KeyRef
	}{
		{"into empty", nil, []KeyRef{a, b}, []KeyRef{a, b}},
		{"newer first", []KeyRef{a}, []KeyRef{b}, []KeyRef{b, a}},
		{"a key once, at its newest place", []KeyRef{a, b}, []KeyRef{b}, []KeyRef{b, a}},
		{"duplicates within newer", nil, []KeyRef{a, a, b}, []KeyRef{a, b}},
		{"same key in two namespaces is two keys", []KeyRef{a}, []KeyRef{c}, []KeyRef{c, a}},
		{"nothing new", []KeyRef{a, b}, nil, []KeyRef{a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := KeyIndex{Keys: tc.old}
			x.Merge(tc.newer)
			if !reflect.DeepEqual(x.Keys, tc.want) {
				t.Errorf("Merge = %v, want %v", x.Keys, tc.want)
			}
		})
	}
	t.Run("bounded, the oldest dropped", func(t *testing.T) {
		var old []KeyRef
		for i := range MaxIndexKeys {
			old = append(old, KeyRef{NSManifest, hexKey(i)})
		}
		x := KeyIndex{Keys: old}
		x.Merge([]KeyRef{{NSRunManifest, hexKey(7)}})
		if len(x.Keys) != MaxIndexKeys {
			t.Fatalf("%d keys, want %d", len(x.Keys), MaxIndexKeys)
		}
		if x.Keys[0].NS != NSRunManifest || x.Keys[MaxIndexKeys-1] != old[MaxIndexKeys-2] {
			t.Errorf("kept %v … %v", x.Keys[0], x.Keys[MaxIndexKeys-1])
		}
	})
}

func TestDecodeKeyIndex(t *testing.T) {
	k := hexKey(0xabcdef)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"manifest and run manifest", `{"keys":[{"ns":"manifest","key":"` + k + `"},{"ns":"run-manifest","key":"` + k + `"}]}`, true},
		{"empty list", `{"keys":[]}`, true},
		{"null", `null`, false},
		{"no keys", `{}`, false},
		{"not JSON", `{"keys":[`, false},
		{"entry namespace", `{"keys":[{"ns":"entry","key":"` + k + `"}]}`, false},
		{"blob namespace", `{"keys":[{"ns":"blob","key":"` + k + `"}]}`, false},
		{"path as key", `{"keys":[{"ns":"manifest","key":"../../etc/passwd"}]}`, false},
		{"upper-case key", `{"keys":[{"ns":"manifest","key":"` + strings.ToUpper(k) + `"}]}`, false},
		{"empty key", `{"keys":[{"ns":"manifest","key":""}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeKeyIndex([]byte(tc.in))
			if tc.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrCorrupt) {
				t.Errorf("= %v, want ErrCorrupt", err)
			}
			if err2 := Check(NSIndex, []byte(tc.in)); (err2 == nil) != (err == nil) {
				t.Errorf("Check disagrees with DecodeKeyIndex: %v vs %v", err2, err)
			}
		})
	}
	t.Run("too many keys", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"keys":[`)
		for i := range MaxIndexKeys + 1 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"ns":"manifest","key":"%s"}`, hexKey(i))
		}
		b.WriteString(`]}`)
		if _, err := DecodeKeyIndex([]byte(b.String())); !errors.Is(err, ErrCorrupt) {
			t.Errorf("= %v, want ErrCorrupt", err)
		}
	})
}
