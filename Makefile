# belay — every target installs what it needs (npm packages, the pinned opa
# CLI, the control-plane binaries) into ignored project folders and reuses it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

OPA_VERSION   ?= v1.22.0
# The peers belay's secret scanner is measured against (make secrets-bench only).
GITLEAKS_VERSION       ?= v8.30.1
DETECT_SECRETS_VERSION ?= 1.5.0
# crane (go-containerregistry) makes the image tests' images without a daemon
# and serves them: `crane registry serve` is a real OCI registry.
CRANE_VERSION ?= v0.22.1
HELM_VERSION  ?= v3.21.4
# aiosmtpd is the SMTP server the email notification tests send to (PyPI, pinned, in its own venv).
AIOSMTPD_VERSION ?= 1.4.6
SMTP_VENV     := $(CURDIR)/.tools/smtp-venv
HELM_K8S_MINOR ?= 36
TOOLS         := $(CURDIR)/.tools/bin
OPA           := $(TOOLS)/opa
CRANE         := $(TOOLS)/crane
HELM          := $(TOOLS)/helm
BUILD         := $(CURDIR)/.build
BUNDLE        := $(BUILD)/bundle.tar.gz
# The bundle's revision: the commit, marked dirty when policies/ has uncommitted changes.
REVISION      ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)$(shell [ -z "$$(git status --porcelain -- policies 2>/dev/null)" ] || echo -dirty)
LISTEN        ?= 127.0.0.1:8443
TS_FILES      := $(shell find src webhook bench -name '*.ts' ! -name '*.test.ts' 2>/dev/null)

.PHONY: tools gator pss-oracle help deps opa crane helm bundle build run test lint format unit policy-test e2e cluster-up cluster-down bench image-latency clean console-deps gitleaks detect-secrets secrets-bench mcp-tools manifests image-root image fuzz haproxy chaos smtp-tools gatekeeper

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

$(CRANE):
	@mkdir -p $(TOOLS)
	@echo "installing crane $(CRANE_VERSION) into $(TOOLS) (go install; first time only)"
	GOBIN=$(TOOLS) CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)
	@echo $(CRANE_VERSION) > $(TOOLS)/.crane.version

crane: ## install the pinned crane (image tool and OCI registry for the image tests) into .tools/bin
	@if [ "$$(cat $(TOOLS)/.crane.version 2>/dev/null)" != "$(CRANE_VERSION)" ]; then rm -f $(CRANE); $(MAKE) --no-print-directory $(CRANE); fi

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
# The entrypoints are the rules annotated `# METADATA` `entrypoint: true` (each
# face's `decision`); the Rego tests beside the rules (*_test.rego) stay out.
# SIGNING_KEY=key.pem [SIGNING_ALG=ES256] signs it in OPA's format.
# The ConstraintTemplates and Constraints under policies/gatekeeper/ are
# compiled into the same bundle (src/bundle/build.ts; --v0-compatible, as
# Gatekeeper runs templates), and a template that does not compile or calls a
# built-in belay lacks fails the build with its name.
bundle: opa node_modules/.package-lock.json ## compile policies/ (and its Gatekeeper templates) to .build/bundle.tar.gz (wasm); SIGNING_KEY=… signs it
	@mkdir -p $(BUILD)
	npx tsx src/bundle/build-main.ts --opa $(OPA) --policies policies --out $(BUNDLE) --revision "$(REVISION)" $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY) $(if $(SIGNING_ALG),--signing-alg $(SIGNING_ALG)))

dist/.built: $(TS_FILES) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@touch $@

build: dist/.built ## compile the TypeScript

run: deps bundle build ## run the gateway locally (https://127.0.0.1:8443, dev TLS, local approvals)
	node dist/webhook/main.js --local --listen $(LISTEN) --bundle $(BUNDLE) --dev-tokens .belay/tokens

