# lakectl — see README.md. The two commands a newcomer needs: `make run`, `make test`.
GO    ?= go
GOBIN ?= $(shell $(GO) env GOPATH)/bin
LAKE  ?= .lake

# Test servers, installed from source at pinned versions (make deps).
VERSITYGW_VERSION ?= v1.8.0
MINIO_VERSION     ?= v0.0.0-20260212201848-7aac2a2c5b7c

.PHONY: build run test bench bench-scale deps clean FORCE

build:
	$(GO) build -o bin/lakectl ./cmd/lakectl

# The main job end to end on the embedded default: a local directory as the lake.
run: build
	./scripts/run.sh $(LAKE)

# TESTFLAGS adds go test flags, e.g. make test TESTFLAGS='-v -run Golden'. The test
# servers are installed first (a no-op once they are), so a newcomer's first
# `make test` runs the S3 tests instead of skipping them.
test: deps
	$(GO) test -count=1 -timeout 30m $(TESTFLAGS) ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./...

# Opt-in: one Silver ingest hour at 1 billion events a day (41.7 M events) at the
# example pipeline's memory limit; fails if peak RSS leaves the documented bound.
bench-scale:
	LAKECTL_BENCH_SCALE=1 $(GO) test -run '^$$' -bench SilverHourScale -benchtime 1x -timeout 60m -v ./silver/

# versitygw and MinIO, the S3 servers the tests start on loopback. A stamp per version
# makes a changed pin reinstall, and a missing binary reinstalls whatever the stamp says;
# otherwise `make deps` does nothing.
deps: $(GOBIN)/.versitygw-$(VERSITYGW_VERSION) $(GOBIN)/.minio-$(MINIO_VERSION)

$(GOBIN)/.versitygw-$(VERSITYGW_VERSION): $(if $(wildcard $(GOBIN)/versitygw),,FORCE)
	$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	touch $@

$(GOBIN)/.minio-$(MINIO_VERSION): $(if $(wildcard $(GOBIN)/minio),,FORCE)
	$(GO) install github.com/minio/minio@$(MINIO_VERSION)
	touch $@

FORCE:

clean:
	rm -rf bin $(LAKE)
