# mtauth: `make run` serves the API locally, `make test` runs every check.
# Both need only Go; Go fetches the modules and tools (pinned in go.mod).

SHELL := /bin/bash
GO    ?= go
ADDR  ?= 127.0.0.1:3000

# Lambda functions: the template's logical id -> the package under functions/.
FUNCTIONS := AuthenticateFunction RevokeAuthenticationFunction GetTokenFunction RevokeTokenFunction CatchAllFunction
PKG_AuthenticateFunction         := authenticate
PKG_RevokeAuthenticationFunction := revoke_authentication
PKG_GetTokenFunction             := get_token
PKG_RevokeTokenFunction          := revoke_token
PKG_CatchAllFunction             := catch_all

# How AWS Lambda's provided.al2023 arm64 runtime wants a Go function built.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

.PHONY: help run test lint build clean

help: ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

run: ## serve the Data API on $(ADDR) with an embedded in-memory DynamoDB
	$(GO) run ./cmd/mtauth serve --addr $(ADDR) $(ARGS)

test: lint ## every check and test (moto_server tests run when it is installed; CI=true requires it)
	$(GO) test -race -count=1 ./...

lint: ## gofmt, go vet, staticcheck, cfn-lint
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@if command -v cfn-lint >/dev/null; then echo cfn-lint template.yaml; cfn-lint template.yaml; \
	  elif [ "$$CI" = true ]; then echo "cfn-lint is required in CI"; exit 1; \
	  else echo "notice: cfn-lint not installed; template lint skipped"; fi

build: $(addprefix .aws-sam/build/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## build every function into .aws-sam/build/<LogicalId>/
	@ls -l .aws-sam/build/*/bootstrap | awk '{printf "%-60s %6.1f MiB\n", $$9, $$5/1048576}'

.aws-sam/build/%/bootstrap: FORCE
	@$(MAKE) --no-print-directory build-$* ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/$*

# `sam build` calls build-<LogicalId> with ARTIFACTS_DIR set (BuildMethod: makefile).
build-%Function:
	@test -n "$(PKG_$*Function)" || { echo "no function $*Function"; exit 1; }
	@mkdir -p "$(ARTIFACTS_DIR)"
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(PKG_$*Function)

clean: ## remove build output
	rm -rf .aws-sam

.PHONY: FORCE
FORCE:
