package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/fuzzfloat"
)

// bucketUnits recomputes the bucket independently of Bucket, in hundredths.
func bucketUnits(flag, key string) uint64 {
	h := sha256.New()
	h.Write([]byte(flag))
	h.Write([]byte{':'})
	h.Write([]byte(key))
	return binary.BigEndian.Uint64(h.Sum(nil)[:8]) % 10000
}

func TestBucket_vectors(t *testing.T) {
	t.Parallel()
	// Expected values computed outside Go: printf 'new-checkout:user-1' | sha256sum,
	// first 16 hex digits as an integer, mod 10000, / 100.
	tests := []struct {
		flag, key string
		want      float64
	}{
		{"new-checkout", "user-1", 26.48}, // c3da359359dfed38
		{"new-checkout", "user-2", 13.59}, // fcc970794235667f
		{"dark-mode", "alice", 80.86},     // 442fc2905690ed06
		{"a", "", 26.26},                  // bfc622d4a6d410f2
		{"", "", 43.68},                   // e7ac0786668e0ff0
	}
	for _, tt := range tests {
		t.Run(tt.flag+":"+tt.key, func(t *testing.T) {
			t.Parallel()
			if got := Bucket(tt.flag, tt.key); got != tt.want {
				t.Errorf("Bucket(%q, %q) = %v, want %v", tt.flag, tt.key, got, tt.want)
			}
			if got, want := Bucket(tt.flag, tt.key), float64(bucketUnits(tt.flag, tt.key))/100; got != want {
				t.Errorf("Bucket(%q, %q) = %v, independent computation gives %v", tt.flag, tt.key, got, want)
			}
		})
	}
}

func TestBucket_matchesIndependentSHA256(t *testing.T) {
	t.Parallel()
	inputs := [][2]string{{"checkout-v2", "42"}, {"search", "user@example.com"}, {"ünïcødé", "clé:with:colons"}}
	for _, in := range inputs {
		sum := sha256.Sum256([]byte(in[0] + ":" + in[1]))
		want := float64(binary.BigEndian.Uint64(sum[:8])%10000) / 100
		if got := Bucket(in[0], in[1]); got != want {
			t.Errorf("Bucket(%q, %q) = %v, want %v", in[0], in[1], got, want)
		}
	}
}

// The separator matters: ("a:b","c") and ("a","b:c") hash the same string and
// so share a bucket, which is the documented contract, not an accident.
func TestBucket_separator(t *testing.T) {
	t.Parallel()
	if Bucket("a:b", "c") != Bucket("a", "b:c") {
		t.Error(`Bucket("a:b","c") != Bucket("a","b:c"), but both hash "a:b:c"`)
	}
	if Bucket("ab", "c") == Bucket("a", "bc") && Bucket("ab", "d") == Bucket("a", "bd") {
		t.Error("the separator seems not to be hashed")
	}
}

func TestBucket_rangeAndTwoDecimals(t *testing.T) {
	t.Parallel()
	for i := range 5000 {
		key := fmt.Sprintf("user-%d", i)
		b := Bucket("range", key)
		if !(b >= 0 && b < 100) {
			t.Fatalf("Bucket(range, %s) = %v, outside [0, 100)", key, b)
		}
		if units := math.Round(b * 100); units/100 != b {
			t.Fatalf("Bucket(range, %s) = %v is not a whole number of hundredths", key, b)
		}
	}
}

func TestInRollout_exactAtTwoDecimals(t *testing.T) {
	t.Parallel()
	// A percentage with two decimals compares exactly: the key is in when its
	// bucket in hundredths is below the percentage in hundredths.
	for _, pct := range []float64{0.01, 5, 12.34, 33.33, 50, 99.99} {
		limit := uint64(math.Round(pct * 100))
		for i := range 3000 {
			key := fmt.Sprintf("k%d", i)
			if got, want := InRollout("exact", key, pct), bucketUnits("exact", key) < limit; got != want {
				t.Fatalf("InRollout(exact, %s, %v) = %v, want %v (bucket %v)", key, pct, got, want, Bucket("exact", key))
			}
		}
	}
}

func TestInRollout_bounds(t *testing.T) {
	t.Parallel()
	for i := range 1000 {
		key := fmt.Sprintf("user-%d", i)
		if InRollout("bounds", key, 0) {
			t.Fatalf("InRollout(bounds, %s, 0) = true, want nobody at 0 %%", key)
		}
		if !InRollout("bounds", key, 100) {
			t.Fatalf("InRollout(bounds, %s, 100) = false, want everybody at 100 %%", key)
		}
	}
}

