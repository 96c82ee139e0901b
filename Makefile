# Skirmish developer tasks. `make help` lists them.
# buf is pinned here and in clients/web/package.json (@bufbuild/buf); keep
# the two versions equal. `go run` builds it from source the first time
# (4 to 9 minutes on 2 cores); later runs use the Go build cache.
BUF_VERSION := v1.75.0
BUF := go run github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

.PHONY: help build test test-short proto proto-check lint bench dev web sdk-ts

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

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)
	go vet ./...

bench: ## the go test benchmarks recorded in docs/benchmarks.md
	go test -run '^$$' -bench . -benchmem ./...

web: ## regenerate the browser client's TypeScript from proto/, type-check it and rebuild clients/web/dist (needs Node)
	cd clients/web && npm ci --no-audit --no-fund && npm run gen && npm run typecheck && npm run build

sdk-ts: ## regenerate, type-check, build and unit-test the TypeScript SDK in clients/ts (needs Node)
	cd clients/ts && npm ci --no-audit --no-fund && npm run gen && npm test
