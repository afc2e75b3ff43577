# zoom-worker: `make help` lists the targets.
GO        ?= go
PKGS      ?= ./...
STATICCHECK_VERSION ?= v0.8.2
BENCH_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## run everything in one process: embedded NATS, Zoom simulator, worker (nothing else needed)
	@$(GO) build -tags dev -o bin/zoom-worker-dev ./cmd/zoom-worker
	@exec ./bin/zoom-worker-dev dev

.PHONY: build
build: ## build bin/zoom-worker
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/zoom-worker ./cmd/zoom-worker

# The tests run with -tags dev so that dev mode's own tests run too; the
# production build (no tags) is checked by cmd/zoom-worker's build_test.go,
# which builds and inspects the binary without the tag.
.PHONY: test
test: ## run every test CI runs, with -race (installs redis-server and chromium where it can)
	@./scripts/ensure-redis
	@./scripts/ensure-chromium
	$(GO) vet $(PKGS)
	$(GO) vet -tags dev $(PKGS)
	$(GO) test -race -count=1 -tags dev -timeout 20m $(PKGS)

.PHONY: test-short
test-short: ## the inner loop: every test but the slow fault and crash tests (-short), with -race
	@./scripts/ensure-redis
	$(GO) test -race -count=1 -short -tags dev $(PKGS)

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags dev $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags dev ./cmd/...

.PHONY: bench
bench: ## the benchmark table: baseline, worker at Zoom latency 0 and 200 ms, shared rate limit
	@./scripts/ensure-redis
	$(GO) run ./bench $(BENCH_ARGS)

.PHONY: fuzz
fuzz: ## fuzz job decoding for a minute
	$(GO) test -run='^$$' -fuzz=FuzzDecodeJob -fuzztime=60s ./messages/
