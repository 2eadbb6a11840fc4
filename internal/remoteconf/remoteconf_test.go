package remoteconf

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	if _, ok, err := ConfigFromEnv(env(nil)); ok || err != nil {
		t.Fatalf("unset: ok=%v err=%v", ok, err)
	}
	for _, tc := range []struct{ url, err string }{
		{"s3://bucket/prefix", ""},
		{"redis://127.0.0.1:6379/2", ""},
		{"rediss://cache.example:6380/0", ""},
		{"file:///srv/grove", ""},
		{"s3:///prefix", "no bucket"},
		{"file://relative/dir", "want file:///absolute/dir"},
		{"http://x", "unknown scheme"},
	} {
		_, ok, err := ConfigFromEnv(env(map[string]string{EnvURL: tc.url}))
		if tc.err == "" && (err != nil || !ok) {
			t.Errorf("%s: ok=%v err=%v", tc.url, ok, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: err=%v, want %q", tc.url, err, tc.err)
		}
	}
	c, _, err := ConfigFromEnv(env(map[string]string{EnvURL: "s3://b", EnvReadOnly: "1", EnvSecret: "k"}))
	if err != nil || !c.ReadOnly || string(c.Secret) != "k" {
		t.Fatalf("got %+v %v", c, err)
	}
	if _, _, err := ConfigFromEnv(env(map[string]string{EnvURL: "s3://b", EnvReadOnly: "maybe"})); err == nil {
		t.Fatal("GROVE_REMOTE_READONLY=maybe accepted")
	}
}
