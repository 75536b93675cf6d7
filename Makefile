# belay — every target installs what it needs (npm packages, the pinned opa
# CLI, the control-plane binaries) into ignored project folders and reuses it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

OPA_VERSION   ?= v1.22.0
TOOLS         := $(CURDIR)/.tools/bin
OPA           := $(TOOLS)/opa
BUILD         := $(CURDIR)/.build
BUNDLE        := $(BUILD)/bundle.tar.gz
# The bundle's revision: the commit, marked dirty when policies/ has uncommitted changes.
REVISION      ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)$(shell [ -z "$$(git status --porcelain -- policies 2>/dev/null)" ] || echo -dirty)
LISTEN        ?= 127.0.0.1:8443
TS_FILES      := $(shell find src webhook bench -name '*.ts' ! -name '*.test.ts' 2>/dev/null)

.PHONY: help deps opa bundle build run test lint format unit policy-test e2e cluster-up cluster-down bench clean console-deps fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json opa ## install npm packages and the opa CLI

$(OPA):
	@mkdir -p $(TOOLS)
	@echo "installing opa $(OPA_VERSION) into $(TOOLS) (go install; first time only)"
	GOBIN=$(TOOLS) go install github.com/open-policy-agent/opa@$(OPA_VERSION)
	@echo $(OPA_VERSION) > $(TOOLS)/.opa.version

opa: ## install the pinned opa CLI into .tools/bin
	@if [ "$$(cat $(TOOLS)/.opa.version 2>/dev/null)" != "$(OPA_VERSION)" ]; then rm -f $(OPA); $(MAKE) --no-print-directory $(OPA); fi

# Always rebuilt (it takes well under a second) so the revision stamp is current.
# The entrypoints are the rules annotated `# METADATA` `entrypoint: true` (each
# face's `decision`); the Rego tests beside the rules (*_test.rego) stay out.
# SIGNING_KEY=key.pem [SIGNING_ALG=ES256] signs it in OPA's format.
bundle: opa ## compile policies/ to .build/bundle.tar.gz (wasm); SIGNING_KEY=… signs it
	@mkdir -p $(BUILD)
	$(OPA) build -t wasm --ignore '*_test.rego' --revision "$(REVISION)" -b $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY) $(if $(SIGNING_ALG),--signing-alg $(SIGNING_ALG))) -o $(BUNDLE).tmp policies/ && mv $(BUNDLE).tmp $(BUNDLE)
	@echo "bundle $(BUNDLE) revision $(REVISION)"

dist/.built: $(TS_FILES) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@touch $@

build: dist/.built ## compile the TypeScript

run: deps bundle build ## run the gateway locally (https://127.0.0.1:8443, dev TLS, local approvals)
	node dist/webhook/main.js --listen $(LISTEN) --bundle $(BUNDLE) --dev-tokens .belay/tokens

unit: deps bundle build ## unit, HTTP and policy fixture tests
	npx vitest run

policy-test: opa ## Rego unit tests with opa test (x_test.rego beside x.rego in policies/)
	set -o pipefail; $(OPA) test policies/ -v --format pretty | tail -n 5

# Biome formats and lints the TypeScript, JavaScript and JSON (biome.json);
# `make format` applies its safe fixes. tsc type-checks the tests, the e2e
# suite and the console page too (the build compiles product code only). For
# the Rego: `opa fmt` in check mode (lists and fails on any file it would
# reformat) and `opa check --strict` as a bundle, with the capabilities and
# Rego v1 defaults of the pinned opa that `make bundle` uses.
lint: deps opa ## check formatting, lint and types (Biome and tsc for TypeScript; opa fmt and opa check --strict for Rego)
	npx biome ci .
	npx tsc -p tsconfig.test.json
	npx tsc -p e2e/tsconfig.json --noEmit
	npx tsc -p webhook/console/static/tsconfig.json --noEmit
	$(OPA) fmt --list --fail policies/ src/testkit/policies/
	$(OPA) check --strict --bundle policies/

format: deps ## apply the formatter and safe lint fixes
	npx biome check --write .
	$(OPA) fmt -w policies/ src/testkit/policies/

test: deps lint bundle build ## everything CI runs: lint, opa test, unit and fixture tests, end to end
	$(OPA) test policies/
	npx vitest run
	$(MAKE) --no-print-directory e2e

e2e: deps bundle build ## end-to-end on a real kube-apiserver + kubectl (built on first use)
	bash e2e/run.sh

cluster-up: ## start kine + kube-apiserver on 127.0.0.1 (kubeconfig in .cluster/)
	bash e2e/cluster-up.sh

cluster-down: ## stop the local control plane
	bash e2e/cluster-down.sh

# `make test` runs a bounded fuzz run (webhook/fuzz.test.ts, 3,000 requests);
# this one runs longer: FUZZ_REQUESTS requests (default 30000), FUZZ_SEED.
fuzz: deps opa build ## fuzz every face of a real gateway over HTTPS; prints requests, 5xx, wrong allows, peak RSS
	npx tsx src/testkit/fuzz/run.ts $(or $(FUZZ_REQUESTS),30000) $(or $(FUZZ_SEED),1)

bench: deps bundle build ## benchmark belay against opa run --server and a bare express ceiling
	node dist/bench/run.js

# The approvals console's browser test drives Debian's chromium (playwright-core
# never downloads a browser); without it that test is skipped with a message.
console-deps: ## install chromium for the console's browser test (apt-get; needs root)
	@if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version 2>/dev/null; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; fi

clean: ## remove build output (keeps installed tools)
	rm -rf dist $(BUILD)
