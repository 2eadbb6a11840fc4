// Package cargoconfig reads and minimally edits Cargo's configuration
// files (`.cargo/config.toml`).
//
// grove writes one or two keys into a file the user owns and may have
// commented carefully, so edits are textual and local: only the bytes of
// the key being set or removed change. The TOML is parsed with go-toml/v2
// before the edit (to refuse malformed files and to locate the key) and
// after it (to prove the result still parses and means exactly the old
// document plus the one change).
package cargoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/grove-rs/grove/internal/atomicfile"
	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// entry is one key/value expression of the document.
type entry struct {
	path      []string // full dotted path, table prefix included
	header    int      // index into doc.headers of the table it is in, -1 for top level
	lineStart int      // first byte of its line
	lineEnd   int      // one past its line's newline (or len(data))
	valStart  int      // value's raw bytes
	valEnd    int
	kind      unstable.Kind
	value     string // decoded value when kind is String
}

// header is one `[table]` or `[[array]]` line.
type header struct {
	path      []string
	array     bool
	lineStart int
	lineEnd   int
}

type doc struct {
	data    []byte
	entries []entry
	headers []header
}

// MalformedError reports a config file that is not valid TOML.
type MalformedError struct {
	Path string
	Err  error
}

func (e *MalformedError) Error() string {
	var de *toml.DecodeError
	if errors.As(e.Err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("%s is not valid TOML: line %d, column %d: %s", e.Path, row, col, de.Error())
	}
	return fmt.Sprintf("%s is not valid TOML: %v", e.Path, e.Err)
}
func (e *MalformedError) Unwrap() error { return e.Err }

func parse(path string, data []byte) (*doc, map[string]any, error) {
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		return nil, nil, &MalformedError{Path: path, Err: err}
	}
	d := &doc{data: data}
	var p unstable.Parser
	p.Reset(data)
	cur, curHeader := []string(nil), -1
	for p.NextExpression() {
		n := p.Expression()
		switch n.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys := keyParts(n.Key())
			off := int(n.Child().Raw.Offset)
			s, e := lineBounds(data, off, off)
			d.headers = append(d.headers, header{path: keys, array: n.Kind == unstable.ArrayTable, lineStart: s, lineEnd: e})
			cur, curHeader = keys, len(d.headers)-1
		case unstable.KeyValue:
			v := n.Value()
			full := append(append([]string(nil), cur...), keyParts(n.Key())...)
			start, end := int(n.Raw.Offset), int(n.Raw.Offset+n.Raw.Length)
			s, e := lineBounds(data, start, end)
			en := entry{path: full, header: curHeader, lineStart: s, lineEnd: e, kind: v.Kind}
			if v.Kind == unstable.String {
				en.valStart, en.valEnd = int(v.Raw.Offset), int(v.Raw.Offset+v.Raw.Length)
				en.value = string(v.Data)
			}
			d.entries = append(d.entries, en)
		}
	}
	if err := p.Error(); err != nil {
		return nil, nil, &MalformedError{Path: path, Err: err}
	}
	return d, m, nil
}

func keyParts(it unstable.Iterator) []string {
	var out []string
	for it.Next() {
		out = append(out, string(it.Node().Data))
	}
	return out
}

// lineBounds widens [start,end) to whole lines: from the first byte of
// start's line to one past the newline that ends end's line.
func lineBounds(data []byte, start, end int) (int, int) {
	s := bytes.LastIndexByte(data[:start], '\n') + 1
	e := bytes.IndexByte(data[end:], '\n')
	if e < 0 {
		return s, len(data)
	}
	return s, end + e + 1
}

func equalPath(a, b []string) bool { return reflect.DeepEqual(a, b) }

func hasPrefix(p, prefix []string) bool {
	return len(p) >= len(prefix) && equalPath(p[:len(prefix)], prefix)
}

// find returns the entry defining path, and an error when path is defined
// in a way a minimal edit cannot change (inside an inline table or array).
func (d *doc) find(path []string) (*entry, error) {
	for i := range d.entries {
		e := &d.entries[i]
		if equalPath(e.path, path) {
			return e, nil
		}
		if hasPrefix(path, e.path) && (e.kind == unstable.InlineTable || e.kind == unstable.Array) {
			return nil, fmt.Errorf("%s is defined as an inline value (%s = ...); edit it by hand", strings.Join(path, "."), strings.Join(e.path, "."))
		}
	}
	return nil, nil
}

