# The version comes from git: `git describe` when a v* tag is reachable (v0.1.0, or
# v0.1.0-3-gabc1234 after it), else v0.0.0-dev-g<commit>; -dirty marks uncommitted changes.
# It is linked into the manager and the plugin (--version, member_operator_build_info) and tags
# the image and the chart.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo "v0.0.0-dev-g$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo -dirty)")
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit's time, so images and archives built from one commit are byte-identical.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
VERSION_PKG = github.com/storeops/member-operator/internal/version
VERSION_LDFLAGS = -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).revision=$(REVISION)
# Release binaries are stripped; the ones built for make dev, make bench and make build keep their
# symbols for debuggers and profiles.
LDFLAGS ?= -s -w $(VERSION_LDFLAGS)

# Image URL to use all building/pushing image targets
IMAGE_REPOSITORY ?= ghcr.io/storeops/member-operator
IMG ?= $(IMAGE_REPOSITORY):$(VERSION)
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'.
.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate ClusterRole, CustomResourceDefinition and WebhookConfiguration objects, and copy them (and the alerts and dashboard) into the Helm chart's files/.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases
	@# The chart's templates are written by hand; what config/ owns is copied verbatim, never edited.
	@rm -rf dist/chart/files && mkdir -p dist/chart/files/crds dist/chart/files/rbac
	@cp config/crd/bases/*.yaml dist/chart/files/crds/
	@cp $(CHART_RBAC) dist/chart/files/rbac/
	@cp config/webhook/manifests.yaml dist/chart/files/webhooks.yaml
	@cp config/policy/member_finalizer.yaml dist/chart/files/member-finalizer-policy.yaml
	@cp config/prometheus/rules.yaml dist/chart/files/prometheus-rules.yaml
	@cp config/prometheus/dashboard.json dist/chart/files/grafana-dashboard.json

# The roles the chart makes from config/rbac (bindings and ServiceAccounts are its own templates).
CHART_RBAC = config/rbac/role.yaml config/rbac/accept_role.yaml config/rbac/leader_election_role.yaml \
	config/rbac/metrics_auth_role.yaml config/rbac/metrics_reader_role.yaml \
	$(wildcard config/rbac/*_admin_role.yaml config/rbac/*_editor_role.yaml config/rbac/*_viewer_role.yaml)

# api-docs: docs/reference/api.md from the API's Go types and markers, by crd-ref-docs (pinned).
.PHONY: api-docs
api-docs: crd-ref-docs ## Generate the API reference (docs/reference/api.md).
	"$(CRD_REF_DOCS)" --config hack/apidocs/config.yaml --source-path api/v1alpha1 --renderer markdown \
		--output-path docs/reference/api.md --log-level ERROR

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

# Every package, the envtest suites and the e2e test (a local control plane, not Kind) included.
# Tests print their progress; -p 1 keeps the envtest suites from starting several control planes
# at once on a 2-core machine.
GO_TEST_FLAGS ?= -p 1 -timeout 30m
.PHONY: test
test: manifests generate fmt vet setup-envtest kustomize helm chromium ## Run all tests: unit, envtest suites, browser and e2e, and the Helm chart's lint and render check.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" KUBECTL="$(KUBECTL)" KUSTOMIZE="$(KUSTOMIZE)" HELM="$(HELM)" CHROMIUM="$(CHROMIUM)" go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out

# bench: the benchmarks of docs/benchmarks.md on a local control plane with the real manager binary
# as its own process (about 35 minutes on 2 cores). Pass flags with BENCH_ARGS=, e.g.
# BENCH_ARGS="--members=200 --memory-members=1000 --unrelated-secrets=2000" for a quick look.
BENCH_ARGS ?=
.PHONY: bench
bench: manifests generate setup-envtest ## Run the benchmarks and print their table (also written to bin/bench/results.md).
	go build -ldflags "$(VERSION_LDFLAGS)" -o "$(LOCALBIN)/manager" ./cmd/main.go
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./test/bench --manager "$(LOCALBIN)/manager" --dir "$(LOCALBIN)/bench" $(BENCH_ARGS)

# fuzz: each fuzz target for FUZZTIME (go test runs only one -fuzz target at a time). Their seed
# corpora (f.Add and testdata/fuzz) also run as ordinary tests in make test. Minimizing a new
# input may take 60 s by default, which would spend a short FUZZTIME on one input: 1 s.
# Go 1.26's fuzzing coordinator can fail a target with a bare "context deadline exceeded" as
# FUZZTIME ends, with no failing input (go.dev/issue/75804, fixed in Go 1.27): a target that fails
# without writing one to its testdata/fuzz is run once more; one that writes one fails at once.
FUZZTIME ?= 15s
FUZZ_TARGETS = ./internal/credentials:FuzzParseToken ./api/v1alpha1:FuzzEmailAddress \
	./internal/mail:FuzzRenderInvitation ./internal/accept:FuzzRenderPages
.PHONY: fuzz
fuzz: ## Fuzz token parsing, address validation and normalization, and email and page rendering for FUZZTIME each.
	@for t in $(FUZZ_TARGETS); do \
		echo "go test $${t%%:*} -fuzz $${t##*:} -fuzztime $(FUZZTIME)"; \
		go test "$${t%%:*}" -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s || { \
			if [ -n "$$(git status --porcelain -- "$${t%%:*}/testdata/fuzz" 2>/dev/null)" ]; then exit 1; fi; \
			echo "no failing input was written (go.dev/issue/75804): once more"; \
			go test "$${t%%:*}" -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s || exit 1; }; \
	done

# test-faults: only the fault suite (docs/reliability.md): an SMTP outage, SIGKILLed managers, a
# leader failover and a kube-apiserver restart against the real manager binary, printing the
# figures it saw (about 6 minutes on 2 cores). make test runs it too.
.PHONY: test-faults
test-faults: manifests generate setup-envtest ## Run the fault-injection suite and print its figures.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/faults -count=1 -timeout 30m -v

.PHONY: test-unit
test-unit: ## Run only the tests that need no control plane.
	go test -short ./...

.PHONY: verify
verify: manifests generate api-docs fmt ## Fail when generated code, CRDs, RBAC, the chart's files, the API reference or go.mod are stale.
	go mod tidy
	@if [ -n "$$(git status --porcelain -- api config dist/chart docs go.mod go.sum cmd internal test hack)" ]; then \
		echo "Generated or formatted files are stale; run 'make manifests generate api-docs fmt' and 'go mod tidy' and commit:"; \
		git status --porcelain -- api config dist/chart docs go.mod go.sum cmd internal test hack; \
		git --no-pager diff --stat; \
		exit 1; \
	fi

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes.
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration.
	"$(GOLANGCI_LINT)" config verify

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build manager binary.
	go build -ldflags "$(VERSION_LDFLAGS)" -o bin/manager cmd/main.go

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-store (put bin/ on PATH: kubectl store ...).
	go build -ldflags "$(VERSION_LDFLAGS)" -o "$(LOCALBIN)/kubectl-store" ./cmd/kubectl-store

# image: the manager's OCI image, built without a container daemon by hack/image (on
# go-containerregistry): no base image to pull, user 65532, Mozilla's CA roots, no shell. Writes
# bin/image/member-operator_<version>_linux_<arch>.tar (docker load) and
# bin/image/member-operator_<version>_oci.tar (both platforms; skopeo copy oci-archive:...).
IMAGE_DIR ?= $(LOCALBIN)/image
.PHONY: image
image: ## Build the manager's image for IMAGE_PLATFORMS into tarballs under bin/image (no Docker needed).
	@rm -rf "$(IMAGE_DIR)" && mkdir -p "$(IMAGE_DIR)/bin"
	@for p in $$(echo "$(IMAGE_PLATFORMS)" | tr , ' '); do \
		echo "go build manager for $$p"; \
		CGO_ENABLED=0 GOOS=$${p%%/*} GOARCH=$${p##*/} go build -trimpath -ldflags "$(LDFLAGS)" \
			-o "$(IMAGE_DIR)/bin/manager-$${p%%/*}-$${p##*/}" ./cmd/main.go || exit 1; \
	done
	go run ./hack/image build --binaries "$(IMAGE_DIR)/bin" --out "$(IMAGE_DIR)" --platforms "$(IMAGE_PLATFORMS)" \
		--repository "$(IMAGE_REPOSITORY)" --version "$(VERSION)" --revision "$(REVISION)" --created "$(SOURCE_DATE_EPOCH)"

