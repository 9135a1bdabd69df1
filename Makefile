# mtauth: `make run` serves the API locally, `make test` runs every check.
# Both need only Go; Go fetches the modules and tools (pinned in go.mod).

SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:3000

# Lambda functions: the template's logical id -> the package under functions/.
# template.yaml says the same in each function's Metadata.GoPackage;
# template_test.go checks that the two agree and that every function has
# its build-<LogicalId> target.
FUNCTIONS := AuthorizeFunction AuthenticateFunction RevokeAuthenticationFunction GetTokenFunction RevokeTokenFunction CatchAllFunction
PKG_AuthorizeFunction            := authorize
PKG_AuthenticateFunction         := authenticate
PKG_RevokeAuthenticationFunction := revoke_authentication
PKG_GetTokenFunction             := get_token
PKG_RevokeTokenFunction          := revoke_token
PKG_CatchAllFunction             := catch_all

# How AWS Lambda's provided.al2023 runtime wants a Go function built: a
# static binary named bootstrap. arm64 is what template.yaml deploys;
# `make invoke` builds for this machine instead (LAMBDA_GOARCH).
# -trimpath, -buildvcs=false and an empty build id make the binary depend
# only on the source, so `sam build` and `make build` give the same bytes.
LAMBDA_GOARCH ?= arm64
LAMBDA_ENV    := GOOS=linux GOARCH=$(LAMBDA_GOARCH) CGO_ENABLED=0
LAMBDA_FLAGS  := -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid='
HOST_GOARCH    = $(shell $(GO) env GOARCH)

# Browser tests: Debian's chromium driven by playwright-core (pinned in the
# package-lock.json); no tool ever downloads a browser of its own.
BROWSER_TESTS := cmd/mtauth/testdata/browser
CHROMIUM      ?= /usr/bin/chromium

# Fuzz targets (seed corpora in pkg/dataapi/testdata/fuzz; `go test` replays
# them as regression tests). `make fuzz` runs each for FUZZTIME: a duration
# (30s) or a number of executions (20000x), which cannot run out while Go is
# still replaying the corpus.
FUZZ_TARGETS := FuzzParseAuthorization FuzzParseRoute FuzzCheckRedirect FuzzSessionFromCookie FuzzPrefersHTML FuzzReadParams FuzzHandler
FUZZTIME     ?= 30s

.PHONY: help run test deps lint fuzz build reproducible invoke clean

help: ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

run: ## serve the Data API on $(ADDR) with an embedded in-memory DynamoDB
	$(GO) run ./cmd/mtauth serve --addr $(ADDR) $(ARGS)

test: deps lint ## every check and test (moto_server tests run when it is installed; CI=true requires it)
	$(GO) test -race -count=1 ./...

deps: ## install what the browser tests need: playwright-core (npm) and Debian's chromium (as root)
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium (apt-get)"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }) >/dev/null; \
	  else echo "notice: $(CHROMIUM) missing and not root: browser tests will skip (sudo apt-get install chromium)"; fi; fi
	@if command -v npm >/dev/null; then \
	  [ -d $(BROWSER_TESTS)/node_modules/playwright-core ] || \
	    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix $(BROWSER_TESTS) --no-audit --no-fund --loglevel=error; \
	else echo "notice: npm missing: browser tests will skip"; fi

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@set -e; for t in $(FUZZ_TARGETS); do echo "== $$t"; \
	  $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./pkg/dataapi; done

lint: ## gofmt, go vet, staticcheck, cfn-lint
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@if command -v cfn-lint >/dev/null; then echo cfn-lint template.yaml; cfn-lint template.yaml; \
	  elif [ "$$CI" = true ]; then echo "cfn-lint is required in CI"; exit 1; \
	  else echo "notice: cfn-lint not installed; template lint skipped"; fi

build: $(addprefix .aws-sam/build/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## build every function (linux/arm64) into .aws-sam/build/<LogicalId>/ and report sizes
	@for f in $(FUNCTIONS); do \
	  stat -c '%s' .aws-sam/build/$$f/bootstrap | awk -v f=$$f '{printf "%-32s %10d bytes %6.2f MiB\n", f, $$1, $$1/1048576}'; done

.aws-sam/build/%/bootstrap: FORCE
	@$(MAKE) --no-print-directory build-$* ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/$*

# `sam build` calls build-<LogicalId> with ARTIFACTS_DIR set (BuildMethod: makefile).
build-%Function:
	@test -n "$(PKG_$*Function)" || { echo "no function $*Function"; exit 1; }
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set"; exit 1; }
	@mkdir -p "$(ARTIFACTS_DIR)"
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(PKG_$*Function)

reproducible: ## build every function twice, from two copies of the source with separate build caches, and compare the bytes
	@set -e; tmp=$$(mktemp -d); trap 'chmod -R u+w "$$tmp"; rm -rf "$$tmp"' EXIT; \
	  mkdir "$$tmp/src"; tar --exclude=./.aws-sam --exclude=./.git -cf - . | tar -xf - -C "$$tmp/src"; \
	  for f in $(FUNCTIONS); do \
	    $(MAKE) -s --no-print-directory build-$$f ARTIFACTS_DIR=$$tmp/a/$$f; \
	    GOCACHE=$$tmp/cache $(MAKE) -s --no-print-directory -C "$$tmp/src" build-$$f ARTIFACTS_DIR=$$tmp/b/$$f; \
	    cmp "$$tmp/a/$$f/bootstrap" "$$tmp/b/$$f/bootstrap"; \
	    echo "$$f: identical, sha256 $$(sha256sum < "$$tmp/a/$$f/bootstrap" | cut -c1-16)..."; \
	  done

# `sam local invoke` without Docker: build one function for this machine
# and run it once under the Lambda Runtime Interface Emulator (pinned in
# go.mod as a tool), against the DynamoDB AWS_ENDPOINT_URL_DYNAMODB names.
invoke: ## run one function once under the Lambda Runtime Interface Emulator: FUNCTION=<LogicalId> EVENT=events/<file>.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	@$(MAKE) --no-print-directory -s build-$(FUNCTION) ARTIFACTS_DIR=$(CURDIR)/.aws-sam/invoke/$(FUNCTION) LAMBDA_GOARCH=$(HOST_GOARCH)
	@$(GO) run ./cmd/lambdainvoke -function $(FUNCTION) -bootstrap .aws-sam/invoke/$(FUNCTION)/bootstrap -event $(EVENT)

clean: ## remove build output
	rm -rf .aws-sam

.PHONY: FORCE
FORCE:
