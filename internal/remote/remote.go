// Package remote is grove's shared cache beyond one machine: object storage
// (S3 and its look-alikes), Redis, or a plain directory, all behind Backend.
//
// A remote holds the same objects as the local store, by the same names:
// "<namespace>/<key>" with the local store's namespaces and keys
// (blob/<digest>, entry/<key>, manifest/<argkey>, lib/<digest>,
// run/<key>, run-manifest/<runkey>), and one of its own: index/recent, the
// manifests recently uploaded (record.KeyIndex), which readers prefetch. The
// backends only move bytes; what may be trusted of them is decided by the
// reader (trust.go): blobs by their digest, records by their shape and,
// when a secret is shared, by an HMAC.
package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Backend is one remote cache. Implementations are safe for concurrent use.
type Backend interface {
	// Get opens the named object; ErrNotFound (errors.Is) when it is absent.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// Put stores the object so that it becomes readable only once complete
	// (an upload that dies half-way leaves nothing readable). size is the
	// number of bytes r yields, -1 when unknown.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	// Has reports whether the object exists (cheap: HEAD / EXISTS), to skip
	// uploads.
	Has(ctx context.Context, name string) (bool, error)
	// String names the backend for logs: "s3://bucket/prefix at host",
	// never credentials.
	String() string
	Close() error
}

// ErrNotFound is returned (wrapped) by Get for an absent object.
var ErrNotFound = errors.New("not found")

// ErrReadOnly is returned (wrapped) by Put on a backend opened read-only.
var ErrReadOnly = errors.New("remote is read-only")

// IsDown reports whether err says the remote could not be reached at all:
// nothing listens at its address (connection refused), no route to it, or
// its host name does not resolve. Unlike a timeout, a server error or
// garbage, that is not a request that failed but a server that is not
// there, and the next request would fail the same way at once; the agent's
// circuit breaker opens on the first one (agentd/breaker.go).
func IsDown(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, e) {
			return true
		}
	}
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}
