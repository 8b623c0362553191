// Package liveness keeps a speaker in the memberlist cluster of speakers and
// reports which speakers are alive.
package liveness