# release: everything a release publishes, in dist/ (next to the chart's source in dist/chart):
# the image tarballs (checked), the Helm chart package, install.yaml, the kubectl plugin for
# linux and darwin on amd64 and arm64 with its krew manifest (store.yaml), and checksums.txt.
# make release VERSION=v0.1.0 needs a clean tree at that version; SNAPSHOT=1 builds whatever is
# checked out under git describe's version (CI does).
RELEASE_DIR ?= dist
SNAPSHOT ?=
PLUGIN_PLATFORMS = linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
.PHONY: release
release: manifests kustomize helm krew ## Build every release artifact into dist/ (VERSION=v0.1.0, or SNAPSHOT=1).
	@if [ -z "$(SNAPSHOT)" ]; then \
		echo "$(VERSION)" | grep -Eq '^v[0-9]+[.][0-9]+[.][0-9]+(-[0-9A-Za-z.-]+)?$$' || \
			{ echo "VERSION=$(VERSION) is not vMAJOR.MINOR.PATCH (SNAPSHOT=1 builds a snapshot)"; exit 1; }; \
		git diff --quiet HEAD || { echo "uncommitted changes: a release is built from a commit (SNAPSHOT=1 builds a snapshot)"; exit 1; }; \
	fi
	@mkdir -p "$(RELEASE_DIR)" && find "$(RELEASE_DIR)" -maxdepth 1 -type f -delete
	$(MAKE) --no-print-directory image VERSION=$(VERSION) IMAGE_DIR="$(LOCALBIN)/release/image"
	cp "$(LOCALBIN)"/release/image/member-operator_$(VERSION)_*.tar "$(RELEASE_DIR)/"
	$(MAKE) --no-print-directory image-check VERSION=$(VERSION) IMAGE_DIR="$(RELEASE_DIR)"
	@rm -rf "$(LOCALBIN)/release/plugin" && mkdir -p "$(LOCALBIN)/release/plugin"
	@for p in $(PLUGIN_PLATFORMS); do \
		echo "go build kubectl-store for $$p"; \
		CGO_ENABLED=0 GOOS=$${p%%/*} GOARCH=$${p##*/} go build -trimpath -ldflags "$(LDFLAGS)" \
			-o "$(LOCALBIN)/release/plugin/kubectl-store-$${p%%/*}-$${p##*/}" ./cmd/kubectl-store || exit 1; \
	done
	"$(HELM)" package dist/chart --version "$(VERSION:v%=%)" --app-version "$(VERSION)" --destination "$(RELEASE_DIR)"
	@# install.yaml: config/default with the release's image, through a throwaway overlay (kustomize
	@# wants a relative path), so that no tracked file is edited.
	@rm -rf bin/release-overlay && mkdir -p bin/release-overlay
	@printf 'resources:\n- ../../config/default\nimages:\n- name: controller\n  newName: %s\n  newTag: %s\n' \
		"$(IMAGE_REPOSITORY)" "$(VERSION)" > bin/release-overlay/kustomization.yaml
	"$(KUSTOMIZE)" build bin/release-overlay > "$(RELEASE_DIR)/install.yaml"
	go run ./hack/release --dist "$(RELEASE_DIR)" --version "$(VERSION)" --plugin-binaries "$(LOCALBIN)/release/plugin" \
		--image-platforms "$(IMAGE_PLATFORMS)" --created "$(SOURCE_DATE_EPOCH)"
	@# The krew manifest as krew reads it: installed from this release's linux/amd64 archive
	@# (the sha256 checked) into a throwaway KREW_ROOT, then run.
	@KREW_ROOT="$$(mktemp -d)" && trap 'rm -rf "$$KREW_ROOT"' EXIT && export KREW_ROOT && \
		"$(KREW)" install --manifest="$(RELEASE_DIR)/store.yaml" \
			--archive="$(RELEASE_DIR)/kubectl-store_$(VERSION)_linux_amd64.tar.gz" >/dev/null 2>&1 && \
		installed="$$("$$KREW_ROOT/bin/kubectl-store" version)" && echo "$$installed" && \
		case "$$installed" in "kubectl-store $(VERSION) "*) ;; *) echo "krew installed another version"; exit 1;; esac && \
		echo "krew installed the plugin from $(RELEASE_DIR)/store.yaml"

