# Bulwark: `make demo` runs the seeded API, `make test` runs every test.
# Tools are installed at pinned versions into ./bin on first use, so a fresh
# machine needs only Go and the PostgreSQL server binaries.

SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin

SQLC_VERSION          := v1.31.1
GOLANGCI_LINT_VERSION := v2.15.0
GITLEAKS_VERSION      := v8.30.1
GOVULNCHECK_VERSION   := v1.3.0
# versitygw: the S3-compatible server the storage tests run against
# (internal/files/s3store/s3test), which checks signatures and expiry.
VERSITYGW_VERSION     := v1.8.0
# The Go vulnerability database as the Go module proxy serves it (the
# golang.org/x/vulndb module): vuln.go.dev itself is not reachable from
# every build machine, the module proxy is. Bump it to see newer entries.
VULNDB_VERSION        := v0.0.0-20261105234957-e22db6528018

SQLC          := $(BIN)/sqlc
GOLANGCI_LINT := $(BIN)/golangci-lint
GITLEAKS      := $(BIN)/gitleaks
GOVULNCHECK   := $(BIN)/govulncheck
VERSITYGW     := $(BIN)/versitygw
VULNDB        := $(CURDIR)/.data/vulndb

.PHONY: demo test test-unit test-blackbox check-generated lint lint-openapi secrets vulncheck generate build tools clean bench bench-smoke fuzz

## demo: start a throwaway PostgreSQL, migrate, seed, serve on 127.0.0.1:8080,
## attack it with the whole catalogue (every verdict BLOCKED), keep serving
demo: build
	BIN=$(BIN) ./scripts/demo.sh

build:
	$(GO) build -o $(BIN)/api ./cmd/api
	$(GO) build -o $(BIN)/attack ./tools/cmd/attack
	$(GO) build -o $(BIN)/fakepay ./tools/cmd/fakepay

## test: generated code up to date, vet, unit + integration (race), the
## allocation budgets (without -race, which changes the counts), the tools'
## own tests (attack runner, console, bench), black-box suite; then the workshop build, where every attack must also be seen to
## succeed against its vulnerable variant (docs/workshop.md)
# The black-box suite runs without -race: it measures login timing (user
# enumeration) and the race detector slows argon2id tenfold.
test: check-generated $(VERSITYGW)
	$(GO) vet ./...
	$(GO) vet -tags workshop ./...
	$(GO) test -race -count=1 ./internal/... ./cmd/...
	$(GO) test -count=1 -run AllocationBudget ./internal/...
	$(GO) test -count=1 ./tools/...
	$(GO) test -count=1 -p 1 ./tests/...
	$(GO) test -tags workshop -count=1 -p 1 ./tests/...

## fuzz: every fuzz target (internal/**/fuzz_test.go) for FUZZTIME each. Go
## runs one -fuzz target per package per invocation, hence the loop. A
## failing input is saved under the package's testdata/fuzz and fails the run.
FUZZTIME     ?= 10s
FUZZPARALLEL ?= 2
FUZZ_PKGS    := $(addprefix ./,$(sort $(dir $(wildcard internal/*/fuzz_test.go internal/*/*/fuzz_test.go))))
fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "==> $$pkg $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) $$pkg; \
	  done; \
	done

## bench: load benchmark on a 1M-order dataset, printing ratios against a
## no-security baseline and pgbench (docs/performance.md); under 10 minutes.
## Misses are flagged in the table; BENCH_FLAGS=-strict makes them fail.
bench:
	$(GO) run ./tools/bench $(BENCH_FLAGS)

## bench-smoke: the same five measurements on a small dataset in under two
## minutes; fails only on errors, never on a missed target.
bench-smoke:
	$(GO) run ./tools/bench -smoke $(BENCH_FLAGS)

## check-generated: sqlc output matches the queries, and sqlc vet rules pass
check-generated: $(SQLC)
	$(SQLC) diff
	$(SQLC) vet

## lint: golangci-lint v2 with the security linters (.golangci.yml), and
## secret scanning of the tree and the history
lint: $(GOLANGCI_LINT) secrets
	$(GOLANGCI_LINT) run ./...
	$(GOLANGCI_LINT) run --build-tags workshop ./...

## secrets: gitleaks over the working tree and every commit of the checked-out
## history, HEAD and its ancestors: other local branches are not the project's
## history (.gitleaks.toml
## adds Bulwark's own key format and allows the published development keys)
secrets: $(GITLEAKS)
	$(GITLEAKS) dir --no-banner --redact --config .gitleaks.toml .
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  $(GITLEAKS) git --no-banner --redact --config .gitleaks.toml --log-opts="--full-history HEAD" . ; \
	else echo "not a git checkout: history not scanned"; fi

## vulncheck: govulncheck over the module (both builds) against a database
## built offline from the golang.org/x/vulndb module (see VULNDB_VERSION)
vulncheck: $(GOVULNCHECK) $(VULNDB)/index/db.json
	$(GOVULNCHECK) -db file://$(VULNDB) ./...
	$(GOVULNCHECK) -db file://$(VULNDB) -tags workshop ./...

$(VULNDB)/index/db.json:
	rm -rf $(VULNDB)
	$(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION)
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
	  -vulns "$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv" -out $(VULNDB)

## lint-openapi: api/openapi.yaml against Spectral's OpenAPI rules and the
## OWASP API Security ruleset (pinned in tools/spectral; needs npm)
lint-openapi:
	cd tools/spectral && npm ci --no-audit --no-fund && npx spectral lint --ruleset .spectral.yaml --fail-severity error ../../api/openapi.yaml

## generate: regenerate the sqlc code after changing db/queries or db/migrations
generate: $(SQLC)
	$(SQLC) generate

tools: $(SQLC) $(GOLANGCI_LINT) $(GITLEAKS) $(GOVULNCHECK) $(VERSITYGW)

$(SQLC):
	GOBIN=$(BIN) $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

$(GOLANGCI_LINT):
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(GITLEAKS):
	GOBIN=$(BIN) $(GO) install github.com/zricethezav/gitleaks/v8@$(GITLEAKS_VERSION)

$(GOVULNCHECK):
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

$(VERSITYGW):
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

clean:
	rm -rf $(BIN) .data
