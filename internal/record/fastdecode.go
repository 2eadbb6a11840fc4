package record

import "encoding/json"

// The records every hit reads, decoded by scanner (see scan.go), or by
// encoding/json when the bytes are outside the form json.Marshal writes.
// Each yields exactly json.Unmarshal's value and error.

// unmarshalEntry is json.Unmarshal(b, &e), fast for the canonical form.
func unmarshalEntry(b []byte) (Entry, error) {
	if e, err := scanEntry(b); err == nil {
		return e, nil
	}
	var e Entry
	err := json.Unmarshal(b, &e)
	return e, err
}

// unmarshalManifest is json.Unmarshal(b, &m), fast for the canonical form.
func unmarshalManifest(b []byte) (Manifest, error) {
	if m, err := scanManifest(b); err == nil {
		return m, nil
	}
	var m Manifest
	err := json.Unmarshal(b, &m)
	return m, err
}

// The fields of each record, as json.Marshal names them.
var (
	entryFields     = []string{"crate", "outputs", "depinfo", "depinfo_name", "stderr", "stdout", "compile_ms", "origin"}
	outputFields    = []string{"name", "digest", "size", "mtime_ns"}
	manifestFields  = []string{"candidates"}
	candidateFields = []string{"entry", "inputs", "env", "pins"}
	inputFields     = []string{"p", "d"}
	envFields       = []string{"n", "v", "s", "raw"}
	rustcFields     = []string{"version", "sysroot", "sysroot_digest"}
)

func scanEntry(b []byte) (Entry, error) {
	s := scanner{b: b}
	var e Entry
	s.fields(entryFields, func(k string) {
		switch k {
		case "crate":
			e.Crate = s.str()
		case "outputs":
			e.Outputs = []Output{}
			s.array(func() { e.Outputs = append(e.Outputs, s.output()) })
		case "depinfo":
			e.DepInfo = s.str()
		case "depinfo_name":
			e.DepName = s.str()
		case "stderr":
			e.Stderr = s.str()
		case "stdout":
			e.Stdout = s.str()
		case "compile_ms":
			e.CompileMs = s.int()
		case "origin":
			e.Origin = s.str()
		}
	})
	s.end()
	return e, s.err
}

func (s *scanner) output() Output {
	var o Output
	s.fields(outputFields, func(k string) {
		switch k {
		case "name":
			o.Name = s.str()
		case "digest":
			o.Digest = Digest(s.str())
		case "size":
			o.Size = s.int()
		case "mtime_ns":
			o.MtimeNs = s.int()
		}
	})
	return o
}

func scanManifest(b []byte) (Manifest, error) {
	s := scanner{b: b}
	var m Manifest
	s.fields(manifestFields, func(string) {
		m.Candidates = []Candidate{}
		s.array(func() { m.Candidates = append(m.Candidates, s.candidate()) })
	})
	s.end()
	return m, s.err
}

func (s *scanner) candidate() Candidate {
	var c Candidate
	s.fields(candidateFields, func(k string) {
		switch k {
		case "entry":
			c.Entry = EntryKey(s.str())
		case "inputs":
			c.Inputs = []Input{}
			s.array(func() { c.Inputs = append(c.Inputs, s.input()) })
		case "env":
			c.Env = []Env{}
			s.array(func() { c.Env = append(c.Env, s.env()) })
		case "pins":
			c.Pins = map[string]string{}
			s.object(func(k string) { c.Pins[k] = s.str() })
		}
	})
	return c
}

func (s *scanner) input() Input {
	var in Input
	s.fields(inputFields, func(k string) {
		switch k {
		case "p":
			in.Path = s.str()
		case "d":
			in.Digest = s.str()
		}
	})
	return in
}

func (s *scanner) env() Env {
	var e Env
	s.fields(envFields, func(k string) {
		switch k {
		case "n":
			e.Name = s.str()
		case "v":
			e.Value = s.str()
		case "s":
			e.Set = s.bool()
		case "raw":
			e.Raw = s.bool()
		}
	})
	return e
}

// unmarshalRustc is json.Unmarshal(b, &r), fast for the canonical form.
func unmarshalRustc(b []byte) (Rustc, error) {
	if r, err := scanRustc(b); err == nil {
		return r, nil
	}
	var r Rustc
	err := json.Unmarshal(b, &r)
	return r, err
}

// scanLib reads a lib record, which must hold the externs field (see
// DecodeLib): {} is outside the form, "externs": null is not.
func scanLib(b []byte) (Lib, error) {
	s := scanner{b: b}
	var l Lib
	has := false
	s.object(func(k string) {
		if k != "externs" || has {
			s.fail()
			return
		}
		has = true
		if !s.literal("null") {
			l.Externs = []string{}
			s.array(func() { l.Externs = append(l.Externs, s.str()) })
		}
	})
	if !has {
		s.fail()
	}
	s.end()
	return l, s.err
}

func scanRustc(b []byte) (Rustc, error) {
	s := scanner{b: b}
	var r Rustc
	s.fields(rustcFields, func(k string) {
		switch k {
		case "version":
			r.Version = s.str()
		case "sysroot":
			r.Sysroot = s.str()
		case "sysroot_digest":
			r.SysrootDigest = s.str()
		}
	})
	s.end()
	return r, s.err
}
