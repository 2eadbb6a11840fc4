package remote

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestReadOnlyRefusesPut(t *testing.T) {
	dir := t.TempDir()
	c, _, err := ConfigFromEnv(env(map[string]string{EnvURL: "file://" + dir, EnvReadOnly: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(context.Background(), "blob/ab", strings.NewReader("x"), 1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("put on a read-only remote: %v", err)
	}
}
