package report

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		{"odd unsorted", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"duplicates", []float64{2, 2, 9}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := Median(tc.in); got != tc.want {
				t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatalf("Median reordered its input: %v", tc.in)
				}
			}
		})
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		a, b float64
		want *float64
	}{
		{6, 78, ptr(6.0 / 78)},
		{78, 78, ptr(1)},
		{5, 0, nil},
		{5, -1, nil},
	} {
		got := Ratio(tc.a, tc.b)
		switch {
		case (got == nil) != (tc.want == nil):
			t.Errorf("Ratio(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		case got != nil && math.Abs(*got-*tc.want) > 1e-12:
			t.Errorf("Ratio(%v, %v) = %v, want %v", tc.a, tc.b, *got, *tc.want)
		}
	}
}

func ptr(f float64) *float64 { return &f }

// sample builds a successful sample for the tests.
func sample(sc, st string, run int, wall float64, disk int64) Sample {
	return Sample{Scenario: sc, Strategy: st, Run: run, WallSeconds: wall, CPUSeconds: wall * 2,
		PeakRSSBytes: 100 << 20, Rustc: 10, UnitsCompiled: 10, UnitsFresh: 2, DiskBytes: disk, Worktrees: 1}
}

func TestSummarize(t *testing.T) {
	samples := []Sample{
		sample("cold", "plain", 1, 80, 1000), sample("cold", "plain", 2, 76, 1000), sample("cold", "plain", 3, 90, 1000),
		sample("cold", "shared", 1, 40, 500), sample("cold", "shared", 2, 40, 500), sample("cold", "shared", 3, 40, 500),
		{Scenario: "cold", Strategy: "grove", Run: 1, Error: "cargo build failed\nmore"},
		sample("cold", "grove", 2, 20, 250),
		sample("disk", "plain", 1, 0, 4000), sample("disk", "shared", 1, 0, 1000),
	}
	sums := Summarize(samples, []string{"cold", "disk"}, []string{"plain", "shared", "sccache", "grove"})
	byKey := map[string]Summary{}
	for _, s := range sums {
		byKey[s.Scenario+"/"+s.Strategy] = s
	}
	if len(sums) != 5 {
		t.Fatalf("got %d summaries, want 5 (no sccache samples, disk without grove): %+v", len(sums), sums)
	}
	if sums[0].Strategy != "plain" || sums[3].Scenario != "disk" {
		t.Errorf("summaries not in scenario then strategy order: %+v", sums)
	}
	for _, tc := range []struct {
		key               string
		median, min, max  float64
		runs, failed      int
		vsPlain, vsShared *float64
		wantErr           string
	}{
		{key: "cold/plain", median: 80, min: 76, max: 90, runs: 3, vsPlain: ptr(1), vsShared: ptr(2)},
		{key: "cold/shared", median: 40, min: 40, max: 40, runs: 3, vsPlain: ptr(0.5), vsShared: ptr(1)},
		{key: "cold/grove", median: 20, min: 20, max: 20, runs: 1, failed: 1, vsPlain: ptr(0.25), vsShared: ptr(0.5), wantErr: "cargo build failed"},
		{key: "disk/shared", runs: 1, vsPlain: ptr(0.25), vsShared: ptr(1)},
	} {
		s, ok := byKey[tc.key]
		if !ok {
			t.Errorf("%s: missing", tc.key)
			continue
		}
		if s.WallMedian != tc.median || s.WallMin != tc.min || s.WallMax != tc.max {
			t.Errorf("%s: wall %v/%v/%v, want %v/%v/%v", tc.key, s.WallMedian, s.WallMin, s.WallMax, tc.median, tc.min, tc.max)
		}
		if s.Runs != tc.runs || s.Failed != tc.failed || s.Error != tc.wantErr {
			t.Errorf("%s: runs %d failed %d error %q, want %d %d %q", tc.key, s.Runs, s.Failed, s.Error, tc.runs, tc.failed, tc.wantErr)
		}
		for _, r := range []struct {
			name      string
			got, want *float64
		}{{"vs plain", s.VsPlain, tc.vsPlain}, {"vs shared", s.VsShared, tc.vsShared}} {
			if r.got == nil || math.Abs(*r.got-*r.want) > 1e-9 {
				t.Errorf("%s %s = %v, want %v", tc.key, r.name, r.got, *r.want)
			}
		}
	}
}

func TestSummarizeWithoutBaselines(t *testing.T) {
	sums := Summarize([]Sample{sample("edit", "grove", 1, 3, 1)}, []string{"edit"}, []string{"grove"})
	if len(sums) != 1 || sums[0].VsPlain != nil || sums[0].VsShared != nil {
		t.Fatalf("ratios without baselines: %+v", sums)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Seconds(0.1234), "0.123 s"},
		{Seconds(6.123), "6.12 s"},
		{Seconds(77.84), "77.8 s"},
		{Seconds(204.4), "204 s"},
		{RatioString(nil), "-"},
		{RatioString(ptr(0.078)), "0.08×"},
		{RatioString(ptr(12.34)), "12.3×"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
