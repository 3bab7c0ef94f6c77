# actiplm -- leg-accelerometer PLMS pipeline.
# Targets: all (build/actiplm, build/libplm.a), run (main job on sample-data/),
#          test (every test), check (= test), asan (tests under ASan+UBSan),
#          fuzz (libFuzzer, FUZZ_SECONDS per target), bench (speed and memory figures), validation (docs/validation.md),
#          install (PREFIX), deps, clean.
PREFIX ?= /usr/local
CC ?= cc
CFLAGS ?= -O2 -g
PKG_HDF5 ?= hdf5
BUILD ?= build
WERROR ?= -Werror
PKGS = sndfile fftw3 gsl $(PKG_HDF5) nettle xlsxwriter libzip cairo fontconfig
WARN = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 $(WERROR)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ledf -lpthread -lm
ALL_CFLAGS = $(WARN) $(CFLAGS) -Iinclude -Ipipeline $(PKG_CFLAGS) -MMD -MP

LIB_SRC = $(wildcard pipeline/*.c)
CLI_SRC = $(wildcard pipeline/cli/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
GEN_SRC = $(wildcard tests/gen/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GENS = $(filter-out $(BUILD)/tests/bench_stages,$(GEN_SRC:tests/gen/%.c=$(BUILD)/tests/%))
# the library again with the stage timers of pipeline/prof.h, for make bench's stage table only
PROF_OBJ = $(LIB_SRC:%.c=$(BUILD)/prof/%.o)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
FUZZ_SECONDS ?= 60

SAMPLE = sample-data/study
SIM_ARGS = --subjects 6 --nights 1 --fs 50 --seed 1998

.PHONY: all run test check asan bench install clean deps validation fuzz
.DELETE_ON_ERROR:

all: $(BUILD)/actiplm $(BUILD)/libplm.a

deps:
	@scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libplm.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/prof/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPLM_PROFILE -c $< -o $@

$(BUILD)/libplm_prof.a: $(PROF_OBJ)
	ar rcs $@ $^

$(BUILD)/tests/bench_stages: tests/gen/bench_stages.c $(BUILD)/libplm_prof.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DPLM_PROFILE -o $@ $< $(BUILD)/libplm_prof.a $(PKG_LIBS)

$(BUILD)/actiplm: $(CLI_OBJ) $(BUILD)/libplm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libplm.a $(PKG_LIBS)

$(BUILD)/tests/%: tests/%.c tests/testlib.h $(BUILD)/libplm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(BUILD)/libplm.a $(PKG_LIBS) -lcmocka

$(BUILD)/tests/%: tests/gen/%.c $(BUILD)/libplm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libplm.a $(PKG_LIBS)

# fuzz targets linked with a plain driver: `make test` replays tests/fuzz/corpus/<target>/
$(BUILD)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c tests/fuzz/fuzz_common.h tests/fuzz/fuzz_device.h $(BUILD)/libplm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/driver.c $(BUILD)/libplm.a $(PKG_LIBS)

$(SAMPLE)/manifest.csv: $(BUILD)/actiplm pipeline/simulate.c
	$(BUILD)/actiplm simulate -o $(SAMPLE) $(SIM_ARGS)

run: deps
	@$(MAKE) --no-print-directory all $(SAMPLE)/manifest.csv
	@mkdir -p results
	$(BUILD)/actiplm run $(SAMPLE) -o results/results.h5 --force
	$(BUILD)/actiplm report results/results.h5 -o results/report.html

test check:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all $(TESTS) $(GENS) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) scripts/run-tests.sh

asan:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" all
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" test-asan-run

.PHONY: test-asan-run
test-asan-run: all $(TESTS) $(GENS) $(FUZZ_REPLAY)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		BUILD=$(BUILD) scripts/run-tests.sh

# libFuzzer (clang, Debian libclang-rt-14-dev) with ASan+UBSan, FUZZ_SECONDS per target
fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang-14 WERROR= \
		CFLAGS="-O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		build-fuzz/libplm.a
	@for f in $(FUZZ_SRC); do \
		t=build-fuzz/tests/fuzz/$$(basename $$f .c); mkdir -p build-fuzz/tests/fuzz; \
		clang-14 $(WARN) -O1 -g -fsanitize=address,undefined,fuzzer -fno-sanitize-recover=all -Iinclude -Itests/fuzz \
			$(PKG_CFLAGS) -o $$t $$f build-fuzz/libplm.a $(PKG_LIBS) || exit 1; \
	done
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh build-fuzz

bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(GENS) $(BUILD)/tests/bench_stages
	@BUILD=$(BUILD) scripts/bench.sh

validation: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/test_filter
	/usr/bin/python3 scripts/validation.py $(BUILD) docs/validation.md

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/plm
	install -m 755 $(BUILD)/actiplm $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libplm.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/plm/*.h $(DESTDIR)$(PREFIX)/include/plm/

clean:
	rm -rf build build-asan build-fuzz results $(SAMPLE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
