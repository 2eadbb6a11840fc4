package agentd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/store"
)

// queueUpload queues the upload of a local entry and answers at once: a
// build never waits for an upload. A full queue drops the request.
func (s *Server) queueUpload(req Request) Response {
	if s.readOnly {
		return Response{Status: ReadOnly}
	}
	if req.Arg == "" || req.Entry == "" {
		return Response{Status: Refused, Detail: "upload without entry"}
	}
	s.mu.Lock()
	dup := s.queued[uploadID(req)]
	if !dup {
		s.queued[uploadID(req)] = true
	}
	s.mu.Unlock()
	if dup {
		return Response{Status: Queued}
	}
	s.pending.Add(1)
	select {
	case s.uploads <- req:
		return Response{Status: Queued}
	default:
		s.done(req)
		return Response{Status: Unavailable, Detail: "upload queue full"}
	}
}

func (s *Server) done(req Request) {
	s.mu.Lock()
	delete(s.queued, uploadID(req))
	s.mu.Unlock()
	s.pending.Add(-1)
}

func (s *Server) runUpload(req Request) {
	defer s.done(req)
	if s.be == nil || !s.br.allow() {
		return
	}
	t0 := time.Now()
	upload, what := s.upload, "entry"
	if req.Run {
		upload, what = s.uploadRun, "run"
	}
	if err := upload(req.Arg, req.Entry); err != nil {
		s.failed("upload "+what+" "+req.Entry, err)
		return
	}
	s.noteUploaded(record.KeyRef{NS: manifestNS(req.Run), Key: req.Arg})
	s.log.Printf("uploaded %s %s of %s (%s)", what, short(req.Entry), short(req.Arg), time.Since(t0).Round(time.Millisecond))
	s.br.ok()
}

// upload puts a local entry and everything it needs on the remote in the
// order readers depend on: blobs, lib records, the entry, then the
// manifest that names it. A reader that finds the manifest finds the rest;
// an upload that dies half-way leaves objects nobody names yet.
func (s *Server) upload(arg, entryKey string) error {
	eb, err := s.st.GetObject(record.NSEntry, entryKey)
	if err != nil {
		return err
	}
	var e record.Entry
	if err := json.Unmarshal(eb, &e); err != nil {
		return fmt.Errorf("local entry %s: %w", entryKey, err)
	}
	if err := e.Check(); err != nil {
		return fmt.Errorf("local entry %s: %w", entryKey, err)
	}
	cand, err := s.localCandidate(record.NSManifest, arg, entryKey)
	if err != nil || cand == nil {
		return err // nil: replaced meanwhile, nothing to upload
	}
	for _, o := range e.Outputs {
		// The check restore makes before serving a blob: one written in
		// place since it was stored is re-hashed, and not uploaded if it
		// changed (readers would refuse it anyway).
		if _, err := s.st.CheckBlob(string(o.Digest), store.Stamp{Size: o.Size, MtimeNs: o.MtimeNs}, false); err != nil {
			return err
		}
		if err := s.putBlob(o); err != nil {
			return err
		}
		if strings.HasSuffix(o.Name, ".rlib") {
			if lb, err := s.st.GetObject(record.NSLib, string(o.Digest)); err == nil {
				if err := s.putBytes(record.NSLib+"/"+string(o.Digest), lb, true); err != nil {
					return err
				}
			}
		}
	}
	if err := s.putBytes(record.NSEntry+"/"+entryKey, eb, true); err != nil {
		return err
	}
	return s.addRemoteCandidate(record.NSManifest, arg, *cand)
}

// addRemoteCandidate adds cand to the remote manifest of arg in ns
// (record.NSManifest or record.NSRunManifest), last: after everything the
// candidate names is there. Two uploaders at once: the last one wins and
// the other's candidate is lost, which costs readers a miss, never a wrong
// hit.
func (s *Server) addRemoteCandidate(ns, arg string, cand record.Candidate) error {
	entryKey := string(cand.Entry)
	var m record.Manifest
	name := ns + "/" + arg
	b, found, err := s.getRecord(name)
	switch {
	case errors.Is(err, remote.ErrUntrusted):
		s.log.Printf("%s: %v; replaced", name, err)
	case err != nil:
		return err
	case found && json.Unmarshal(b, &m) != nil:
		m = record.Manifest{}
	}
	for _, c := range m.Candidates {
		if string(c.Entry) == entryKey {
			return nil // there already
		}
	}
	m.Add(cand)
	nb, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	return s.putBytes(name, nb, false)
}

// has reports whether the remote holds name.
func (s *Server) has(name string) (bool, error) {
	s.transfers <- struct{}{}
	defer func() { <-s.transfers }()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	return s.be.Has(ctx, name)
}

func (s *Server) putBytes(name string, b []byte, skipIfThere bool) error {
	if skipIfThere {
		if ok, err := s.has(name); err != nil || ok {
			return err
		}
	}
	s.transfers <- struct{}{}
	defer func() { <-s.transfers }()
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	return remote.PutRecord(ctx, s.be, s.secret, name, b)
}

func (s *Server) putBlob(o record.Output) error {
	if ok, err := s.has(remote.BlobName(string(o.Digest))); err != nil || ok {
		return err
	}
	s.transfers <- struct{}{}
	defer func() { <-s.transfers }()
	ctx, cancel := context.WithTimeout(context.Background(), blobTimeout(o.Size))
	defer cancel()
	return remote.PutBlob(ctx, s.be, string(o.Digest), s.st.BlobPath(string(o.Digest)))
}

// localCandidate is the candidate of the local manifest (ns: a unit's or a
// build-script run's) at key that names entryKey, or nil when the manifest
// no longer names it (replaced since the upload was queued).
func (s *Server) localCandidate(ns, key, entryKey string) (*record.Candidate, error) {
	mb, err := s.st.GetObject(ns, key)
	if err != nil {
		return nil, err
	}
	local, err := record.DecodeManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("local %s %s: %w", ns, key, err)
	}
	for i := range local.Candidates {
		if string(local.Candidates[i].Entry) == entryKey {
			return &local.Candidates[i], nil
		}
	}
	return nil, nil
}