func TestInRollout_monotonic(t *testing.T) {
	t.Parallel()
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%d", i)
	}
	percentages := []float64{0, 0.5, 1, 5, 10, 25, 33.3, 50, 75, 99.99, 100}
	prev := map[string]bool{}
	for _, p := range percentages {
		cur := map[string]bool{}
		for _, k := range keys {
			if InRollout("monotonic", k, p) {
				cur[k] = true
			}
		}
		for k := range prev {
			if !cur[k] {
				t.Fatalf("key %s is in the rollout below %v %% but not at %v %%", k, p, p)
			}
		}
		if len(cur) < len(prev) {
			t.Fatalf("%d keys at %v %%, fewer than before", len(cur), p)
		}
		prev = cur
	}
	if len(prev) != len(keys) {
		t.Fatalf("%d of %d keys at 100 %%", len(prev), len(keys))
	}
}

func TestBucket_uniform(t *testing.T) {
	t.Parallel()
	const n, bins = 20000, 10
	var counts [bins]int
	for i := range n {
		counts[int(Bucket("uniform", fmt.Sprintf("user-%d", i))/10)]++
	}
	// Chi-square with 9 degrees of freedom; 27.88 is the 0.001 critical value.
	expected := float64(n) / bins
	chi2 := 0.0
	for _, c := range counts {
		d := float64(c) - expected
		chi2 += d * d / expected
	}
	if chi2 > 27.88 {
		t.Errorf("buckets are not uniform: chi2 = %.2f, counts per decile %v", chi2, counts)
	}
	// A 10 % rollout exposes roughly 10 % of keys.
	in := 0
	for i := range n {
		if InRollout("uniform", fmt.Sprintf("user-%d", i), 10) {
			in++
		}
	}
	if share := float64(in) / n; share < 0.09 || share > 0.11 {
		t.Errorf("10 %% rollout exposed %.3f of keys", share)
	}
}

func TestLinearStages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		initial, step float64
		maxSteps      int
		want          []float64
		wantArg       string
	}{
		{name: "contract example", initial: 10, step: 20, maxSteps: 5, want: []float64{10, 30, 50, 70, 90, 100}},
		{name: "reaches 100 exactly", initial: 25, step: 25, maxSteps: 10, want: []float64{25, 50, 75, 100}},
		{name: "capped before max steps", initial: 10, step: 30, maxSteps: 10, want: []float64{10, 40, 70, 100}},
		{name: "max steps before 100", initial: 5, step: 5, maxSteps: 3, want: []float64{5, 10, 15, 100}},
		{name: "one step", initial: 10, step: 5, maxSteps: 1, want: []float64{10, 100}},
		{name: "initial 100", initial: 100, step: 10, maxSteps: 5, want: []float64{100}},
		{name: "step overshoots", initial: 90, step: 50, maxSteps: 5, want: []float64{90, 100}},
		{name: "infinite step", initial: 1, step: math.Inf(1), maxSteps: 5, want: []float64{1, 100}},
		{name: "step below float resolution", initial: 50, step: 1e-20, maxSteps: 5, want: []float64{50, 100}},
		{name: "fractions", initial: 0.5, step: 0.25, maxSteps: 3, want: []float64{0.5, 0.75, 1, 100}},
		{name: "tenths as written", initial: 0.1, step: 0.2, maxSteps: 5, want: []float64{0.1, 0.3, 0.5, 0.7, 0.9, 100}},
		{name: "hundredths as written", initial: 0.07, step: 0.01, maxSteps: 4, want: []float64{0.07, 0.08, 0.09, 0.1, 100}},
		{name: "mixed precision", initial: 1.5, step: 0.05, maxSteps: 3, want: []float64{1.5, 1.55, 1.6, 100}},
		{name: "thirds", initial: 100.0 / 3, step: 100.0 / 3, maxSteps: 5, want: []float64{100.0 / 3, 200.0 / 3, 100}},
		{name: "max steps limit", initial: 0.01, step: 0.01, maxSteps: MaxLinearSteps, want: nil},
		{name: "initial 0", initial: 0, step: 10, maxSteps: 5, wantArg: "initial"},
		{name: "initial negative", initial: -1, step: 10, maxSteps: 5, wantArg: "initial"},
		{name: "initial above 100", initial: 100.5, step: 10, maxSteps: 5, wantArg: "initial"},
		{name: "initial NaN", initial: math.NaN(), step: 10, maxSteps: 5, wantArg: "initial"},
		{name: "step 0", initial: 10, step: 0, maxSteps: 5, wantArg: "step"},
		{name: "step negative", initial: 10, step: -5, maxSteps: 5, wantArg: "step"},
		{name: "step NaN", initial: 10, step: math.NaN(), maxSteps: 5, wantArg: "step"},
		{name: "max steps 0", initial: 10, step: 10, maxSteps: 0, wantArg: "max_steps"},
		{name: "max steps negative", initial: 10, step: 10, maxSteps: -3, wantArg: "max_steps"},
		{name: "max steps too many", initial: 10, step: 10, maxSteps: MaxLinearSteps + 1, wantArg: "max_steps"},
	}
	argIndex := map[string]int{"initial": 0, "step": 1, "max_steps": 2}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LinearStages(tt.initial, tt.step, tt.maxSteps)
			if tt.wantArg != "" {
				var argErr *ArgumentError
				if !errors.As(err, &argErr) {
					t.Fatalf("LinearStages(%v, %v, %d) error = %v, want an *ArgumentError", tt.initial, tt.step, tt.maxSteps, err)
				}
				if argErr.Name != tt.wantArg || argErr.Index != argIndex[tt.wantArg] {
					t.Errorf("error names argument %q (index %d), want %q (index %d)", argErr.Name, argErr.Index, tt.wantArg, argIndex[tt.wantArg])
				}
				if !strings.Contains(err.Error(), tt.wantArg) {
					t.Errorf("error %q does not name %q", err, tt.wantArg)
				}
				return
			}
			if err != nil {
				t.Fatalf("LinearStages(%v, %v, %d): %v", tt.initial, tt.step, tt.maxSteps, err)
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("LinearStages(%v, %v, %d) = %v, want %v", tt.initial, tt.step, tt.maxSteps, got, tt.want)
			}
			checkLinearStages(t, got, tt.initial, tt.maxSteps)
		})
	}
}

