# Skirmish developer tasks. `make help` lists them.
# buf is pinned here and in clients/ts/package.json (@bufbuild/buf); keep
# the two versions equal. `go run` builds it from source the first time
# (4 to 9 minutes on 2 cores); later runs use the Go build cache.
BUF_VERSION := v1.75.0
BUF := go run github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

.PHONY: help build test test-short proto proto-check lint bench dev web sdk-ts fuzz-smoke fuzz-corpus

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build the skirmish binary into bin/ (or go install ./cmd/skirmish)
	go build -o bin/skirmish ./cmd/skirmish

dev: ## run every part in one process
	go run ./cmd/skirmish dev

test: ## the whole suite, as CI runs it
	go test -race -count=1 -timeout 20m ./...

proto: ## regenerate Go code from proto/ (pinned buf and plugins; the first run builds buf from source, minutes)
	@echo "buf $(BUF_VERSION): the first run builds it from source (4 to 9 minutes); later runs are quick"
	$(BUF) lint
	$(BUF) generate

proto-check: proto ## fail when the generated code is stale (the first run builds buf from source, minutes)
	git diff --exit-code -- proto/
	@test -z "$$(git status --porcelain -- proto/)" || (git status --porcelain -- proto/; echo "generated code is stale: run make proto"; exit 1)

lint: ## gofmt, go vet and go mod tidy
	@test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)
	go vet ./...
	go mod tidy -diff

bench: ## the go test benchmarks recorded in docs/benchmarks.md
	go test -run '^$$' -bench . -benchmem ./...

web: ## regenerate the TypeScript SDK's code from proto/, type-check the browser client and rebuild clients/web/dist with the SDK (needs Node)
	cd clients/ts && npm ci --no-audit --no-fund && npm run gen
	cd clients/web && npm ci --no-audit --no-fund && npm run typecheck && npm run build

sdk-ts: ## regenerate, type-check, build and unit-test the TypeScript SDK in clients/ts (needs Node)
	cd clients/ts && npm ci --no-audit --no-fund && npm run gen && npm test

# Every fuzz target in the module: "<package dir> <FuzzName>" per line.
FUZZ_TARGETS = grep -rl --include='*_test.go' '^func Fuzz' . | grep -v node_modules | sort | while read -r f; do \
	for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do echo "$$(dirname "$$f") $$t"; done; done

FUZZTIME ?= 5s
fuzz-smoke: ## run every fuzz target for FUZZTIME (5s) on top of its committed corpus (testdata/fuzz)
	@$(FUZZ_TARGETS) | while read -r pkg t; do \
		echo "fuzz $$pkg $$t"; \
		go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) "$$pkg" >/tmp/fuzz-$$t.log 2>&1 || { cat /tmp/fuzz-$$t.log; exit 1; }; \
	done

CORPUSTIME ?= 30s
fuzz-corpus: ## grow the committed corpus: fuzz each target for CORPUSTIME, then copy what it found into testdata/fuzz
	@cache=$$(go env GOCACHE)/fuzz/$$(go list -m); \
	$(FUZZ_TARGETS) | while read -r pkg t; do \
		echo "fuzz $$pkg $$t"; \
		go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(CORPUSTIME) "$$pkg" >/dev/null || exit 1; \
		mkdir -p "$$pkg/testdata/fuzz/$$t"; \
		cp -n "$$cache/$${pkg#./}/$$t"/* "$$pkg/testdata/fuzz/$$t/" 2>/dev/null || true; \
	done

.PHONY: dice
dice: ## rebuild the Liar's Dice browser client (clients/dice/dist) on the TypeScript SDK (needs Node)
	cd clients/ts && npm ci --no-audit --no-fund && npm run build
	cd clients/dice && npm ci --no-audit --no-fund && npm run typecheck && npm run build

.PHONY: bench-load
bench-load: ## the load test at 200, 400 and 1,000 players against the bare-echo floor (loopback, a few minutes; docs/benchmarks.md)
	go run ./cmd/skirmish-bench loadtest -steps 200,400,1000 -step 10s

.PHONY: chaos
CHAOS_DURATION ?= 10m
CHAOS_BOTS ?= 8
chaos: ## the long multi-host chaos test (root, as CI): random kill -9, lease-holder cuts and matchmaker restarts for CHAOS_DURATION (10m) under CHAOS_BOTS (8) bots, then every invariant check and a summary
	go test ./cmd/skirmish -run '^TestClusterAcrossHosts$$' -count 1 -v -timeout 0 -chaos.duration $(CHAOS_DURATION) -chaos.bots $(CHAOS_BOTS)
