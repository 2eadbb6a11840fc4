package record

import (
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The wrapper is a new process for every unit, and encoding/json builds its
// reflective decoder for a type on first use: ~0.4 ms of a hit went to that
// for the entry and the manifest alone. scanner reads the records a hit
// decodes in the form json.Marshal writes them, by hand. It is not a JSON
// parser: anything outside that form (an unknown or differently-cased
// field, a field twice, null, a fraction, a surrogate escape, invalid
// UTF-8, ...) makes it give up with errFallback, and the caller decodes the
// same bytes with encoding/json. So its result is always exactly
// json.Unmarshal's (differential_test.go and FuzzDecode hold it to that),
// and the validation after it stays the one in validate.go.

// errFallback says the bytes are outside the form scanner reads.
var errFallback = errors.New("record: not in the canonical form")

type scanner struct {
	b   []byte
	i   int
	err error // the first failure; every method is a no-op after it
}

func (s *scanner) fail() { s.err = errFallback }

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.err != nil || s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) {
	if s.peek() != c {
		s.fail()
		return
	}
	s.i++
}

// end checks that only white space is left.
func (s *scanner) end() {
	s.ws()
	if s.i != len(s.b) {
		s.fail()
	}
}

// object calls field for each key of an object, with the scanner at the
// key's value; field must consume it.
func (s *scanner) object(field func(key string)) {
	s.expect('{')
	if s.peek() == '}' {
		s.i++
		return
	}
	for s.err == nil {
		k := s.str()
		s.expect(':')
		if s.err != nil {
			return
		}
		field(k)
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return
		default:
			s.fail()
		}
	}
}

// array calls elem for each element of an array; elem must consume it.
func (s *scanner) array(elem func()) {
	s.expect('[')
	if s.peek() == ']' {
		s.i++
		return
	}
	for s.err == nil {
		elem()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return
		default:
			s.fail()
		}
	}
}

// str reads a string. Escapes are those json.Marshal writes, and \u of
// anything but a surrogate; the text must be valid UTF-8 (encoding/json
// would replace what is not).
func (s *scanner) str() string {
	s.expect('"')
	if s.err != nil {
		return ""
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			seg := s.b[start:s.i]
			s.i++
			if !utf8.Valid(seg) {
				s.fail()
				return ""
			}
			return string(seg)
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			s.fail()
			return ""
		}
		s.i++
	}
	s.fail()
	return ""
}

// escaped finishes a string that has an escape, from its first byte start.
func (s *scanner) escaped(start int) string {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				s.fail()
				return ""
			}
			return string(out)
		case c < 0x20:
			s.fail()
			return ""
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if s.i+4 > len(s.b) {
				s.fail()
				return ""
			}
			r, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
			if err != nil || r >= 0xD800 && r < 0xE000 {
				s.fail()
				return ""
			}
			s.i += 4
			out = utf8.AppendRune(out, rune(r))
		default:
			s.fail()
			return ""
		}
	}
	s.fail()
	return ""
}

// int reads an integer in the form json.Marshal writes an int64.
func (s *scanner) int() int64 {
	s.ws()
	if s.err != nil {
		return 0
	}
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || n > 1 && s.b[digits] == '0' {
		s.fail()
		return 0
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			s.fail()
			return 0
		}
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		s.fail()
		return 0
	}
	return v
}

// bool reads true or false.
func (s *scanner) bool() bool {
	switch {
	case s.literal("true"):
		return true
	case !s.literal("false"):
		s.fail()
	}
	return false
}

// literal consumes lit if it is next.
func (s *scanner) literal(lit string) bool {
	s.ws()
	if s.err != nil || len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// fields is object for a struct: keys must be names (exactly: encoding/json
// would also match them in another case), each at most once (a repeat
// merges some kinds, such as maps, and replaces others), and field is not
// called for null, which leaves a field of these records at its zero value.
func (s *scanner) fields(names []string, field func(key string)) {
	var seen uint64
	s.object(func(k string) {
		i := slices.Index(names, k)
		if i < 0 || seen&(1<<i) != 0 {
			s.fail()
			return
		}
		seen |= 1 << i
		if !s.literal("null") {
			field(k)
		}
	})
}
