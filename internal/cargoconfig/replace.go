package cargoconfig

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// ReplacedMark starts the comment Replace leaves on the line of a value it
// replaced, followed by the old value exactly as it was written:
//
//	rustc-wrapper = "grove" # grove off restores: "sccache"
//
// The record lives in the config itself, next to the key it is about: it
// survives anything that keeps the setting (a commit of the file, another
// clone, a reinstall of grove), the user sees it where they look, and it
// goes away with the key if they delete the line.
const ReplacedMark = "# grove off restores: "

// Replace sets table.key = value like SetString. When the key held another
// string, its old value (its exact bytes, or the value quoted if it spanned
// lines) is kept in a ReplacedMark comment on the same line, for Restore.
// old is that value ("" when nothing was replaced).
func Replace(path, table, key, value string) (changed bool, old string, err error) {
	data, mode, err := readForEdit(path)
	if err != nil {
		return false, "", err
	}
	d, m, err := parse(path, data)
	if err != nil {
		return false, "", err
	}
	target := splitKey(table, key)
	e, err := d.find(target)
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", path, err)
	}
	if e == nil || e.kind != unstable.String || e.value == value {
		changed, err := SetString(path, table, key, value)
		return changed, "", err
	}
	raw := string(data[e.valStart:e.valEnd])
	if strings.ContainsAny(raw, "\r\n") {
		raw = quote(e.value)
	}
	out := splice(data, e.valStart, e.valEnd, quote(value)+" "+ReplacedMark+raw)
	want := cloneMap(m)
	setPath(want, target, value)
	if err := verify(path, out, want); err != nil {
		return false, "", err
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return false, "", err
	}
	return true, e.value, nil
}

// Restore undoes Replace: if table.key still holds value, the value
// recorded by Replace is put back byte for byte (with any comment the user
// had on that line), or, with no record, the key is removed as Remove does.
// A key holding anything else is the user's and is left alone. restored is
// the value put back ("" when the key was removed or left).
func Restore(path, table, key, value string) (changed bool, restored string, err error) {
	data, mode, err := readForEdit(path)
	if err != nil || data == nil {
		return false, "", err
	}
	d, m, err := parse(path, data)
	if err != nil {
		return false, "", err
	}
	target := splitKey(table, key)
	e, err := d.find(target)
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", path, err)
	}
	if e == nil || e.kind != unstable.String || e.value != value {
		return false, "", nil
	}
	eol := e.lineEnd
	for eol > e.valEnd && (data[eol-1] == '\n' || data[eol-1] == '\r') {
		eol--
	}
	tail := data[e.valEnd:eol]
	rest, marked := bytes.CutPrefix(bytes.TrimLeft(tail, " \t"), []byte(ReplacedMark))
	if !marked {
		changed, err := Remove(path, table, key)
		return changed, "", err
	}
	old, n, ok := leadingString(rest)
	if !ok {
		return false, "", fmt.Errorf("%s: %s.%s: the value after %q is not a TOML string; fix it by hand", path, table, key, strings.TrimSpace(ReplacedMark))
	}
	out := splice(data, e.valStart, eol, string(rest[:n])+string(rest[n:]))
	want := cloneMap(m)
	setPath(want, target, old)
	if err := verify(path, out, want); err != nil {
		return false, "", err
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return false, "", err
	}
	return true, old, nil
}

// leadingString parses the TOML string at the start of b (anything may
// follow it on the line, such as a comment) and returns its value and its
// length in bytes.
func leadingString(b []byte) (value string, n int, ok bool) {
	const prefix = "x = "
	doc := append([]byte(prefix), b...)
	var p unstable.Parser
	p.Reset(doc)
	if !p.NextExpression() {
		return "", 0, false
	}
	v := p.Expression().Value()
	if v == nil || v.Kind != unstable.String || p.Error() != nil {
		return "", 0, false
	}
	end := int(v.Raw.Offset+v.Raw.Length) - len(prefix)
	if end <= 0 || end > len(b) {
		return "", 0, false
	}
	return string(v.Data), end, true
}
