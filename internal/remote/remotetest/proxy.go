package remotetest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback in front of a real server: it can delay
// every write it forwards (a slow or distant server) and cut every
// connection at once (a network that fails mid-transfer).
type Proxy struct {
	Addr  string
	delay atomic.Int64 // per forwarded chunk, nanoseconds
	// after, when > 0, cuts a connection once it has forwarded that many
	// bytes server-to-client (a download that dies part-way).
	after atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

// StartProxy forwards a loopback port to target until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String()}
	t.Cleanup(func() { l.Close(); p.Cut() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go p.pipe(s, c, false)
			go p.pipe(c, s, true)
		}
	}()
	return p
}

// SetDelay makes every chunk forwarded from now on wait d first.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// CutAfter makes connections opened from now on die once they have
// forwarded n bytes from the server, and the proxy go Down then (a client
// that reconnects and retries finds the network gone); 0 turns it off.
func (p *Proxy) CutAfter(n int64) { p.after.Store(n) }

// Down cuts every connection and refuses new ones: the network is gone.
func (p *Proxy) Down() {
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	p.Cut()
}

// Cut closes every connection through the proxy now.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *Proxy) pipe(dst, src net.Conn, fromServer bool) {
	fail := func() { dst.Close(); src.Close() }
	buf := make([]byte, 32<<10)
	var sent int64
	limit := p.after.Load()
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := p.delay.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
			w := buf[:n]
			if fromServer && limit > 0 && sent+int64(n) > limit {
				w = w[:limit-sent]
				dst.Write(w)
				p.Down()
				return
			}
			if _, werr := dst.Write(w); werr != nil {
				fail()
				return
			}
			sent += int64(n)
		}
		if err != nil {
			if err != io.EOF {
				fail()
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}
