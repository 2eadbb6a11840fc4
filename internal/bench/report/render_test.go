package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grove-rs/grove/internal/cli"
)

func testSummaries() []Summary {
	return Summarize([]Sample{
		sample("cold", "plain", 1, 78, 1600<<20),
		sample("cold", "shared", 1, 80, 1600<<20),
		sample("cold", "grove", 1, 88, 1700<<20),
		sample("fresh-worktree", "plain", 1, 76, 3200<<20),
		sample("fresh-worktree", "shared", 1, 6, 1700<<20),
		{Scenario: "fresh-worktree", Strategy: "grove", Run: 1, Error: `cargo <build> & "failed"`},
		sample("disk", "plain", 1, 0, 3200<<20),
		sample("disk", "shared", 1, 0, 1700<<20),
	}, []string{"cold", "fresh-worktree", "disk"}, []string{"plain", "shared", "grove"})
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, testSummaries(), map[string]string{"cold": "first build"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for _, tc := range []struct {
		name string
		want string
	}{
		{"scenario title", "cold — first build"},
		{"header", "strategy"},
		{"fresh worktree ratio", "0.08×"},
		{"failure", "FAILED (1 runs): cargo <build> & \"failed\""},
		{"disk bytes", "3.1 GiB (1 wt)"},
	} {
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s: table lacks %q:\n%s", tc.name, tc.want, out)
		}
	}
	// Within a block, the right-aligned columns end at the same place.
	var header, row string
	for i, l := range lines {
		if strings.HasPrefix(l, "cold") {
			header, row = lines[i+1], lines[i+2]
			break
		}
	}
	if len([]rune(header)) != len([]rune(row)) {
		t.Errorf("header and row differ in width:\n%q\n%q", header, row)
	}
}

func TestWriteSVGIsWellFormed(t *testing.T) {
	for _, tc := range []struct {
		name string
		sums []Summary
	}{
		{"full", testSummaries()},
		{"empty", nil},
		{"single zero", []Summary{{Scenario: "noop", Strategy: "plain", Runs: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSVG(&b, `bench <&> "repo"`, tc.sums, map[string]string{"cold": "a < b"}); err != nil {
				t.Fatal(err)
			}
			checkSVG(t, b.Bytes(), len(tc.sums))
		})
	}
}

// checkSVG parses doc with encoding/xml and checks its root and that each
// successful summary got a bar.
func checkSVG(t *testing.T, doc []byte, wantRects int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	root, rects := "", 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
				if se.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", se.Name.Space)
				}
			}
			if se.Name.Local == "rect" {
				rects++
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q, want svg", root)
	}
	if rects > wantRects+1 { // +1: the background
		t.Errorf("%d rects for %d summaries", rects, wantRects)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	rep := &Report{
		FormatVersion: FormatVersion,
		Started:       time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC),
		Finished:      time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC),
		Host:          Host{OS: "linux", Arch: "amd64", CPUs: 2, Cargo: "cargo 1.95.0", Rustc: "rustc 1.95.0", Grove: "dev"},
		Repo:          "/tmp/ws", From: "aaaa", To: "bbbb", EditFile: "crates/core/src/lib.rs",
		Runs: 1, Parallel: 2,
		Scenarios:  []string{"cold", "fresh-worktree", "disk"},
		Strategies: []Strategy{{Name: "plain"}, {Name: "sccache", Skipped: true, Note: "not installed"}},
		Notes:      []string{"a note"},
		Samples: []Sample{
			sample("cold", "plain", 1, 78, 1),
			{Scenario: "cold", Strategy: "grove", Run: 1, Cache: &Cache{Hits: 3, Misses: 2, Uncacheable: 1}, Error: "x"},
		},
	}
	rep.Summaries = testSummaries()
	var b bytes.Buffer
	if err := cli.WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", got, rep)
	}
	if _, err := ReadJSON(strings.NewReader(`{"format_version": 99}`)); err == nil {
		t.Error("ReadJSON accepted an unknown format version")
	}
}

// The remote block lists only steps with a remote, with "-" for figures a
// strategy does not have; without any there is no block.
func TestWriteTableRemoteBlock(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	sums := []Summary{
		{Scenario: "other-machine", Strategy: "plain", Runs: 1, WallMedian: 200},
		{Scenario: "other-machine", Strategy: "grove-remote", Runs: 1, WallMedian: 12,
			RemoteFillMedian: i64(2 << 30), RemoteUpMedian: i64(1 << 20), RemoteDownMedian: i64(1 << 30),
			RemoteHitsMedian: f64(349), RemoteFailMedian: f64(0), HitMsMedian: f64(21.5), RemoteHitMsMedian: f64(14.25)},
		{Scenario: "other-machine", Strategy: "grove-remote-down", Runs: 1, WallMedian: 201,
			RemoteUpMedian: i64(0), RemoteDownMedian: i64(0), RemoteHitsMedian: f64(0), RemoteFailMedian: f64(5)},
	}
	var b strings.Builder
	if err := WriteTable(&b, sums, nil); err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(b.String(), "\nremote — ")
	if !ok {
		t.Fatalf("no remote block:\n%s", b.String())
	}
	for _, want := range []string{"CI up", "2.0 GiB", "1.0 GiB", "349", "21.5 ms", "14.2 ms", "grove-remote-down"} {
		if !strings.Contains(block, want) {
			t.Errorf("remote block lacks %q:\n%s", want, block)
		}
	}
	if strings.Contains(block, "plain") {
		t.Errorf("plain has no remote but is in the block:\n%s", block)
	}
	b.Reset()
	if err := WriteTable(&b, sums[:1], nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "remote —") {
		t.Errorf("a remote block without remote figures:\n%s", b.String())
	}
}
