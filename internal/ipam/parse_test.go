package ipam

import (
	"errors"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in       string
		from, to string // "" means an error is expected
	}{
		{"198.51.100.0/24", "198.51.100.0", "198.51.100.255"},
		{"198.51.100.7/24", "198.51.100.0", "198.51.100.255"}, // host bits masked
		{"198.51.100.7/32", "198.51.100.7", "198.51.100.7"},
		{"2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"},
		{"198.51.100.10-198.51.100.20", "198.51.100.10", "198.51.100.20"},
		{" 198.51.100.10 - 198.51.100.20 ", "198.51.100.10", "198.51.100.20"}, // as MetalLB trims
		{"198.51.100.10-198.51.100.10", "198.51.100.10", "198.51.100.10"},
		{"2001:db8::1-2001:db8::ff", "2001:db8::1", "2001:db8::ff"},
		{"198.51.100.10 -198.51.100.20", "198.51.100.10", "198.51.100.20"},
		{"\t198.51.100.10-198.51.100.20\n", "198.51.100.10", "198.51.100.20"},
		{"::ffff:192.0.2.1-::ffff:192.0.2.9", "", ""}, // IPv4-mapped: the CRD's ip() refuses them
		{"::ffff:192.0.2.0/120", "", ""},
		{" 198.51.100.0/24", "", ""}, // a CIDR is written without spaces, as in MetalLB
		{"198.51.100.0/24 ", "", ""},
		{"198.051.100.0/24", "", ""}, // leading zeros are ambiguous
		{"198.51.100.0/024", "", ""},
		{"", "", ""},
		{"198.51.100.0", "", ""},
		{"198.51.100.0/33", "", ""},
		{"198.51.100.20-198.51.100.10", "", ""},
		{"198.51.100.1-2001:db8::1", "", ""},
		{"::ffff:192.0.2.1-192.0.2.9", "", ""},
		{"198.51.100.1-", "", ""},
		{"-198.51.100.1", "", ""},
		{"198.51.100.1-198.51.100.2-198.51.100.3", "", ""},
		{"fe80::1%eth0-fe80::2", "", ""},
		{"fe80::1%eth0/64", "", ""},
		{"banana", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRange(tt.in)
			if tt.from == "" {
				if !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("ParseRange(%q) = %v, %v; want ErrInvalidRange", tt.in, r, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRange(%q): %v", tt.in, err)
			}
			if r.From().String() != tt.from || r.To().String() != tt.to {
				t.Errorf("ParseRange(%q) = %v-%v, want %v-%v", tt.in, r.From(), r.To(), tt.from, tt.to)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"198.51.100.0/24", "2001:db8::/64", "198.51.100.10-198.51.100.20",
		"198.51.100.10 - 198.51.100.20", "::ffff:1.2.3.4-1.2.3.5", "1.2.3.4/0",
		"::/0", "fe80::1%a-fe80::2", "1.2.3.4-1.2.3.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("ParseRange(%q) error %v does not wrap ErrInvalidRange", s, err)
			}
			return
		}
		if !r.IsValid() || r.To().Less(r.From()) {
			t.Fatalf("ParseRange(%q) = invalid %v", s, r)
		}
		if r.From().Is4() != r.To().Is4() || r.From().BitLen() != r.To().BitLen() {
			t.Fatalf("ParseRange(%q) = %v mixes families", s, r)
		}
		back, err := ParseRange(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRange(%q) = %v does not round-trip: %v, %v", s, r, back, err)
		}
	})
}