.PHONY: image-check
image-check: ## Check the image tarballs: user 65532, CA bundle, no shell, the entrypoint's --version (run on a matching host).
	@for f in "$(IMAGE_DIR)"/member-operator_$(VERSION)_linux_*.tar; do \
		go run ./hack/image check --tarball "$$f" --version "$(VERSION)" || exit 1; \
	done

.PHONY: run
run: manifests generate fmt vet ## Run a controller from your host against the cluster in ~/.kube/config (no webhooks: the cluster cannot reach your host; pass flags with ARGS=).
	go run ./cmd/main.go --enable-webhooks=false $(ARGS)

# dev: a whole local environment in one command. It builds what is missing, starts etcd and
# kube-apiserver (the envtest binaries), installs the CRDs, starts an SMTP catcher that saves mail
# under bin/dev/mail/ and runs the manager against both. Ctrl-C stops everything. DEV_ARGS are the
# manager's flags (make dev DEV_ARGS=--exclusive-membership); they follow devenv's own after --.
DEV_DIR ?= $(LOCALBIN)/dev
DEV_ARGS ?=
.PHONY: dev
dev: manifests generate setup-envtest ## Start a local control plane, mail catcher and the operator (Ctrl-C stops all).
	go build -ldflags "$(VERSION_LDFLAGS)" -o "$(LOCALBIN)/manager" ./cmd/main.go
	go build -o "$(LOCALBIN)/devenv" ./hack/devenv
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" "$(LOCALBIN)/devenv" --dir "$(DEV_DIR)" --manager "$(LOCALBIN)/manager" \
		--crd-dir config/crd/bases --kubectl bin/kubectl -- $(DEV_ARGS)

