package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// withUmask runs fn with the process umask set to mask. The umask is
// process-wide, so callers must not be parallel tests.
func withUmask(t *testing.T, mask int, fn func()) {
	t.Helper()
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	fn()
}

// dirModes returns the permission bits of every directory under root,
// root included, by path relative to root.
func dirModes(t *testing.T, root string) map[string]fs.FileMode {
	t.Helper()
	modes := map[string]fs.FileMode{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		modes[rel] = fi.Mode() & (fs.ModePerm | fs.ModeSetgid)
		return nil
	})
	return modes
}

// fillStore writes one of everything a store holds, so that every kind of
// directory (fan-outs included) exists.
func fillStore(t *testing.T, s *Store) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	d := writeFile(t, src, content(40, 5000), 0o644)
	if err := s.PutBlob(src, d, false); err != nil {
		t.Fatal(err)
	}
	if err := s.PutObject("entry", "0123456789abcdef", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.LockKey(t.Context(), "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// Issue 7 case 25: with umask 002 the store was group-writable, and another
// user replaced a blob. A private store's directories are 0700 whatever the
// umask, and its files never group- or world-writable.
func TestPrivateStoreModesWhateverTheUmask(t *testing.T) {
	for _, mask := range []int{0o000, 0o002, 0o022, 0o077} {
		withUmask(t, mask, func() {
			dir := filepath.Join(t.TempDir(), "store")
			s := mustOpen(t, dir)
			fillStore(t, s)
			for rel, m := range dirModes(t, dir) {
				if m != 0o700 {
					t.Errorf("umask %03o: dir %s mode %o, want 700", mask, rel, m)
				}
			}
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o022 != 0 {
						t.Errorf("umask %03o: file %s mode %o is group/world-writable", mask, p, fi.Mode().Perm())
					}
				}
				return nil
			})
		})
	}
}

// A shared store is an explicit choice: its directories are group-writable
// and setgid (new files keep the store's group), whatever the umask.
func TestGroupStoreModesWhateverTheUmask(t *testing.T) {
	for _, mask := range []int{0o022, 0o077} {
		withUmask(t, mask, func() {
			dir := filepath.Join(t.TempDir(), "store")
			s, err := OpenAccess(dir, Group)
			if err != nil {
				t.Fatal(err)
			}
			fillStore(t, s)
			for rel, m := range dirModes(t, dir) {
				if m != 0o770|fs.ModeSetgid {
					t.Errorf("umask %03o: dir %s mode %v, want setgid 0770", mask, rel, m)
				}
			}
			for _, p := range []string{s.BlobPath(blobOf(t, s)), s.objectPath("entry", "0123456789abcdef")} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if m := fi.Mode().Perm(); m&0o040 == 0 || m&0o002 != 0 {
					t.Errorf("umask %03o: %s mode %o: want group-readable, not world-writable", mask, p, m)
				}
			}
		})
	}
}

// blobOf returns the digest of the one blob in s.
func blobOf(t *testing.T, s *Store) string {
	t.Helper()
	var d string
	s.WalkBlobs(func(b BlobInfo) error { d = b.Digest; return nil })
	if d == "" {
		t.Fatal("no blob")
	}
	return d
}

// Open never silently uses a store another user could write to: it refuses
// it with an error that says why and what to do.
func TestOpenRefusesStoreOthersCanWrite(t *testing.T) {
	other := os.Geteuid() != 0 // only root can make a directory owned by someone else
	cases := []struct {
		name   string
		setup  func(dir string) error
		access Access
		want   string // "" means Open succeeds
		mode   fs.FileMode
	}{
		{"private 0700", func(d string) error { return os.Chmod(d, 0o700) }, Private, "", 0o700},
		{"legacy 0755 is tightened", func(d string) error { return os.Chmod(d, 0o755) }, Private, "", 0o700},
		{"group-writable", func(d string) error { return os.Chmod(d, 0o775) }, Private, "group- or world-writable", 0},
		{"world-writable", func(d string) error { return os.Chmod(d, 0o757) }, Private, "group- or world-writable", 0},
		{"group-writable subdir behind 0755", func(d string) error {
			os.Chmod(d, 0o755)
			return os.Chmod(filepath.Join(d, blobsDir), 0o775)
		}, Private, "group- or world-writable", 0},
		{"owned by another user", func(d string) error { return os.Chown(d, 65534, 65534) }, Private, "owned by", 0},
		{"group store, group-writable", func(d string) error { return os.Chmod(d, 0o2770) }, Group, "", 0o770 | fs.ModeSetgid},
		{"group store made shared by its owner", func(d string) error { return os.Chmod(d, 0o700) }, Group, "", 0o770 | fs.ModeSetgid},
		{"group store, world-writable", func(d string) error { return os.Chmod(d, 0o777) }, Group, "group- or world-writable", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.name, "another user") && other {
				t.Skip("needs root to chown")
			}
			dir := filepath.Join(t.TempDir(), "store")
			mustOpen(t, dir)
			if err := c.setup(dir); err != nil {
				t.Fatal(err)
			}
			_, err := OpenAccess(dir, c.access)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Open: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Open: err %v, want one saying %q", err, c.want)
			case c.want != "" && !errors.Is(err, ErrUntrusted):
				t.Fatalf("Open: %v does not wrap ErrUntrusted", err)
			}
			if c.want == "" {
				if m := dirModes(t, dir)["."]; m != c.mode {
					t.Errorf("store dir mode %v, want %v", m, c.mode)
				}
			}
		})
	}
}

