// Package depinfo reads the Makefile-style dep-info files rustc writes
// (--emit=dep-info): the source files a compile read and the environment
// variables it looked at through env! and option_env!.
package depinfo

import (
	"fmt"
	"strings"
)

// EnvDep is one `# env-dep:NAME[=VALUE]` line. Set is false when the
// variable was unset at compile time (option_env! returned None).
type EnvDep struct {
	Name  string
	Value string
	Set   bool
}

// Info is the content of one dep-info file.
type Info struct {
	Files []string // as written: relative to rustc's cwd, or absolute
	Env   []EnvDep
}

// Parse reads dep-info text. Every rule lists the same prerequisites; the
// first rule's are taken, in order, with duplicates removed.
func Parse(text string) (*Info, error) {
	info := &Info{}
	seen := map[string]bool{}
	haveRule := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "# env-dep:"):
			kv := line[len("# env-dep:"):]
			name, val, set := strings.Cut(kv, "=")
			info.Env = append(info.Env, EnvDep{Name: name, Value: unescapeEnv(val), Set: set})
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		default:
			target, deps, ok := cutRule(line)
			if !ok {
				return nil, fmt.Errorf("dep-info: malformed line %q", line)
			}
			_ = target
			if haveRule {
				continue
			}
			haveRule = true
			for _, d := range splitEscaped(deps) {
				if !seen[d] {
					seen[d] = true
					info.Files = append(info.Files, d)
				}
			}
		}
	}
	return info, nil
}

// cutRule splits "target: deps" at the first unescaped ": ".
func cutRule(line string) (target, deps string, ok bool) {
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' {
			i++
			continue
		}
		if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ') {
			return line[:i], strings.TrimPrefix(line[i+1:], " "), true
		}
	}
	return "", "", false
}

// splitEscaped splits on spaces not preceded by a backslash.
func splitEscaped(s string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == ' ' {
			b.WriteByte(' ')
			i++
			continue
		}
		if c == ' ' {
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteByte(c)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// unescapeEnv undoes rustc's escaping of env-dep values (\\ and \n).
func unescapeEnv(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
