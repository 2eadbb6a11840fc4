package report

import (
	"slices"
	"strings"
)

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Ratio returns a/b, or nil when b is not positive (no baseline).
func Ratio(a, b float64) *float64 {
	if b <= 0 {
		return nil
	}
	r := a / b
	return &r
}

// Summarize condenses samples into one summary per scenario and strategy,
// in the order given, and fills in the ratios against "plain" and
// "shared". Pairs without samples are left out.
func Summarize(samples []Sample, scenarios, strategies []string) []Summary {
	var out []Summary
	for _, sc := range scenarios {
		byStrategy := map[string]Summary{}
		var order []string
		for _, st := range strategies {
			sum, ok := summarizeOne(samples, sc, st)
			if !ok {
				continue
			}
			byStrategy[st] = sum
			order = append(order, st)
		}
		for _, st := range order {
			sum := byStrategy[st]
			if sum.Runs > 0 {
				if base, ok := byStrategy["plain"]; ok && base.Runs > 0 {
					sum.VsPlain = Ratio(sum.Headline(), base.Headline())
				}
				if base, ok := byStrategy["shared"]; ok && base.Runs > 0 {
					sum.VsShared = Ratio(sum.Headline(), base.Headline())
				}
			}
			out = append(out, sum)
		}
	}
	return out
}

func summarizeOne(samples []Sample, scenario, strategy string) (Summary, bool) {
	sum := Summary{Scenario: scenario, Strategy: strategy}
	var wall, cpu, rss, rustc, comp, fresh, disk []float64
	var up, down, fill, rhits, rfail, hitms, rhitms []float64
	found := false
	for _, s := range samples {
		if s.Scenario != scenario || s.Strategy != strategy {
			continue
		}
		found = true
		if s.Error != "" {
			sum.Failed++
			if sum.Error == "" {
				sum.Error, _, _ = strings.Cut(s.Error, "\n")
			}
			continue
		}
		sum.Runs++
		wall = append(wall, s.WallSeconds)
		cpu = append(cpu, s.CPUSeconds)
		rss = append(rss, float64(s.PeakRSSBytes))
		rustc = append(rustc, float64(s.Rustc))
		comp = append(comp, float64(s.UnitsCompiled))
		fresh = append(fresh, float64(s.UnitsFresh))
		disk = append(disk, float64(s.DiskBytes))
		sum.Worktrees = max(sum.Worktrees, s.Worktrees)
		if s.Remote != nil {
			up = append(up, float64(s.Remote.UpBytes))
			down = append(down, float64(s.Remote.DownBytes))
			if s.Remote.FilledBytes > 0 {
				fill = append(fill, float64(s.Remote.FilledBytes))
			}
		}
		if c := s.Cache; c != nil && c.Remote != nil {
			rhits = append(rhits, float64(c.Remote["hit"]))
			rfail = append(rfail, float64(c.Remote["unavailable"]+c.Remote["skipped"]+c.Remote["refused"]+c.Remote["no agent"]))
		}
		if c := s.Cache; c != nil && c.HitMedianMs > 0 {
			hitms = append(hitms, c.HitMedianMs)
		}
		if c := s.Cache; c != nil && c.RemoteHitMedianMs > 0 {
			rhitms = append(rhitms, c.RemoteHitMedianMs)
		}
	}
	if !found {
		return sum, false
	}
	if sum.Runs > 0 {
		sum.WallMedian = Median(wall)
		sum.WallMin = slices.Min(wall)
		sum.WallMax = slices.Max(wall)
		sum.CPUMedian = Median(cpu)
		sum.PeakRSSMedian = int64(Median(rss))
		sum.RustcMedian = Median(rustc)
		sum.CompiledMed = Median(comp)
		sum.FreshMed = Median(fresh)
		sum.DiskMedian = int64(Median(disk))
		sum.RemoteUpMedian, sum.RemoteDownMedian = medianInt(up), medianInt(down)
		sum.RemoteHitsMedian, sum.RemoteFailMedian, sum.HitMsMedian = medianOf(rhits), medianOf(rfail), medianOf(hitms)
		sum.RemoteHitMsMedian = medianOf(rhitms)
		sum.RemoteFillMedian = medianInt(fill)
	}
	return sum, true
}

// medianOf is Median, or nil for no values (the figure does not apply).
func medianOf(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	m := Median(xs)
	return &m
}

func medianInt(xs []float64) *int64 {
	if len(xs) == 0 {
		return nil
	}
	m := int64(Median(xs))
	return &m
}
