package wrapper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/grove-rs/grove/internal/atomicfile"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/remoteconf"
	"github.com/grove-rs/grove/internal/settings"
	"github.com/grove-rs/grove/internal/store"
)

// Big programs are stored after the build has moved on.
//
// A program stays its tree's own file (restore.Shared), so storing it is
// a copy, fsync'ed: for the corpus's 192 MiB `ledger`, ~0.9 s on every
// edit's critical path, after rustc and before Cargo may go on. Instead
// the wrapper holds the output's inode under the store's tmp/ (a hard
// link: no copy, and the inode stays whatever Cargo does with the name),
// hands the rest to a background process and exits. That process copies
// each held inode into its blob while hashing it, and publishes the entry
// only when every blob is in place and has the digest the wrapper
// computed, so:
//
//   - an entry is never visible before its blobs (store invariant 1);
//   - a program changed in place meanwhile (`strip` through the name,
//     a debugger patching it) is not stored: its digest no longer
//     matches, and the entry is dropped, a lost hit;
//   - the unit's flight lock is handed to the process (it inherits the
//     lock's open file), so a build of the same unit in another tree
//     still waits for the entry instead of compiling it again.
//
// Not deferred: when a remote is configured (the upload follows the
// entry, and CI's programs are what other machines fetch), or when the
// store is on another file system than the output (no hard link).
const deferMin = 16 << 20

// ingestEnv names the hand-off file of the background process.
const ingestEnv = "GROVE_INTERNAL_INGEST"

// handOff is what the background process gets: the entry to publish and
// the held outputs it still lacks. It lives in the store's tmp/ for the
// few seconds between the two processes, and is no stored record.
type handOff struct {
	ArgKey   record.ArgKey    `json:"arg_key"`
	EntryKey record.EntryKey  `json:"entry_key"`
	Cand     record.Candidate `json:"candidate"`
	Entry    record.Entry     `json:"entry"`
	Held     []heldOutput     `json:"held"`
}

type heldOutput struct {
	Output int    `json:"output"` // index in Entry.Outputs
	Path   string `json:"path"`   // the inode, held under tmp/
	Exec   bool   `json:"exec"`
}

// mayDefer reports whether an output of size bytes that stays private is
// stored by the background process.
func (w *wrapper) mayDefer(shared bool, size int64) bool {
	if shared || size < deferMin {
		return false
	}
	_, remote, err := remoteconf.ConfigFromEnv(os.Getenv)
	return !remote && err == nil
}

func (w *wrapper) haveBlob(d string) bool {
	_, err := w.st.BlobStat(d)
	return err == nil
}

// handOffSave starts the background process that stores the held outputs
// and publishes entry. On any failure it stores them here instead.
func (w *wrapper) handOffSave(h *handOff) error {
	err := w.startIngest(h)
	if err == nil {
		return nil
	}
	w.logf("store in the background: %v (storing now)", err)
	defer func() {
		for _, o := range h.Held {
			os.Remove(o.Path)
		}
	}()
	if err := ingestHeld(w.st, h); err != nil {
		return err
	}
	return w.publishEntry(h.ArgKey, h.EntryKey, h.Cand, &h.Entry)
}

func (w *wrapper) startIngest(h *handOff) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	job := w.st.TempPath("ingest")
	if err := atomicfile.Write(job, b, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		os.Remove(job)
		return err
	}
	// argv as a wrapper call (wrapper.Detect), which Main hands to
	// ingestMain by the environment.
	cmd := exec.Command(self, w.inv.Rustc)
	cmd.Env = append(os.Environ(), ingestEnv+"="+job)
	if w.flight != nil {
		cmd.ExtraFiles = []*os.File{w.flight}
	}
	// No stdout or stderr: Cargo reads the wrapper's until they close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(job)
		return err
	}
	return cmd.Process.Release()
}

// ingestMain is the background process: it stores the held outputs of
// the hand-off file job and publishes the entry. Its status nobody reads;
// what it did goes to GROVE_LOG.
func ingestMain(job string) int {
	w := &wrapper{cfg: settings.FromEnv(os.Getenv)}
	defer os.Remove(job)
	b, err := os.ReadFile(job)
	if err != nil {
		w.logf("ingest: %v", err)
		return 0
	}
	var h handOff
	if err := json.Unmarshal(b, &h); err != nil {
		w.logf("ingest %s: %v", job, err)
		return 0
	}
	defer func() {
		for _, o := range h.Held {
			os.Remove(o.Path)
		}
	}()
	if err := w.openStore(); err != nil {
		w.logf("ingest: %v", err)
		return 0
	}
	if err := ingestHeld(w.st, &h); err != nil {
		w.logf("ingest %s: %v (not stored)", h.Entry.Crate, err)
		return 0
	}
	if err := w.publishEntry(h.ArgKey, h.EntryKey, h.Cand, &h.Entry); err != nil {
		w.logf("ingest %s: %v", h.Entry.Crate, err)
		return 0
	}
	w.logf("ingest %s: %d programs stored in the background, entry %.12s published", h.Entry.Crate, len(h.Held), h.EntryKey)
	return 0
}

// ingestHeld copies each held output into its blob, hashing as it copies,
// and fills in the entry's size and mtime of the blob. A held file whose
// content is not the digest the wrapper computed is refused.
func ingestHeld(st *store.Store, h *handOff) error {
	for _, o := range h.Held {
		if o.Output < 0 || o.Output >= len(h.Entry.Outputs) {
			return errors.New("hand-off names no output")
		}
		out := &h.Entry.Outputs[o.Output]
		if err := putHeld(st, o, out); err != nil {
			return err
		}
		fi, err := st.BlobStat(string(out.Digest))
		if err != nil {
			return err
		}
		out.Size, out.MtimeNs = fi.Size(), fi.ModTime().UnixNano()
	}
	return nil
}

func putHeld(st *store.Store, o heldOutput, out *record.Output) error {
	f, err := os.Open(o.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	d := filehash.NewDigester()
	return st.PutBlobFrom(string(out.Digest), io.TeeReader(f, d), fi.Size(), o.Exec, func() error {
		if got := d.Digest(); got != string(out.Digest) {
			return fmt.Errorf("%s changed since rustc wrote it (digest %.12s, was %.12s)", out.Name, got, out.Digest)
		}
		return nil
	})
}
