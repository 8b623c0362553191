package ipam

import (
	"math/big"
	"testing"
)

func TestStatsExact(t *testing.T) {
	tests := []struct {
		name   string
		pool   Pool
		v4, v6 string
	}{
		{"ipv4 /24", newPool("p", "198.51.100.0/24"), "256", "0"},
		{"ipv4 /24 avoid buggy", mkPool("p", []string{"198.51.100.0/24"}, avoidBuggy()), "254", "0"},
		{"ipv4 /16 avoid buggy", mkPool("p", []string{"198.18.0.0/16"}, avoidBuggy()), "65024", "0"},
		{"ipv4 range avoid buggy", mkPool("p", []string{"198.51.100.250-198.51.101.5"}, avoidBuggy()), "10", "0"},
		{"ipv4 /0", newPool("p", "0.0.0.0/0"), "4294967296", "0"},
		{"ipv6 /64", newPool("p", "2001:db8::/64"), "0", "18446744073709551616"},
		{"ipv6 /0", newPool("p", "::/0"), "0", "340282366920938463463374607431768211456"},
		{"ipv6 avoid buggy ignored", mkPool("p", []string{"2001:db8::/120"}, avoidBuggy()), "0", "256"},
		{"overlapping ranges counted once", newPool("p", "198.51.100.0/24", "198.51.100.10-198.51.100.20", "2001:db8::/64", "2001:db8::/96"),
			"256", "18446744073709551616"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, tt.pool)
			st, _ := a.PoolStats("p")
			if st.IPv4.Size.String() != tt.v4 || st.IPv6.Size.String() != tt.v6 {
				t.Errorf("sizes = %v, %v; want %v, %v", st.IPv4.Size, st.IPv6.Size, tt.v4, tt.v6)
			}
		})
	}
}

func TestStatsInUse(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/24", "2001:db8::/64"))
	mustAllocate(t, a, mkReq("d/a", families(RequireDualStack)))
	mustAllocate(t, a, mkReq("d/b", families(SingleStack, IPv6)))
	all := a.Stats()
	if len(all) != 1 {
		t.Fatalf("Stats = %v", all)
	}
	st := all[0]
	want := new(big.Int).Lsh(big.NewInt(1), 64)
	want.Sub(want, big.NewInt(2))
	if st.IPv6.InUse.Int64() != 2 || st.IPv6.Available.Cmp(want) != 0 {
		t.Errorf("IPv6 = %v in use, %v available", st.IPv6.InUse, st.IPv6.Available)
	}
	if v4 := st.Family(IPv4); v4.InUse.Int64() != 1 || v4.Available.Int64() != 255 {
		t.Errorf("IPv4 = %v in use, %v available", v4.InUse, v4.Available)
	}
	if _, ok := a.PoolStats("nope"); ok {
		t.Errorf("PoolStats of unknown pool")
	}
}

func TestCountMod256(t *testing.T) {
	for x := int64(0); x < 600; x += 7 {
		for y := x; y < 900; y += 13 {
			want := int64(0)
			for v := x; v <= y; v++ {
				if v%256 == 255 {
					want++
				}
			}
			if got := countMod256(x, y, 255); got != want {
				t.Fatalf("countMod256(%d, %d) = %d, want %d", x, y, got, want)
			}
		}
	}
}
