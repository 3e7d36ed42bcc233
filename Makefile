# redis-clone: the same targets as the original project, plus the checks and tools around them.
#   make run [PORT=":3000"]   install what is missing, build, start the server
#   make test                 install what is missing, build, run every test
BUILD_DIR   ?= build
PORT        ?= :5001
BINARY      := $(BUILD_DIR)/redis-clone
PYTHON      ?= python3

.PHONY: all deps build run test test-unit test-e2e test-client docker-build docker-test bench fuzz sanitizers clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	meson setup $(BUILD_DIR) --buildtype=release

build: deps $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR)
	ln -sfn $(BINARY) redis-clone

run: build
	./redis-clone --listenAddr $(PORT)

test-unit: build
	meson test -C $(BUILD_DIR) --print-errorlogs

test-e2e: build
	REDIS_CLONE_BIN=$(abspath $(BINARY)) $(PYTHON) -m pytest -q tests/e2e

test-client: build
	scripts/test-client/run.sh $(abspath $(BINARY))

docker-build:
	@scripts/install-deps.sh docker
	scripts/docker.sh build

docker-test: build
	@scripts/install-deps.sh docker
	scripts/docker.sh test

test: build
	scripts/run-tests.sh

sanitizers: deps
	scripts/sanitizers.sh

# Longer fuzzing than `make test` does: FUZZ_SECONDS (default 600) per target.
fuzz: deps
	scripts/sanitizers.sh fuzz

bench: build
	@scripts/install-deps.sh bench
	scripts/bench.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-* redis-clone scripts/test-client/test-client
