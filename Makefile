# belay — every target installs what it needs (npm packages, the pinned opa
# CLI, the control-plane binaries) into ignored project folders and reuses it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

OPA_VERSION   ?= v1.22.0
HELM_VERSION  ?= v3.21.4
HELM_K8S_MINOR ?= 36
TOOLS         := $(CURDIR)/.tools/bin
OPA           := $(TOOLS)/opa
HELM          := $(TOOLS)/helm
BUILD         := $(CURDIR)/.build
BUNDLE        := $(BUILD)/bundle.tar.gz
ENTRYPOINTS   := belay/admission/decision belay/authorization/decision belay/toolcall/decision belay/toolresult/decision belay/prompt/decision
# The bundle's revision: the commit, marked dirty when policies/ has uncommitted changes.
REVISION      ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)$(shell [ -z "$$(git status --porcelain -- policies 2>/dev/null)" ] || echo -dirty)
LISTEN        ?= 127.0.0.1:8443
TS_FILES      := $(shell find src webhook bench -name '*.ts' ! -name '*.test.ts' 2>/dev/null)

.PHONY: help deps opa helm bundle build run test lint format unit policy-test e2e cluster-up cluster-down bench clean console-deps manifests image-root image

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json opa helm ## install npm packages and the opa and helm CLIs

$(OPA):
	@mkdir -p $(TOOLS)
	@echo "installing opa $(OPA_VERSION) into $(TOOLS) (go install; first time only)"
	GOBIN=$(TOOLS) go install github.com/open-policy-agent/opa@$(OPA_VERSION)
	@echo $(OPA_VERSION) > $(TOOLS)/.opa.version

opa: ## install the pinned opa CLI into .tools/bin
	@if [ "$$(cat $(TOOLS)/.opa.version 2>/dev/null)" != "$(OPA_VERSION)" ]; then rm -f $(OPA); $(MAKE) --no-print-directory $(OPA); fi

# helm renders and lints the chart (manifests/helm/belay). Built like opa, from
# the Go module proxy, with the ldflags of helm's own release build: the
# version `helm version` prints, and the Kubernetes version `helm template`
# and `helm lint` assume (1.<minor of its client-go>; else 1.20, which the
# chart's kubeVersion refuses).
HELM_STAMP   := $(HELM_VERSION) k8s 1.$(HELM_K8S_MINOR)
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	$(foreach p,chartutil lint/rules,-X helm.sh/helm/v3/pkg/$(p).k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/$(p).k8sVersionMinor=$(HELM_K8S_MINOR))
$(HELM):
	@mkdir -p $(TOOLS)
	@echo "installing helm $(HELM_VERSION) into $(TOOLS) (go install; first time only)"
	GOBIN=$(TOOLS) CGO_ENABLED=0 go install -trimpath -ldflags "$(HELM_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@echo $(HELM_STAMP) > $(TOOLS)/.helm.version

helm: ## install the pinned helm CLI into .tools/bin
	@if [ "$$(cat $(TOOLS)/.helm.version 2>/dev/null)" != "$(HELM_STAMP)" ]; then rm -f $(HELM); $(MAKE) --no-print-directory $(HELM); fi

# Always rebuilt (it takes well under a second) so the revision stamp is current.
# SIGNING_KEY=key.pem [SIGNING_ALG=ES256] signs it in OPA's format.
bundle: opa ## compile policies/ to .build/bundle.tar.gz (wasm); SIGNING_KEY=… signs it
	@mkdir -p $(BUILD)
	$(OPA) build -t wasm $(addprefix -e ,$(ENTRYPOINTS)) --revision "$(REVISION)" -b $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY) $(if $(SIGNING_ALG),--signing-alg $(SIGNING_ALG))) -o $(BUNDLE).tmp policies/ && mv $(BUNDLE).tmp $(BUNDLE)
	@echo "bundle $(BUNDLE) revision $(REVISION)"

dist/.built: $(TS_FILES) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@touch $@

build: dist/.built ## compile the TypeScript

run: deps bundle build ## run the gateway locally (https://127.0.0.1:8443, dev TLS, local approvals)
	node dist/webhook/main.js --listen $(LISTEN) --bundle $(BUNDLE) --dev-tokens .belay/tokens

unit: deps bundle build ## unit, HTTP and policy fixture tests
	npx vitest run

policy-test: opa ## Rego unit tests with opa test
	$(OPA) test policies/ policy-tests/rego/ -v --format pretty | tail -n 5

# Biome formats and lints the TypeScript, JavaScript and JSON (biome.json);
# `make format` applies its safe fixes.
lint: deps ## check formatting and lint (Biome for TypeScript)
	npx biome ci .

format: deps ## apply the formatter and safe lint fixes
	npx biome check --write .

test: deps lint bundle build ## everything CI runs: lint, opa test, unit and fixture tests, end to end
	$(OPA) test policies/ policy-tests/rego/
	npx vitest run
	$(MAKE) --no-print-directory e2e

e2e: deps bundle build ## end-to-end on a real kube-apiserver + kubectl (built on first use)
	bash e2e/run.sh

cluster-up: ## start kine + kube-apiserver on 127.0.0.1 (kubeconfig in .cluster/)
	bash e2e/cluster-up.sh

cluster-down: ## stop the local control plane
	bash e2e/cluster-down.sh

bench: deps bundle build ## benchmark belay against opa run --server and a bare express ceiling
	node dist/bench/run.js

# The approvals console's browser test drives Debian's chromium (playwright-core
# never downloads a browser); without it that test is skipped with a message.
console-deps: ## install chromium for the console's browser test (apt-get; needs root)
	@if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version 2>/dev/null; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; fi

# The kustomize tree under manifests/ is rendered from the Helm chart
# (manifests/helm/kustomize.ts); a unit test fails when it is out of date.
manifests: deps ## render manifests/ (kustomize) from the Helm chart
	npx tsx manifests/helm/kustomize.ts

# What the Containerfile's runtime stage adds to its base, assembled on the
# host by the same script (image/assemble.sh); image/image.test.ts runs the
# gateway from it as uid 65532.
image-root: deps bundle build ## assemble the container image's runtime tree in .build/image-root
	bash image/assemble.sh $(BUILD)/image-root
	@du -sh $(BUILD)/image-root | sed 's/\t/ /'

IMAGE ?= belay:dev
image: ## build the container image with podman (or docker): IMAGE=belay:dev
	$$(command -v podman || command -v docker) build -f Containerfile --build-arg REVISION=$(REVISION) -t $(IMAGE) .

clean: ## remove build output (keeps installed tools)
	rm -rf dist $(BUILD)
