package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Check reports what makes e unable to serve any invocation: no outputs, an
// output whose name is not a plain file name or whose digest is not a
// digest, no dep-info. `grove verify` uses it on entries it finds; lookup
// uses Validate, which also knows what the invocation expects.
func (e *Entry) Check() error {
	if e == nil || len(e.Outputs) == 0 {
		return errors.New("entry has no outputs")
	}
	seen := make(map[string]bool, len(e.Outputs))
	for _, o := range e.Outputs {
		if !plainName(o.Name) {
			return fmt.Errorf("entry output %q is not a file name", o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("entry names output %s twice", o.Name)
		}
		seen[o.Name] = true
		if !isDigest(o.Digest) {
			return fmt.Errorf("entry output %s: bad digest %q", o.Name, o.Digest)
		}
		if o.Size < 0 {
			return fmt.Errorf("entry output %s: bad size %d", o.Name, o.Size)
		}
	}
	if !plainName(e.DepName) || e.DepInfo == "" {
		return fmt.Errorf("entry has no dep-info (name %q, %d bytes)", e.DepName, len(e.DepInfo))
	}
	return nil
}

// Validate reports whether e can serve an invocation that writes exactly the
// outputs want (file names in its --out-dir, as rustc.Invocation.OutputNames
// gives them) and the dep-info depName (Invocation.DepInfoName). An entry
// that parses but does not hold those ({} and null decode without error)
// would restore nothing, or not everything, and Cargo would go on without
// the files: such an entry must be dropped, never counted as a hit.
func (e *Entry) Validate(want []string, depName string) error {
	if err := e.Check(); err != nil {
		return err
	}
	have := make(map[string]bool, len(e.Outputs))
	for _, o := range e.Outputs {
		have[o.Name] = true
	}
	for _, n := range want {
		if !have[n] {
			return fmt.Errorf("entry lacks output %s", n)
		}
		delete(have, n)
	}
	for n := range have {
		return fmt.Errorf("entry has output %s, which this invocation does not write", n)
	}
	if e.DepName != depName {
		return fmt.Errorf("entry has dep-info %s, want %s", e.DepName, depName)
	}
	return nil
}

// plainName reports whether n names a file inside a directory, not a path.
func plainName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00")
}

// isDigest reports whether d is a content digest: 64 lower-case hex digits
// (BLAKE3-256, as package filehash writes them).
func isDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// DecodeLib decodes a lib record. A record without the externs field ({},
// null) says nothing about the rlib's dependencies and is an error, not an
// rlib without dependencies ("externs": null).
func DecodeLib(b []byte) (Lib, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Lib{}, fmt.Errorf("lib record: %w", err)
	}
	if _, ok := raw["externs"]; !ok {
		return Lib{}, errors.New("lib record without externs")
	}
	var l Lib
	if err := json.Unmarshal(b, &l); err != nil {
		return Lib{}, fmt.Errorf("lib record: %w", err)
	}
	return l, nil
}
