// Package key builds cache keys from named components and explains how two
// keys differ.
//
// A key is the digest of an ordered list of (name, value) components. Values
// are either normalized strings (arguments, environment) or content digests
// (files). Keeping the components, not just the digest, is what lets
// `grove explain` say which input made a unit miss.
package key

import (
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/zeebo/blake3"
)

// Version changes whenever the meaning of a key changes, so that keys made
// by an older grove can never match.
const Version = "grove-key-1"

// Component is one named input of a key. Its stored form (kept for
// explain) is a record.Component, which converts to and from it.
type Component struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// Builder accumulates components in a fixed order.
type Builder struct {
	Components []Component
}

// Add appends one component.
func (b *Builder) Add(name, value string) {
	b.Components = append(b.Components, Component{name, value})
}

// Sum returns the hex digest of all components, length-prefixed so that no
// two different lists can produce the same byte stream.
func (b *Builder) Sum() string { return Sum(b.Components) }

// Sum returns the hex digest of components.
func Sum(cs []Component) string {
	h := blake3.New()
	var n [8]byte
	write := func(s string) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(Version)
	for _, c := range cs {
		write(c.Name)
		write(c.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Change is one difference between two component lists.
type Change struct {
	Name string `json:"name"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Diff lists the components that differ between old and new, by name.
// Components that repeat a name (e.g. several "arg" entries) are compared
// as multisets of values under that name.
func Diff(old, new []Component) []Change {
	group := func(cs []Component) (map[string][]string, []string) {
		m := map[string][]string{}
		var order []string
		for _, c := range cs {
			if _, ok := m[c.Name]; !ok {
				order = append(order, c.Name)
			}
			m[c.Name] = append(m[c.Name], c.Value)
		}
		return m, order
	}
	om, oorder := group(old)
	nm, norder := group(new)
	names := append(append([]string{}, oorder...), norder...)
	seen := map[string]bool{}
	var out []Change
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		ov, nv := om[name], nm[name]
		if strings.Join(ov, "\x00") == strings.Join(nv, "\x00") {
			continue
		}
		removed, added := multisetDiff(ov, nv)
		if len(removed) == 0 && len(added) == 0 {
			out = append(out, Change{Name: name, Old: "(order)", New: "(order changed)"})
			continue
		}
		out = append(out, Change{Name: name, Old: strings.Join(removed, " "), New: strings.Join(added, " ")})
	}
	return out
}

func multisetDiff(a, b []string) (removed, added []string) {
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for x, n := range count {
		for ; n > 0; n-- {
			removed = append(removed, x)
		}
		for ; n < 0; n++ {
			added = append(added, x)
		}
	}
	sort.Strings(removed)
	sort.Strings(added)
	return removed, added
}
