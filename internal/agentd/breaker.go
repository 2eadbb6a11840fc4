package agentd

import (
	"sync"
	"time"
)

// The circuit breaker: after breakerFails failures within breakerWindow the
// remote is skipped for breakerOpen, so a server that is down or slow costs
// a build a handful of timeouts, not one per unit. After that requests
// are let through again, and the first failure opens the breaker at once.
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

// fail records a failure and reports whether it opened the breaker.
func (b *breaker) fail() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock()
	if !b.openUntil.IsZero() && !now.Before(b.openUntil) {
		// The probe after an open period failed: open again.
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
