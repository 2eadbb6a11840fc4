package agentd

import (
	"testing"
	"time"
)

// After breakerFails failures within the window the remote is skipped for
// breakerOpen; then it is tried again, and one more failure opens it at
// once.
func TestBreaker(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &breaker{now: func() time.Time { return now }}
	for i := 1; i < breakerFails; i++ {
		if b.fail() || !b.allow() {
			t.Fatalf("open after %d failures", i)
		}
	}
	if !b.fail() || b.allow() {
		t.Fatalf("not open after %d failures", breakerFails)
	}
	now = now.Add(breakerOpen)
	if !b.allow() {
		t.Fatal("still open after the open period")
	}
	if !b.fail() || b.allow() {
		t.Fatal("a failed probe did not open it again")
	}
	now = now.Add(breakerOpen)
	b.ok()
	for i := 1; i < breakerFails; i++ {
		b.fail()
	}
	if !b.allow() {
		t.Fatal("a successful probe did not close it")
	}
	// Failures spread wider than the window never open it.
	b = &breaker{now: func() time.Time { return now }}
	for i := 0; i < 3*breakerFails; i++ {
		now = now.Add(breakerWindow / (breakerFails - 1))
		if b.fail() {
			t.Fatalf("opened by failures spread over %s", breakerWindow*3)
		}
	}
}
