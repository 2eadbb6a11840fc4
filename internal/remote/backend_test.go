package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/remote"
	"github.com/grove-rs/grove/internal/remote/remotetest"
)

// fixture is one kind of remote under test, started for real.
type fixture struct {
	kind string
	env  map[string]string
	// target is the server's address, for a proxy in front of it ("" for
	// file://).
	target string
	// through returns env with the server's address replaced by addr.
	through func(addr string) map[string]string
	// badCreds is env with credentials the server refuses (nil: none
	// needed).
	badCreds map[string]string
	minio    *remotetest.MinIO
}

// starters start each kind of remote, for real, for one test.
var starters = []struct {
	kind  string
	start func(t *testing.T) fixture
}{
	{"file", func(t *testing.T) fixture {
		return fixture{kind: "file", env: map[string]string{"GROVE_REMOTE": "file://" + t.TempDir()}}
	}},
	{"s3", func(t *testing.T) fixture {
		m := remotetest.StartMinIO(t, "")
		menv := m.Env("ci")
		return fixture{
			kind: "s3", env: menv, target: m.Addr, minio: m,
			through: func(addr string) map[string]string {
				return with(menv, map[string]string{"GROVE_REMOTE_ENDPOINT": "http://" + addr})
			},
			badCreds: with(menv, map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}),
		}
	}},
	{"redis", func(t *testing.T) fixture {
		r := remotetest.StartRedis(t, "pw")
		return fixture{
			kind: "redis", env: map[string]string{"GROVE_REMOTE": r.URL()}, target: r.Addr,
			through: func(addr string) map[string]string {
				return map[string]string{"GROVE_REMOTE": strings.Replace(r.URL(), r.Addr, addr, 1)}
			},
			badCreds: map[string]string{"GROVE_REMOTE": strings.Replace(r.URL(), ":pw@", ":wrong@", 1)},
		}
	}},
}

func with(base, over map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}

func open(t testing.TB, env map[string]string) remote.Backend {
	t.Helper()
	c, ok, err := remote.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || !ok {
		t.Fatalf("config %v: ok=%v %v", env, ok, err)
	}
	b, err := remote.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func put(t testing.TB, b remote.Backend, name string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), name, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

func get(b remote.Backend, name string) ([]byte, error) {
	rc, err := b.Get(context.Background(), name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// each runs f against every backend, each in a subtest.
func each(t *testing.T, f func(t *testing.T, fx fixture)) {
	for _, st := range starters {
		t.Run(st.kind, func(t *testing.T) { f(t, st.start(t)) })
	}
}

// blob is deterministic pseudo-random content of n bytes and its digest.
func blob(n int, seed uint64) ([]byte, string) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b, filehash.Bytes(b)
}

func TestRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		b := open(t, fx.env)
		if _, err := b.Get(ctx, "blob/00ff"); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("get of an absent object: %v", err)
		}
		if ok, err := b.Has(ctx, "blob/00ff"); ok || err != nil {
			t.Fatalf("has of an absent object: %v %v", ok, err)
		}
		for _, size := range []int{0, 1, 1000, 4 << 20, 8 << 20, 8<<20 + 1} { // Redis reads 4 MiB ranges
			data, d := blob(size, uint64(size))
			put(t, b, remote.BlobName(d), data)
			if ok, err := b.Has(ctx, remote.BlobName(d)); !ok || err != nil {
				t.Fatalf("has after put: %v %v", ok, err)
			}
			if got, err := get(b, remote.BlobName(d)); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: got %d bytes, %v", size, len(got), err)
			}
		}
		// Replacing an object gives the new bytes.
		put(t, b, "entry/ab", []byte("one"))
		put(t, b, "entry/ab", []byte("two"))
		if got, _ := get(b, "entry/ab"); string(got) != "two" {
			t.Fatalf("after replace: %q", got)
		}
		if !strings.Contains(b.String(), fx.kind) && fx.kind != "redis" || strings.Contains(b.String(), "pw") || strings.Contains(b.String(), "secret") {
			t.Errorf("String() = %q: names no backend or shows credentials", b.String())
		}
		for _, bad := range []string{"../x/y", "blob/../../etc", "blob", "blob/a/b", "/blob/a"} {
			if err := b.Put(ctx, bad, strings.NewReader("x"), 1); err == nil {
				t.Errorf("put %q accepted", bad)
			}
		}
	})
}

