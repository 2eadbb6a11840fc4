package agentd

import (
	"bufio"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/remote"
)

// The protocol is package agent's, which the wrapper links without this
// package's dependencies (the backends); these short names keep the
// server's code as it read when it lived there.
type (
	Request  = agent.Request
	Response = agent.Response
)

const (
	Version = agent.Version

	OpPing     = agent.OpPing
	OpManifest = agent.OpManifest
	OpImport   = agent.OpImport
	OpUpload   = agent.OpUpload
	OpQuit     = agent.OpQuit

	OK          = agent.OK
	Queued      = agent.Queued
	Hit         = agent.Hit
	Miss        = agent.Miss
	Unavailable = agent.Unavailable
	Skipped     = agent.Skipped
	Refused     = agent.Refused
	ReadOnly    = agent.ReadOnly
)

// SocketPath is agent.SocketPath: where the agent of a store and remote
// listens.
func SocketPath(storeDir string, c remote.Config) (string, error) {
	return agent.SocketPath(storeDir, c)
}

func readLine(rd *bufio.Reader) ([]byte, error) { return agent.ReadLine(rd) }
