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
		if b.fail(false) || !b.allow() {
			t.Fatalf("open after %d failures", i)
		}
	}
	if !b.fail(false) || b.allow() {
		t.Fatalf("not open after %d failures", breakerFails)
	}
	now = now.Add(breakerOpen)
	if !b.allow() {
		t.Fatal("still open after the open period")
	}
	if !b.fail(false) || b.allow() {
		t.Fatal("a failed probe did not open it again")
	}
	now = now.Add(breakerOpen)
	b.ok()
	for i := 1; i < breakerFails; i++ {
		b.fail(false)
	}
	if !b.allow() {
		t.Fatal("a successful probe did not close it")
	}
	// Failures spread wider than the window never open it.
	b = &breaker{now: func() time.Time { return now }}
	for i := 0; i < 3*breakerFails; i++ {
		now = now.Add(breakerWindow / (breakerFails - 1))
		if b.fail(false) {
			t.Fatalf("opened by failures spread over %s", breakerWindow*3)
		}
	}
}

// A remote that is not there (remote.IsDown) opens the breaker on the
// first failure; failures of requests let through before it opened do not
// keep it open longer; after the open period one request probes again.
func TestBreakerDown(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &breaker{now: func() time.Time { return now }}
	if !b.fail(true) || b.allow() {
		t.Fatal("a remote that is not there did not open the breaker at once")
	}
	now = now.Add(time.Second)
	for range 2 * breakerFails {
		if b.fail(true) || b.fail(false) {
			t.Fatal("a failure while open reported opening it")
		}
	}
	now = now.Add(breakerOpen - time.Second)
	if !b.allow() {
		t.Fatal("failures while open kept it open past the open period")
	}
	b.ok()
	if !b.allow() || b.fail(false) {
		t.Fatal("a closed breaker opened on one failure that is not IsDown")
	}
}
