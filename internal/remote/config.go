package remote

import (
	"context"
	"fmt"
	"io"

	"github.com/grove-rs/grove/internal/remoteconf"
)

// The remote's settings are package remoteconf's (the wrapper reads them
// without linking the backends); these names are kept for this package's
// users.
type Config = remoteconf.Config

const (
	EnvURL      = remoteconf.EnvURL
	EnvEndpoint = remoteconf.EnvEndpoint
	EnvReadOnly = remoteconf.EnvReadOnly
	EnvSecret   = remoteconf.EnvSecret
)

// ConfigFromEnv is remoteconf.ConfigFromEnv.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	return remoteconf.ConfigFromEnv(getenv)
}

// Open connects to the configured remote. It does not contact the server
// beyond what the client library does on creation; the first request
// reports an unreachable server or wrong credentials.
func Open(ctx context.Context, c Config) (Backend, error) {
	var b Backend
	var err error
	switch c.URL.Scheme {
	case "file":
		b, err = openFile(c.URL.Path)
	case "s3":
		b, err = openS3(c)
	case "redis", "rediss":
		b, err = openRedis(c)
	default:
		return nil, fmt.Errorf("remote %s: unknown scheme %q", c.URL.Redacted(), c.URL.Scheme)
	}
	if err != nil {
		return nil, err
	}
	if c.ReadOnly {
		b = readOnly{b}
	}
	return b, nil
}

// readOnly refuses every Put, so a laptop configured read-only can never
// write, whatever the credentials allow.
type readOnly struct{ Backend }

func (r readOnly) Put(ctx context.Context, name string, _ io.Reader, _ int64) error {
	return fmt.Errorf("put %s to %s: %w", name, r.Backend, ErrReadOnly)
}

func (r readOnly) String() string { return r.Backend.String() + " (read-only)" }
