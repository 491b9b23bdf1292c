# wolkvox_exporter build, test and lint targets.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH   ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
PKG      := github.com/prometheus/common/version
LDFLAGS  := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Revision=$(REVISION) -X $(PKG).Branch=$(BRANCH) \
            -X $(PKG).BuildUser=$(shell whoami)@$(shell hostname) -X $(PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
STATICCHECK_VERSION := v0.8.2

.PHONY: all build test lint e2e docker clean

all: lint test build

# A static binary, built as the Dockerfile builds it.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o wolkvox_exporter .

# The README's test command.
test:
	go test -race ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt: $$unformatted"; exit 1; fi
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	promtool check rules alerts/wolkvox.rules.yml
	promtool test rules alerts/tests/*.yml

# The end-to-end test alone: needs prometheus and prometheus-alertmanager.
e2e:
	WOLKVOX_REQUIRE_TOOLS=1 go test -count=1 -v ./e2e

docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t wolkvox_exporter:$(VERSION) .

clean:
	rm -f wolkvox_exporter
