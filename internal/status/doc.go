// Package status sums up what Herald does for heraldctl's read-only
// commands: `status` (the pools and their use, each speaker's quorum and BGP
// sessions as its record says, and the Services whose IPs no speaker
// announces), and the rows and tables of `pools`, `services`, `bgp peers`,
// `bgp routes` and `events`. It is pure: the commands read the objects and
// print what these functions return.
package status
