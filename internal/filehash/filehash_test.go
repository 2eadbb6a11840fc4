package filehash

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type mapMemo map[string][]byte

func (m mapMemo) GetObject(ns, key string) ([]byte, error) {
	if v, ok := m[ns+"/"+key]; ok {
		return v, nil
	}
	return nil, fs.ErrNotExist
}
func (m mapMemo) PutObject(ns, key string, data []byte) error {
	m[ns+"/"+key] = data
	return nil
}

func TestMemoOnlyForSettledFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	big := make([]byte, MemoThreshold)
	os.WriteFile(p, big, 0o644)
	memo := mapMemo{}
	now := time.Now()
	h := &Hasher{Memo: memo, Now: func() time.Time { return now }}
	d1, _, err := h.File(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(memo) != 0 {
		t.Fatal("a file written just now was memoized (racy)")
	}
	h.Now = func() time.Time { return now.Add(RacyWindow + time.Second) }
	if d2, _, _ := h.File(p); d2 != d1 || len(memo) != 1 {
		t.Fatalf("settled file: digest %s vs %s, memo entries %d", d2, d1, len(memo))
	}
	// A changed file has a new stat identity, so the memo cannot vouch for it.
	big[0] = 1
	os.WriteFile(p, big, 0o644)
	if d3, _, _ := h.File(p); d3 == d1 {
		t.Fatal("changed content, same digest")
	}
}

func TestSmallFilesAreNotMemoized(t *testing.T) {
	p := filepath.Join(t.TempDir(), "small")
	os.WriteFile(p, []byte("x"), 0o644)
	memo := mapMemo{}
	h := &Hasher{Memo: memo, Now: func() time.Time { return time.Now().Add(time.Hour) }}
	if _, _, err := h.File(p); err != nil {
		t.Fatal(err)
	}
	if len(memo) != 0 {
		t.Error("small file memoized")
	}
	if _, _, err := h.File(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// Within one Hasher a file is read once while it stays as it was, if it
// had been still for RacyWindow: the memo's rule, for files of any size.
func TestSeenWithinHasher(t *testing.T) {
	p := filepath.Join(t.TempDir(), "small.rs")
	write := func(s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	later := func() time.Time { return time.Now().Add(time.Hour) }
	tests := []struct {
		name      string
		h         *Hasher
		change    bool // rewrite the file between the two hashes
		wantReads int
	}{
		{"still file: read once", &Hasher{Memo: mapMemo{}, Now: later}, false, 1},
		{"still file changed in between: read again", &Hasher{Memo: mapMemo{}, Now: later}, true, 2},
		{"file within the racy window: read every time", &Hasher{Memo: mapMemo{}}, false, 2},
		{"no memo: read every time", &Hasher{Now: later}, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			write("fn a() {}\n")
			reads := 0
			fn := func(path string) (string, error) {
				reads++
				return hashContent(path)
			}
			d1, _, err := tc.h.FileWith(p, "test", fn)
			if err != nil {
				t.Fatal(err)
			}
			if tc.change {
				write("fn bb() {}\n") // another size: the fake clock waives the racy window
			}
			d2, _, err := tc.h.FileWith(p, "test", fn)
			if err != nil {
				t.Fatal(err)
			}
			if reads != tc.wantReads {
				t.Errorf("read %d times, want %d", reads, tc.wantReads)
			}
			if (d1 != d2) != tc.change {
				t.Errorf("digests %s, %s: changed = %v", d1, d2, tc.change)
			}
		})
	}
}