// checkLinearStages asserts the properties every LinearStages result has.
func checkLinearStages(t *testing.T, got []float64, initial float64, maxSteps int) {
	t.Helper()
	if len(got) == 0 || len(got) > maxSteps+1 {
		t.Fatalf("%d stages for max_steps %d: %v", len(got), maxSteps, got)
	}
	if got[0] != initial && !(initial >= 100 && got[0] == 100) {
		t.Errorf("first stage %v, want initial %v", got[0], initial)
	}
	if got[len(got)-1] != 100 {
		t.Errorf("last stage %v, want 100", got[len(got)-1])
	}
	for i, v := range got {
		if !(v > 0 && v <= 100) {
			t.Errorf("stage %d = %v outside (0, 100]", i, v)
		}
		if i > 0 && !(v > got[i-1]) {
			t.Errorf("stage %d = %v does not exceed %v", i, v, got[i-1])
		}
	}
}

func TestValidateStages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stages  []float64
		wantErr string // substring; empty for valid
	}{
		{name: "default", stages: DefaultStages()},
		{name: "single 100", stages: []float64{100}},
		{name: "single small", stages: []float64{0.01}},
		{name: "last below 100", stages: []float64{1, 2, 3}},
		{name: "twenty", stages: seq(20)},
		{name: "nil", stages: nil, wantErr: "at least one"},
		{name: "empty", stages: []float64{}, wantErr: "at least one"},
		{name: "twenty-one", stages: seq(21), wantErr: "at most 20"},
		{name: "zero", stages: []float64{0, 50}, wantErr: "stages[0] = 0"},
		{name: "negative", stages: []float64{5, -1}, wantErr: "stages[1] = -1"},
		{name: "above 100", stages: []float64{5, 100.1}, wantErr: "stages[1] = 100.1"},
		{name: "NaN", stages: []float64{5, math.NaN()}, wantErr: "stages[1] = NaN"},
		{name: "infinite", stages: []float64{math.Inf(1)}, wantErr: "stages[0] = +Inf"},
		{name: "duplicate", stages: []float64{5, 25, 25, 100}, wantErr: "stages[2] = 25"},
		{name: "descending", stages: []float64{50, 25}, wantErr: "stages[1] = 25: must be greater than stages[0] = 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateStages(tt.stages)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateStages(%v): %v", tt.stages, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateStages(%v) = %v, want an error containing %q", tt.stages, err, tt.wantErr)
			}
		})
	}
}

// seq returns n ascending stages in (0, 100].
func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i+1) * 100 / float64(n)
	}
	return s
}

