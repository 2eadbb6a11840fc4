package key

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/grove-rs/grove/internal/filehash"
)

// TestExtraFilesPatterns: GROVE_EXTRA_FILES patterns, relative to the
// unit's CARGO_MANIFEST_DIR, matched with ** for any depth (doublestar):
// which files each pattern keys, by their path relative to the manifest
// dir.
func TestExtraFilesPatterns(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	manifest := filepath.Join(ws, "crates", "web")
	writeFiles(t, manifest, map[string]string{
		"page.html":                  "0",
		"templates/a.html":           "1",
		"templates/x/b.html":         "2",
		"templates/x/y/c.html":       "3",
		"templates/x/y/notes.txt":    "4",
		"templates/.hidden/d.html":   "5",
		"other/e.html":               "6",
		"schema.json":                "7",
		"sql/001.sql":                "8",
		"sql/deep/002.sql":           "9",
		"templates/x/y/z/w/v/f.html": "10",
	})
	writeFiles(t, filepath.Join(ws, "shared"), map[string]string{"base.html": "s", "deep/inner.html": "si"})
	tests := []struct {
		patterns []string
		want     []string // nil: none; "uncacheable": NotCacheable
	}{
		{[]string{"templates/**/*.html"}, []string{"templates/.hidden/d.html", "templates/a.html", "templates/x/b.html", "templates/x/y/c.html", "templates/x/y/z/w/v/f.html"}},
		{[]string{"templates/*.html"}, []string{"templates/a.html"}},
		{[]string{"templates/*/*.html"}, []string{"templates/.hidden/d.html", "templates/x/b.html"}},
		{[]string{"templates/**"}, []string{"templates/.hidden/d.html", "templates/a.html", "templates/x/b.html", "templates/x/y/c.html", "templates/x/y/notes.txt", "templates/x/y/z/w/v/f.html"}},
		{[]string{"**/*.sql"}, []string{"sql/001.sql", "sql/deep/002.sql"}},
		{[]string{"schema.json"}, []string{"schema.json"}},
		{[]string{"*.{json,html}"}, []string{"page.html", "schema.json"}},
		{[]string{"schema.json", "sql/*.sql"}, []string{"schema.json", "sql/001.sql"}},
		{[]string{"missing/**/*.html"}, nil},
		{[]string{"../../shared/*.html"}, []string{"../../shared/base.html"}},
		{[]string{"../../shared/**/*.html"}, []string{"../../shared/base.html", "../../shared/deep/inner.html"}},
		{[]string{"./templates/*.html"}, []string{"templates/a.html"}},
		{[]string{filepath.Join(ws, "shared", "*.html")}, []string{filepath.Join(ws, "shared", "base.html")}},
		{[]string{"templates/["}, []string{"uncacheable"}},
		{[]string{"../"}, []string{"uncacheable"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.patterns, ","), func(t *testing.T) {
			u := &Unit{Env: map[string]string{"CARGO_MANIFEST_DIR": manifest}, Hasher: &filehash.Hasher{}}
			err := u.keyExtraFiles(tc.patterns)
			var got []string
			if _, ok := err.(NotCacheable); ok {
				got = []string{"uncacheable"}
			} else if err != nil {
				t.Fatal(err)
			}
			for _, c := range u.Comps.Components {
				got = append(got, strings.TrimPrefix(c.Name, "extra-file:"))
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("keyed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExtraFilesKeyedByContent: a nested file's content is in the key; the
// same files in another tree key the same.
func TestExtraFilesKeyedByContent(t *testing.T) {
	sum := func(dir, content string) string {
		writeFiles(t, dir, map[string]string{"templates/x/y/c.html": content})
		u := &Unit{Env: map[string]string{"CARGO_MANIFEST_DIR": dir}, Hasher: &filehash.Hasher{}}
		if err := u.keyExtraFiles([]string{"templates/**/*.html"}); err != nil {
			t.Fatal(err)
		}
		return u.Comps.Sum()
	}
	a := sum(filepath.Join(t.TempDir(), "a"), "one")
	b := sum(filepath.Join(t.TempDir(), "another-tree"), "one")
	c := sum(filepath.Join(t.TempDir(), "c"), "two")
	if a != b {
		t.Error("the same nested template in two trees keys differently")
	}
	if a == c {
		t.Error("a changed nested template keeps the key")
	}
}
