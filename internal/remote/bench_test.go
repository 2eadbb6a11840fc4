package remote_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/remote/remotetest"
	"github.com/grove-rs/grove/internal/store"
)

// A typical entry record (2 KB: outputs, dep-info, stderr).
var benchEntry = []byte(`{"crate":"serde","outputs":[{"name":"libserde-1a2b3c4d5e6f7a8b.rlib","digest":"` +
	strings.Repeat("ab", 32) + `","size":3145728,"mtime_ns":1},{"name":"libserde-1a2b3c4d5e6f7a8b.rmeta","digest":"` +
	strings.Repeat("cd", 32) + `","size":1048576,"mtime_ns":1}],"depinfo":"` + strings.Repeat("src/lib.rs src/de/mod.rs ", 60) +
	`","depinfo_name":"serde-1a2b3c4d5e6f7a8b.d","stderr":"","compile_ms":4200}`)

var benchKey = strings.Repeat("0f", 32)

// BenchmarkRecordHit is the cost of a hit's record read: from the local
// store, and from each remote over loopback through a warm connection (as
// a long-lived agent holds one) and through a new one per read (as a
// short-lived wrapper would). GROVE_BENCH_DELAY=20ms puts a proxy in
// front of the server that delays every forward that much, each way (a
// round trip costs 40 ms more, as with tc netem's 20 ms on loopback, which
// this machine's kernel lacks).
func BenchmarkRecordHit(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	st.PutObject("entry", benchKey, benchEntry)
	b.Run("local-store", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.GetObject("entry", benchKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	delay, _ := time.ParseDuration(os.Getenv("GROVE_BENCH_DELAY"))
	for _, kind := range []string{"s3", "redis"} {
		b.Run(kind, func(b *testing.B) { benchRemote(b, kind, delay) })
	}
}

func benchRemote(b *testing.B, kind string, delay time.Duration) {
	ctx := context.Background()
	var env map[string]string
	var addr string
	if kind == "s3" {
		m := remotetest.StartMinIO(b, "")
		env, addr = m.Env("bench"), m.Addr
	} else {
		r := remotetest.StartRedis(b, "")
		env, addr = map[string]string{"GROVE_REMOTE": r.URL()}, r.Addr
	}
	if delay > 0 {
		p := remotetest.StartProxy(b, addr)
		p.SetDelay(delay)
		for k, v := range env {
			env[k] = strings.Replace(v, addr, p.Addr, 1)
		}
	}
	bk := open(b, env)
	if err := remote.PutRecord(ctx, bk, nil, "entry/"+benchKey, benchEntry); err != nil {
		b.Fatal(err)
	}
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := remote.GetRecord(ctx, bk, nil, "entry/"+benchKey); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-connection", func(b *testing.B) {
		for b.Loop() {
			c, _, _ := remote.ConfigFromEnv(func(k string) string { return env[k] })
			nb, err := remote.Open(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := remote.GetRecord(ctx, nb, nil, "entry/"+benchKey); err != nil {
				b.Fatal(err)
			}
			nb.Close()
		}
	})
}
