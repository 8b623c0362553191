package ipam

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The IPv4 benchmarks use 198.18.0.0/15 (RFC 2544 benchmarking space): a
// /16 has only 65,536 addresses, fewer than the 100k in use measured here.
var benchPools = []struct {
	name  string
	cidr  string
	fam   Family
	sizes []int
}{
	{"ipv4", "198.18.0.0/15", IPv4, []int{1_000, 10_000, 100_000}},
	{"ipv6", "2001:db8::/64", IPv6, []int{1_000, 10_000, 100_000}},
}

func prefill(b *testing.B, cidr string, fam Family, n int) (*Allocator, []Request) {
	b.Helper()
	a := newAlloc(b, newPool("bench", cidr))
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = mkReq(fmt.Sprintf("bench/svc-%d", i), families(SingleStack, fam))
		mustAllocate(b, a, reqs[i])
	}
	// Collect the set-up's garbage now rather than on the benchmark's time.
	runtime.GC()
	return a, reqs
}

// BenchmarkAllocate measures one Allocate of a new Service and its Release
// around a pool with n IPs in use.
func BenchmarkAllocate(b *testing.B) {
	for _, bp := range benchPools {
		for _, n := range bp.sizes {
			b.Run(fmt.Sprintf("%s/inuse=%d", bp.name, n), func(b *testing.B) {
				a, _ := prefill(b, bp.cidr, bp.fam, n)
				r := mkReq("bench/new", families(SingleStack, bp.fam))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := a.Allocate(r); err != nil {
						b.Fatal(err)
					}
					a.Release(r.Key)
				}
			})
		}
	}
}

// BenchmarkRelease measures releasing a random Service among n (freeing an
// address in the middle of the pool) and allocating it again (filling that
// hole).
func BenchmarkRelease(b *testing.B) {
	for _, bp := range benchPools {
		for _, n := range bp.sizes {
			b.Run(fmt.Sprintf("%s/inuse=%d", bp.name, n), func(b *testing.B) {
				a, reqs := prefill(b, bp.cidr, bp.fam, n)
				rng := rand.New(rand.NewPCG(1, 2))
				order := rng.Perm(n)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					r := reqs[order[i%n]]
					a.Release(r.Key)
					if _, err := a.Allocate(r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkResync measures Allocate for a random Service among n that
// already holds its IP: what every resync and restart does for each Service.
func BenchmarkResync(b *testing.B) {
	for _, bp := range benchPools {
		for _, n := range bp.sizes {
			b.Run(fmt.Sprintf("%s/inuse=%d", bp.name, n), func(b *testing.B) {
				a, reqs := prefill(b, bp.cidr, bp.fam, n)
				order := rand.New(rand.NewPCG(1, 2)).Perm(n)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if _, err := a.Allocate(reqs[order[i%n]]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
