package wrapper

import (
	"os"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/key"
	"github.com/grove-rs/grove/internal/remoteconf"
)

// The remote cache (GROVE_REMOTE), through the per-user agent (package
// agent). Only a local miss reaches this file: a local hit never reads the
// remote's settings, never touches the agent's socket. A remote that is
// down costs a miss one round trip on that socket: the wrapper keeps no
// state between processes, the agent's circuit breaker does, and the
// agent answers "skipped" at once while it is open (agentd/breaker.go).

// remoteFetch asks the remote for an entry this unit can use and, when
// there is one, has the agent verify it and import it into the local
// store. It reports whether it did; the caller then looks up locally as
// always. Candidates are matched here, by the same rule as a local lookup
// (key.Unit.Matches: files, env and pins of this tree), so the remote
// never weakens a key rule; a candidate whose entry key is not the one its
// inputs give is refused.
func (w *wrapper) remoteFetch(u *key.Unit) bool {
	c := w.remoteClient()
	if c == nil {
		return false
	}
	t0 := time.Now()
	defer func() { w.ev.RemoteUs = time.Since(t0).Microseconds() }()
	resp, err := c.Manifest(string(u.ArgKey))
	if err != nil {
		w.ev.Remote = agent.NoAgent
		w.logf("remote: %v", err)
		return false
	}
	if resp.Status != agent.Hit {
		w.remoteOutcome(resp)
		return false
	}
	names, err := u.Inv.OutputNames()
	if err != nil {
		return false
	}
	w.ev.Remote = agent.Miss
	for _, cand := range resp.Manifest.Candidates {
		if cand.Entry != u.EntryKey(cand) {
			w.ev.Remote = agent.Refused
			w.logf("remote: candidate %s does not have its inputs' entry key; refused", cand.Entry)
			continue
		}
		if !u.Matches(cand) {
			continue
		}
		r, err := c.Import(agent.Request{Arg: string(u.ArgKey), Cand: &cand, Outputs: names, DepName: u.Inv.DepInfoName()})
		if err != nil {
			w.ev.Remote = agent.NoAgent
			w.logf("remote: %v", err)
			return false
		}
		w.remoteOutcome(r)
		switch r.Status {
		case agent.Hit:
			return true
		case agent.Refused, agent.Miss:
			continue // another candidate may serve
		default:
			return false
		}
	}
	return false
}

// remotePush queues the entry just stored for upload, unless the remote is
// read-only. It never waits: no agent, no upload.
func (w *wrapper) remotePush(u *key.Unit, entryKey string) {
	if entryKey == "" {
		return
	}
	if c := w.remoteClient(); c != nil && !w.remoteRO {
		if err := c.Upload(string(u.ArgKey), entryKey); err != nil {
			w.logf("remote: upload %s: %v", entryKey, err)
		}
	}
}

// remoteClient returns the agent client when a remote is configured.
func (w *wrapper) remoteClient() *agent.Client {
	if w.remote != nil || w.remoteOff {
		return w.remote
	}
	w.remoteOff = true
	cfg, ok, err := remoteconf.ConfigFromEnv(os.Getenv)
	if !ok && err == nil {
		return nil // no remote; a GROVE_REMOTE that does not parse is an error below
	}
	if err == nil {
		w.remote, err = agent.NewClient(w.st.Dir(), cfg)
	}
	if err != nil {
		w.ev.Remote = agent.Unavailable
		w.logf("remote: %v", err)
		return nil
	}
	w.remoteRO, w.remoteOff = cfg.ReadOnly, false
	return w.remote
}

func (w *wrapper) remoteOutcome(r agent.Response) {
	w.ev.Remote = r.Status
	if r.Detail != "" {
		w.logf("remote: %s: %s", r.Status, r.Detail)
	}
}
