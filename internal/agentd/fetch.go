package agentd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/store"
)

// Timeouts of remote operations: records are small; a blob may take its
// size at minThroughput on top.
const (
	recordTimeout = 5 * time.Second
	minThroughput = 2 << 20 // bytes per second
)

func blobTimeout(size int64) time.Duration {
	return recordTimeout + time.Duration(size/minThroughput)*time.Second
}

// getRecord fetches a small remote object and verifies it (remote.GetRecord:
// well-formed for its namespace, and signed when a secret is set). found is
// false when the remote does not have it; an error wrapping
// remote.ErrUntrusted is a record that failed verification.
func (s *Server) getRecord(name string) (b []byte, found bool, err error) {
	s.transfers <- struct{}{}
	defer func() { <-s.transfers }()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	b, err = remote.GetRecord(ctx, s.be, s.secret, name)
	if errors.Is(err, remote.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// status is the answer for an error of the remote: a refusal when what it
// sent failed verification, else unavailable.
func (s *Server) status(what string, err error) Response {
	s.failed(what, err)
	if errors.Is(err, remote.ErrUntrusted) {
		return Response{Status: Refused, Detail: err.Error()}
	}
	return Response{Status: Unavailable, Detail: err.Error()}
}

// manifest answers the remote manifest (of a unit, or of a run) of
// req.Arg, decoded.
func (s *Server) manifest(req Request) Response {
	name := manifestNS(req.Run) + "/" + req.Arg
	b, found, err := s.getCached(name)
	if err != nil {
		return s.status("get "+name, err)
	}
	if !found {
		s.br.ok()
		return Response{Status: Miss}
	}
	var m record.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		s.failed("decode "+name, err)
		return Response{Status: Refused, Detail: "manifest: " + err.Error()}
	}
	s.br.ok()
	return Response{Status: Hit, Manifest: &m}
}

// importEntry fetches the entry of req.Cand and everything it names,
// verifies all of it, and writes it into the local store: blobs first,
// then lib records, the entry and the local manifest, so that a lookup
// finds an entry only once its blobs are there.
func (s *Server) importEntry(req Request) Response {
	c := req.Cand
	if c == nil || req.Arg == "" {
		return Response{Status: Refused, Detail: "import without candidate"}
	}
	name := record.NSEntry + "/" + string(c.Entry)
	b, found, err := s.getCached(name)
	if err != nil {
		return s.status("get "+name, err)
	}
	if !found {
		return Response{Status: Miss}
	}
	var e record.Entry
	if err := json.Unmarshal(b, &e); err == nil {
		err = e.Validate(req.Outputs, req.DepName)
	}
	if err != nil {
		s.failed("verify "+name, err)
		return Response{Status: Refused, Detail: "entry " + string(c.Entry) + ": " + err.Error()}
	}
	for i, o := range e.Outputs {
		if err := s.fetchBlob(o); err != nil {
			return s.blobFailed(o, err)
		}
		// The local blob's stamp, so that restore's one-stat check holds.
		fi, err := s.st.BlobStat(string(o.Digest))
		if err != nil {
			return Response{Status: Unavailable, Detail: err.Error()}
		}
		e.Outputs[i].Size, e.Outputs[i].MtimeNs = fi.Size(), fi.ModTime().UnixNano()
		if strings.HasSuffix(o.Name, ".rlib") {
			s.fetchLib(string(o.Digest))
		}
	}
	eb, err := json.Marshal(&e)
	if err == nil {
		err = s.st.PutObject(record.NSEntry, string(c.Entry), eb)
	}
	if err == nil {
		err = s.addLocalCandidate(record.NSManifest, req.Arg, *c)
	}
	if err != nil {
		return Response{Status: Unavailable, Detail: "local store: " + err.Error()}
	}
	s.br.ok()
	return Response{Status: Hit}
}

// addLocalCandidate puts c first in the local manifest of arg in ns
// (record.NSManifest or record.NSRunManifest). Two writers of one manifest
// at once: the last rename wins, and a candidate lost so costs a later
// miss, never a wrong hit.
func (s *Server) addLocalCandidate(ns, arg string, c record.Candidate) error {
	var m record.Manifest
	if b, err := s.st.GetObject(ns, arg); err == nil {
		if json.Unmarshal(b, &m) != nil {
			m = record.Manifest{} // a corrupt manifest is replaced
		}
	}
	m.Add(c)
	mb, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	return s.st.PutObject(ns, arg, mb)
}

// blobFailed is the answer for a blob of an entry or run that could not be
// fetched: refused when it was not the blob its digest names, a miss when
// the remote lacks it, else unavailable.
func (s *Server) blobFailed(o record.Output, err error) Response {
	var bad badBlob
	if errors.As(err, &bad) {
		s.failed("verify blob "+string(o.Digest), err)
		return Response{Status: Refused, Detail: err.Error()}
	}
	if errors.Is(err, remote.ErrNotFound) {
		return Response{Status: Miss, Detail: err.Error()}
	}
	s.failed("get blob "+string(o.Digest), err)
	return Response{Status: Unavailable, Detail: err.Error()}
}

// badBlob is a blob whose content is not what its digest names.
type badBlob struct{ err error }

func (b badBlob) Error() string { return b.err.Error() }

// fetchBlob makes sure the local store has the blob of o, downloading and
// verifying it if needed. Concurrent imports of one blob download it once.
func (s *Server) fetchBlob(o record.Output) error {
	for {
		if _, err := s.st.BlobStat(string(o.Digest)); err == nil {
			return nil
		}
		s.mu.Lock()
		wait, busy := s.blobs[string(o.Digest)]
		if !busy {
			done := make(chan struct{})
			s.blobs[string(o.Digest)] = done
			s.mu.Unlock()
			err := s.downloadBlob(o)
			s.mu.Lock()
			delete(s.blobs, string(o.Digest))
			s.mu.Unlock()
			close(done)
			return err
		}
		s.mu.Unlock()
		<-wait // then look again: it failed, or it is there
	}
}

func (s *Server) downloadBlob(o record.Output) error {
	s.transfers <- struct{}{}
	defer func() { <-s.transfers }()
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout(o.Size))
	defer cancel()
	blob, err := remote.OpenBlob(ctx, s.be, string(o.Digest))
	if err != nil {
		return err
	}
	defer blob.Close()
	br := bufio.NewReaderSize(blob, 64<<10)
	head, _ := br.Peek(20)
	err = s.st.PutBlobFrom(string(o.Digest), br, o.Size, executable(head), func() error {
		if err := blob.Check(); err != nil {
			return badBlob{err}
		}
		return nil
	})
	if errors.Is(err, store.ErrSize) {
		return badBlob{err} // short or long: not the blob its entry names
	}
	return err
}

