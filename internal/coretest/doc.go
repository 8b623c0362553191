// Package coretest enforces, in its tests, the rules that keep Herald's
// packages honest: the pure core imports no client and does no I/O, and
// every package says what it is for.
package coretest
