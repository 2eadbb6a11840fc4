package key

import (
	"path/filepath"
	"sort"
	"strings"
)

// Normalizer replaces the absolute paths that differ between worktrees,
// machines and users (target dir, workspace, CARGO_HOME, sysroot) by fixed
// placeholders, so that the same unit built in two worktrees gets one key,
// and restores them with this tree's paths.
//
// A path is written differently in each place grove rewrites: raw in
// arguments and environment values; in a dep-info rule raw before the
// colon (the files rustc wrote) and with spaces escaped as `\ ` after it
// (the files it read, also in the one-file rules and in nightly's
// `# checksum:` lines); with `\` and newlines escaped in `# env-dep:`
// comments; JSON-escaped in rustc's diagnostics and artifact lines. A
// normalizer must replace the form that place uses, or a worktree whose
// path has a space, a quote or a backslash keeps the other worktree's path
// (the dep-info of worktree "wt B" naming "wt\ A"). So every text kind has
// its own pair of methods: Normalize/Denormalize (raw), the DepInfo pair,
// and the Stream pair (rustc's stderr/stdout).
//
// Replacement is textual, longest path first, so that a target dir inside
// the workspace is recognized as the target dir, and only at path
// boundaries: "/x/wt" never matches inside "/x/wt2" or "/y/x/wt". An ANSI
// color sequence right before a path (rustc's colored diagnostics: "-->
// ESC[0m/x/wt/...") is a boundary.
type Normalizer struct {
	pairs []pair // sorted by len(path) descending
}

type pair struct{ path, placeholder string }

// placeholderPrefix starts every placeholder; text without it has nothing
// to denormalize.
const placeholderPrefix = "{{grove:"

// Placeholder names used in stored keys, dep-info and diagnostics.
const (
	Target    = "{{grove:target}}"
	Cwd       = "{{grove:cwd}}"
	CargoHome = "{{grove:cargo-home}}"
	Sysroot   = "{{grove:sysroot}}"
	RustupDir = "{{grove:rustup-home}}"
)

// NewNormalizer builds a normalizer from placeholder → absolute path.
// Empty or too-short paths (such as "/") are ignored: replacing them would
// mangle unrelated text.
func NewNormalizer(paths map[string]string) *Normalizer {
	n := &Normalizer{}
	for ph, p := range paths {
		p = filepath.Clean(p)
		if len(p) < 4 || !filepath.IsAbs(p) {
			continue
		}
		n.pairs = append(n.pairs, pair{p, ph})
	}
	sort.Slice(n.pairs, func(i, j int) bool {
		if len(n.pairs[i].path) != len(n.pairs[j].path) {
			return len(n.pairs[i].path) > len(n.pairs[j].path)
		}
		return n.pairs[i].placeholder < n.pairs[j].placeholder
	})
	return n
}

// Paths returns placeholder → absolute path for every path this normalizer
// replaces.
func (n *Normalizer) Paths() map[string]string {
	m := make(map[string]string, len(n.pairs))
	for _, p := range n.pairs {
		m[p.placeholder] = p.path
	}
	return m
}

// Normalize replaces known absolute paths in s (raw text: an argument, an
// environment value) by placeholders.
func (n *Normalizer) Normalize(s string) string { return n.normalize(s, rawForm) }

// Denormalize replaces placeholders in raw text by this tree's paths.
func (n *Normalizer) Denormalize(s string) string { return n.denormalize(s, rawForm) }

// NormalizeDepInfo normalizes the text of a rustc dep-info file.
func (n *Normalizer) NormalizeDepInfo(text string) string {
	return mapLines(text, func(l string) string { return depInfoLine(l, n.normalize) })
}

// DenormalizeDepInfo writes a stored dep-info text with this tree's paths.
func (n *Normalizer) DenormalizeDepInfo(text string) string {
	if !strings.Contains(text, placeholderPrefix) {
		return text
	}
	return mapLines(text, func(l string) string { return depInfoLine(l, n.denormalize) })
}

// NormalizeStream normalizes rustc's stdout or stderr: JSON lines
// (diagnostics, artifact notifications) and plain text lines.
func (n *Normalizer) NormalizeStream(text string) string {
	return mapLines(text, func(l string) string { return n.normalize(l, streamForm(l)) })
}

// DenormalizeStream writes stored rustc output with this tree's paths.
func (n *Normalizer) DenormalizeStream(text string) string {
	if !strings.Contains(text, placeholderPrefix) {
		return text
	}
	return mapLines(text, func(l string) string { return n.denormalize(l, streamForm(l)) })
}

func (n *Normalizer) normalize(s string, form func(string) string) string {
	for _, p := range n.pairs {
		s = replacePath(s, form(p.path), p.placeholder)
	}
	return s
}

