package main

import (
	"context"
	"slices"
	"testing"
)

func TestParseInts(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    []int
		wantErr bool
	}{
		"the default fleets":          {in: "100,1000,5000", want: []int{100, 1000, 5000}},
		"spaces and a trailing comma": {in: " 100, 1000 ,", want: []int{100, 1000}},
		"empty means none":            {in: "", want: nil},
		"not a number":                {in: "100,many", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := parseInts(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseInts(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("parseInts(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if err == nil {
				if again, _ := parseInts(joinInts(got)); !slices.Equal(again, got) {
					t.Errorf("joinInts(%v) does not parse back: %v", got, again)
				}
			}
		})
	}
}

// Bad flags and an unusable configuration fail before anything is built.
func TestRunRejectsBadArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-targets", "ten"},
		{"-sequential", "x"},
		{"-no-such-flag"},
	} {
		if code := run(context.Background(), args); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"-cli", "/nonexistent/tofu", "-targets", "10"}); code != 1 {
		t.Errorf("run() with a missing CLI = %d, want 1", code)
	}
}