func (d *doc) newline() string {
	if bytes.Contains(d.data, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// Get returns the string value of table.key in the file at path. A missing
// file or key is not an error: found is false.
func Get(path, table, key string) (value string, found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	d, _, err := parse(path, data)
	if err != nil {
		return "", false, err
	}
	e, err := d.find(splitKey(table, key))
	if err != nil || e == nil {
		return "", false, err
	}
	if e.kind != unstable.String {
		return "", true, fmt.Errorf("%s: %s.%s is not a string", path, table, key)
	}
	return e.value, true, nil
}

func splitKey(table, key string) []string {
	var p []string
	if table != "" {
		p = strings.Split(table, ".")
	}
	return append(p, key)
}

// SetString sets table.key = "value" in the TOML file at path, creating the
// file (and its directory) if needed. It changes only the value's bytes if
// the key exists, otherwise it adds one line to the existing table (or
// after the last dotted `table.x = ...` key at the top level), otherwise it
// appends a new `[table]` at the end. It reports whether the file changed.
func SetString(path, table, key, value string) (changed bool, err error) {
	data, mode, err := readForEdit(path)
	if err != nil {
		return false, err
	}
	d, m, err := parse(path, data)
	if err != nil {
		return false, err
	}
	target := splitKey(table, key)
	e, err := d.find(target)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	quoted := quote(value)
	var out []byte
	switch {
	case e != nil && e.kind == unstable.String && e.value == value:
		return false, nil
	case e != nil && e.kind == unstable.String:
		out = splice(data, e.valStart, e.valEnd, quoted)
	case e != nil:
		return false, fmt.Errorf("%s: %s is not a string; fix it by hand", path, strings.Join(target, "."))
	default:
		out = d.insert(target, quoted)
	}
	want := cloneMap(m)
	setPath(want, target, value)
	if err := verify(path, out, want); err != nil {
		return false, err
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return false, err
	}
	return true, nil
}

// insert adds a new key line for target, which the document lacks.
func (d *doc) insert(target []string, quoted string) []byte {
	nl := d.newline()
	tbl := target[:len(target)-1]
	// 1. An explicit [table] header: add after its last key.
	for hi, h := range d.headers {
		if h.array || !equalPath(h.path, tbl) {
			continue
		}
		pos := h.lineEnd
		for _, e := range d.entries {
			if e.header == hi {
				pos = e.lineEnd
			}
		}
		return insertLine(d.data, pos, formatKey(target[len(tbl):])+" = "+quoted, nl)
	}
	// 2. Dotted keys of the table defined under a parent (e.g. top-level
	// `build.jobs = 2`): add next to the last of them, in the same style.
	last := -1
	for i, e := range d.entries {
		if len(e.path) > len(tbl) && hasPrefix(e.path, tbl) && (e.header == -1 || len(d.headers[e.header].path) < len(tbl)) {
			last = i
		}
	}
	if last >= 0 {
		e := d.entries[last]
		var parent []string
		if e.header >= 0 {
			parent = d.headers[e.header].path
		}
		return insertLine(d.data, e.lineEnd, formatKey(target[len(parent):])+" = "+quoted, nl)
	}
	// 3. A new table at the end.
	var b bytes.Buffer
	b.Write(d.data)
	if len(d.data) > 0 {
		if !bytes.HasSuffix(d.data, []byte("\n")) {
			b.WriteString(nl)
		}
		b.WriteString(nl)
	}
	if len(tbl) == 0 {
		b.WriteString(formatKey(target) + " = " + quoted + nl)
	} else {
		b.WriteString("[" + formatKey(tbl) + "]" + nl + formatKey(target[len(tbl):]) + " = " + quoted + nl)
	}
	return b.Bytes()
}

func insertLine(data []byte, pos int, line, nl string) []byte {
	var b bytes.Buffer
	b.Write(data[:pos])
	if pos > 0 && data[pos-1] != '\n' {
		b.WriteString(nl)
	}
	b.WriteString(line + nl)
	b.Write(data[pos:])
	return b.Bytes()
}

func splice(data []byte, start, end int, repl string) []byte {
	out := make([]byte, 0, len(data)+len(repl))
	out = append(out, data[:start]...)
	out = append(out, repl...)
	return append(out, data[end:]...)
}

// Remove deletes the line defining table.key from the file at path. If
// that leaves the table's `[table]` header at the end of the file with
// nothing under it (no keys, no comments), the header goes too, with the
// blank lines before it: so Remove undoes SetString's append exactly. (An
// emptied table in the middle of the file keeps its header: it may have
// been the user's.)
// A file left with only whitespace is deleted, and so is its directory if
// that is then empty. A missing file or key is not an error.
func Remove(path, table, key string) (changed bool, err error) {
	data, mode, err := readForEdit(path)
	if err != nil {
		return false, err
	}
	if data == nil {
		return false, nil
	}
	d, m, err := parse(path, data)
	if err != nil {
		return false, err
	}
	target := splitKey(table, key)
	e, err := d.find(target)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if e == nil {
		return false, nil
	}
	start, end := e.lineStart, e.lineEnd
	if e.header >= 0 {
		h := d.headers[e.header]
		next := len(data)
		if e.header+1 < len(d.headers) {
			next = d.headers[e.header+1].lineStart
		}
		rest := append(append([]byte(nil), data[h.lineEnd:start]...), data[end:next]...)
		if equalPath(h.path, target[:len(target)-1]) && len(bytes.TrimSpace(rest)) == 0 {
			if next == len(data) {
				// Last table: drop it and the blank lines before it.
				start, end = h.lineStart, len(data)
				for start > 0 && isBlankLineBefore(data, start) {
					start = bytes.LastIndexByte(data[:start-1], '\n') + 1
				}
			}
		}
	}
	out := append(append([]byte(nil), data[:start]...), data[end:]...)
	want := cloneMap(m)
	deletePath(want, target)
	if err := verify(path, out, want); err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(out)) == 0 {
		if err := os.Remove(path); err != nil {
			return false, fmt.Errorf("remove %s: %w", path, err)
		}
		_ = os.Remove(filepath.Dir(path)) // only succeeds when empty
		return true, nil
	}
	if err := writeAtomic(path, out, mode); err != nil {
		return false, err
	}
	return true, nil
}

// isBlankLineBefore reports whether the line that ends just before pos is
// empty (only whitespace).
func isBlankLineBefore(data []byte, pos int) bool {
	if pos == 0 || data[pos-1] != '\n' {
		return false
	}
	s := bytes.LastIndexByte(data[:pos-1], '\n') + 1
	return len(bytes.TrimSpace(data[s:pos])) == 0
}

// readForEdit returns the file's bytes and mode; nil data and mode 0644
// for a missing file.
func readForEdit(path string) ([]byte, fs.FileMode, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o644, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return data, st.Mode().Perm(), nil
}

// verify checks that out parses and decodes to want, so an edit can never
// change anything but the one key.
func verify(path string, out []byte, want map[string]any) error {
	var got map[string]any
	if err := toml.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("edit of %s would produce invalid TOML (not written): %w", path, err)
	}
	if !reflect.DeepEqual(prune(got), prune(want)) {
		return fmt.Errorf("edit of %s would change more than one key (not written)", path)
	}
	return nil
}

// writeAtomic replaces path with data via a temp file and rename, so a
// reader (a concurrent cargo) sees the old or the new file, never a
// partial one. A symlinked config is written through to its target.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := atomicfile.WriteDurable(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// quote renders s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatKey renders a dotted key, quoting parts that are not bare keys.
func formatKey(parts []string) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		bare := p != ""
		for _, c := range []byte(p) {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				bare = false
			}
		}
		if bare {
			out[i] = p
		} else {
			out[i] = quote(p)
		}
	}
	return strings.Join(out, ".")
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = cloneMap(sub)
		}
		out[k] = v
	}
	return out
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

func deletePath(m map[string]any, path []string) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = sub
	}
	delete(m, path[len(path)-1])
}

// prune drops empty tables, which an edit may legitimately add or remove
// together with their only key.
func prune(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			sub = prune(sub)
			if len(sub) == 0 {
				continue
			}
			v = sub
		}
		out[k] = v
	}
	return out
}
