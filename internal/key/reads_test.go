package key

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/depinfo"
	"github.com/grove-rs/grove/internal/filehash"
	"github.com/grove-rs/grove/internal/rustc"
	"github.com/grove-rs/grove/internal/treewatch"
)

// TestTreeReads: what the tree watch saw becomes inputs (a file opened
// beyond dep-info by content, a dir listed by its listing) or makes the
// unit not stored; a candidate made in tree a matches tree b only where
// those inputs are the same there.
func TestTreeReads(t *testing.T) {
	if !treewatch.Supported {
		t.Skip("no tree watch on this OS")
	}
	files := map[string]string{
		"app/src/main.rs":     "fn main() {}",
		"app/templates/x.txt": "v1",
		"shared.txt":          "s1",
		"app/parts/one":       "1",
	}
	tests := []struct {
		name   string
		opened []string // relative to the tree
		listed []string
		wrote  string
		err    string
		edit   map[string]string // applied to tree b ("" removes)
		reason string            // non-empty: not stored, containing this
		match  bool              // the candidate matches tree b after edit
	}{
		{name: "declared only", opened: []string{"app/src/main.rs"}, edit: map[string]string{"app/templates/x.txt": "v2"}, match: true},
		{name: "template read", opened: []string{"app/templates/x.txt"}, match: true},
		{name: "template differs", opened: []string{"app/templates/x.txt"}, edit: map[string]string{"app/templates/x.txt": "v2"}},
		{name: "template gone", opened: []string{"app/templates/x.txt"}, edit: map[string]string{"app/templates/x.txt": ""}},
		{name: "root file differs", opened: []string{"shared.txt"}, edit: map[string]string{"shared.txt": "s2"}},
		{name: "listed dir same", listed: []string{"app/parts"}, edit: map[string]string{"app/parts/one": "changed content"}, match: true},
		{name: "listed dir gains a file", listed: []string{"app/parts"}, edit: map[string]string{"app/parts/two": "2"}},
		{name: "listed dir loses a file", listed: []string{"app/parts"}, edit: map[string]string{"app/parts/one": ""}},
		{name: "tree written", wrote: "app/new.txt", reason: "tree written during compile"},
		{name: "not watched", err: "too many dirs", reason: "tree reads not watched"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trees := [2]string{t.TempDir(), t.TempDir()}
			for _, tr := range trees {
				writeFiles(t, tr, files)
			}
			unit := func(tree string) *Unit {
				return &Unit{
					Inv: &rustc.Invocation{Input: "app/src/main.rs"},
					Cwd: tree, TargetRoot: filepath.Join(tree, "target"), Env: map[string]string{},
					Norm:   NewNormalizer(map[string]string{Cwd: tree}),
					Hasher: &filehash.Hasher{},
				}
			}
			abs := func(rel []string) []string {
				var out []string
				for _, r := range rel {
					out = append(out, filepath.Join(trees[0], r))
				}
				return out
			}
			c := Compile{Start: time.Now().Add(time.Hour), ReadsErr: tt.err}
			if tt.err == "" {
				c.Reads = &treewatch.Reads{Opened: abs(tt.opened), Listed: abs(tt.listed)}
				if tt.wrote != "" {
					c.Reads.Wrote = filepath.Join(trees[0], tt.wrote)
				}
			}
			// main.rs, and main/mod.rs absent (inputs.go).
			info := &depinfo.Info{Files: []string{"app/src/main.rs"}}
			cand, reason := unit(trees[0]).Candidate(info, c)
			if tt.reason != "" {
				if !strings.Contains(reason, tt.reason) {
					t.Fatalf("reason %q, want %q", reason, tt.reason)
				}
				return
			}
			if reason != "" {
				t.Fatal(reason)
			}
			if want := 2 + len(tt.opened) + len(tt.listed) - countDeclared(tt.opened); len(cand.Inputs) != want {
				t.Errorf("%d inputs, want %d: %+v", len(cand.Inputs), want, cand.Inputs)
			}
			for p, s := range tt.edit {
				full := filepath.Join(trees[1], p)
				if s == "" {
					os.Remove(full)
				} else {
					writeFiles(t, trees[1], map[string]string{p: s})
				}
			}
			if got := unit(trees[1]).Matches(cand); got != tt.match {
				t.Errorf("matches b: %v, want %v", got, tt.match)
			}
		})
	}
}

func countDeclared(opened []string) int {
	n := 0
	for _, o := range opened {
		if o == "app/src/main.rs" {
			n++
		}
	}
	return n
}

func TestMetadataWritten(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
	}{
		{`{"$message_type":"artifact","artifact":"/t/liba.rmeta","emit":"metadata"}`, true},
		{`{"artifact":"/t/liba.rmeta","emit":"metadata"}`, true},
		{`{"$message_type":"artifact","artifact":"/t/liba.rlib","emit":"link"}`, false},
		{`{"$message_type":"diagnostic","message":"\"artifact\": \"emit\":\"metadata\""}`, false},
	} {
		if got := MetadataWritten([]byte(tt.line)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.line, got, tt.want)
		}
	}
}
