// Package benchpair measures two ways of doing the same work side by side
// in one benchmark: a baseline and octrun's way. Each iteration of the
// benchmark loop runs both once, alternating which goes first, so that
// both see the same load on a shared machine; the ratio of each pair
// (octrun's cost divided by the baseline's) is kept, and the benchmark
// reports the minimum, median and maximum of those ratios. Unlike a ratio
// of two separate benchmarks' means, a paired ratio does not swing with
// what else the machine was doing between the two.
package benchpair

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

// Costs is what one run of one side cost, by metric: "ns" (wall time),
// and whatever else the side measures (e.g. "cpu-ns", "allocs").
type Costs map[string]float64

// Side runs one side of a pair once and returns what it cost.
type Side func() Costs

// Timed returns a side that runs f and costs its wall time ("ns"), the
// process's CPU time, user and system, while it ran ("cpu-ns", on Unix),
// and the heap allocations made while it ran ("allocs"). CPU time and
// allocations are counted process-wide, so anything else running in the
// process counts too; on a shared machine the CPU time is the steadier
// figure, the wall time also counting the waits for a core.
func Timed(f func()) Side {
	return func() Costs {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		cpu, cpuOK := processCPU()
		start := time.Now()
		f()
		costs := Costs{"ns": float64(time.Since(start).Nanoseconds())}
		if end, ok := processCPU(); cpuOK && ok {
			costs["cpu-ns"] = end - cpu
		}
		runtime.ReadMemStats(&ms)
		costs["allocs"] = float64(ms.Mallocs - mallocs)
		return costs
	}
}

// Run runs base and own once per iteration of b.Loop, base first in even
// iterations and own first in odd ones. For every metric both sides
// measured it reports each side's mean cost per run ("own-<metric>/op",
// "base-<metric>/op"), the minimum, median and maximum over the iterations
// of own's cost divided by base's ("<metric>-ratio-min", "-med", "-max"),
// and the median of own's cost minus base's ("<metric>-diff-med"). The testing package's own ns/op and allocs/op cover both sides
// and the measuring together.
func Run(b *testing.B, base, own Side) {
	var baseRuns, ownRuns []Costs
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			baseRuns = append(baseRuns, base())
			ownRuns = append(ownRuns, own())
		} else {
			ownRuns = append(ownRuns, own())
			baseRuns = append(baseRuns, base())
		}
	}
	Report(b, baseRuns, ownRuns)
}

// Report reports the metrics of Run for pairs already measured:
// baseRuns[i] and ownRuns[i] are pair i.
func Report(b *testing.B, baseRuns, ownRuns []Costs) {
	if len(ownRuns) == 0 {
		return
	}
	for metric := range ownRuns[0] {
		if _, ok := baseRuns[0][metric]; !ok {
			continue
		}
		var ratios, diffs []float64
		var ownSum, baseSum float64
		for i := range ownRuns {
			own, base := ownRuns[i][metric], baseRuns[i][metric]
			ownSum += own
			baseSum += base
			ratios = append(ratios, own/base)
			diffs = append(diffs, own-base)
		}
		n := float64(len(ownRuns))
		b.ReportMetric(ownSum/n, "own-"+metric+"/op")
		b.ReportMetric(baseSum/n, "base-"+metric+"/op")
		lo, med, hi := Stats(ratios)
		b.ReportMetric(lo, metric+"-ratio-min")
		b.ReportMetric(med, metric+"-ratio-med")
		b.ReportMetric(hi, metric+"-ratio-max")
		_, diff, _ := Stats(diffs)
		b.ReportMetric(diff, metric+"-diff-med")
	}
}

// Stats returns the minimum, median and maximum of values, ignoring NaNs
// and infinities (a ratio with a zero cost); all three are NaN when no
// value is left.
// The median of an even number of values is the mean of the middle two.
func Stats(values []float64) (lo, median, hi float64) {
	sorted := slices.DeleteFunc(slices.Clone(values), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(sorted) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	slices.Sort(sorted)
	n := len(sorted)
	median = sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[0], median, sorted[n-1]
}