// fetchLib imports the lib record of an rlib when the remote has a valid
// one. Without it the wrapper writes it again on the hit (ensureLib), so
// a failure here only costs that.
func (s *Server) fetchLib(digest string) {
	if _, err := s.st.GetObject(record.NSLib, digest); err == nil {
		return
	}
	name := record.NSLib + "/" + digest
	b, found, err := s.getRecord(name)
	if err != nil || !found {
		return
	}
	if _, err := record.DecodeLib(b); err != nil {
		s.log.Printf("%s: %v; not imported", name, err)
		return
	}
	_ = s.st.PutObject(record.NSLib, digest, b)
}

// executable reports whether a blob beginning with head is a program or
// shared library, which a linker writes (and plain cargo leaves) 0755: an
// ELF or Mach-O file that is not a relocatable object. The remote keeps
// no file modes; rlibs, rmetas and static archives are 0644.
func executable(head []byte) bool {
	switch {
	case len(head) >= 18 && bytes.HasPrefix(head, []byte("\x7fELF")):
		var typ uint16
		if head[5] == 2 { // big-endian
			typ = binary.BigEndian.Uint16(head[16:])
		} else {
			typ = binary.LittleEndian.Uint16(head[16:])
		}
		return typ != 1 // ET_REL
	case len(head) >= 16:
		magic := binary.LittleEndian.Uint32(head)
		if magic == 0xfeedfacf || magic == 0xfeedface {
			return binary.LittleEndian.Uint32(head[12:]) != 1 // MH_OBJECT
		}
	}
	return false
}
