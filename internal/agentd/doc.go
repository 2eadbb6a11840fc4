// Package agentd is the remote cache's agent itself (`grove-cli agent`):
// it serves package agent's protocol on a Unix socket, reading through to
// and writing behind to the remote (package remote). Package agent
// documents the lifecycle, the protocol and what is verified; this package
// is apart so that the wrapper, which only talks to the agent, does not
// link the backends' client libraries.
package agentd
