// Package remotetest starts real servers for the remote cache's tests:
// MinIO (S3) and Redis on loopback ports, with their data in the test's
// temp dir, stopped when the test ends. A server binary that is not
// installed makes the test testneed.Missing ("minio", "redis-server"):
// .ci/run installs both.
package remotetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/testneed"
)

// CacheBinDir is where .ci/run (and a developer, once) builds MinIO:
// $GROVE_TEST_CACHE/bin, else ~/.cache/grove-test/bin.
func CacheBinDir() string {
	if d := os.Getenv("GROVE_TEST_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "grove-test", "bin")
}

// lookBin finds a server binary on PATH or in CacheBinDir.
func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join(CacheBinDir(), name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s is not on PATH nor in %s", name, CacheBinDir())
	}
	return p, nil
}

// MinIOBin returns the MinIO binary the tests start (lookBin), or
// reports it missing (testneed: a failure in CI, a skip elsewhere).
func MinIOBin(t testing.TB) string {
	t.Helper()
	bin, err := lookBin("minio")
	if err != nil {
		testneed.Missing(t, "minio", err)
	}
	return bin
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is one started process that can be killed and started again on
// the same port and data.
type server struct {
	t     testing.TB
	name  string
	bin   string
	args  []string
	env   []string
	ready func() error
	cmd   *exec.Cmd
	log   *os.File
	// exitErr receives the process's end once it is ready.
	exitErr chan error
}

func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	s.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := s.ready()
		if err == nil {
			// Keep reaping: Kill waits on this channel.
			go func() { s.exitErr <- <-exited }()
			return
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(s.log.Name())
			s.t.Fatalf("%s exited before it was ready (%v):\n%s", s.name, werr, tail(log))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			s.t.Fatalf("%s not ready after 60s: %v", s.name, err)
		}
	}
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}

// Kill ends the server at once (SIGKILL), as a crash or a pulled plug
// would.
func (s *server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exitErr
	s.cmd = nil
}

// Restart starts the server again on the same port and data.
func (s *server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

func newServer(t testing.TB, name, bin string, args, env []string, ready func() error) *server {
	log, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, name: name, bin: bin, args: args, env: env, ready: ready, log: log}
	s.exitErr = make(chan error, 1)
	s.start()
	t.Cleanup(func() { s.Kill(); log.Close() })
	return s
}

// MinIO is a running MinIO server with one bucket.
type MinIO struct {
	*server
	Addr      string // 127.0.0.1:port
	AccessKey string
	SecretKey string
	Bucket    string
	DataDir   string
}

// Endpoint is the value for GROVE_REMOTE_ENDPOINT.
func (m *MinIO) Endpoint() string { return "http://" + m.Addr }

// Env is the environment for a remote in the bucket under prefix.
func (m *MinIO) Env(prefix string) map[string]string {
	return map[string]string{
		"GROVE_REMOTE":          "s3://" + m.Bucket + "/" + prefix,
		"GROVE_REMOTE_ENDPOINT": m.Endpoint(),
		"AWS_ACCESS_KEY_ID":     m.AccessKey,
		"AWS_SECRET_ACCESS_KEY": m.SecretKey,
		"AWS_REGION":            "us-east-1",
	}
}

// StartMinIO starts MinIO on a free loopback port with its data in
// dataDir (a new temp dir when empty) and creates the bucket "grove".
func StartMinIO(t testing.TB, dataDir string) *MinIO {
	t.Helper()
	bin, err := lookBin("minio")
	if err != nil {
		testneed.Missing(t, "minio", err)
	}
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	m := &MinIO{Addr: addr, AccessKey: "grovetest", SecretKey: "grovetest-secret", Bucket: "grove", DataDir: dataDir}
	ready := func() error {
		resp, err := http.Get("http://" + addr + "/minio/health/live")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	}
	m.server = newServer(t, "minio", bin,
		[]string{"server", "--quiet", "--address", addr, "--console-address", "127.0.0.1:" + strconv.Itoa(FreePort(t)), dataDir},
		[]string{
			"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CALLHOME_ENABLE=off",
			"MINIO_CI_CD=1", // a data dir on the root disk is fine for a test
		}, ready)
	m.makeBucket(t)
	return m
}

// Redis is a running redis-server without persistence.
type Redis struct {
	*server
	Addr     string
	Password string
}

// URL is the value for GROVE_REMOTE (database 0).
func (r *Redis) URL() string {
	if r.Password != "" {
		return "redis://:" + r.Password + "@" + r.Addr + "/0"
	}
	return "redis://" + r.Addr + "/0"
}

// StartRedis starts redis-server on a free loopback port; with a password
// it requires AUTH.
func StartRedis(t testing.TB, password string) *Redis {
	t.Helper()
	bin, err := lookBin("redis-server")
	if err != nil {
		testneed.Missing(t, "redis-server", err)
	}
	port := FreePort(t)
	r := &Redis{Addr: "127.0.0.1:" + strconv.Itoa(port), Password: password}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no"}
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	r.server = newServer(t, "redis-server", bin, args, nil, func() error { return r.ping() })
	return r
}

func (r *Redis) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	// +PONG, or -NOAUTH when a password is set: either way it serves.
	if n == 0 || (buf[0] != '+' && buf[0] != '-') {
		return fmt.Errorf("redis answered %q", buf[:n])
	}
	return nil
}
