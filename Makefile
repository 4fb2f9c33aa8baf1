# outpost: build, run and check. `make help` lists the targets.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO      ?= go
BIN     ?= outpost
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# go test's -timeout applies to each package's test binary.
TEST_TIMEOUT ?= 15m
FUZZTIME     ?= 30s
BENCH_COUNT  ?= 6

# Debian packages that tests run against when they are installed (tests that
# need a missing one skip with the reason). Later work appends to this list.
#   collectd-core     collectd, the daemon (and its types.db) that sends real packets
#   collectd-utils    collectdctl and friends
#   victoria-metrics  the reference for names, export format and benchmarks
#   prometheus        promtool, to check rule files and query results
#   prometheus-alertmanager  a real Alertmanager receiving outpost's alerts, and amtool
#   python3-aiosmtpd  a real SMTP server receiving outpost's mail
#   chromium          headless browser for the page tests (driven with chromedp)
DEB_PACKAGES := collectd-core collectd-utils victoria-metrics prometheus prometheus-alertmanager python3-aiosmtpd chromium rsyslog

.PHONY: build run test deps lint fmt vet imports bench fuzz clean help

build: ## build ./outpost with the version from git (and echarts, when it can be fetched)
	@$(MAKE) --no-print-directory assets || echo "build: echarts was not fetched; the pages work, the charts say to run 'make assets'"
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

# Release binaries: static (CGO_ENABLED=0, so they run on any Linux with no
# libc or Go installed), paths trimmed, symbols stripped, the version
# stamped, echarts embedded (assets must succeed here, unlike in build);
# DIST/outpost-linux-ARCH and DIST/sha256sums. release-check then starts
# the amd64 one from an empty directory with an empty environment
# (TestRelease_ in cli_release_test.go, gated by SOAK).
DIST              ?= dist
RELEASE_PLATFORMS := linux/amd64 linux/arm64

