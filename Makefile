# Convenience front end over CMake. `make demo` and `make check` are the two newcomer commands.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Warnings are errors for `make check` / `make asan` (developers, CI); plain builds and the demo
# never fail on a new compiler's warning.
WERROR ?= OFF
check asan tsan: WERROR = ON

.PHONY: all deps build check asan tsan demo bench fuzz clean install

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCCT_WERROR=$(WERROR)
	cmake --build $(BUILD) -j$(JOBS)

# A test that cannot run exits 77 and is listed as skipped; CCT_FAIL_ON_SKIP=1 (CI) makes any
# skip not in CCT_ALLOWED_SKIPS a failure (scripts/run-ctest.sh).
check: build
	./scripts/run-ctest.sh $(BUILD) -j$(JOBS)

# Same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DENABLE_SANITIZERS=ON -DCCT_WERROR=$(WERROR)
	cmake --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./scripts/run-ctest.sh build-asan -j$(JOBS)

# Same tests under ThreadSanitizer (clang): the broker, the collateral server and the caches they
# share run threads. A race reported by any process, daemons included, fails the run
# (scripts/run-tsan.sh collects the reports).
tsan: deps
	CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENABLE_TSAN=ON \
		-DCCT_WERROR=$(WERROR)
	cmake --build build-tsan -j$(JOBS)
	./scripts/run-tsan.sh build-tsan -j$(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)/cctrust

bench: build
	@./scripts/install-deps.sh --bench
	./bench/run.sh $(BUILD)

# libFuzzer binaries (clang); run one with e.g. build-fuzz/fuzz/snp_report_fuzzer fuzz/corpora/snp_report
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DBUILD_FUZZERS=ON -DBUILD_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
