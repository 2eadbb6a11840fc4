package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Server is the benchmark's own S3 remote: a MinIO server on a loopback
// port with its data in the work dir, behind a TCP proxy that counts the
// bytes each way. The bench starts it itself rather than taking a bucket
// from a flag: it is then empty, private (random credentials) and removed
// with the work dir, like every other store the bench uses, and the proxy
// counts the bytes every client moves, grove's and sccache's alike, on the
// wire (HTTP included) rather than by what each tool says of itself.
type s3Server struct {
	cmd    *exec.Cmd
	ln     net.Listener // the proxy's
	target string       // MinIO's own address
	bucket string
	user   string
	secret string

	up, down atomic.Int64  // bytes client→server, server→client
	latency  time.Duration // added each way (Options.RemoteLatency)

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// s3Bucket is the one bucket of the private server; sessions use prefixes.
const s3Bucket = "grove-bench"

// startS3 starts MinIO (the binary bin) with its data under dir and the
// counting proxy in front of it, and makes the bucket.
func startS3(ctx context.Context, bin, dir string) (*s3Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	console, err := freePort()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	s := &s3Server{
		target: "127.0.0.1:" + strconv.Itoa(port), bucket: s3Bucket,
		user: "grove-bench", secret: hex.EncodeToString(key), conns: map[net.Conn]bool{},
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "minio.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "server", "--quiet", "--address", s.target,
		"--console-address", "127.0.0.1:"+strconv.Itoa(console), data)
	// Only what MinIO needs: the user's MINIO_* or AWS_* must not change it.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"MINIO_ROOT_USER=" + s.user, "MINIO_ROOT_PASSWORD=" + s.secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CALLHOME_ENABLE=off",
		"MINIO_CI_CD=1", // a data dir on the root disk is fine here
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C is ours to handle
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting minio: %w", err)
	}
	s.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitHealthy(ctx, "http://"+s.target+"/minio/health/live", exited); err != nil {
		s.stop()
		b, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("minio did not start: %w: %s", err, tailBytes(b, 500))
	}
	cl, err := minio.New(s.target, &minio.Options{Creds: credentials.NewStaticV4(s.user, s.secret, ""), Region: "us-east-1"})
	if err == nil {
		err = cl.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: "us-east-1"})
	}
	if err == nil {
		s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("minio: %w", err)
	}
	go s.serve()
	return s, nil
}

func waitHealthy(ctx context.Context, url string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case e := <-exited:
			return fmt.Errorf("exited: %v", e)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serve forwards every connection to MinIO, counting bytes.
func (s *s3Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			t, err := net.Dial("tcp", s.target)
			if err != nil {
				c.Close()
				return
			}
			s.track(c, t, true)
			done := make(chan struct{})
			go func() { s.pipe(t, c, &s.up); close(done) }()
			s.pipe(c, t, &s.down)
			<-done
			s.track(c, t, false)
		}()
	}
}

func (s *s3Server) track(a, b net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[a], s.conns[b] = true, true
	} else {
		delete(s.conns, a)
		delete(s.conns, b)
	}
}

// pipe copies src to dst counting into n; when one direction ends, both
// connections close (an HTTP client reuses a connection until it closes it).
func (s *s3Server) pipe(dst, src net.Conn, n *atomic.Int64) {
	if s.latency > 0 {
		s.pipeDelayed(dst, src, n)
		return
	}
	buf := make([]byte, 256<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// pipeDelayed is pipe with every chunk written latency after it was
// read, as a network delays packets: chunks stay in flight meanwhile, so
// throughput is not limited (up to 64 chunks in flight).
func (s *s3Server) pipeDelayed(dst, src net.Conn, n *atomic.Int64) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	q := make(chan chunk, 64)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 64<<10)
			k, err := src.Read(buf)
			if k > 0 {
				n.Add(int64(k))
				q <- chunk{buf[:k], time.Now().Add(s.latency)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range q { // let the reader end
	}
}

// endpoint is the URL clients use: the proxy's.
func (s *s3Server) endpoint() string { return "http://" + s.ln.Addr().String() }

// moved returns the bytes sent to and received from the server so far.
func (s *s3Server) moved() (up, down int64) { return s.up.Load(), s.down.Load() }

// credentials are the environment of an S3 client of this server.
func (s *s3Server) credentials() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     s.user,
		"AWS_SECRET_ACCESS_KEY": s.secret,
		"AWS_REGION":            "us-east-1",
	}
}

// stop ends the proxy's connections and MinIO. It works after cancellation.
func (s *s3Server) stop() {
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(s.cmd.Process.Pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// deadEndpoint returns an S3 endpoint nobody listens on (a port that was
// free a moment ago): every request is refused, as by a server that is down.
func deadEndpoint() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return "http://127.0.0.1:" + strconv.Itoa(port), nil
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
