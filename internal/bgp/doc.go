// Package bgp announces load-balancer IPs over BGP through embedded GoBGP
// servers.
//
// The speaker's shell computes, with pure code, which sessions this node
// must have and what each one advertises, and hands the whole of it to
// Speaker.Set. The package imports nothing of Kubernetes.
//
// # Shape
//
// Set normalizes and validates the desired state (normalize), compares it
// with what is applied (diff, pure: sessions to close, open or re-create,
// paths to withdraw or advertise per session), and applies the
// difference. Any change in a session's configuration re-creates it: a
// new password, timers, ASN or router ID need a new OPEN anyway. After a
// partial failure the adapter's view still says exactly what GoBGP has,
// so the next Set retries what failed. Run owns all of this in one
// goroutine; Set hands it the desired state and waits. Status reads
// per-session monitors that GoBGP's goroutines report to.
//
// # One GoBGP server per session
//
// Each session gets a GoBGP server of its own, rather than one server
// with per-neighbour export policies:
//   - sessions may differ in MyASN and router ID, and GoBGP has one router
//     ID per server;
//   - the same prefix may go to two routers with different communities,
//     local preference or next hop. One server would hold one path per
//     prefix and rewrite it per neighbour through policies: a prefix set
//     and a statement per (session, attribute set), kept in step with
//     every change, and a soft reset after each. Here a server's RIB is
//     exactly what its one session advertises, an attribute change is a
//     re-add, and nothing can leak to another router;
//   - graceful restart stays local to the session: GoBGP's End-of-RIB
//     wait covers all neighbours of a server, so one slow router would
//     hold back the others (GoBGP #1632, #1676).
//
// The cost is memory: besides the paths, which either design stores, an
// open session costs about 30 KiB and 8 goroutines, most of which (the
// neighbour's state machine) a shared server would have too
// (TestServerFootprint). A GoBGP server's Serve loop never returns, so
// the servers of closed sessions are kept (one goroutine and about
// 17 KiB each) and reused rather than leaked: there are never more
// servers than the most sessions open at once. Passive sessions need
// care: each listens on its own SourceAddress at Options.ListenPort, so
// two passive sessions cannot share a source address.
//
// GoBGP v3.37.0 keeps its route selection options in package variables
// that every StartBgp writes, so the race detector reports a race when a
// session opens while another server selects paths (osrg/gobgp#3659,
// fixed after v3.37.0). Every server here writes the same zero values,
// so no server's behaviour changes.
//
// # No listeners
//
// No gRPC server is ever started (GoBGP starts one only when given a
// gRPC listen address). A server that carries a session that dials out
// is started with ListenPort -1 and listens nowhere; only a passive
// session listens, on its SourceAddress and Options.ListenPort, which is
// off by default.
//
// Since Go 1.24, listeners use multipath TCP where the kernel has it, and
// Linux refuses TCP MD5 keys (ENOPROTOOPT) and TTL settings on MPTCP
// sockets: GoBGP only logs that, and a passive session with a password
// would never come up. The module's go.mod sets godebug multipathtcp=0;
// a speaker built without it refuses passive sessions with a password.
//
// # Graceful restart
//
// With GracefulRestart set, a session advertises the capability for
// exactly the families it carries (advertising it for a family the router
// does not carry is how kube-router #1323 and cilium #30367 stalled), with
// the Restart State and Forwarding State bits set (GoBGP's
// LocalRestarting): a router keeps this node's routes while the speaker
// restarts, and replaces them when the new session's End-of-RIB arrives.
//
// GoBGP (v3.37.0, pkg/server) then defers sending our routes until the
// router has sent its End-of-RIB, for the families in which the router
// advertised graceful restart ("Received"), or until the deferral timer
// fires. A router that does not carry a family sends no capability for
// it, so nothing waits for it; a router without graceful restart leaves
// nothing to wait for; and since a server has one neighbour, no router
// waits for another. Herald originates every route and uses none from the
// router, so waiting gains nothing: the deferral time is cut from GoBGP's
// 360s to grDeferralTime (10s), which bounds the wait for a router that
// announces graceful restart but never sends End-of-RIB. The N bit
// (RFC 8538) is not set, so the NOTIFICATION Cease sent when Run ends or a
// session is closed makes the router drop the routes at once: graceful
// restart covers a speaker that dies, not one that stops.
//
// # Sessions before their paths
//
// GoBGP v3 dials a new neighbour only 1-2s after it is added, whatever
// its connect-retry timer (pkg/server/fsm.go, connectLoop), and no API
// call skips that wait. A starting speaker therefore hands over its
// sessions as soon as it knows them, with Desired.PathsPending, while it
// still lists the Services its paths come from; the paths then go out on
// the session as UPDATEs. A session with graceful restart is the
// exception: GoBGP sends its End-of-RIB once the router's arrives, and an
// End-of-RIB with no paths would end the router's wait for the routes it
// kept across the restart, withdrawing them until the paths come. Such a
// session opens with its paths, as before.
//
// # Why a session is down
//
// GoBGP tells why a session fails only in its log lines. Each server logs
// to a tap (logTap) that reads them and reports to the session's monitor,
// which words the reason for PeerStatus.LastError and logs it once per
// change, not at every retry. A wrong TCP MD5 password cannot be told
// from a router that does not answer: the router's kernel drops the
// segments without a reply, and LastError says so.
package bgp
