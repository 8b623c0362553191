// Package metallbcompat exports Herald's metrics a second time under
// MetalLB's names and labels, so that dashboards and alerts written for
// MetalLB keep working after a migration.
//
// A View is a collector that reads a Herald collector at scrape time and
// re-emits its series renamed, so the two can never disagree, and a series
// Herald deletes (a gone pool, peer or IP) is gone from the view as well.
// The package does no I/O and keeps no state of its own.
package metallbcompat
