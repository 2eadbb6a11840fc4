package key

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/zeebo/blake3"
)

// TestInputSetMemo: a candidate's sources are memoized as one set once
// every file is still; the memo then decides the match with no read, and
// any change to any file (an edit that keeps size and mtime moves ctime, a
// module file appearing) is seen. Files within the racy window are never
// memoized, and a damaged memo is ignored.
func TestInputSetMemo(t *testing.T) {
	cwd := t.TempDir()
	src := map[string]string{"src/lib.rs": "mod a;\npub fn f() {}", "src/a.rs": "pub fn a() {}"}
	writeFiles(t, cwd, src)
	old := time.Now().Add(-time.Hour)
	for n := range src {
		os.Chtimes(filepath.Join(cwd, n), old, old)
	}
	memo := &mapMemo{m: map[string][]byte{}}
	unit := func(now time.Time) *Unit {
		return &Unit{
			Cwd: cwd, Env: map[string]string{},
			Norm:   NewNormalizer(map[string]string{Cwd: cwd}),
			Hasher: &filehash.Hasher{Memo: memo, Now: func() time.Time { return now }},
		}
	}
	info := &depinfo.Info{Files: []string{"src/lib.rs", "src/a.rs"}}
	later := time.Now().Add(time.Hour) // the files' ctimes are now: look from later
	cand, reason := unit(later).Candidate(info, Compile{Start: later})
	if reason != "" {
		t.Fatal(reason)
	}
	if countNS(memo, inputSetNS) != 1 {
		t.Fatalf("save memoized %d sets, want 1", countNS(memo, inputSetNS))
	}
	gets := memo.gets
	if !unit(later).Matches(cand) {
		t.Fatal("unchanged sources do not match")
	}
	if memo.gets != gets+1 {
		t.Errorf("match read %d memo objects, want 1 (the set)", memo.gets-gets)
	}
	// Served from the memo: poison it and see that.
	setMemo := func(v string) {
		for k := range memo.m {
			if strings.HasPrefix(k, inputSetNS+"/") {
				memo.m[k] = []byte(v)
			}
		}
	}
	setMemo(strings.Repeat("0", 64) + "\n" + strings.Repeat("1", 64))
	if unit(later).Matches(cand) {
		t.Fatal("the memo was not used")
	}
	setMemo("garbage")
	if !unit(later).Matches(cand) {
		t.Fatal("a damaged memo was used")
	}

	// An edit that keeps the size and puts the mtime back still moves ctime.
	a := filepath.Join(cwd, "src/a.rs")
	os.WriteFile(a, []byte("pub fn b() {}"), 0o644)
	os.Chtimes(a, old, old)
	if unit(later).Matches(cand) {
		t.Fatal("an edit that keeps size and mtime matched the old set")
	}
	os.WriteFile(a, []byte("pub fn a() {}"), 0o644)
	os.Chtimes(a, old, old)
	if !unit(later).Matches(cand) {
		t.Fatal("the original content does not match again")
	}
	// The other spelling of a module appearing is seen (not a set file).
	writeFiles(t, cwd, map[string]string{"src/a/mod.rs": "pub fn a() {}"})
	if unit(later).Matches(cand) {
		t.Fatal("src/a/mod.rs appeared, still matched")
	}
	os.RemoveAll(filepath.Join(cwd, "src/a"))

	// A file within the racy window: matched by reading, never memoized.
	memo.m = map[string][]byte{}
	os.WriteFile(a, []byte("pub fn a() {}"), 0o644)
	if !unit(time.Now()).Matches(cand) || countNS(memo, inputSetNS) != 0 {
		t.Fatalf("racy file: memoized %d sets, want 0", countNS(memo, inputSetNS))
	}
	if !unit(later).Matches(cand) || countNS(memo, inputSetNS) != 1 {
		t.Fatalf("still again: memoized %d sets, want 1", countNS(memo, inputSetNS))
	}
}

// The set's memo key is the same bytes fmt wrote before (memos made by an
// earlier grove stay valid): "path\x00dev ino size mtime ctime\n" per file.
func TestInputSetKeyBytes(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a.rs", "b.rs"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte(n), 0o644)
		paths = append(paths, p)
	}
	u := &Unit{Hasher: &filehash.Hasher{}}
	s, ok := u.statInputs(paths)
	if !ok {
		t.Fatal("stat")
	}
	h := blake3.New()
	h.WriteString(inputSetVersion)
	for i, p := range paths {
		st := s.sts[i]
		fmt.Fprintf(h, "%s\x00%d %d %d %d %d\n", p, st.Dev, st.Ino, st.Size, st.Mtime, st.Ctime)
	}
	if want := hex.EncodeToString(h.Sum(nil)); s.key != want {
		t.Errorf("key %s, want %s", s.key, want)
	}
}
