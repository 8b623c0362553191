// Package status sums up what Herald does for `heraldctl status`: the
// pools and their use, each speaker's quorum and BGP sessions as its record
// says, and the Services whose IPs no speaker announces. It is pure: the
// command reads the objects and prints what Summarize returns.
package status
