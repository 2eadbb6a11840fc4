package agentd

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remote"
)

// Prefetch. A machine building from a warm remote asks for hundreds of
// units, each a manifest, an entry and its blobs in sequence, each a round
// trip: the build waits on latency, not bandwidth. Uploaders therefore
// keep index/recent on the remote (record.KeyIndex: the manifests they
// uploaded lately, the latest batch first), and a reader's agent, on its first read,
// fetches in the background what it names: each manifest, its newest
// candidate's entry (or run), and that entry's blobs. Records are kept in
// memory, verified exactly as on demand (remote.GetRecord), and answer
// the wrapper's requests (getCached); blobs go into the local store,
// verified by their digest (fetchBlob), where an import finds them.
// Nothing is written to a local manifest: what a build restores is still
// decided by matching, on demand, in the wrapper.
//
// Bounds: prefetchSlots transfers at once, so that on-demand requests
// always have maxTransfers-prefetchSlots; prefetchBudget bytes of blobs
// and prefetchRecordBudget of records; records are used for prefetchTTL.
// A stale record (the remote gained a candidate since) costs a miss, never
// a wrong hit.
const (
	prefetchSlots        = 3
	prefetchBudget       = 2 << 30
	prefetchRecordBudget = 64 << 20
	prefetchTTL          = 10 * time.Minute
)

// Index upkeep: the keys uploaded are merged into index/recent once the
// uploads in flight are done, at most every indexFlushEvery, or when
// indexFlushAt keys wait; and when the agent exits.
const (
	indexFlushEvery = 2 * time.Second
	indexFlushAt    = 512
)

type prefetcher struct {
	once    sync.Once
	mu      sync.Mutex
	records map[string]cachedRecord
	recSize int64
	blobs   atomic.Int64 // bytes of blobs fetched
}

type cachedRecord struct {
	data []byte
	at   time.Time
}

// getCached is getRecord for a read on demand: a record the prefetch
// fetched (and verified) is answered from memory.
func (s *Server) getCached(name string) ([]byte, bool, error) {
	s.pf.mu.Lock()
	c, ok := s.pf.records[name]
	s.pf.mu.Unlock()
	if ok && time.Since(c.at) < prefetchTTL {
		return c.data, true, nil
	}
	return s.getRecord(name)
}

// startPrefetch starts the prefetch once per agent.
func (s *Server) startPrefetch() {
	s.pf.once.Do(func() { go s.prefetch() })
}

func (s *Server) prefetch() {
	t0 := time.Now()
	b, found, err := s.getRecord(remote.IndexName)
	if err != nil {
		// It counts with the breaker like any request: it is the first one
		// a reader's agent sends, so a remote that is down is known down
		// from here on.
		s.failed("prefetch "+remote.IndexName, err)
		return
	}
	if !found {
		return
	}
	x, err := record.DecodeKeyIndex(b)
	if err != nil {
		s.log.Printf("prefetch: %s: %v", remote.IndexName, err)
		return
	}
	work := make(chan record.KeyRef)
	var wg sync.WaitGroup
	var fetched atomic.Int64
	for range prefetchSlots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				if s.prefetchKey(k) {
					fetched.Add(1)
				}
			}
		}()
	}
	for _, k := range x.Keys {
		if !s.br.allow() || s.pf.blobs.Load() >= prefetchBudget {
			break
		}
		work <- k
	}
	close(work)
	wg.Wait()
	s.log.Printf("prefetch done: %d of %d keys, %d MB of blobs (%s)", fetched.Load(), len(x.Keys), s.pf.blobs.Load()>>20, time.Since(t0).Round(time.Millisecond))
}