func (n *Normalizer) denormalize(s string, form func(string) string) string {
	if !strings.Contains(s, placeholderPrefix) {
		return s
	}
	for _, p := range n.pairs {
		s = strings.ReplaceAll(s, p.placeholder, form(p.path))
	}
	return s
}

// depInfoLine rewrites one dep-info line with f, each part in the escaping
// rustc gives it: `TARGET: DEP DEP` has its targets (the outputs) as they
// are and its prerequisites with spaces escaped (`\ `); a one-file rule
// `DEP:` and a `# checksum:... DEP` line are escaped the same way; an
// `# env-dep:NAME=VALUE` comment has `\` and newlines escaped. Cargo and
// package depinfo split a rule at its first ": ", as done here.
func depInfoLine(line string, f func(string, func(string) string) string) string {
	switch {
	case strings.HasPrefix(line, "# env-dep:"):
		return f(line, depEnvForm)
	case strings.HasPrefix(line, "# checksum:"):
		return f(line, depRuleForm)
	case strings.HasPrefix(line, "#"):
		return f(line, rawForm)
	}
	if i := strings.Index(line, ": "); i >= 0 {
		return f(line[:i], rawForm) + f(line[i:], depRuleForm)
	}
	return f(line, depRuleForm)
}

// streamForm picks the escaping of one line of rustc output: Cargo asks for
// JSON, and every JSON line is an object. The choice must be the same before
// and after normalizing: a line that starts with a placeholder started with
// a path (always absolute), so it is plain text, not JSON.
func streamForm(line string) func(string) string {
	if strings.HasPrefix(line, "{") && !strings.HasPrefix(line, placeholderPrefix) {
		return jsonForm
	}
	return rawForm
}

func rawForm(p string) string { return p }

func depRuleForm(p string) string { return strings.ReplaceAll(p, " ", `\ `) }

func depEnvForm(p string) string {
	p = strings.ReplaceAll(p, `\`, `\\`)
	p = strings.ReplaceAll(p, "\n", `\n`)
	return strings.ReplaceAll(p, "\r", `\r`)
}

// jsonForm escapes p as serde_json (rustc's JSON emitter) writes it inside
// a string: quote, backslash and control characters; everything else,
// non-ASCII included, as is.
func jsonForm(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// replacePath replaces old by repl where old stands as a whole path: not
// preceded by a file-name character or a slash (it would be the tail of a
// longer path) and not followed by a file-name character (it would be a
// prefix of a sibling's name, "/x/wt" of "/x/wt2").
func replacePath(s, old, repl string) string {
	if old == "" || !strings.Contains(s, old) {
		return s
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		j += i
		end := j + len(old)
		if (j == 0 || !(nameByte(s[j-1]) || s[j-1] == '/') || afterSGR(s[:j]) || afterShortFlag(s[:j])) && (end == len(s) || !nameByte(s[end])) {
			b.WriteString(s[i:j])
			b.WriteString(repl)
			i = end
			continue
		}
		b.WriteString(s[i : j+1])
		i = j + 1
	}
	b.WriteString(s[i:])
	return b.String()
}

// afterShortFlag reports whether s ends with a short option that takes a
// path glued to it (-L/abs/dir, -I/abs in a link argument): "-" and one
// letter, at the start or after a separator.
func afterShortFlag(s string) bool {
	n := len(s)
	if n < 2 || s[n-2] != '-' {
		return false
	}
	c := s[n-1]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	return n == 2 || !nameByte(s[n-3]) && s[n-3] != '/'
}

// afterSGR reports whether s ends with an ANSI color sequence (ESC [ n;n m),
// raw or JSON-escaped (\u001b): the "m" that ends it is not part of a name.
func afterSGR(s string) bool {
	if !strings.HasSuffix(s, "m") {
		return false
	}
	s = strings.TrimRight(s[:len(s)-1], "0123456789;")
	if !strings.HasSuffix(s, "[") {
		return false
	}
	s = s[:len(s)-1]
	return strings.HasSuffix(s, "\x1b") || strings.HasSuffix(s, `\u001b`) || strings.HasSuffix(s, `\u001B`)
}

// nameByte reports whether c continues a file name: letters, digits, the
// punctuation common in names, and any byte of a non-ASCII character.
//
// Bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5-0xFF) end a name: rustc
// ends every string in crate metadata with 0xC1, so a metadata string that
// is exactly a tree path must be found by pin.go.
func nameByte(c byte) bool {
	switch {
	case c == 0xC0 || c == 0xC1 || c >= 0xF5:
		return false
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("_.-+~", c) >= 0
}

// mapLines applies f to every line of text, keeping the line breaks.
func mapLines(text string, f func(string) string) string {
	if !strings.Contains(text, "\n") {
		return f(text)
	}
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body := strings.TrimSuffix(l, "\n")
		lines[i] = f(body) + l[len(body):]
	}
	return strings.Join(lines, "")
}
