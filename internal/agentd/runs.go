package agentd

import (
	"encoding/json"
	"fmt"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// Build-script runs through the remote: the same three levels as a
// compile's (run manifest → run → blobs), the same order of upload (blobs,
// the run, then the manifest that names it) and the same verification on
// import (the run record is well-formed, every blob hashes to its digest
// and has its size) before anything is written locally.

// manifestNS is the namespace of the manifests a request is about.
func manifestNS(run bool) string {
	if run {
		return record.NSRunManifest
	}
	return record.NSManifest
}

// uploadID names a queued upload: run and entry keys are both hex, kept
// apart.
func uploadID(req Request) string {
	if req.Run {
		return record.NSRun + "/" + req.Entry
	}
	return req.Entry
}

// short is a key's first 12 characters, for the log.
func short(k string) string { return k[:min(len(k), 12)] }

// importRun fetches the run of req.Cand and every blob it names, verifies
// them, and writes them into the local store: blobs first, then the run,
// then the local run manifest, so a lookup finds a run only once its
// blobs are there. The trampoline then replays it as a local hit.
func (s *Server) importRun(req Request) Response {
	c := req.Cand
	if c == nil || req.Arg == "" {
		return Response{Status: Refused, Detail: "import without candidate"}
	}
	name := record.NSRun + "/" + string(c.Entry)
	b, found, err := s.getCached(name)
	if err != nil {
		return s.status("get "+name, err)
	}
	if !found {
		return Response{Status: Miss}
	}
	e, err := record.DecodeBuildRun(b)
	if err != nil {
		s.failed("verify "+name, err)
		return Response{Status: Refused, Detail: "run " + string(c.Entry) + ": " + err.Error()}
	}
	for i, f := range e.Files {
		if f.Dir {
			continue
		}
		o := runOutput(f)
		if err := s.fetchBlob(o); err != nil {
			return s.blobFailed(o, err)
		}
		// The local blob's stamp, which replay checks before serving it.
		fi, err := s.st.BlobStat(string(f.Digest))
		if err != nil {
			return Response{Status: Unavailable, Detail: err.Error()}
		}
		e.Files[i].Size, e.Files[i].MtimeNs = fi.Size(), fi.ModTime().UnixNano()
	}
	eb, err := json.Marshal(&e)
	if err == nil {
		err = s.st.PutObject(record.NSRun, string(c.Entry), eb)
	}
	if err == nil {
		err = s.addLocalCandidate(record.NSRunManifest, req.Arg, *c)
	}
	if err != nil {
		return Response{Status: Unavailable, Detail: "local store: " + err.Error()}
	}
	s.br.ok()
	return Response{Status: Hit}
}

// runOutput is the blob of a run's file, as fetchBlob and putBlob take it.
func runOutput(f record.RunFile) record.Output {
	return record.Output{Name: f.Path, Digest: f.Digest, Size: f.Size, MtimeNs: f.MtimeNs}
}

// uploadRun puts a stored run on the remote in the order readers depend
// on: its blobs, the run, then the run manifest naming it.
func (s *Server) uploadRun(runKey, entryKey string) error {
	eb, err := s.st.GetObject(record.NSRun, entryKey)
	if err != nil {
		return err
	}
	e, err := record.DecodeBuildRun(eb)
	if err != nil {
		return fmt.Errorf("local run %s: %w", entryKey, err)
	}
	cand, err := s.localCandidate(record.NSRunManifest, runKey, entryKey)
	if err != nil || cand == nil {
		return err // nil: replaced meanwhile, nothing to upload
	}
	for _, f := range e.Files {
		if f.Dir {
			continue
		}
		// As for an entry: a blob written in place since it was stored is
		// re-hashed, and not uploaded if it changed.
		if _, err := s.st.CheckBlob(string(f.Digest), store.Stamp{Size: f.Size, MtimeNs: f.MtimeNs}, false); err != nil {
			return err
		}
		if err := s.putBlob(runOutput(f)); err != nil {
			return err
		}
	}
	if err := s.putBytes(record.NSRun+"/"+entryKey, eb, true); err != nil {
		return err
	}
	return s.addRemoteCandidate(record.NSRunManifest, runKey, *cand)
}
