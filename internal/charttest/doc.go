// Package charttest renders, lints and checks the Helm chart charts/herald
// against manifests/herald.yaml; it has no code of its own outside tests.
package charttest
