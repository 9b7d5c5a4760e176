package benchpair

import (
	"flag"
	"math"
	"testing"
)

func TestStats(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name         string
		values       []float64
		lo, med, hi  float64
		wantNaNStats bool
	}{
		{name: "one", values: []float64{1.5}, lo: 1.5, med: 1.5, hi: 1.5},
		{name: "odd, unsorted", values: []float64{3, 1, 2}, lo: 1, med: 2, hi: 3},
		{name: "even: mean of the middle two", values: []float64{4, 1, 2, 3}, lo: 1, med: 2.5, hi: 4},
		{name: "NaNs ignored", values: []float64{nan, 2, 1, nan, 3}, lo: 1, med: 2, hi: 3},
		{name: "infinities ignored", values: []float64{math.Inf(1), 2, math.Inf(-1), 4}, lo: 2, med: 3, hi: 4},
		{name: "none", values: nil, wantNaNStats: true},
		{name: "only NaNs", values: []float64{nan}, wantNaNStats: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			values := append([]float64(nil), tc.values...)
			lo, med, hi := Stats(values)
			if tc.wantNaNStats {
				if !math.IsNaN(lo) || !math.IsNaN(med) || !math.IsNaN(hi) {
					t.Fatalf("Stats(%v) = %v, %v, %v, want NaNs", tc.values, lo, med, hi)
				}
				return
			}
			if lo != tc.lo || med != tc.med || hi != tc.hi {
				t.Fatalf("Stats(%v) = %v, %v, %v, want %v, %v, %v", tc.values, lo, med, hi, tc.lo, tc.med, tc.hi)
			}
			for i := range values {
				if values[i] != tc.values[i] && !(math.IsNaN(values[i]) && math.IsNaN(tc.values[i])) {
					t.Fatalf("Stats changed its argument: %v, was %v", values, tc.values)
				}
			}
		})
	}
}

// TestRunAlternates checks that Run runs both sides once per iteration,
// each first in turn, and reports the paired ratios and differences.
func TestRunAlternates(t *testing.T) {
	// 21 iterations, whatever -benchtime says: quick under -race too.
	benchtime := flag.Lookup("test.benchtime")
	defer benchtime.Value.Set(benchtime.Value.String())
	if err := benchtime.Value.Set("21x"); err != nil {
		t.Fatal(err)
	}
	var order []string
	res := testing.Benchmark(func(b *testing.B) {
		order = order[:0]
		i := 0
		Run(b,
			func() Costs { order = append(order, "base"); return Costs{"ns": 10} },
			func() Costs {
				order = append(order, "own")
				i++
				return Costs{"ns": float64(10 * i)} // ratios 1, 2, 3, ...
			})
	})
	const n = 21
	if res.N != n || len(order) != 2*n {
		t.Fatalf("%d runs for %d iterations, want %d for %d", len(order), res.N, 2*n, n)
	}
	for k := 0; k < n; k++ {
		first, second := order[2*k], order[2*k+1]
		want := "base"
		if k%2 == 1 {
			want = "own"
		}
		if first != want || first == second {
			t.Fatalf("iteration %d ran %s then %s, want %s first", k, first, second, want)
		}
	}
	// Own's costs are 10, 20, ... 210 against base's 10.
	for metric, want := range map[string]float64{
		"ns-ratio-min": 1, "ns-ratio-med": 11, "ns-ratio-max": 21,
		"ns-diff-med": 100, "base-ns/op": 10, "own-ns/op": 110,
	} {
		if got := res.Extra[metric]; got != want {
			t.Errorf("%s = %v, want %v", metric, got, want)
		}
	}
}
