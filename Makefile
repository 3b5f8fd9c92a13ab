# Sluice — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing on Debian 12 (as root), build, then run.
BUILD      ?= build
DATA_DIR   ?= ./data
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
export CCACHE_DIR ?= $(HOME)/.cache/ccache

.PHONY: all deps build run test unit integration console-test fuzz fuzz-build asan bench clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/sluice serve --data-dir $(DATA_DIR) --demo $(ARGS)

# Every test: unit tests, integration tests with real clients, a bounded fuzz run.
# `make asan` runs the whole suite again under ASan + UBSan (a third full build: not in CI yet).
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 1 $(CTEST_ARGS)
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-60}

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration

# The web console in Debian's chromium (screenshots land in $(BUILD)/screenshots).
console-test: build
	ctest --test-dir $(BUILD) --output-on-failure -L console

FUZZ_SECONDS ?= 60
fuzz-build: deps
	@test -f build-fuzz/build.ninja || CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF -DSLUICE_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets

fuzz: fuzz-build
	@bash scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

asan: deps
	@test -f build-asan/build.ninja || cmake -S . -B build-asan -G Ninja \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DSLUICE_SANITIZE=ON -DSLUICE_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j 1 $(CTEST_ARGS)

bench: build
	bash bench/compare.sh

clean:
	rm -rf $(BUILD) build-fuzz build-asan
