// Package config holds Herald's kustomize bases, rendered into
// manifests/herald.yaml. It has no code: its tests check the RBAC and the
// controller's Deployment for least privilege and safe defaults.
package config
