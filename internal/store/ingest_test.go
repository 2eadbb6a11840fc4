package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
)

// A blob fetched from elsewhere gets its name only when it is complete and
// the caller's check passes; otherwise nothing is left, not even in tmp/.
func TestPutBlobFrom(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("\x7fELF program bytes")
	d := filehash.Bytes(data)
	bad := errors.New("digest differs")
	for _, tc := range []struct {
		name  string
		data  []byte
		size  int64
		check error
		want  error
	}{
		{"short", data[:5], int64(len(data)), nil, ErrSize},
		{"long", append(data, 'x'), int64(len(data)), nil, ErrSize},
		{"check fails", data, int64(len(data)), bad, bad},
	} {
		err := s.PutBlobFrom(d, bytes.NewReader(tc.data), tc.size, true, func() error { return tc.check })
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if _, err := s.BlobStat(d); err == nil {
			t.Fatalf("%s: blob published", tc.name)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Dir(), tmpDir)); len(ents) > 0 {
		t.Errorf("left in tmp/: %v", ents)
	}
	if err := s.PutBlobFrom(d, bytes.NewReader(data), int64(len(data)), true, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	fi, err := s.BlobStat(d)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("blob: %v, %v; want mode 0755", fi, err)
	}
	if got, _ := os.ReadFile(s.BlobPath(d)); !bytes.Equal(got, data) {
		t.Errorf("blob holds %q", got)
	}
}
