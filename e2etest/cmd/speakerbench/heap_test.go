package main

import (
	"slices"
	"testing"
)

func TestParseCounts(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "5000,20000", want: []int{5000, 20000}},
		{in: " 100 ", want: []int{100}},
		{in: "20000,5000", wantErr: true},
		{in: "0", wantErr: true},
		{in: "5k", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseCounts(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseCounts(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
