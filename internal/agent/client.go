package agent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grove-rs/grove/internal/launch"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remoteconf"
)

// Client timeouts. A wrapper never waits long for the agent. When none
// runs, connecting fails at once (no socket, or refused) whatever
// dialTimeout is; dialTimeout only bounds the wait for an agent that runs
// but is slow to accept, and is generous because a wrapper on a loaded
// machine may not get the CPU for tens of milliseconds. startWait is paid
// by the wrapper that starts the agent, once per agent lifetime;
// uploadStartWait by an upload that finds no agent (it idled out during a
// long compile): short, and the upload is dropped after it.
const (
	dialTimeout     = 200 * time.Millisecond
	startWait       = time.Second
	uploadStartWait = 300 * time.Millisecond
	uploadTimeout   = 100 * time.Millisecond
	// fetchTimeout bounds a wrapper's wait for an answer; the agent's own
	// timeouts are shorter, so this only matters if the agent hangs.
	fetchTimeout = 2 * time.Minute
)

// Client talks to the agent of one store and remote.
type Client struct {
	sock    string
	store   string
	started bool
}

// NewClient returns a client for the agent of storeDir and c.
func NewClient(storeDir string, c remoteconf.Config) (*Client, error) {
	sock, err := SocketPath(storeDir, c)
	if err != nil {
		return nil, err
	}
	return &Client{sock: sock, store: storeDir}, nil
}

// Manifest asks for the remote manifest of an argument key, starting the
// agent if none runs.
func (c *Client) Manifest(arg string) (Response, error) {
	return c.call(Request{Op: OpManifest, Arg: arg}, true)
}

// Import asks the agent to verify and import a remote candidate.
func (c *Client) Import(req Request) (Response, error) {
	req.Op = OpImport
	return c.call(req, false)
}

// Upload hands an entry to the agent for upload and returns at once: it
// does not wait for the agent's answer. When no agent answers it starts
// one and waits for it at most uploadStartWait, then drops the upload.
func (c *Client) Upload(arg, entry string) error {
	return c.upload(Request{Op: OpUpload, Arg: arg, Entry: entry})
}

// RunManifest asks for the remote manifest of a build-script run key,
// starting the agent if none runs.
func (c *Client) RunManifest(runKey string) (Response, error) {
	return c.call(Request{Op: OpManifest, Arg: runKey, Run: true}, true)
}

// ImportRun asks the agent to verify and import a remote run candidate.
func (c *Client) ImportRun(runKey string, cand *record.Candidate) (Response, error) {
	return c.call(Request{Op: OpImport, Arg: runKey, Cand: cand, Run: true}, false)
}

// UploadRun hands a stored build-script run to the agent for upload, as
// Upload does an entry.
func (c *Client) UploadRun(runKey, entry string) error {
	return c.upload(Request{Op: OpUpload, Arg: runKey, Entry: entry, Run: true})
}

func (c *Client) upload(req Request) error {
	conn, err := c.connect(uploadStartWait)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(uploadTimeout))
	return writeRequest(conn, req)
}

// Quit asks the agent to exit once its uploads are done.
func (c *Client) Quit() error {
	_, err := c.call(Request{Op: OpQuit}, false)
	return err
}

// Ping reports whether an agent answers.
func (c *Client) Ping() bool {
	r, err := c.call(Request{Op: OpPing}, false)
	return err == nil && r.Status == OK
}

// connect dials the agent; when none answers and wait is not zero, it
// starts one and dials again for at most wait.
func (c *Client) connect(wait time.Duration) (*os.File, error) {
	conn, err := c.dial()
	if err != nil && wait > 0 && c.start() {
		deadline := time.Now().Add(wait)
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			conn, err = c.dial()
		}
	}
	return conn, err
}

func (c *Client) call(req Request, start bool) (Response, error) {
	wait := time.Duration(0)
	if start {
		wait = startWait
	}
	conn, err := c.connect(wait)
	if err != nil {
		return Response{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(fetchTimeout))
	if err := writeRequest(conn, req); err != nil {
		return Response{}, err
	}
	line, err := ReadLine(bufio.NewReaderSize(conn, 64<<10))
	if err != nil {
		return Response{}, fmt.Errorf("agent: %w", err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("agent: %w", err)
	}
	return resp, nil
}

func (c *Client) dial() (*os.File, error) {
	return dialUnix(c.sock, dialTimeout)
}

func writeRequest(conn *os.File, req Request) error {
	req.V = Version
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_, err = conn.Write(append(b, '\n'))
	return err
}

// start starts an agent (grove-cli agent --store DIR) detached from this
// process: its own session, stdio on /dev/null, the wrapper's environment
// (which holds the remote's settings and credentials). It reports whether
// it started one; a client starts at most one. Several wrappers may start
// one at once: the agents' lock lets one run and the others exit.
func (c *Client) start() bool {
	if c.started {
		return false
	}
	c.started = true
	exe, err := launch.Find(launch.CLI)
	if err != nil {
		return false
	}
	cmd := exec.Command(exe, "agent", "--store", c.store)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Descriptors this process inherited without close-on-exec (Cargo's
	// jobserver pipe) must not live on in the agent for minutes.
	restore := closeOnExecInherited()
	err = cmd.Start()
	restore()
	if err != nil {
		return false
	}
	cmd.Process.Release()
	return true
}

// closeOnExecInherited marks every descriptor above stderr close-on-exec
// and returns a function that clears the mark again on those that did not
// have it (rustc, run later by this process, needs the jobserver).
func closeOnExecInherited() func() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return func() {}
	}
	var marked []int
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags|unix.FD_CLOEXEC); err == nil {
			marked = append(marked, fd)
		}
	}
	return func() {
		for _, fd := range marked {
			if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, flags&^unix.FD_CLOEXEC)
			}
		}
	}
}
