# Bulwark: `make demo` runs the seeded API, `make test` runs every test.
# Tools are installed at pinned versions into ./bin on first use, so a fresh
# machine needs only Go and the PostgreSQL server binaries.

SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin

SQLC_VERSION          := v1.31.1
GOLANGCI_LINT_VERSION := v2.15.0

SQLC          := $(BIN)/sqlc
GOLANGCI_LINT := $(BIN)/golangci-lint

.PHONY: demo test test-unit test-blackbox check-generated lint generate build tools clean

## demo: start a throwaway PostgreSQL, migrate, seed, serve on 127.0.0.1:8080
demo: build
	SEED_DEMO_DATA=true $(BIN)/api serve

build:
	$(GO) build -o $(BIN)/api ./cmd/api

## test: generated code up to date, vet, unit + integration (race), black-box
## suite; then the workshop build, where every attack must also be seen to
## succeed against its vulnerable variant (docs/workshop.md)
# The black-box suite runs without -race: it measures login timing (user
# enumeration) and the race detector slows argon2id tenfold.
test: check-generated
	$(GO) vet ./...
	$(GO) vet -tags workshop ./...
	$(GO) test -race -count=1 ./internal/... ./cmd/...
	$(GO) test -count=1 -p 1 ./tests/...
	$(GO) test -tags workshop -count=1 -p 1 ./tests/...

## check-generated: sqlc output matches the queries, and sqlc vet rules pass
check-generated: $(SQLC)
	$(SQLC) diff
	$(SQLC) vet

## lint: golangci-lint v2 with the security linters (.golangci.yml)
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
	$(GOLANGCI_LINT) run --build-tags workshop ./...

## generate: regenerate the sqlc code after changing db/queries or db/migrations
generate: $(SQLC)
	$(SQLC) generate

tools: $(SQLC) $(GOLANGCI_LINT)

$(SQLC):
	GOBIN=$(BIN) $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

$(GOLANGCI_LINT):
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

clean:
	rm -rf $(BIN) .data