.PHONY: docker-build
docker-build: ## Build docker image with the manager (needs a Docker daemon; make image does not).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

.PHONY: build-installer
build-installer: release ## Generate a consolidated YAML with CRDs and deployment (dist/install.yaml; see make release).

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize setup-envtest ## Install CRDs into the K8s cluster specified in ~/.kube/config.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" apply -f -

.PHONY: uninstall
uninstall: manifests kustomize setup-envtest ## Uninstall CRDs from the K8s cluster specified in ~/.kube/config.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize setup-envtest ## Deploy controller to the K8s cluster specified in ~/.kube/config.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" apply -f -

.PHONY: undeploy
undeploy: kustomize setup-envtest ## Undeploy controller from the K8s cluster specified in ~/.kube/config.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
KUSTOMIZE ?= $(LOCALBIN)/kustomize
HELM ?= $(LOCALBIN)/helm
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs
KREW ?= $(LOCALBIN)/krew

## Tool Versions
# kustomize v5.8.3 needs a newer Go than our machines have.
KUSTOMIZE_VERSION ?= v5.8.2
HELM_VERSION ?= v3.19.0
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CRD_REF_DOCS_VERSION ?= v0.3.0
KREW_VERSION ?= v0.4.3

# The envtest control plane matches the k8s.io/api version in go.mod: v0.37.2 -> Kubernetes 1.37.2.
ENVTEST_K8S_VERSION ?= $(shell go list -m -f '{{ .Version }}' k8s.io/api | sed -E 's/^v0[.]([0-9]+)[.]([0-9]+).*/1.\1.\2/')
# Where setup-envtest would cache the binaries; hack/envtest-from-source.sh builds them there.
ENVTEST_ASSETS ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/kubebuilder-envtest/k8s/$(ENVTEST_K8S_VERSION)-linux-amd64
# kubectl is built with the control plane, at the same version, so nothing depends on the host's.
KUBECTL ?= $(ENVTEST_ASSETS)/kubectl

.PHONY: setup-envtest
setup-envtest: ## Build kube-apiserver, etcd and kubectl from source into the envtest cache (skipped when present).
	@echo "Setting up envtest binaries for Kubernetes $(ENVTEST_K8S_VERSION)..."
	@hack/envtest-from-source.sh "$(ENVTEST_K8S_VERSION)" >/dev/null
	@mkdir -p "$(LOCALBIN)" && ln -sf "$(KUBECTL)" "$(LOCALBIN)/kubectl"
	@echo "envtest binaries: $(ENVTEST_ASSETS) (kubectl linked as bin/kubectl)"

# The browser of the acceptance page's tests: Debian's chromium package (these machines run Debian
# 12). apt serves one build per release, replaced by security updates, so it is pinned to the
# release rather than to a build; `make chromium` prints the version installed.
CHROMIUM ?= /usr/bin/chromium
.PHONY: chromium
chromium: ## Install Debian's chromium for the browser tests (root or sudo), unless present.
	@if [ ! -x "$(CHROMIUM)" ]; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "Installing Debian's chromium for the browser tests..."; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@echo "chromium: $$($(CHROMIUM) --version 2>/dev/null)"

.PHONY: helm
helm: $(HELM) ## Build helm locally if necessary (from the Go module proxy).
$(HELM): $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: helm-lint
helm-lint: helm ## Lint the Helm chart in dist/chart.
	"$(HELM)" lint --strict --kube-version $(ENVTEST_K8S_VERSION) dist/chart

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: crd-ref-docs
crd-ref-docs: $(CRD_REF_DOCS) ## Download crd-ref-docs locally if necessary.
$(CRD_REF_DOCS): $(LOCALBIN)
	$(call go-install-tool,$(CRD_REF_DOCS),github.com/elastic/crd-ref-docs,$(CRD_REF_DOCS_VERSION))

.PHONY: krew
krew: $(KREW) ## Build krew locally if necessary (make release installs the plugin with it).
$(KREW): $(LOCALBIN)
	$(call go-install-tool,$(KREW),sigs.k8s.io/krew/cmd/krew,$(KREW_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef
