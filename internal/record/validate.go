package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
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
		if !isDigest(string(o.Digest)) {
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

// The Decode functions turn the bytes of a record into a valid record, or
// an error wrapping ErrCorrupt. They are the one decoder of each kind, for
// the local store (Store) and for bytes from anywhere else (an import).

// DecodeEntry decodes an entry and checks it (Entry.Check).
func DecodeEntry(b []byte) (Entry, error) {
	e, err := unmarshalEntry(b)
	if err != nil {
		return Entry{}, corrupt(err)
	}
	if err := e.Check(); err != nil {
		return Entry{}, corrupt(err)
	}
	return e, nil
}

// DecodeManifest decodes a manifest. One without candidates ({}, null)
// can match nothing and is corrupt; so is a candidate without an entry key.
func DecodeManifest(b []byte) (Manifest, error) {
	m, err := unmarshalManifest(b)
	if err != nil {
		return Manifest{}, corrupt(err)
	}
	if len(m.Candidates) == 0 {
		return Manifest{}, corrupt(errors.New("manifest without candidates"))
	}
	for _, c := range m.Candidates {
		if !isHex(string(c.Entry)) {
			return Manifest{}, corrupt(fmt.Errorf("manifest candidate with entry key %q", c.Entry))
		}
	}
	return m, nil
}

// DecodeLib decodes a lib record. A record without the externs field ({},
// null) says nothing about the rlib's dependencies and is an error, not an
// rlib without dependencies ("externs": null).
func DecodeLib(b []byte) (Lib, error) {
	if l, err := scanLib(b); err == nil {
		return l, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Lib{}, corrupt(err)
	}
	if _, ok := raw["externs"]; !ok {
		return Lib{}, corrupt(errors.New("lib record without externs"))
	}
	var l Lib
	if err := json.Unmarshal(b, &l); err != nil {
		return Lib{}, corrupt(err)
	}
	return l, nil
}

// DecodeCrateKeys decodes a crate's recent argument keys.
func DecodeCrateKeys(b []byte) (CrateKeys, error) {
	var c CrateKeys
	if err := json.Unmarshal(b, &c); err != nil {
		return CrateKeys{}, corrupt(err)
	}
	return c, nil
}

// DecodeComponents decodes stored key components; null is corrupt.
func DecodeComponents(b []byte) ([]Component, error) {
	var c []Component
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, corrupt(err)
	}
	if c == nil {
		return nil, corrupt(errors.New("key components are null"))
	}
	return c, nil
}

// DecodeRustc decodes a compiler identity memo; one without a version
// identifies nothing.
func DecodeRustc(b []byte) (Rustc, error) {
	r, err := unmarshalRustc(b)
	if err != nil {
		return Rustc{}, corrupt(err)
	}
	if r.Version == "" {
		return Rustc{}, corrupt(errors.New("compiler identity without a version"))
	}
	return r, nil
}

// EncodeRustc is the memo form of r.
func EncodeRustc(r Rustc) []byte {
	b, _ := json.Marshal(r) // strings only: cannot fail
	return b
}

// Check reports whether b is a valid object of namespace ns (an error
// wrapping ErrCorrupt if not). Kinds this grove does not know pass.
func Check(ns string, b []byte) error {
	var err error
	switch ns {
	case NSEntry:
		_, err = DecodeEntry(b)
	case NSManifest:
		_, err = DecodeManifest(b)
	case NSLib:
		_, err = DecodeLib(b)
	case NSCrate:
		_, err = DecodeCrateKeys(b)
	case NSComponents:
		_, err = DecodeComponents(b)
	case NSFileHash, NSNativeHash:
		if !isDigest(string(b)) {
			err = corrupt(fmt.Errorf("digest memo of %d bytes", len(b)))
		}
	case NSInputSet:
		for _, d := range strings.Split(string(b), "\n") {
			if !isDigest(d) {
				err = corrupt(fmt.Errorf("input-set memo line %q", d))
				break
			}
		}
	case NSBlobInode:
		d, _, _ := strings.Cut(strings.TrimPrefix(string(b), "copy "), " ")
		if !isDigest(d) {
			err = corrupt(fmt.Errorf("blob-inode memo of %d bytes", len(b)))
		}
	case NSHostCPU:
		if !strings.HasPrefix(string(b), "cpu ") || strings.ContainsRune(string(b), 0) {
			err = corrupt(fmt.Errorf("host-cpu memo of %d bytes", len(b)))
		}
	case NSRustc:
		_, err = DecodeRustc(b)
	case NSRun:
		_, err = DecodeBuildRun(b)
	case NSRunManifest:
		_, err = DecodeManifest(b)
	case NSIndex:
		_, err = DecodeKeyIndex(b)
	}
	return err
}

// DecodeBuildRun decodes a build-script run: every file names a place
// inside OUT_DIR and a blob.
func DecodeBuildRun(b []byte) (BuildRun, error) {
	var r BuildRun
	if err := json.Unmarshal(b, &r); err != nil {
		return BuildRun{}, corrupt(err)
	}
	if r.Package == "" {
		return BuildRun{}, corrupt(errors.New("build-script run without package"))
	}
	seen := make(map[string]bool, len(r.Files))
	for _, f := range r.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
			return BuildRun{}, corrupt(fmt.Errorf("build-script run file %q outside OUT_DIR", f.Path))
		}
		if !f.Dir && !isDigest(string(f.Digest)) {
			return BuildRun{}, corrupt(fmt.Errorf("build-script run file %q with digest %q", f.Path, f.Digest))
		}
		if f.Size < 0 {
			return BuildRun{}, corrupt(fmt.Errorf("build-script run file %q of size %d", f.Path, f.Size))
		}
		if seen[f.Path] {
			return BuildRun{}, corrupt(fmt.Errorf("build-script run names %q twice", f.Path))
		}
		seen[f.Path] = true
	}
	return r, nil
}

// corrupt marks a decode error; the caller names the object.
func corrupt(err error) error { return fmt.Errorf("%w: %w", ErrCorrupt, err) }

// isHex reports whether k is a plausible store key (lower-case hex).
func isHex(k string) bool {
	if len(k) < 8 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
