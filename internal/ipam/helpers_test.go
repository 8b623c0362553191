package ipam

import (
	"net/netip"
	"testing"
)

// Small option builders for Pools and Requests.

type poolOpt func(*Pool)

func newPool(name string, ranges ...string) Pool {
	p := Pool{Name: name, AutoAssign: true}
	for _, r := range ranges {
		p.Ranges = append(p.Ranges, MustParseRange(r))
	}
	return p
}

func mkPool(name string, ranges []string, opts ...poolOpt) Pool {
	p := newPool(name, ranges...)
	for _, o := range opts {
		o(&p)
	}
	return p
}

func manual() poolOpt                 { return func(p *Pool) { p.AutoAssign = false } }
func avoidBuggy() poolOpt             { return func(p *Pool) { p.AvoidBuggyIPs = true } }
func priority(n int) poolOpt          { return func(p *Pool) { p.Priority = n } }
func namespaces(ns ...string) poolOpt { return func(p *Pool) { p.Namespaces = ns } }
func nsSelector(k, v string) poolOpt {
	return func(p *Pool) { p.NamespaceSelectors = append(p.NamespaceSelectors, labelIs(k, v)) }
}
func svcSelector(k, v string) poolOpt {
	return func(p *Pool) { p.ServiceSelectors = append(p.ServiceSelectors, labelIs(k, v)) }
}

func labelIs(k, v string) Selector {
	return func(l map[string]string) bool { return l[k] == v }
}

type reqOpt func(*Request)

func mkReq(key string, opts ...reqOpt) Request {
	ns, _, _ := cut(key)
	r := Request{Key: key, Namespace: ns}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func cut(key string) (string, string, bool) {
	for i := range len(key) {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

func inPool(name string) reqOpt { return func(r *Request) { r.Pool = name } }
func wantIPs(ips ...string) reqOpt {
	return func(r *Request) {
		for _, s := range ips {
			r.RequestedIPs = append(r.RequestedIPs, netip.MustParseAddr(s))
		}
	}
}
func families(p FamilyPolicy, fs ...Family) reqOpt {
	return func(r *Request) { r.Policy, r.Families = p, fs }
}
func sharing(key string, ports ...Port) reqOpt {
	return func(r *Request) { r.SharingKey, r.Ports = key, ports }
}
func local(backend string) reqOpt { return func(r *Request) { r.Local, r.Backend = true, backend } }
func backend(b string) reqOpt     { return func(r *Request) { r.Backend = b } }
func nsLabel(k, v string) reqOpt {
	return func(r *Request) {
		if r.NamespaceLabels == nil {
			r.NamespaceLabels = map[string]string{}
		}
		r.NamespaceLabels[k] = v
	}
}
func svcLabel(k, v string) reqOpt {
	return func(r *Request) {
		if r.ServiceLabels == nil {
			r.ServiceLabels = map[string]string{}
		}
		r.ServiceLabels[k] = v
	}
}

func tcp(port int32) Port { return Port{Protocol: "TCP", Port: port} }
func udp(port int32) Port { return Port{Protocol: "UDP", Port: port} }

func newAlloc(t testing.TB, pools ...Pool) *Allocator {
	t.Helper()
	a := New()
	if err := a.SetPools(pools); err != nil {
		t.Fatalf("SetPools: %v", err)
	}
	return a
}

func mustAllocate(t testing.TB, a *Allocator, r Request) Assignment {
	t.Helper()
	got, err := a.Allocate(r)
	if err != nil {
		t.Fatalf("Allocate(%s): %v", r.Key, err)
	}
	return got
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func ipStrings(ips []netip.Addr) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}
