package fuzzfloat

import (
	"math"
	"slices"
	"testing"
)

func TestDecodeEncode(t *testing.T) {
	t.Parallel()
	in := []float64{5, 25, 100.0 / 3, 100, math.Inf(1), -0.5}
	if got := Decode(Encode(in...)); !slices.Equal(got, in) {
		t.Errorf("Decode(Encode(%v)) = %v", in, got)
	}
	if got := Decode(append(Encode(50), 1, 2, 3)); !slices.Equal(got, []float64{50}) {
		t.Errorf("a trailing part is not ignored: %v", got)
	}
	if got := Decode(Encode()); got != nil {
		t.Errorf("Decode of nothing = %#v, want nil", got)
	}
	if got := Encode(100); !slices.Equal(got, []byte{0x40, 0x59, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("Encode(100) = % x, want the big-endian bits of 100", got)
	}
}