// A size that disagrees with the stream stores nothing: the caller's
// reader was cut short.
func TestShortStreamStoresNothing(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		b := open(t, fx.env)
		for _, n := range []int{10, 6 << 20} {
			data, d := blob(n, 7)
			err := b.Put(context.Background(), remote.BlobName(d), bytes.NewReader(data[:n/2]), int64(n))
			if err == nil {
				t.Fatalf("%d bytes: a put of half the bytes succeeded", n)
			}
			if _, err := get(b, remote.BlobName(d)); !errors.Is(err, remote.ErrNotFound) {
				t.Fatalf("%d bytes: after a short put: %v", n, err)
			}
		}
	})
}

// A blob much larger than Redis's chunk and S3's part size goes up and
// comes down streamed, and verifies by its digest.
func TestBigObject(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		b := open(t, fx.env)
		data, d := blob(40<<20, 3)
		src := filepath.Join(t.TempDir(), "src")
		os.WriteFile(src, data, 0o644)
		if err := remote.PutBlob(context.Background(), b, d, src); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "dst")
		n, err := remote.GetBlob(context.Background(), b, d, dst)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("get blob: %d bytes, %v", n, err)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Fatal("downloaded blob differs")
		}
	})
}

// Writers racing on one name leave one whole version, never a mix.
func TestConcurrentPuts(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		b := open(t, fx.env)
		const n = 6
		versions := make([][]byte, n)
		for i := range versions {
			versions[i], _ = blob(5<<20, uint64(100+i)) // more than a Redis chunk: temp + rename
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = b.Put(context.Background(), "entry/cc", bytes.NewReader(versions[i]), int64(len(versions[i])))
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := get(b, "entry/cc")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			if bytes.Equal(got, v) {
				return
			}
		}
		t.Fatalf("got %d bytes that are none of the versions written", len(got))
	})
}

func TestReadOnlyRefusesEveryPut(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		rw := open(t, fx.env)
		put(t, rw, "entry/aa", []byte("x"))
		ro := open(t, with(fx.env, map[string]string{"GROVE_REMOTE_READONLY": "1"}))
		if err := ro.Put(context.Background(), "entry/bb", strings.NewReader("y"), 1); !errors.Is(err, remote.ErrReadOnly) {
			t.Fatalf("read-only put: %v", err)
		}
		if ok, _ := rw.Has(context.Background(), "entry/bb"); ok {
			t.Fatal("a read-only put wrote")
		}
		if got, err := get(ro, "entry/aa"); err != nil || string(got) != "x" {
			t.Fatalf("read-only get: %q %v", got, err)
		}
	})
}

// Credentials the server refuses give one error that says so, on every
// operation, and are not mistaken for a miss.
func TestWrongCredentials(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.badCreds == nil {
			t.Skip("no credentials")
		}
		b := open(t, fx.badCreds)
		ctx := context.Background()
		_, gerr := b.Get(ctx, "entry/aa")
		_, herr := b.Has(ctx, "entry/aa")
		perr := b.Put(ctx, "entry/aa", strings.NewReader("x"), 1)
		for op, err := range map[string]error{"get": gerr, "has": herr, "put": perr} {
			if !errors.Is(err, remote.ErrDenied) {
				t.Errorf("%s with wrong credentials: %v, want ErrDenied", op, err)
				continue
			}
			if remote.IsDown(err) {
				t.Errorf("%s with wrong credentials: IsDown says the server is not there: %v", op, err)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "wrong") {
				t.Errorf("%s: error is not one line without the secret: %q", op, err)
			}
		}
		t.Logf("the error: %v", gerr)
	})
}

