package stats

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// appendEvent appends ev as json.Marshal encodes it, without reflection:
// Append runs once per wrapper invocation, and encoding/json's reflective
// walk was a tenth of a hit's own time. The output is byte for byte
// json.Marshal's (field order, omitempty, string escaping);
// TestAppendEventMatchesMarshal fills every field of Event by reflection,
// so a field added to Event and not here fails it.
func appendEvent(b []byte, ev *Event) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, ev.Time, 10)
	b = append(b, `,"build":`...)
	b = strconv.AppendInt(b, int64(ev.Build), 10)
	b = appendStr(b, "crate", ev.Crate, true)
	b = appendStr(b, "kind", ev.Kind, false)
	b = appendStr(b, "reason", ev.Reason, true)
	b = appendInt(b, "ms", ev.Ms, false)
	b = appendInt(b, "us", ev.Us, false)
	b = appendInt(b, "key_us", ev.KeyUs, true)
	b = appendInt(b, "lookup_us", ev.LookupUs, true)
	b = appendInt(b, "restore_us", ev.RestoreUs, true)
	b = appendInt(b, "lock_us", ev.LockUs, true)
	b = appendInt(b, "compile_at", ev.CompileAt, true)
	b = appendInt(b, "compile_us", ev.CompileUs, true)
	b = appendInt(b, "store_us", ev.StoreUs, true)
	b = appendInt(b, "scan_us", ev.ScanUs, true)
	b = appendInt(b, "child_cpu_us", ev.ChildCPUUs, true)
	b = appendInt(b, "cpu_us", ev.CPUUs, true)
	b = appendInt(b, "saved_ms", ev.SavedMs, true)
	b = appendInt(b, "bytes", ev.Bytes, true)
	b = appendInt(b, "shared_bytes", ev.SharedBytes, true)
	b = appendStr(b, "key", ev.Key, true)
	if len(ev.Why) > 0 {
		b = append(b, `,"why":[`...)
		for i, c := range ev.Why {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, c.Name)
			b = appendStr(b, "old", c.Old, true)
			b = appendStr(b, "new", c.New, true)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendStr(b, "dir", ev.Dir, true)
	b = appendStr(b, "remote", ev.Remote, true)
	b = appendInt(b, "remote_us", ev.RemoteUs, true)
	if ev.Run {
		b = append(b, `,"run":true`...)
	}
	return append(b, '}')
}

// appendInt appends ,"name":v (always after the first field), or nothing
// for an omitempty zero.
func appendInt(b []byte, name string, v int64, omitEmpty bool) []byte {
	if omitEmpty && v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

// appendStr is appendInt for a string field.
func appendStr(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendString appends s quoted as encoding/json quotes it. Printable
// ASCII other than what json escapes (quote, backslash, and <, > and &,
// which it escapes for HTML) is copied as is; anything else, which crate
// names and paths rarely hold, goes through json.Marshal itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
