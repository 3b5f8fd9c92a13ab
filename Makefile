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

# Every test: unit and integration tests with real clients on the normal build, the
# same suite again under ASan + UBSan, then a bounded fuzz run.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 1 $(CTEST_ARGS)
	$(MAKE) asan
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-60}

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -L unit

integration: build
	ctest --test-dir $(BUILD) --output-on-failure -L integration

# The web console in Debian's chromium (screenshots land in $(BUILD)/screenshots).
console-test: build
	ctest --test-dir $(BUILD) --output-on-failure -L console

# One clang tree with ASan + UBSan and libFuzzer's coverage hooks serves both the
# sanitized run of the whole suite and the fuzzers: one extra build, not two.
SAN ?= build-san
$(SAN)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(SAN) -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
	  -DSLUICE_SANITIZE=ON -DSLUICE_FUZZ=ON -DSLUICE_BENCH=OFF $(CMAKE_ARGS)

asan: deps $(SAN)/build.ninja
	cmake --build $(SAN) -j $(JOBS)
	ctest --test-dir $(SAN) --output-on-failure -j 1 $(CTEST_ARGS)

FUZZ_SECONDS ?= 60
fuzz-build: deps $(SAN)/build.ninja
	cmake --build $(SAN) -j $(JOBS) --target fuzz_targets

fuzz: fuzz-build
	@bash scripts/run-fuzzers.sh $(SAN) $(FUZZ_SECONDS)

bench: build
	bash bench/compare.sh

clean:
	rm -rf $(BUILD) $(SAN)