# The email notification tests' SMTP server (src/testkit/smtp/server.py); without
# it those tests are skipped with a printed reason.
smtp-tools: ## install the pinned aiosmtpd (SMTP server for the email notification tests) into .tools/smtp-venv
	@if [ "$$(cat $(SMTP_VENV)/.aiosmtpd.version 2>/dev/null)" != "$(AIOSMTPD_VERSION)" ]; then \
	  rm -rf $(SMTP_VENV); echo "installing aiosmtpd $(AIOSMTPD_VERSION) into $(SMTP_VENV) (pip; first time only)"; \
	  python3 -m venv $(SMTP_VENV) && $(SMTP_VENV)/bin/pip install -q aiosmtpd==$(AIOSMTPD_VERSION) && \
	  echo $(AIOSMTPD_VERSION) > $(SMTP_VENV)/.aiosmtpd.version; fi

unit: deps crane smtp-tools bundle build ## unit, HTTP and policy fixture tests
	npx vitest run

# Oracles built from the Go module proxy, pinned in policy-tests/oracles/build.sh: gator
# (Gatekeeper's own suite runner) and pss-oracle (k8s.io/pod-security-admission).
tools: gator pss-oracle ## build the pinned gator and the Pod Security oracle into .tools/bin

gator: ## build gator (pinned) into .tools/bin
	bash policy-tests/oracles/build.sh gator

gatekeeper: ## build Gatekeeper's manager (pinned, the gator module) into .tools/bin, for make bench
	bash policy-tests/oracles/build.sh gatekeeper

pss-oracle: ## build the Pod Security oracle (k8s.io/pod-security-admission, pinned) into .tools/bin
	bash policy-tests/oracles/build.sh pss-oracle

policy-test: opa ## Rego unit tests with opa test (x_test.rego beside x.rego in policies/)
	set -o pipefail; $(OPA) test policies/ --ignore gatekeeper -v --format pretty | tail -n 5

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
	npx tsc -p manifests/tsconfig.json
	$(OPA) fmt --list --fail policies/ src/testkit/policies/
	$(OPA) check --strict --bundle policies/

format: deps ## apply the formatter and safe lint fixes
	npx biome check --write .
	$(OPA) fmt -w policies/ src/testkit/policies/

test: deps crane smtp-tools lint bundle build tools ## everything CI runs: lint, opa test, unit and fixture tests, gator and Pod Security cross-checks, end to end
	$(OPA) test policies/ --ignore gatekeeper
	npx vitest run
	$(MAKE) --no-print-directory e2e

e2e: deps crane bundle build mcp-tools haproxy ## end-to-end on a real kube-apiserver + kubectl (built on first use), images from a local crane registry
	bash e2e/run.sh

# The MCP conformance suite and the Node 22 it needs (npm packages, pinned in
# the script), for belay mcp's transparency test in the e2e suite.
mcp-tools: ## install the MCP conformance suite and Node 22 into .tools/mcp-conformance
	@bash e2e/mcp/tools.sh

cluster-up: ## start the control plane: kine, kube-apiserver, controller-manager, scheduler, kwok (kubeconfig in .cluster/)
	bash e2e/cluster-up.sh

cluster-down: ## stop the local control plane
	bash e2e/cluster-down.sh

image-latency: deps crane ## what image facts add to an admission request (cold and warm cache, an unreachable registry), against a local registry
	npx tsx src/testkit/image-latency.ts

# `make test` runs a bounded fuzz run (webhook/fuzz.test.ts, 3,000 requests);
# this one runs longer: FUZZ_REQUESTS requests (default 30000), FUZZ_SEED.
fuzz: deps opa build ## fuzz every face of a real gateway over HTTPS; prints requests, 5xx, wrong allows, peak RSS
	npx tsx src/testkit/fuzz/run.ts $(or $(FUZZ_REQUESTS),30000) $(or $(FUZZ_SEED),1)

bench: deps bundle build gatekeeper ## benchmark belay against Gatekeeper, opa run --server and a bare express ceiling
	node dist/bench/run.js

