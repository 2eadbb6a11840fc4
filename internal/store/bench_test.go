package store

import (
	"path/filepath"
	"testing"
)

// The wrapper opens the store once per rustc invocation.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	if _, err := Open(dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Open(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// A hit reads a manifest and an entry: small JSON objects.
func BenchmarkGetObject(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	const key = "0123456789abcdef0123456789abcdef"
	if err := s.PutObject("entries", key, content(1, 2048)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetObject("entries", key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTouchObjectFresh(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	const key = "0123456789abcdef0123456789abcdef"
	if err := s.PutObject("entries", key, []byte("{}")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.TouchObject("entries", key)
	}
}

func BenchmarkPutObject(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := content(2, 2048)
	for b.Loop() {
		if err := s.PutObject("entries", "0123456789abcdef", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLockKeyUncontended(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		unlock, err := s.LockKey(b.Context(), "0123456789abcdef")
		if err != nil {
			b.Fatal(err)
		}
		unlock()
	}
}

// Restoring one 1 MB output by hard link (ext4) or reflink.
func BenchmarkMaterialize(b *testing.B) {
	for _, hard := range []bool{true, false} {
		name := "copy-or-reflink"
		if hard {
			name = "hardlink-allowed"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			work := b.TempDir()
			src := filepath.Join(work, "src")
			d := writeFile(b, src, content(3, 1<<20), 0o644)
			if err := s.PutBlob(src, d, false); err != nil {
				b.Fatal(err)
			}
			dst := filepath.Join(work, "dst")
			for b.Loop() {
				if _, err := s.Materialize(d, dst, hard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
