# Gatehouse — `make dev` runs the console with its whole stack; `make test` runs every test.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/.bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: dev test bench tools build generate check-generate lint clean

## dev: start PostgreSQL, Vault, the demo IdPs, moto and the console on loopback
dev: tools build
	$(GO) build -o $(BIN)/gatehouse-dev ./cmd/gatehouse-dev
	exec $(BIN)/gatehouse-dev

## test: unit, integration (real PostgreSQL, Vault, Dex) and e2e (headless Chromium) tests
test: tools build
	$(GO) test -count=1 -timeout 25m ./...
	cd tools/devidp && $(GO) test -count=1 -timeout 10m ./...

## bench: Go benchmarks (no timed assertions live in the tests)
bench: tools build
	@echo "machine: $$(nproc) cores, $$(free -g | awk '/Mem:/{print $$2}') GiB, $$(go version)"
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./authz
	$(GO) test -run '^$$' -bench IssueGrant -benchtime 500x -count 3 ./secretstores/vault
	$(GO) test -run '^$$' -bench ApproveToCredential -benchtime 100x -timeout 10m ./jobs
	$(GO) test -run '^$$' -bench BreakGlassToCredential -benchtime 100x -count 3 -timeout 10m ./jobs
	$(GO) test -run '^$$' -bench RevokeTenant -benchtime 1x -timeout 30m ./jobs
	$(GO) test -run '^$$' -bench ExpiryLag -benchtime 1x -timeout 30m ./jobs
	$(GO) test -run '^$$' -bench Dashboard -benchtime 5s ./handlers
	$(GO) test -run '^$$' -bench Thousand -benchtime 3x ./postgres
	$(GO) test -run '^$$' -bench ConcurrentApprovalRace -benchtime 20x ./postgres
	$(GO) test -run '^$$' -bench 'AuditAppend|AuditViewer' -benchtime 2s -timeout 30m ./postgres
	$(GO) test -run '^$$' -bench RateLimitCheck -benchtime 2s ./postgres
	$(GO) test -run '^$$' -bench ConsoleUnderLoad -benchtime 1x -timeout 60m ./load

## build: the gatehouse binary, into .bin/ (used by make dev and the e2e tests)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/gatehouse ./cmd/gatehouse

## tools: the Vault dev server, the Dex IdPs and sqlc, each built from its own module in tools/
tools: $(BIN)/vault-dev $(BIN)/devidp $(BIN)/sqlc

$(BIN)/vault-dev: $(wildcard tools/vault/*.go) tools/vault/go.mod tools/vault/go.sum
	cd tools/vault && $(GO) build -trimpath -o $@ .

$(BIN)/devidp: $(wildcard tools/devidp/*.go) tools/devidp/go.mod tools/devidp/go.sum
	cd tools/devidp && $(GO) build -trimpath -o $@ .

$(BIN)/sqlc: tools/sqlc/go.mod tools/sqlc/go.sum
	cd tools/sqlc && $(GO) build -trimpath -o $@ github.com/sqlc-dev/sqlc/cmd/sqlc

## generate: regenerate templ components and sqlc queries
generate: $(BIN)/sqlc
	$(GO) tool templ generate -path web
	$(BIN)/sqlc generate

## check-generate: fail when committed generated code is stale
check-generate: generate
	@if [ -n "$$(git status --porcelain -- web postgres/db)" ]; then \
		echo "generated code is stale: run 'make generate' and commit"; git status --porcelain -- web postgres/db; exit 1; fi

## lint: gofmt and go vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
