package agentd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/store"
)

// DefaultIdle is how long an agent waits for a request before it exits.
const DefaultIdle = 5 * time.Minute

// Concurrency: remote transfers at once, and upload workers.
const (
	maxTransfers  = 8
	uploadWorkers = 2
	uploadQueue   = 4096
)

// Server is a running agent.
type Server struct {
	st       *store.Store
	be       remote.Backend // nil when opening it failed (beErr)
	beErr    error
	readOnly bool
	secret   []byte // GROVE_REMOTE_SECRET: records written are signed, records read must be
	br       breaker
	log      *log.Logger

	transfers chan struct{} // semaphore
	uploads   chan Request
	mu        sync.Mutex
	queued    map[string]bool          // entries queued or uploading
	blobs     map[string]chan struct{} // blobs being fetched: one download each

	pf     prefetcher // what index/recent names, fetched ahead (prefetch.go)
	recent recentKeys // manifests uploaded, not yet in index/recent

	active  atomic.Int64 // connections being served
	pending atomic.Int64 // uploads queued or running
	last    atomic.Int64 // unix ns of the last request
	ln      *net.UnixListener
	quit    chan struct{}
	quitMu  sync.Once
}

// Serve runs the agent for st and the remote c until it is idle for idle,
// asked to quit, or its socket is removed. It returns nil at once when
// another agent already serves this socket.
func Serve(st *store.Store, c remote.Config, idle time.Duration) error {
	sock, err := SocketPath(st.Dir(), c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(sock)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("agent: %w", err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("agent: %s: %w", dir, err)
		}
	}
	lock, err := os.OpenFile(sock+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil // another agent runs
	}
	logf, err := os.OpenFile(sock+".log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	defer logf.Close()
	if fi, err := logf.Stat(); err == nil && fi.Size() > 4<<20 {
		logf.Truncate(0)
	}
	s := &Server{
		st:        st,
		readOnly:  c.ReadOnly,
		secret:    c.Secret,
		log:       log.New(logf, fmt.Sprintf("[%d] ", os.Getpid()), log.LstdFlags|log.Lmicroseconds),
		transfers: make(chan struct{}, maxTransfers),
		uploads:   make(chan Request, uploadQueue),
		queued:    map[string]bool{},
		blobs:     map[string]chan struct{}{},
		quit:      make(chan struct{}),
	}
	os.Remove(sock) // a stale socket of an agent that died: we hold the lock
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	s.ln = ln
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("agent: %w", err)
	}
	s.be, s.beErr = remote.Open(context.Background(), c)
	if s.beErr != nil {
		s.log.Printf("open remote: %v", s.beErr)
	} else {
		s.log.Printf("serving %s on %s", s.be, sock)
		defer s.be.Close()
	}
	s.last.Store(time.Now().UnixNano())

	var wg sync.WaitGroup
	for range uploadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range s.uploads {
				s.runUpload(r)
			}
		}()
	}
	go s.watch(sock, idle)
	go s.indexLoop()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			break
		}
		s.active.Add(1)
		s.last.Store(time.Now().UnixNano())
		go func() {
			defer s.active.Add(-1)
			s.serve(conn)
		}()
	}
	// Let queued uploads finish; nothing new arrives.
	for s.active.Load() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	close(s.uploads)
	wg.Wait()
	s.flushIndex()
	s.log.Printf("exit")
	return nil
}

// watch closes the listener when the agent is idle, asked to quit, or its
// socket was removed (the store deleted): no agent outlives its store.
func (s *Server) watch(sock string, idle time.Duration) {
	fi0, _ := os.Stat(sock)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	quit := s.quit
	for {
		select {
		case <-quit:
			quit = nil
			// Exit once idle: a request still in the listen backlog (an
			// upload sent just before) is served, not dropped.
			idle = 0
		case <-t.C:
		}
		fi, err := os.Stat(sock)
		if err != nil || fi0 == nil || !os.SameFile(fi, fi0) {
			s.ln.SetUnlinkOnClose(false) // not ours any more
			s.ln.Close()
			return
		}
		busy := s.active.Load() > 0 || s.pending.Load() > 0
		if !busy && time.Since(time.Unix(0, s.last.Load())) > idle {
			s.ln.Close()
			return
		}
	}
}

func (s *Server) serve(conn *net.UnixConn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	rd := bufio.NewReaderSize(conn, 64<<10)
	line, err := readLine(rd)
	if err != nil {
		return
	}
	var req Request
	var resp Response
	if err := json.Unmarshal(line, &req); err != nil || req.V != Version {
		resp = Response{Status: Refused, Detail: fmt.Sprintf("bad request (protocol v%d)", Version)}
	} else {
		resp = s.handle(req)
	}
	resp.V = Version
	b, _ := json.Marshal(resp)
	conn.Write(append(b, '\n'))
}

func (s *Server) handle(req Request) Response {
	switch req.Op {
	case OpPing:
		return Response{Status: OK}
	case OpQuit:
		s.quitMu.Do(func() { close(s.quit) })
		return Response{Status: OK}
	case OpUpload:
		return s.queueUpload(req)
	case OpManifest, OpImport:
		if s.be == nil {
			return Response{Status: Unavailable, Detail: s.beErr.Error()}
		}
		if !s.br.allow() {
			return Response{Status: Skipped}
		}
		s.startPrefetch()
		switch {
		case req.Op == OpManifest:
			return s.manifest(req)
		case req.Run:
			return s.importRun(req)
		}
		return s.importEntry(req)
	}
	return Response{Status: Refused, Detail: "unknown op " + req.Op}
}

// failed records a failure of the remote (an error, a timeout, garbage, a
// server that is not there) with the circuit breaker and the log.
func (s *Server) failed(what string, err error) {
	if s.br.fail(remote.IsDown(err)) {
		s.log.Printf("%s: %v; remote skipped for %s", what, err, breakerOpen)
		return
	}
	s.log.Printf("%s: %v", what, err)
}
