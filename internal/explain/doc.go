// Package explain says, in sentences, why a Service has or has not its IP
// and its announcer, for `heraldctl why`: the pool the IP is from, the
// advertisements that select that pool, each node's verdict (selected,
// excluded, tainted, cordoned, NotReady, no local endpoint, no live
// speaker), the election among the eligible nodes, and what the speakers'
// HeraldNodes say they announce. It is pure: the command reads the objects.
package explain