.PHONY: release release-check
release: assets ## static linux/amd64 and linux/arm64 binaries with sha256sums in dist/ (then make release-check)
	@mkdir -p $(DIST) && rm -f $(DIST)/$(BIN)-* $(DIST)/sha256sums
	@for p in $(RELEASE_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/$(BIN)-$$os-$$arch; \
	  echo "release: $$out ($(VERSION))"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o $$out .; \
	done
	cd $(DIST) && sha256sum $(BIN)-* > sha256sums && cat sha256sums

release-check: ## make release, then start dist/outpost-linux-amd64 in an empty dir with an empty environment
	SOAK=1 $(GO) test -count=1 -timeout 10m -run '^TestRelease_' -v .

# The echarts script the pages draw charts with: dist/echarts.min.js of the
# npm package echarts at the version go-echarts v2.6.7 writes options for
# (ui/pages.EChartsVersion), fetched from the npm registry, checked against
# its SHA-256, and embedded by go build. Never committed.
ECHARTS_VERSION := 5.4.3
ECHARTS_SHA256  := 1156429a16a38cb8604dcc6518c19406d4226142d908f8edd2e3531443c54d19
ECHARTS_JS      := ui/pages/assets/echarts.min.js

.PHONY: assets
assets: $(ECHARTS_JS) ## fetch the echarts script the pages embed (npm, checksum verified)

$(ECHARTS_JS):
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	url=https://registry.npmjs.org/echarts/-/echarts-$(ECHARTS_VERSION).tgz; \
	echo "assets: fetching $$url"; \
	curl -fsSL --retry 3 --max-time 120 -o "$$tmp/echarts.tgz" "$$url"; \
	tar -xzf "$$tmp/echarts.tgz" -C "$$tmp" package/dist/echarts.min.js; \
	echo "$(ECHARTS_SHA256)  $$tmp/package/dist/echarts.min.js" | sha256sum -c --quiet - || \
	  { echo "assets: echarts.min.js does not match ECHARTS_SHA256; not installed"; exit 1; }; \
	mv "$$tmp/package/dist/echarts.min.js" $@

run: build ## build, then start ./outpost with its embedded defaults
	./$(BIN)

test: deps lint assets ## deps, lint, the echarts asset, then every test with the race detector
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

# deps installs the missing DEB_PACKAGES when run as root where apt-get
# exists; otherwise it lists them and goes on. Under CI=true a failed
# install fails the build, so CI never skips tests silently.
deps: ## install the Debian packages tests use, or say which are missing
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "deps: installing$$missing"; \
	  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; then \
	    exit 0; \
	  fi; \
	  echo "deps: apt-get failed for$$missing"; \
	  if [ -n "$${CI:-}" ]; then exit 1; fi; \
	else \
	  echo "deps: not installed:$$missing (tests that need them skip; run 'make deps' as root to install)"; \
	fi

lint: fmt vet imports ## gofmt, go vet and the import rules

fmt: ## fail when a file is not gofmt'ed
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$out"; exit 1; fi

vet: ## go vet every package
	$(GO) vet ./...

# The import rules of ../shared/STYLE.md, checked on every package's
# transitive dependencies (go list's .Deps, as go list -deps prints them):
#   tsdb             nothing of ours outside tsdb/
#   collectors       tsdb
#   collectors/X     tsdb, collectors and X's own subpackages, never another collector
#   query            tsdb
#   alerting         query, tsdb
#   ui               query, alerting, tsdb; never collectors
#   main (outpost)   anything
# and on direct imports: metricsql only in query, line-protocol only in
# collectors/influx, go-echarts only in ui, koanf and mapstructure only in main.
# A new top-level package fails the check until it gets a rule here.
define IMPORT_RULES
function under(d, p) { return d == p || index(d, p "/") == 1 }
function allowed(p, d,   a) {
  if (under(p, "outpost/tsdb"))     return under(d, "outpost/tsdb")
  if (p == "outpost/collectors")    return under(d, "outpost/tsdb")
  if (under(p, "outpost/collectors")) {
    split(p, a, "/")
    return under(d, "outpost/tsdb") || d == "outpost/collectors" || under(d, "outpost/collectors/" a[3])
  }
  if (under(p, "outpost/query"))    return under(d, "outpost/tsdb") || under(d, "outpost/query")
  if (under(p, "outpost/alerting")) return under(d, "outpost/tsdb") || under(d, "outpost/query") || under(d, "outpost/alerting")
  if (under(p, "outpost/ui"))       return under(d, "outpost/tsdb") || under(d, "outpost/query") || under(d, "outpost/alerting") || under(d, "outpost/ui")
  return p == "outpost"
}
function lib(p, d) {
  if (under(d, "github.com/VictoriaMetrics/metricsql"))   return under(p, "outpost/query")
  if (under(d, "github.com/influxdata/line-protocol/v2")) return under(p, "outpost/collectors/influx")
  if (under(d, "github.com/go-echarts/go-echarts/v2"))    return under(p, "outpost/ui")
  if (d ~ /^github\.com\/knadh\/koanf\// || under(d, "github.com/go-viper/mapstructure/v2")) return p == "outpost"
  return 1
}
{
  direct = 0
  for (i = 2; i <= NF; i++) {
    if ($$i == "|") { direct = 1; continue }
    if (!direct && under($$i, "outpost") && $$i != $$1 && !allowed($$1, $$i)) { print "imports: " $$1 " depends on " $$i; bad = 1 }
    if (direct && !lib($$1, $$i)) { print "imports: " $$1 " imports " $$i; bad = 1 }
  }
}
END { if (bad) print "imports: see the dependency rule in ../shared/STYLE.md"; exit bad }
endef
export IMPORT_RULES

imports: ## check the import direction (tsdb <- collectors, query <- alerting <- ui <- main)
	@$(GO) list -f '{{.ImportPath}} {{join .Deps " "}} | {{join .Imports " "}}' ./... | awk "$$IMPORT_RULES"

bench: ## run every benchmark BENCH_COUNT times into bench.txt (benchstat bench.txt)
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 60m ./... | tee bench.txt

fuzz: ## run every Fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
	  list=$$($(GO) test -list '^Fuzz' "$$pkg"); \
	  for target in $$(grep '^Fuzz' <<<"$$list" || true); do \
	    echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	  done; \
	done

# PromQL conformance (query/cmd/conformance): runs the test scripts of
# PROMQL_TESTDATA against the query engine over a real store, prints one line
# per case and "N passed, M failed, K skipped", and fails when fewer than
# CONFORMANCE_FLOOR cases pass (483 pass; 4 of the 487 that once passed are
# round() cases where outpost now rounds as MetricsQL and VictoriaMetrics do).
PROMQL_TESTDATA   ?= ../shared/conformance/promql
CONFORMANCE_FLOOR ?= 483

# The reliability tests through the real binary that measure RSS, latency
# or run minutes of traffic (issue 8): skipped by make test, run here
# without the race detector, which would distort what they measure.
.PHONY: soak
soak: build ## the long reliability tests (overload, gzip bomb, big queries, full disk, damage, slow senders)
	SOAK=1 $(GO) test -count=1 -timeout 30m -run 'TestReliability_' -v .

.PHONY: conformance
conformance: ## run the PromQL conformance scripts; fail below CONFORMANCE_FLOOR passes
	$(GO) run ./query/cmd/conformance -dir $(PROMQL_TESTDATA) -floor $(CONFORMANCE_FLOOR)

clean: ## remove the binary, bench.txt and dist/ (never the data directory)
	rm -f $(BIN) bench.txt
	rm -rf $(DIST)

help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
