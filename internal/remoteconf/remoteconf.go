// Package remoteconf reads the remote cache's settings from the
// environment. It is apart from package remote, whose backends pull in
// the S3 and Redis client libraries, because the wrapper needs the
// settings (to find its agent) and must start fast: it links this and
// package agent, never package remote.
package remoteconf

import (
	"fmt"
	"net/url"
	"strings"
)

// Environment variables that configure the remote. They are read from the
// environment so that Cargo's [env] table can set them per repository.
const (
	EnvURL      = "GROVE_REMOTE"          // s3://bucket/prefix, redis://host:port/db, rediss://…, file:///dir
	EnvEndpoint = "GROVE_REMOTE_ENDPOINT" // S3 endpoint (R2, GCS interop, MinIO); empty: AWS
	EnvReadOnly = "GROVE_REMOTE_READONLY" // "1": never write
	EnvSecret   = "GROVE_REMOTE_SECRET"   // HMAC key shared by writers and readers
)

// Config says which remote to use and how.
type Config struct {
	// URL is GROVE_REMOTE, parsed.
	URL *url.URL
	// Endpoint is the S3 endpoint, "host[:port]" or a URL with scheme
	// (http:// means no TLS).
	Endpoint string
	ReadOnly bool
	// Secret, when set, signs every record written and is required of
	// every record read.
	Secret []byte
	// Getenv is where credentials come from (AWS_* variables); nil means
	// none from the environment.
	Getenv func(string) string
}

// ConfigFromEnv reads the remote's configuration. ok is false when no
// remote is configured (GROVE_REMOTE unset or empty).
func ConfigFromEnv(getenv func(string) string) (c Config, ok bool, err error) {
	raw := strings.TrimSpace(getenv(EnvURL))
	if raw == "" {
		return Config{}, false, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, false, fmt.Errorf("%s=%q: %w", EnvURL, raw, err)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return Config{}, false, fmt.Errorf("%s=%q: no bucket (want s3://bucket/prefix)", EnvURL, raw)
		}
	case "redis", "rediss":
		if u.Host == "" {
			return Config{}, false, fmt.Errorf("%s=%q: no host (want redis://host:port/db)", EnvURL, raw)
		}
	case "file":
		if u.Path == "" || u.Host != "" {
			return Config{}, false, fmt.Errorf("%s=%q: want file:///absolute/dir", EnvURL, raw)
		}
	default:
		return Config{}, false, fmt.Errorf("%s=%q: unknown scheme %q (want s3, redis, rediss or file)", EnvURL, raw, u.Scheme)
	}
	ro, err := parseBool(getenv(EnvReadOnly))
	if err != nil {
		return Config{}, false, fmt.Errorf("%s: %w", EnvReadOnly, err)
	}
	c = Config{
		URL:      u,
		Endpoint: strings.TrimSpace(getenv(EnvEndpoint)),
		ReadOnly: ro,
		Getenv:   getenv,
	}
	if s := getenv(EnvSecret); s != "" {
		c.Secret = []byte(s)
	}
	return c, true, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want 1 or 0)", s)
}