// Objects changed in the bucket behind the writer's back are refused by
// the reader: a blob by its digest, a record by its shape or signature.
func TestCorruptObjectsRefused(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		ctx := context.Background()
		b := open(t, fx.env)
		data, d := blob(3<<20, 9)
		bad := bytes.Clone(data)
		bad[len(bad)/2] ^= 1
		put(t, b, remote.BlobName(d), bad)
		dst := filepath.Join(t.TempDir(), "dst")
		if _, err := remote.GetBlob(ctx, b, d, dst); !errors.Is(err, remote.ErrUntrusted) {
			t.Fatalf("corrupt blob: %v", err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Fatal("a corrupt blob was left at dst")
		}

		entry := []byte(`{"crate":"a","outputs":[{"name":"liba.rlib","digest":"` + d + `","size":3}],"depinfo":"x: y\n","depinfo_name":"a.d"}`)
		for name, obj := range map[string][]byte{
			"entry/e1":    []byte(`{"crate":"a","outputs":[]}`),
			"entry/e2":    entry[:len(entry)/2],
			"lib/e3":      []byte(`{}`),
			"manifest/e4": []byte(`{"candidates":[{"entry":"../x"}]}`),
			// Build-script runs and the key index travel too, checked alike.
			"run/e5":          []byte(`{"package":"a","files":[{"path":"../x","digest":"` + d + `"}]}`),
			"run/e6":          []byte(`{"package":"a","files":[{"path":"x"}]}`),
			"run/e7":          []byte(`{"package":"a","files":[{"path":"x","digest":"` + d + `"},{"path":"x","digest":"` + d + `"}]}`),
			"run-manifest/e8": []byte(`{"candidates":[]}`),
			"index/recent":    []byte(`{"keys":[{"ns":"blob","key":"` + d + `"}]}`),
			"other/e9":        []byte(`{}`),
		} {
			put(t, b, name, obj)
			if _, err := remote.GetRecord(ctx, b, nil, name); !errors.Is(err, remote.ErrUntrusted) {
				t.Errorf("%s %q: %v, want ErrUntrusted", name, obj, err)
			}
		}

		for name, obj := range map[string][]byte{
			"run/g1":          []byte(`{"package":"a","files":[{"path":"d","dir":true},{"path":"d/x.rs","digest":"` + d + `","size":3,"text":true}],"stdout":"cargo:rerun-if-changed=build.rs\n"}`),
			"run-manifest/g2": []byte(`{"candidates":[{"entry":"` + d + `","inputs":[]}]}`),
			"index/recent":    []byte(`{"keys":[{"ns":"manifest","key":"` + d + `"},{"ns":"run-manifest","key":"` + d + `"}]}`),
		} {
			put(t, b, name, obj)
			if got, err := remote.GetRecord(ctx, b, nil, name); err != nil || !bytes.Equal(got, obj) {
				t.Errorf("%s: %v, want it accepted", name, err)
			}
		}

		// With a shared secret.
		key := []byte("team-secret")
		if err := remote.PutRecord(ctx, b, key, "entry/f1", entry); err != nil {
			t.Fatal(err)
		}
		if got, err := remote.GetRecord(ctx, b, key, "entry/f1"); err != nil || !bytes.Equal(got, entry) {
			t.Fatalf("signed entry: %v", err)
		}
		if got, err := remote.GetRecord(ctx, b, nil, "entry/f1"); err != nil || !bytes.Equal(got, entry) {
			t.Fatalf("signed entry read without a secret: %v", err)
		}
		signed, _ := get(b, "entry/f1")
		for name, obj := range map[string][]byte{
			"entry/f2": entry, // unsigned
			"entry/f3": remote.SealRecord([]byte("other-secret"), "entry/f3", entry),
			"entry/f4": signed, // signed for entry/f1: replayed under another key
			"entry/f5": append(bytes.Clone(signed[:len(signed)-3]), signed[len(signed)-3:]...)[:len(signed)-1],
		} {
			put(t, b, name, obj)
			if _, err := remote.GetRecord(ctx, b, key, name); !errors.Is(err, remote.ErrUntrusted) {
				t.Errorf("%s: %v, want ErrUntrusted", name, err)
			}
		}
	})
}

