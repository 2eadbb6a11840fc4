package buildscript

import (
	"os"
	"time"

	"github.com/grove-rs/grove/internal/agent"
	"github.com/grove-rs/grove/internal/remoteconf"
)

// Build-script runs through the remote cache (GROVE_REMOTE), as compiles
// go (wrapper/remote.go): only a local miss asks the remote, through the
// per-user agent; a stored run is uploaded in the background. A replay
// never reads the remote's settings.

// remoteFetch asks the remote for a run this one can replay and, when
// there is one, has the agent verify it and import it into the local
// store; the caller then replays it as a local hit. Candidates are matched
// here by the run's own rule (key.BuildRun.Matches: the declared inputs
// in this tree, the pins), so the remote never weakens it; a candidate
// whose entry key is not the one its inputs give is refused.
func (r *runner) remoteFetch() bool {
	c := r.remoteClient()
	if c == nil {
		return false
	}
	t0 := time.Now()
	defer func() { r.ev.RemoteUs = time.Since(t0).Microseconds() }()
	resp, err := c.RunManifest(r.run.ArgKey)
	if err != nil {
		r.ev.Remote = agent.NoAgent
		r.logf("remote: %v", err)
		return false
	}
	if resp.Status != agent.Hit || resp.Manifest == nil {
		r.remoteOutcome(resp)
		return false
	}
	r.ev.Remote = agent.Miss
	for _, cand := range resp.Manifest.Candidates {
		if string(cand.Entry) != r.run.EntryKey(cand) {
			r.ev.Remote = agent.Refused
			r.logf("remote: run candidate %s does not have its inputs' entry key; refused", cand.Entry)
			continue
		}
		if !r.run.Matches(cand) {
			continue
		}
		resp, err := c.ImportRun(r.run.ArgKey, &cand)
		if err != nil {
			r.ev.Remote = agent.NoAgent
			r.logf("remote: %v", err)
			return false
		}
		r.remoteOutcome(resp)
		switch resp.Status {
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

// remotePush queues the run just stored for upload, unless the remote is
// read-only. It never waits: no agent, no upload.
func (r *runner) remotePush() {
	if r.stored == "" {
		return
	}
	cfg, ok, err := remoteconf.ConfigFromEnv(os.Getenv)
	if !ok || err != nil || cfg.ReadOnly {
		return
	}
	c, err := agent.NewClient(r.st.Dir(), cfg)
	if err == nil {
		err = c.UploadRun(r.run.ArgKey, r.stored)
	}
	if err != nil {
		r.logf("remote: upload run %s: %v", r.stored, err)
	}
}

// remoteClient returns the agent client when a remote is configured; a
// configuration that does not parse is said in the run's event.
func (r *runner) remoteClient() *agent.Client {
	cfg, ok, err := remoteconf.ConfigFromEnv(os.Getenv)
	if !ok && err == nil {
		return nil
	}
	var c *agent.Client
	if err == nil {
		c, err = agent.NewClient(r.st.Dir(), cfg)
	}
	if err != nil {
		r.ev.Remote = agent.Unavailable
		r.logf("remote: %v", err)
		return nil
	}
	return c
}

func (r *runner) remoteOutcome(resp agent.Response) {
	r.ev.Remote = resp.Status
	if resp.Detail != "" {
		r.logf("remote: %s: %s", resp.Status, resp.Detail)
	}
}
