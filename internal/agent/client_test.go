package agent

import (
	"net/url"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/remoteconf"
)

// With a remote configured but no grove-cli to run the agent (an install
// of grove alone), a wrapper's request fails at once, so the build goes on
// locally without waiting for an agent that cannot start.
func TestRemoteAgentMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	store := t.TempDir()
	c, err := NewClient(store, remoteconf.Config{URL: &url.URL{Scheme: "file", Path: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := c.Manifest("abc"); err == nil {
		t.Fatal("Manifest without an agent succeeded")
	}
	if d := time.Since(t0); d > startWait/2 {
		t.Errorf("Manifest without grove-cli took %s: waited for an agent that cannot start", d)
	}
}