// An upload whose network dies half-way leaves nothing readable.
func TestUploadCutLeavesNothing(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.target == "" {
			t.Skip("no connection to cut")
		}
		p := remotetest.StartProxy(t, fx.target)
		b := open(t, fx.through(p.Addr))
		direct := open(t, fx.env)
		data, d := blob(12<<20, 11)
		r := &cutter{r: bytes.NewReader(data), at: 6 << 20, cut: p.Down}
		err := b.Put(context.Background(), remote.BlobName(d), r, int64(len(data)))
		if err == nil {
			t.Fatal("a put whose connection was cut succeeded")
		}
		t.Logf("the error: %v", err)
		if _, err := get(direct, remote.BlobName(d)); !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("after a cut upload: %v", err)
		}
	})
}

// cutter yields r and calls cut once at bytes have been read.
type cutter struct {
	r    io.Reader
	at   int
	read int
	cut  func()
	once sync.Once
}

func (c *cutter) Read(p []byte) (int, error) {
	if c.read >= c.at {
		c.once.Do(c.cut)
		time.Sleep(10 * time.Millisecond)
	}
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

// MinIO killed mid-upload and started again on the same data: the object
// is not there.
func TestServerKilledMidUpload(t *testing.T) {
	m := remotetest.StartMinIO(t, "")
	b := open(t, m.Env("k"))
	data, d := blob(12<<20, 12)
	r := &cutter{r: bytes.NewReader(data), at: 6 << 20, cut: m.Kill}
	if err := b.Put(context.Background(), remote.BlobName(d), r, int64(len(data))); err == nil {
		t.Fatal("a put to a killed server succeeded")
	}
	m.Restart()
	if _, err := get(b, remote.BlobName(d)); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("after the server was killed mid-upload: %v", err)
	}
}

// A download cut part-way is an error and leaves no file, both when the
// connection dies and when the server is killed.
func TestDownloadCut(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.target == "" {
			t.Skip("no connection to cut")
		}
		data, d := blob(12<<20, 13)
		put(t, open(t, fx.env), remote.BlobName(d), data)
		p := remotetest.StartProxy(t, fx.target)
		p.CutAfter(5 << 20)
		b := open(t, fx.through(p.Addr))
		dst := filepath.Join(t.TempDir(), "dst")
		if _, err := remote.GetBlob(context.Background(), b, d, dst); err == nil {
			t.Fatal("a cut download succeeded")
		} else {
			t.Logf("the error: %v", err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Fatal("a cut download left a file")
		}
	})
}

func TestServerKilledMidDownload(t *testing.T) {
	m := remotetest.StartMinIO(t, "")
	b := open(t, m.Env("k"))
	data, d := blob(24<<20, 14)
	put(t, b, remote.BlobName(d), data)
	rc, err := b.Get(context.Background(), remote.BlobName(d))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	n, err := io.Copy(io.Discard, rc)
	if err == nil {
		// The socket may hold the rest when the server dies after sending
		// it; then the object is whole, which is fine, but say so.
		if n+int64(len(buf)) != int64(len(data)) {
			t.Fatalf("download of a killed server ended without error after %d bytes", n+int64(len(buf)))
		}
		t.Log("the server had sent everything before it was killed")
	}
}