// prefetchKey fetches the manifest k, its newest candidate's entry or run
// and that one's blobs, within the budgets. It reports whether it got the
// manifest.
func (s *Server) prefetchKey(k record.KeyRef) bool {
	mb, ok := s.prefetchRecord(k.NS + "/" + k.Key)
	if !ok {
		return false
	}
	m, err := record.DecodeManifest(mb)
	if err != nil || len(m.Candidates) == 0 {
		return true
	}
	entryNS := record.NSEntry
	if k.NS == record.NSRunManifest {
		entryNS = record.NSRun
	}
	eb, ok := s.prefetchRecord(entryNS + "/" + string(m.Candidates[0].Entry))
	if !ok {
		return true
	}
	var blobs []record.Output
	if entryNS == record.NSRun {
		r, err := record.DecodeBuildRun(eb)
		if err != nil {
			return true
		}
		for _, f := range r.Files {
			if !f.Dir {
				blobs = append(blobs, runOutput(f))
			}
		}
	} else {
		e, err := record.DecodeEntry(eb)
		if err != nil {
			return true
		}
		blobs = e.Outputs
	}
	for _, o := range blobs {
		if _, err := s.st.BlobStat(string(o.Digest)); err == nil {
			continue
		}
		if s.pf.blobs.Add(o.Size) > prefetchBudget {
			return true
		}
		if err := s.fetchBlob(o); err != nil {
			s.log.Printf("prefetch: blob %s: %v", short(string(o.Digest)), err)
			return true
		}
		if strings.HasSuffix(o.Name, ".rlib") {
			s.fetchLib(string(o.Digest))
		}
	}
	return true
}

// prefetchRecord fetches and verifies a record into the cache.
func (s *Server) prefetchRecord(name string) ([]byte, bool) {
	s.pf.mu.Lock()
	c, ok := s.pf.records[name]
	full := s.pf.recSize >= prefetchRecordBudget
	s.pf.mu.Unlock()
	if ok {
		return c.data, true
	}
	if full {
		return nil, false
	}
	b, found, err := s.getRecord(name)
	if err != nil {
		// A remote that fails counts with the breaker, which stops the
		// prefetch (and spares the build) when it opens.
		s.failed("prefetch "+name, err)
		return nil, false
	}
	if !found {
		return nil, false
	}
	s.pf.mu.Lock()
	if s.pf.records == nil {
		s.pf.records = map[string]cachedRecord{}
	}
	s.pf.records[name] = cachedRecord{data: b, at: time.Now()}
	s.pf.recSize += int64(len(b))
	s.pf.mu.Unlock()
	return b, true
}

// recentKeys are the manifests this agent uploaded since it last merged
// them into index/recent, oldest first.
type recentKeys struct {
	mu   sync.Mutex
	keys []record.KeyRef
}

// noteUploaded records a manifest the remote now names an entry in.
func (s *Server) noteUploaded(k record.KeyRef) {
	s.recent.mu.Lock()
	s.recent.keys = append(s.recent.keys, k)
	s.recent.mu.Unlock()
}

// indexLoop merges uploaded keys into index/recent while the agent runs.
func (s *Server) indexLoop() {
	t := time.NewTicker(indexFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return // Serve flushes once more after the last upload
		case <-t.C:
		}
		s.recent.mu.Lock()
		n := len(s.recent.keys)
		s.recent.mu.Unlock()
		if n > 0 && (s.pending.Load() == 0 || n >= indexFlushAt) {
			s.flushIndex()
		}
	}
}

// flushIndex merges the keys uploaded since the last flush into the
// remote's index/recent. Two uploaders at once: the last write wins and
// the other's keys are lost, which costs readers a prefetch, nothing more.
func (s *Server) flushIndex() {
	s.recent.mu.Lock()
	keys := s.recent.keys
	s.recent.keys = nil
	s.recent.mu.Unlock()
	if len(keys) == 0 || s.be == nil || s.readOnly {
		return
	}
	// The batch stays in upload order, which is the order its build
	// compiled the units in and the order another build needs them: the
	// prefetch fetches dependencies before their dependents.
	var x record.KeyIndex
	b, found, err := s.getRecord(remote.IndexName)
	switch {
	case errors.Is(err, remote.ErrUntrusted):
		s.log.Printf("%s: %v; replaced", remote.IndexName, err)
	case err != nil:
		s.log.Printf("index: %v", err)
		return
	case found:
		if x, err = record.DecodeKeyIndex(b); err != nil {
			x = record.KeyIndex{}
		}
	}
	x.Merge(keys)
	nb, err := json.Marshal(&x)
	if err == nil {
		s.transfers <- struct{}{}
		ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
		err = remote.PutRecord(ctx, s.be, s.secret, remote.IndexName, nb)
		cancel()
		<-s.transfers
	}
	if err != nil {
		s.log.Printf("index: %v", err)
		return
	}
	s.log.Printf("index: %d keys merged, %d in all", len(keys), len(x.Keys))
}