func TestParseAccess(t *testing.T) {
	for in, want := range map[string]Access{"": Private, "private": Private, "0": Private, "group": Group, " Group ": Group} {
		if got, err := ParseAccess(in); err != nil || got != want {
			t.Errorf("ParseAccess(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1", "world", "yes"} {
		if _, err := ParseAccess(in); err == nil {
			t.Errorf("ParseAccess(%q): no error", in)
		}
	}
}

// Blobs are owner-writable like a plain cargo output (0644, 0755 when
// executable), so that a restored hard link does not break a later build
// without grove; never group- or world-writable, whatever the source mode.
func TestBlobModesAreThoseOfACargoOutput(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	work := t.TempDir()
	for i, c := range []struct {
		src  fs.FileMode
		link bool
		want fs.FileMode
	}{
		{0o644, false, 0o644}, {0o644, true, 0o644},
		{0o664, true, 0o644}, {0o666, false, 0o644},
		{0o755, false, 0o755}, {0o775, true, 0o755},
		{0o444, true, 0o644}, {0o555, false, 0o755},
	} {
		src := filepath.Join(work, "out")
		os.Remove(src)
		d := writeFile(t, src, content(uint64(50+i), 2000), 0o600)
		os.Chmod(src, c.src)
		if err := s.PutBlob(src, d, c.link); err != nil {
			t.Fatal(err)
		}
		assertMode(t, s.BlobPath(d), c.want)
	}
}

// Issue 7 case 26 and issue 8 item 3: the one integrity check. A quick check
// (restore, on every hit) costs one stat and re-hashes only when size or
// mtime moved; a full check (verify) always re-hashes. A corrupt blob is
// quarantined, so it is never served again.
func TestCheckBlob(t *testing.T) {
	type tamper func(t *testing.T, path string)
	flip := func(t *testing.T, p string) { // same size, mtime put back
		fi, _ := os.Stat(p)
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{0xff}, 10)
		f.Close()
		os.Chtimes(p, fi.ModTime(), fi.ModTime())
	}
	appendTo := func(t *testing.T, p string) {
		f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		f.Write([]byte("x"))
		f.Close()
	}
	touch := func(t *testing.T, p string) {
		now := time.Now().Add(time.Minute)
		os.Chtimes(p, now, now)
	}
	cases := []struct {
		name    string
		tamper  tamper
		full    bool
		corrupt bool
	}{
		{"intact quick", nil, false, false},
		{"intact full", nil, true, false},
		{"appended quick", appendTo, false, true},
		{"touched only quick", touch, false, false}, // re-hashed: content is right
		{"flipped, size and mtime put back, quick", flip, false, false},
		{"flipped, size and mtime put back, full", flip, true, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustOpen(t, t.TempDir())
			src := filepath.Join(t.TempDir(), "src")
			d := writeFile(t, src, content(uint64(60+i), 100_000), 0o644)
			if err := s.PutBlob(src, d, false); err != nil {
				t.Fatal(err)
			}
			fi, err := s.BlobStat(d)
			if err != nil {
				t.Fatal(err)
			}
			stamp := Stamp{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()}
			if c.tamper != nil {
				c.tamper(t, s.BlobPath(d))
			}
			_, err = s.CheckBlob(d, stamp, c.full)
			if !c.corrupt {
				if err != nil {
					t.Fatalf("CheckBlob: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("CheckBlob: %v, want ErrCorrupt", err)
			}
			if _, err := os.Stat(s.BlobPath(d)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("corrupt blob still served at its name: %v", err)
			}
			q, err := s.Quarantined()
			if err != nil || q.Blobs != 1 {
				t.Errorf("quarantine: %v, %v; want 1 blob", q, err)
			}
		})
	}
	// A missing blob is not corrupt, just gone.
	s := mustOpen(t, t.TempDir())
	if _, err := s.CheckBlob("0123456789abcdef", Stamp{}, false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing blob: %v", err)
	}
}

// Issue 7 case 19: a corrupt object of any namespace is removed through one
// function and counted, so that whoever finds it can heal the store.
func TestDropObject(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	for _, ns := range []string{"entry", "lib", "manifest"} {
		if err := s.PutObject(ns, "0123456789abcdef", []byte("not json")); err != nil {
			t.Fatal(err)
		}
		if err := s.DropObject(ns, "0123456789abcdef"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetObject(ns, "0123456789abcdef"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: dropped object still there: %v", ns, err)
		}
	}
	// Dropping what is already gone (a racing process dropped it) is fine.
	if err := s.DropObject("lib", "0123456789abcdef"); err != nil {
		t.Errorf("second drop: %v", err)
	}
	q, err := s.Quarantined()
	if err != nil {
		t.Fatal(err)
	}
	if o := q.Objects; o["entry"] != 1 || o["lib"] != 1 || o["manifest"] != 1 || q.Blobs != 0 {
		t.Errorf("Quarantined() = %v, want one per namespace", q)
	}
	if err := s.DropObject("../x", "0123456789abcdef"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("bad namespace: %v", err)
	}
}

// Quarantined files are evidence for a while, then Clean removes them.
func TestCleanRemovesOldQuarantine(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	s.PutObject("lib", "0123456789abcdef", []byte("x"))
	s.DropObject("lib", "0123456789abcdef")
	if _, err := s.Clean(time.Hour); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Quarantined(); q.Objects["lib"] != 1 {
		t.Fatalf("fresh quarantine removed: %v", q)
	}
	old := time.Now().Add(-QuarantineAge - time.Hour)
	filepath.WalkDir(filepath.Join(s.Dir(), quarantineDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	if _, err := s.Clean(time.Hour); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Quarantined(); q.Objects["lib"] != 0 {
		t.Fatalf("old quarantine kept: %v", q)
	}
}
