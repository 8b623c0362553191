// Package soak runs Herald's churn soak: Services created and deleted at a
// steady rate for a long time while every Herald process's memory and
// goroutines are sampled, and judges whether they stay flat after a
// warm-up. The judging, the metrics parsing and the CSV are pure; run.go
// is the shell that drives the lab.
package soak
