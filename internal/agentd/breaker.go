package agentd

import (
	"sync"
	"time"
)

// The circuit breaker: after breakerFails failures within breakerWindow the
// remote is skipped for breakerOpen, so a server that is slow or sends
// garbage costs a build a handful of timeouts, not one per unit. A remote
// that is not there at all (connection refused, no route, a name that does
// not resolve: remote.IsDown) opens it on the first failure: the next
// request would only fail the same way, and each costs the build that
// waits for it. After breakerOpen requests are let through again, and the
// first failure opens the breaker at once.
//
// Where it lives: one breaker per agent process, that is per store and
// remote (the agent's socket is keyed by both), shared by every build and
// every wrapper that uses that agent, and gone when the agent exits (after
// GROVE_REMOTE_IDLE without requests). Wrappers keep no state of it: a
// local miss asks the agent, one round trip on its Unix socket, and the
// agent answers "skipped" at once while the breaker is open. Skipped
// requests never reach the remote, so they neither fail nor probe it.
const (
	breakerFails  = 5
	breakerWindow = time.Minute
	breakerOpen   = 5 * time.Minute
)

type breaker struct {
	mu        sync.Mutex
	fails     []time.Time
	openUntil time.Time
	now       func() time.Time
}

// allow reports whether the remote may be asked now.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.clock().Before(b.openUntil)
}

// fail records a failure and reports whether it opened the breaker; down
// says the remote was not there at all (remote.IsDown), which opens it at
// once. A failure while the breaker is open (a request let through before
// it opened) changes nothing.
func (b *breaker) fail(down bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	if now.Before(b.openUntil) {
		return false
	}
	if down || !b.openUntil.IsZero() {
		// Not there, or the probe after an open period failed: open now.
		b.fails = nil
		b.openUntil = now.Add(breakerOpen)
		return true
	}
	keep := b.fails[:0]
	for _, t := range b.fails {
		if now.Sub(t) < breakerWindow {
			keep = append(keep, t)
		}
	}
	b.fails = append(keep, now)
	if len(b.fails) >= breakerFails {
		b.fails = nil
		b.openUntil = now.Add(breakerOpen)
		return true
	}
	return false
}

// ok records a success: a breaker whose probe succeeded closes.
func (b *breaker) ok() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.openUntil.IsZero() && !b.clock().Before(b.openUntil) {
		b.openUntil = time.Time{}
	}
}

func (b *breaker) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}
