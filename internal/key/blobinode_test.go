package key

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/store"
)

// readCounter is a digest function that counts whole reads: a file the
// blob-inode rule knows costs none.
type readCounter struct{ n int }

func (r *readCounter) digest(p string) (string, error) {
	r.n++
	b, err := os.ReadFile(p)
	return filehash.Bytes(b), err
}

// A file in a tree that is a store blob's inode is known by its note, with
// no read, however often its ctime moves; anything that could mean other
// content (a write, another inode at the blob's name, a note made while
// the file was racy) makes it read again.
func TestBlobInodeRule(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	cases := []struct {
		name  string
		after func(t *testing.T, s *store.Store, file, digest string)
		known bool
	}{
		{"linked again elsewhere (ctime moves)", func(t *testing.T, s *store.Store, file, digest string) {
			if _, err := s.Materialize(digest, filepath.Join(t.TempDir(), "other.rlib"), true); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"written in place, same size", func(t *testing.T, s *store.Store, file, digest string) {
			if err := os.WriteFile(file, []byte("libB"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"blob re-made as another inode", func(t *testing.T, s *store.Store, file, digest string) {
			p := s.BlobPath(digest)
			b, _ := os.ReadFile(p)
			os.Remove(p)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, old, old)
		}, false},
		{"file replaced by a copy with the blob's times", func(t *testing.T, s *store.Store, file, digest string) {
			os.Remove(file)
			if err := os.WriteFile(file, []byte("libA"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(file, old, old)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			tree := t.TempDir()
			out := filepath.Join(tree, "libx.rlib")
			if err := os.WriteFile(out, []byte("libA"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(out, old, old)
			d := filehash.Bytes([]byte("libA"))
			if err := s.PutBlob(out, d, true); err != nil {
				t.Fatal(err)
			}
			u := &Unit{records: s}
			u.NoteStored(out, d) // save's note
			c.after(t, s, out, d)
			var r readCounter
			h := &filehash.Hasher{Known: blobInodes{st: s, now: time.Now}}
			got, _, err := h.FileWith(out, "filehash", r.digest)
			if err != nil {
				t.Fatal(err)
			}
			if known := r.n == 0; known != c.known {
				t.Errorf("known without a read: %v, want %v", known, c.known)
			}
			b, _ := os.ReadFile(out)
			if got != filehash.Bytes(b) {
				t.Errorf("digest %s, content hashes to %s", got, filehash.Bytes(b))
			}
		})
	}
}

// A whole read notes the inode only when its mtime is older than the racy
// window: a write in the same clock tick would leave size and mtime as
// they were.
func TestBlobInodeLearnRacy(t *testing.T) {
	for _, age := range []time.Duration{0, time.Hour} {
		s, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "libx.rlib")
		os.WriteFile(out, []byte("libA"), 0o644)
		mt := time.Now().Add(-age)
		os.Chtimes(out, mt, mt)
		d := filehash.Bytes([]byte("libA"))
		if err := s.PutBlob(out, d, true); err != nil {
			t.Fatal(err)
		}
		h := &filehash.Hasher{Known: blobInodes{st: s, now: time.Now}}
		var r readCounter
		for i := 0; i < 2; i++ {
			if _, _, err := h.FileWith(out, "filehash", r.digest); err != nil {
				t.Fatal(err)
			}
		}
		want := 2
		if age > 0 {
			want = 1
		}
		if r.n != want {
			t.Errorf("mtime %v old: %d reads in two hashes, want %d", age, r.n, want)
		}
	}
}

// A private copy restore made of a blob is known by its copy note, with no
// read, until anything could have changed it: a write (even one that puts
// the size and mtime back), a chmod, another link, or another file in its
// place.
func TestCopyNoteRule(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	cases := []struct {
		name  string
		after func(t *testing.T, file string)
		known bool
	}{
		{"untouched", func(t *testing.T, file string) {}, true},
		{"written in place, size and mtime put back", func(t *testing.T, file string) {
			fi, _ := os.Stat(file)
			if err := os.WriteFile(file, []byte("libB"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(file, fi.ModTime(), fi.ModTime())
		}, false},
		{"chmod", func(t *testing.T, file string) { os.Chmod(file, 0o600) }, false},
		{"linked elsewhere", func(t *testing.T, file string) {
			if err := os.Link(file, file+".2"); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"replaced by another file with its times", func(t *testing.T, file string) {
			fi, _ := os.Stat(file)
			os.Remove(file)
			if err := os.WriteFile(file, []byte("libB"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(file, fi.ModTime(), fi.ModTime())
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(t.TempDir(), "libx.rmeta")
			os.WriteFile(src, []byte("libA"), 0o644)
			os.Chtimes(src, old, old)
			d := filehash.Bytes([]byte("libA"))
			if err := s.PutBlob(src, d, false); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "libx.rmeta")
			if m, err := s.Materialize(d, out, false); err != nil || m == store.MethodHardlink {
				t.Fatalf("materialize: %v %v", m, err)
			}
			u := &Unit{records: s}
			u.NoteCopied(out, d) // the wrapper's note after a restore
			c.after(t, out)
			var r readCounter
			h := &filehash.Hasher{Known: blobInodes{st: s, now: time.Now}}
			got, _, err := h.FileWith(out, "filehash", r.digest)
			if err != nil {
				t.Fatal(err)
			}
			if known := r.n == 0; known != c.known {
				t.Errorf("known without a read: %v, want %v", known, c.known)
			}
			b, _ := os.ReadFile(out)
			if got != filehash.Bytes(b) {
				t.Errorf("digest %s, content hashes to %s", got, filehash.Bytes(b))
			}
		})
	}
}

// A restore that writes its copies again (the same unit restored twice in
// one tree) frees an inode number and likely reuses it: each copy has a
// note of its own (the ctime is in the key), the later copy is known by
// its own note (two copies within one clock tick share a ctime and
// so a key: the later note replaces the earlier, as before).
func TestCopyNoteEachCopy(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var digests []string
	for _, content := range []string{"libA", "libBB"} {
		src := filepath.Join(dir, "src")
		os.WriteFile(src, []byte(content), 0o644)
		d := filehash.Bytes([]byte(content))
		if err := s.PutBlob(src, d, false); err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	out := filepath.Join(t.TempDir(), "libx.rmeta")
	u := &Unit{records: s}
	for i := 0; i < 4; i++ {
		d := digests[i%2]
		os.Remove(out)
		if m, err := s.Materialize(d, out, false); err != nil || m == store.MethodHardlink {
			t.Fatalf("materialize: %v %v", m, err)
		}
		u.NoteCopied(out, d)
		var r readCounter
		h := &filehash.Hasher{Known: blobInodes{st: s, now: time.Now}}
		got, _, err := h.FileWith(out, "filehash", r.digest)
		if err != nil {
			t.Fatal(err)
		}
		if got != d || r.n != 0 {
			t.Errorf("copy %d: digest %s with %d reads, want %s with none", i, got, r.n, d)
		}
	}
}
