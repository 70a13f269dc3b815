package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Limits on a list of stages (1–20 values) and on LinearStages.
const (
	MaxStages = 20
	// MaxLinearSteps bounds LinearStages so that a tiny step cannot make a
	// provider function allocate without limit.
	MaxLinearSteps = 100
)

// bucketCount is the number of buckets: 10000 gives buckets of 0.01 %.
const bucketCount = 10000

// Bucket returns the bucket of key for flagName, in [0, 100) with two
// decimals: SHA-256 of flagName+":"+key, the first 8 bytes read as a
// big-endian unsigned integer n, and (n mod 10000) / 100.
//
// Both strings are normalised to Unicode NFC first. Terraform normalises
// every string to NFC, so in_rollout sees "José" however it was typed; an
// application that sends the decomposed "Jose\u0301" to the flag service
// (or calls this package) must land in the same bucket.
//
// Because the result is k/100 computed in float64, it is the float64 nearest
// to the decimal k/100, the same value a parser gives for the literal
// "12.34"; comparing it with a percentage of at most two decimals is exact.
func Bucket(flagName, key string) float64 {
	sum := sha256.Sum256([]byte(norm.NFC.String(flagName) + ":" + norm.NFC.String(key)))
	n := binary.BigEndian.Uint64(sum[:8])
	return float64(n%bucketCount) / 100
}

// InRollout reports whether key is exposed when flagName is rolled out to
// percentage: Bucket(flagName, key) < percentage. Raising the percentage
// only ever adds keys; 0 exposes nobody and 100 everybody.
func InRollout(flagName, key string, percentage float64) bool {
	return Bucket(flagName, key) < percentage
}

// ArgumentError reports which argument of LinearStages was rejected, so a
// caller such as the linear_stages provider function can point at it.
type ArgumentError struct {
	// Index is the zero-based position of the argument in LinearStages.
	Index int
	// Name is the argument's name: "initial", "step" or "max_steps".
	Name string
	// Reason says what is allowed and what was given, without the name.
	Reason string
}

func (e *ArgumentError) Error() string { return e.Name + " " + e.Reason }

// LinearStages returns the step-based canary stages: initial,
// initial+step, … (at most maxSteps values), capped at 100 and always ending
// with 100, which is never repeated. LinearStages(10, 20, 5) is
// [10 30 50 70 90 100].
//
// Each value is rounded to the decimals of initial and step as they are
// written (their shortest decimal form), so LinearStages(0.1, 0.2, 5) is
// [0.1 0.3 0.5 0.7 0.9 100], not 0.30000000000000004 for the second.
//
// The result is strictly ascending: a value that does not exceed the one
// before it (a step below the resolution of float64 at that magnitude) is
// left out.
func LinearStages(initial, step float64, maxSteps int) ([]float64, error) {
	if !(initial > 0 && initial <= 100) {
		return nil, &ArgumentError{Index: 0, Name: "initial", Reason: fmt.Sprintf("must be in (0, 100], got %g", initial)}
	}
	if !(step > 0) {
		return nil, &ArgumentError{Index: 1, Name: "step", Reason: fmt.Sprintf("must be greater than 0, got %g", step)}
	}
	if maxSteps < 1 || maxSteps > MaxLinearSteps {
		return nil, &ArgumentError{Index: 2, Name: "max_steps", Reason: fmt.Sprintf("must be between 1 and %d, got %d", MaxLinearSteps, maxSteps)}
	}

	places := max(decimalPlaces(initial), decimalPlaces(step))
	stages := make([]float64, 0, min(maxSteps+1, MaxLinearSteps+1))
	for i := range maxSteps {
		v := initial
		if i > 0 {
			// Multiplying rather than accumulating keeps rounding errors from
			// adding up; an infinite step stays +Inf here, never NaN.
			v = roundTo(initial+float64(i)*step, places)
		}
		if v >= 100 {
			break
		}
		if len(stages) > 0 && v <= stages[len(stages)-1] {
			continue
		}
		stages = append(stages, v)
	}
	return append(stages, 100), nil
}

// decimalPlaces is the number of digits after the point in the shortest
// decimal form of v: 1 for 0.1, 0 for 10, 15 for 100/3.
func decimalPlaces(v float64) int {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// roundTo rounds v to places decimals, as a decimal: through its decimal
// form, so that 0.30000000000000004 at one place is the float64 of "0.3".
func roundTo(v float64, places int) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// ValidateStages checks a list of rollout stages: 1 to MaxStages values, each
// in (0, 100], strictly ascending. The error names the offending index and
// value.
func ValidateStages(stages []float64) error {
	if len(stages) == 0 {
		return fmt.Errorf("stages: at least one stage is required")
	}
	if len(stages) > MaxStages {
		return fmt.Errorf("stages: at most %d stages are allowed, got %d", MaxStages, len(stages))
	}
	for i, v := range stages {
		if !(v > 0 && v <= 100) {
			return fmt.Errorf("stages[%d] = %g: each stage must be in (0, 100]", i, v)
		}
		if i > 0 && !(v > stages[i-1]) {
			return fmt.Errorf("stages[%d] = %g: must be greater than stages[%d] = %g (stages are strictly ascending)", i, v, i-1, stages[i-1])
		}
	}
	return nil
}
