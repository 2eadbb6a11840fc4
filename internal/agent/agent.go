// Package agent is the protocol and the client of grove's per-user
// background process for a remote cache (package remote; the process
// itself is package agentd, run as `grove-cli agent`): the wrapper runs
// once per rustc invocation and lives a few milliseconds, too short to pay
// a connection and a TLS handshake to object storage per unit. The agent
// holds the backend's connection for all of them. This package is linked
// into the wrapper, so it must not import the backends' libraries.
//
// Lifecycle. The wrapper starts the agent on demand (Client, start:
// `grove-cli agent`, detached, in its own session) when a remote is
// configured and no agent answers; an flock next to the socket lets only
// one run per store, user and remote; it exits after an idle period (GROVE_REMOTE_IDLE, default 5m) with no
// request and no upload pending, or when its socket is removed.
//
// Socket. <store>/agent/v<Version>-<uid>-<config id>.sock, in a 0700
// directory, itself mode 0600: only the user who owns the store talks to
// it. Changing the remote's configuration (URL, endpoint, read-only,
// secret) gives another agent; a protocol change gives another name.
//
// Protocol. One request per connection: the client writes one JSON line
// (Request), the agent answers one JSON line (Response) and closes.
//
// Read-through (Client.Manifest, Client.Import): on a local miss only, the
// wrapper asks for the remote manifest of the unit's argument key, matches
// its candidates exactly as a local lookup does (key.Unit.Matches: the
// files here, the env, the pins), and asks the agent to import the one
// that matches. The agent verifies what it fetches (the entry is
// well-formed and holds exactly the outputs the invocation writes, every
// blob hashes to its digest and has its size, lib records decode) and only
// then writes it into the local store with the store's atomic writes; the
// wrapper then looks up locally as usual. Nothing that fails verification
// is written, so nothing that fails it is ever served.
//
// Write-behind (Client.Upload): after a local store, the wrapper hands the
// entry's key over without waiting for an answer; the agent uploads blobs,
// then lib records, then the entry, then the manifest, so that a reader
// never finds a manifest naming an entry, or an entry naming blobs, that
// are not there. What Has reports present is skipped.
//
// Build-script runs (Request.Run) travel the same way: the trampoline
// (package buildscript), on a local run miss, asks for the remote run
// manifest, matches its candidates by the run's own rule
// (key.BuildRun.Matches), and asks the agent to import the one that
// matches; the agent verifies the run record and every blob it names
// before writing them. A stored run is uploaded like a compile's entry.
//
// Prefetch (agentd/prefetch.go): an uploader keeps index/recent on the remote,
// the manifests it uploaded lately (record.KeyIndex); a reader's agent, on
// its first read, fetches what that index names in the background, with
// fewer transfers than on-demand requests get and a byte budget, so that
// the wrapper's requests find manifests and entries in memory and blobs in
// the local store. What it fetches is verified as on demand.
//
// Failures. Every remote operation has a timeout; after breakerFails
// failures (errors, timeouts, garbage) within breakerWindow the agent
// skips the remote for breakerOpen and answers "skipped": a build goes on
// locally and pays one socket round trip per miss.
package agent

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remoteconf"
)

// Version is the protocol's version; it is part of the socket's name.
const Version = 2

// Operations.
const (
	OpPing     = "ping"
	OpManifest = "manifest" // the remote manifest of Arg
	OpImport   = "import"   // verify and import the entry of Cand
	OpUpload   = "upload"   // queue the local entry Entry of Arg for upload
	OpQuit     = "quit"     // exit once uploads are done
)

// Statuses. The wrapper records all but OK and Queued in its stats event.
const (
	OK          = "ok"
	Queued      = "queued"
	Hit         = "hit"         // manifest found; entry imported
	Miss        = "miss"        // the remote does not have it
	Unavailable = "unavailable" // the remote failed (error, timeout); see Detail
	Skipped     = "skipped"     // the circuit breaker is open: remote not asked
	Refused     = "refused"     // what the remote sent failed verification
	ReadOnly    = "read-only"   // upload asked of a read-only remote
	NoAgent     = "no agent"    // (client side) the agent could not be reached
)

// Request is one client request.
type Request struct {
	V  int    `json:"v"`
	Op string `json:"op"`
	// Arg is the unit's argument key (manifest, import, upload).
	Arg string `json:"arg,omitempty"`
	// Cand is the remote candidate to import, as the manifest gave it.
	Cand *record.Candidate `json:"cand,omitempty"`
	// Outputs and DepName are what the invocation writes (import): an
	// entry that does not hold exactly these is refused.
	Outputs []string `json:"outputs,omitempty"`
	DepName string   `json:"depname,omitempty"`
	// Entry is the local entry to upload.
	Entry string `json:"entry,omitempty"`
	// Run makes manifest, import and upload act on a build-script run
	// (record.NSRunManifest and record.NSRun) instead of a compile: Arg is
	// then the run key, Cand a run candidate, Entry a run entry.
	Run bool `json:"run,omitempty"`
}

// Response is the agent's answer.
type Response struct {
	V        int              `json:"v"`
	Status   string           `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Manifest *record.Manifest `json:"manifest,omitempty"`
}

// MaxLine bounds a request or response line (a manifest of 32 candidates
// with their inputs fits many times over).
const MaxLine = 16 << 20

// SocketPath is where the agent for this store and remote configuration
// listens. Unix socket paths are limited to about 104 bytes.
func SocketPath(storeDir string, c remoteconf.Config) (string, error) {
	id := filehash.Bytes(fmt.Appendf(nil, "%s\x00%s\x00%v\x00%x", c.URL.String(), c.Endpoint, c.ReadOnly, c.Secret))[:16]
	p := filepath.Join(storeDir, "agent", fmt.Sprintf("v%d-%d-%s.sock", Version, os.Getuid(), id))
	if len(p) >= 104 {
		return "", fmt.Errorf("agent socket path %s is longer than a Unix socket allows; set GROVE_DIR to a shorter path", p)
	}
	return p, nil
}

// ReadLine reads one line of at most MaxLine bytes: a request (the agent)
// or a response (the client).
func ReadLine(rd *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, isPrefix, err := rd.ReadLine()
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
		if len(out) > MaxLine {
			return nil, errors.New("line too long")
		}
		if !isPrefix {
			return out, nil
		}
	}
}