// A slow server costs its latency and a deadline ends a request that takes
// longer, with an error rather than a hang.
func TestSlowServer(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.target == "" {
			t.Skip("no connection to slow down")
		}
		put(t, open(t, fx.env), "entry/sl", []byte("slow"))
		p := remotetest.StartProxy(t, fx.target)
		b := open(t, fx.through(p.Addr))
		if got, err := get(b, "entry/sl"); err != nil || string(got) != "slow" {
			t.Fatalf("through the proxy: %q %v", got, err)
		}
		p.SetDelay(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := b.Has(ctx, "entry/sl")
		if err == nil {
			t.Fatal("a request slower than its deadline succeeded")
		}
		if el := time.Since(t0); el > 2*time.Second {
			t.Fatalf("the deadline was not kept: %v", el)
		}
		if remote.IsDown(err) {
			t.Errorf("a request that timed out: IsDown says the server is not there: %v", err)
		}
		t.Logf("the error: %v", err)
	})
}

// A server that is down fails every request quickly, with an error that
// is not a miss.
func TestServerDown(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.target == "" {
			t.Skip("no server")
		}
		p := remotetest.StartProxy(t, fx.target)
		b := open(t, fx.through(p.Addr))
		p.Down()
		ctx := context.Background()
		t0 := time.Now()
		_, gerr := b.Get(ctx, "entry/aa")
		_, herr := b.Has(ctx, "entry/aa")
		perr := b.Put(ctx, "entry/aa", strings.NewReader("x"), 1)
		for op, err := range map[string]error{"get": gerr, "has": herr, "put": perr} {
			if err == nil || errors.Is(err, remote.ErrNotFound) {
				t.Errorf("%s on a server that is down: %v", op, err)
			}
		}
		if el := time.Since(t0); el > 5*time.Second {
			t.Errorf("three requests to a server that is down took %v", el)
		}
		t.Logf("the error: %v (3 requests in %v)", gerr, time.Since(t0))
	})
}

// A server that is not there at all (nothing listens on its port: never
// started, or killed) fails every request with an error remote.IsDown
// knows, on which the agent's breaker opens at once; a server that is
// there but fails (wrong credentials, too slow: above) does not.
func TestNothingListens(t *testing.T) {
	each(t, func(t *testing.T, fx fixture) {
		if fx.target == "" {
			t.Skip("no server")
		}
		refused := "127.0.0.1:" + strconv.Itoa(remotetest.FreePort(t))
		cases := map[string]remote.Backend{"never started": open(t, fx.through(refused))}
		if fx.minio != nil {
			b := open(t, fx.env)
			fx.minio.Kill()
			cases["killed"] = b
		}
		for name, b := range cases {
			ctx := context.Background()
			_, gerr := b.Get(ctx, "entry/aa")
			_, herr := b.Has(ctx, "entry/aa")
			perr := b.Put(ctx, "entry/aa", strings.NewReader("x"), 1)
			for op, err := range map[string]error{"get": gerr, "has": herr, "put": perr} {
				if !remote.IsDown(err) {
					t.Errorf("%s: %s: IsDown(%v) = false", name, op, err)
				}
			}
		}
	})
	if remote.IsDown(nil) || remote.IsDown(context.DeadlineExceeded) || remote.IsDown(remote.ErrNotFound) {
		t.Error("IsDown is true for nil, a deadline or a miss")
	}
}

// A bucket on a full disk refuses the upload with an error and keeps
// nothing of it.
func TestFullBucket(t *testing.T) {
	dir := remotetest.SmallDisk(t, 48<<20)
	m := remotetest.StartMinIO(t, dir)
	b := open(t, m.Env("full"))
	data, d := blob(64<<20, 15)
	err := b.Put(context.Background(), remote.BlobName(d), bytes.NewReader(data), int64(len(data)))
	if err == nil {
		t.Fatal("a 64 MiB put into a 48 MiB disk succeeded")
	}
	t.Logf("the error: %v", err)
	if _, err := get(b, remote.BlobName(d)); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("after a full-disk put: %v", err)
	}
}

var _ = fmt.Sprint
