//go:build race

package bgp

// raceEnabled: the race detector slows everything several times, so
// timing targets are logged, not enforced.
const raceEnabled = true
