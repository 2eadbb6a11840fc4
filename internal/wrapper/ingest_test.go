package wrapper

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/record"
	"github.com/grove-rs/grove/internal/store"
)

// The background store takes a held program only when it still has the
// digest the wrapper computed: changed in place meanwhile, it is refused
// and no blob appears under that digest.
func TestIngestHeldChecksTheDigest(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("the program rustc wrote"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := filehash.Bytes([]byte("the program rustc wrote"))
	for _, c := range []struct {
		name    string
		content string
		ok      bool
	}{
		{"unchanged", "the program rustc wrote", true},
		{"changed in place", "the program, stripped!!", false},
	} {
		digest := d
		if !c.ok {
			digest = filehash.Bytes([]byte("what rustc wrote, another time"))
		}
		held, err := st.HoldTemp(prog)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(held, []byte(c.content), 0o755); err != nil {
			t.Fatal(err)
		}
		h := &handOff{
			Entry: record.Entry{Outputs: []record.Output{{Name: "prog", Digest: record.Digest(digest)}}},
			Held:  []heldOutput{{Output: 0, Path: held, Exec: true}},
		}
		err = ingestHeld(st, h)
		_, statErr := st.BlobStat(digest)
		switch {
		case c.ok && (err != nil || statErr != nil):
			t.Errorf("%s: ingest %v, blob %v", c.name, err, statErr)
		case c.ok && h.Entry.Outputs[0].Size != int64(len(c.content)):
			t.Errorf("%s: entry size %d, want %d", c.name, h.Entry.Outputs[0].Size, len(c.content))
		case !c.ok && (err == nil || statErr == nil):
			t.Errorf("%s: ingest %v, blob %v: a changed program was stored", c.name, err, statErr)
		}
		os.Remove(held)
	}
}
