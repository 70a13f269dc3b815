// Package fuzzfloat carries lists of float64 (stage percentages) through a
// fuzz corpus, which takes bytes: each number is its IEEE 754 bits, big
// endian, eight bytes a number.
package fuzzfloat

import (
	"encoding/binary"
	"math"
)

// Encode returns the bytes of vs, a seed for the fuzz corpus.
func Encode(vs ...float64) []byte {
	b := make([]byte, 0, 8*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// Decode returns every number whole in data (a trailing part of fewer
// than eight bytes is ignored); nil when there is none.
func Decode(data []byte) []float64 {
	var vs []float64
	for len(data) >= 8 {
		vs = append(vs, math.Float64frombits(binary.BigEndian.Uint64(data)))
		data = data[8:]
	}
	return vs
}