func FuzzBucket(f *testing.F) {
	f.Add("new-checkout", "user-1", 26.48)
	f.Add("", "", 0.0)
	f.Add("flag", "ключ", 100.0)
	f.Fuzz(func(t *testing.T, flag, key string, pct float64) {
		b := Bucket(flag, key)
		if !(b >= 0 && b < 100) {
			t.Fatalf("Bucket(%q, %q) = %v, outside [0, 100)", flag, key, b)
		}
		if want := float64(bucketUnits(flag, key)) / 100; b != want {
			t.Fatalf("Bucket(%q, %q) = %v, want %v", flag, key, b, want)
		}
		if b != Bucket(flag, key) {
			t.Fatalf("Bucket(%q, %q) is not deterministic", flag, key)
		}
		if InRollout(flag, key, pct) != (b < pct) {
			t.Fatalf("InRollout(%q, %q, %v) disagrees with Bucket %v", flag, key, pct, b)
		}
		// Raising the percentage only ever adds the key.
		if InRollout(flag, key, pct) && !InRollout(flag, key, pct+1) {
			t.Fatalf("key %q leaves the rollout when %v %% rises", key, pct)
		}
		if InRollout(flag, key, 0) || !InRollout(flag, key, 100) {
			t.Fatalf("key %q: wrong result at 0 %% or 100 %%", key)
		}
	})
}

func FuzzValidateStages(f *testing.F) {
	f.Add(fuzzfloat.Encode(DefaultStages()...))
	f.Add(fuzzfloat.Encode(50, 25))
	f.Add(fuzzfloat.Encode(0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		stages := fuzzfloat.Decode(data)
		stages = stages[:min(len(stages), 25)]
		valid := len(stages) >= 1 && len(stages) <= MaxStages
		for i, v := range stages {
			if !(v > 0 && v <= 100) || (i > 0 && !(v > stages[i-1])) {
				valid = false
			}
		}
		if err := ValidateStages(stages); (err == nil) != valid {
			t.Fatalf("ValidateStages(%v) = %v, want valid=%v", stages, err, valid)
		}
	})
}

func FuzzLinearStages(f *testing.F) {
	f.Add(10.0, 20.0, 5)
	f.Add(100.0, 1.0, 1)
	f.Add(0.0, 1.0, 1)
	f.Add(1e-300, 1e-300, 100)
	f.Fuzz(func(t *testing.T, initial, step float64, maxSteps int) {
		got, err := LinearStages(initial, step, maxSteps)
		valid := initial > 0 && initial <= 100 && step > 0 && maxSteps >= 1 && maxSteps <= MaxLinearSteps
		if (err == nil) != valid {
			t.Fatalf("LinearStages(%v, %v, %d) error = %v, want valid=%v", initial, step, maxSteps, err, valid)
		}
		if err != nil {
			var argErr *ArgumentError
			if !errors.As(err, &argErr) {
				t.Fatalf("error %v is not an *ArgumentError", err)
			}
			return
		}
		checkLinearStages(t, got, initial, maxSteps)
	})
}

// Keys and flag names are normalised to Unicode NFC before hashing, as
// Terraform normalises every string: an application sending a decomposed
// "Jose\u0301" gets the bucket in_rollout computes for "José".
func TestBucket_normalisesToNFC(t *testing.T) {
	t.Parallel()
	tests := []struct{ flagA, keyA, flagB, keyB string }{
		{"new-checkout", "Jose\u0301", "new-checkout", "Jos\u00e9"},
		{"cafe\u0301", "user-1", "caf\u00e9", "user-1"},
		{"f", "A\u030angstro\u0308m", "f", "\u00c5ngstr\u00f6m"},
		{"f", "\u212b", "f", "\u00c5"}, // ANGSTROM SIGN is canonically Å
	}
	for _, tt := range tests {
		if a, b := Bucket(tt.flagA, tt.keyA), Bucket(tt.flagB, tt.keyB); a != b {
			t.Errorf("Bucket(%+q, %+q) = %v, Bucket(%+q, %+q) = %v: want equal", tt.flagA, tt.keyA, a, tt.flagB, tt.keyB, b)
		}
		// The hash is of the NFC bytes.
		if got, want := Bucket(tt.flagA, tt.keyA), float64(bucketUnits(tt.flagB, tt.keyB))/100; got != want {
			t.Errorf("Bucket(%+q, %+q) = %v, want the bucket of the NFC form %v", tt.flagA, tt.keyA, got, want)
		}
	}
	// The two forms hash apart without normalisation, or this test would
	// prove nothing.
	if bucketUnits("new-checkout", "Jose\u0301") == bucketUnits("new-checkout", "Jos\u00e9") {
		t.Fatal("the decomposed and composed keys share a bucket by chance; pick another example")
	}
}
