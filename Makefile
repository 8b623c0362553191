# Herald's developer entry points. Tools are pinned and run with `go run`, so
# nothing needs installing by hand.
SHELL := /usr/bin/env bash
GO ?= go
CONTROLLER_GEN := $(GO) run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.19.0
KUSTOMIZE := $(GO) run sigs.k8s.io/kustomize/kustomize/v5@v5.7.1
KUBE_BUILD := internal/tools/kube/build.sh
TEST_TIMEOUT ?= 40m

.PHONY: all build generate manifests verify-manifests kube-bins deps test unit soak soak-controller lab lab-down bench bench-speaker images images-oci

all: build

build:
	$(GO) build ./...

## generate: deepcopy code and CRDs from api/v1beta1.
generate:
	$(CONTROLLER_GEN) object paths=./api/...
	$(CONTROLLER_GEN) crd:crdVersions=v1 paths=./api/... output:crd:artifacts:config=config/crd/bases

## manifests: render manifests/herald.yaml from config/default.
manifests: generate
	$(KUSTOMIZE) build config/default > manifests/herald.yaml
	rm -f charts/herald/crds/*.yaml && cp config/crd/bases/*.yaml charts/herald/crds/

## verify-manifests: fail if the generated files are stale (CI: the checked-in copies).
verify-manifests:
	@snap=$$(mktemp -d) && cp -r api config manifests charts "$$snap"/ && \
	$(MAKE) --no-print-directory manifests >/dev/null && \
	diff -r "$$snap"/api api && diff -r "$$snap"/config config && diff -r "$$snap"/manifests manifests && diff -r "$$snap"/charts charts && rm -rf "$$snap" || \
	{ echo "generated files were stale and have been regenerated: review and commit them ('make manifests')" >&2; exit 1; }

## kube-bins: build kube-apiserver, etcd and kubectl once per machine (about 8 minutes the first time).
kube-bins:
	bash $(KUBE_BUILD)

## deps: the Debian packages the lab and end-to-end tests need (root only).
deps:
	@if [ "$$(id -u)" = 0 ]; then bash e2etest/install-deps.sh; \
	else echo "not root: skipping Debian packages; the end-to-end tests need root and 'make deps'" >&2; fi

## unit: the fast tests, no apiserver and no root.
unit:
	$(GO) test ./...

# The lab and fault suites measure timings and load the machine: they run
# one at a time, after the rest.
SERIAL_PKGS := ./e2etest/ ./e2etest/faults/

## test: everything, with what it needs installed first.
test: deps kube-bins verify-manifests
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) \
		$$($(GO) list ./... | grep -v -e '/e2etest$$' -e '/e2etest/faults$$')
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) $(SERIAL_PKGS)

# The churn soak (e2etest/cmd/soak) runs the lab: root, and the lab lock
# shared with the other lab users on the machine.
SOAK_DURATION ?= 1h
SOAK_OUT ?= _output/soak
CHURN_SOAK = HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" flock /tmp/herald-lab.lock $(GO) run ./e2etest/cmd/soak -out $(SOAK_OUT)

## soak: the long fault runs (no root): 100 SIGKILLs of the leader under
## churn, and a 3-minute apiserver outage. make test runs shorter ones.
## Then, as root, the churn soak: 100 Services/min for SOAK_DURATION with
## the memory and goroutine curves of the controller and the speakers.
soak: kube-bins
	HERALD_SOAK=1 HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) test -count=1 -timeout 60m -v -run 'TestChaos|TestAPIServerOutage' ./e2etest/faults/
	@if [ "$$(id -u)" != 0 ]; then echo "not root: the churn soak needs the lab (root and 'make deps')" >&2; exit 1; fi
	$(CHURN_SOAK) -duration $(SOAK_DURATION)

## soak-controller: the controller alone (no root, no lab): the same churn
## for SOAK_DURATION against an apiserver, with fake Ready speakers.
soak-controller: kube-bins
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) run ./e2etest/cmd/soak -controller-only -out $(SOAK_OUT)-controller -duration $(SOAK_DURATION)

## lab: the local demo: a real apiserver, nodes, a router and clients in network namespaces (root).
lab: deps kube-bins
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) run ./e2etest/cmd/lab up

## lab-down: remove a lab left behind.
lab-down:
	$(GO) run ./e2etest/cmd/lab down

## bench: the allocator micro-benchmarks, the burst run against a real apiserver, and (root) a 5-minute churn soak.
bench: kube-bins
	$(GO) test -run '^$$' -bench . -benchmem ./internal/ipam/
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) run ./e2etest/cmd/burstbench
	@if [ "$$(id -u)" != 0 ]; then echo "not root: the 5-minute churn soak needs the lab (root and 'make deps')" >&2; exit 1; fi
	$(CHURN_SOAK) -duration 5m

## bench-speaker: the speakers on the lab (root): Layer 2 failover, handover and partition heal over ten rounds each, time to announce, and cost with 1,000 Services; BGP time to route, and 5,000 routes.
bench-speaker: deps kube-bins
	HERALD_KUBE_BIN="$$(bash $(KUBE_BUILD) --check)" $(GO) run ./e2etest/cmd/speakerbench

# images-oci builds both images in Go (internal/tools/ociimage): no container
# runtime, no network; OCI layouts and tarballs under _output/images.
IMAGE_VERSION := v$(shell cat VERSION)
IMAGE_REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# images builds them from the Dockerfiles with docker, podman or buildah,
# whichever is installed and usable, and says which.
images:
	bash internal/tools/images/build.sh $(shell cat VERSION) $(IMAGE_REVISION)

images-oci:
	go run ./internal/tools/ociimage -out _output/images -version $(IMAGE_VERSION) -revision $(IMAGE_REVISION)
