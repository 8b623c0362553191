//go:build tools

// Package metallb records the MetalLB speaker this module builds, the
// baseline for the migration switch-over measured in the lab.
package metallb

import _ "go.universe.tf/metallb/speaker"