# Not part of make test: installs gitleaks (go install, pinned) into .tools/bin
# and detect-secrets (pip, pinned) into the .tools/venv virtualenv, then scores
# all three on the corpus in src/scan/corpus/testdata (prompts and tool
# results apart). The corpus is regenerated with npx tsx src/scan/corpus/generate.ts.
gitleaks: ## install the pinned gitleaks into .tools/bin (for secrets-bench)
	@if [ "$$(cat $(TOOLS)/.gitleaks.version 2>/dev/null)" != "$(GITLEAKS_VERSION)" ]; then \
	  rm -f $(TOOLS)/gitleaks; mkdir -p $(TOOLS); \
	  echo "installing gitleaks $(GITLEAKS_VERSION) into $(TOOLS) (go install; first time only)"; \
	  GOBIN=$(TOOLS) go install github.com/zricethezav/gitleaks/v8@$(GITLEAKS_VERSION) && echo $(GITLEAKS_VERSION) > $(TOOLS)/.gitleaks.version; fi

detect-secrets: ## install the pinned detect-secrets into .tools/venv (for secrets-bench)
	@if [ "$$(cat $(CURDIR)/.tools/venv/.detect-secrets.version 2>/dev/null)" != "$(DETECT_SECRETS_VERSION)" ]; then \
	  rm -rf $(CURDIR)/.tools/venv; python3 -m venv $(CURDIR)/.tools/venv && \
	  $(CURDIR)/.tools/venv/bin/pip install -q detect-secrets==$(DETECT_SECRETS_VERSION) && \
	  echo $(DETECT_SECRETS_VERSION) > $(CURDIR)/.tools/venv/.detect-secrets.version; fi

secrets-bench: deps gitleaks detect-secrets ## belay's secret scanner vs gitleaks and detect-secrets (recall per type, false positives)
	GITLEAKS=$(TOOLS)/gitleaks GITLEAKS_VERSION=$(GITLEAKS_VERSION) DETECT_SECRETS=$(CURDIR)/.tools/venv/bin/detect-secrets npx tsx bench/secrets.ts $(ARGS)

# The approvals console's browser test drives Debian's chromium (playwright-core
# never downloads a browser); without it that test is skipped with a message.
console-deps: ## install chromium for the console's browser test (apt-get; needs root)
	@if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version 2>/dev/null; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; fi

# The replicas scenario (e2e/replicas.e2e.test.ts) balances three gateways with
# Debian's HAProxy: whatever version apt gives (printed), installed once.
haproxy: ## install HAProxy for the replicas e2e scenario (apt-get; needs root)
	@if [ -x /usr/sbin/haproxy ]; then /usr/sbin/haproxy -v | head -n 1; \
	else apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy && /usr/sbin/haproxy -v | head -n 1; fi

# Longer fault runs of the replicas scenario than make test's: a 2-minute
# decision-log outage and five rounds of SIGKILL and SIGTERM/restart.
chaos: deps crane bundle build mcp-tools haproxy ## the replicas scenario with longer faults (e2e/replicas.e2e.test.ts)
	BELAY_REPLICAS_SINK_DOWN_S=$(or $(CHAOS_SINK_DOWN_S),120) BELAY_REPLICAS_KILL_ROUNDS=$(or $(CHAOS_ROUNDS),5) bash e2e/run.sh e2e/replicas.e2e.test.ts

# The kustomize tree under manifests/ is rendered from the Helm chart
# (manifests/helm/kustomize.ts); a unit test fails when it is out of date.
manifests: deps ## render manifests/ (kustomize) from the Helm chart
	npx tsx manifests/helm/kustomize.ts

# What the Containerfile's runtime stage adds to its base, assembled on the
# host by the same script (manifests/image/assemble.sh); manifests/image/image.test.ts runs the
# gateway from it as uid 65532.
image-root: deps bundle build ## assemble the container image's runtime tree in .build/image-root
	bash manifests/image/assemble.sh $(BUILD)/image-root
	@du -sh $(BUILD)/image-root | sed 's/\t/ /'

IMAGE ?= belay:dev
image: ## build the container image with podman (or docker): IMAGE=belay:dev
	$$(command -v podman || command -v docker) build -f Containerfile --build-arg REVISION=$(REVISION) -t $(IMAGE) .

clean: ## remove build output (keeps installed tools)
	rm -rf dist $(BUILD)
