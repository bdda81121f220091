# api-gateway build.
#
#   make            build bin/api-gateway (and the demo backends)
#   make run        demo: demo backends + gateway in the foreground (Ctrl-C stops all)
#   make test       include layers (check-layers), unit tests, then integration tests
#   make check-layers  fail on an include that goes the wrong way between layers
#   make test-asan  the same suite with ASan + UBSan + LeakSanitizer
#   make bench      benchmarks against nginx, results in docs/PERFORMANCE.md
#   make bench-transcode  protobuf-c with runtime (descriptor set) vs generated descriptors
#   make fuzz       every libFuzzer target for FUZZ_SECONDS each
#   make chaos      faults under load for CHAOS_SECONDS (tests/chaos)
#   make deps       install missing Debian packages (as root) or print the apt-get line
#
# Sources are found by wildcard: core/*.c, shm/*.c, master/*.c, worker/*.c,
# worker/clients/*.c, worker/transcode/*.c, proto/*.proto,
# tests/unit/test_*.c, tests/fuzz/fuzz_*.c, tests/backends/*.c; the imports of the
# annotated protos (proto/google/api/*.proto, libprotobuf-dev's descriptor.proto)
# get protobuf-c code too.

BUILD ?= build
BIN ?= bin
GEN := $(BUILD)/gen
OBJ := $(BUILD)/obj

CC ?= cc
OPT ?= -O2
SANITIZE ?=
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_FLAGS := $(if $(SANITIZE),$(ASAN_FLAGS))

CPPFLAGS := -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -DH2O_USE_LIBUV=0 -D_FILE_OFFSET_BITS=64 -I. -I$(GEN) -I/usr/include/hiredis
CFLAGS_COMMON := -std=gnu11 -g $(OPT) -pthread -fstack-protector-strong $(SAN_FLAGS)
CFLAGS := $(CFLAGS_COMMON) -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
GEN_CFLAGS := $(CFLAGS_COMMON) -w -Dregister=register_
LDFLAGS := -pthread -Wl,-z,relro,-z,now $(SAN_FLAGS)
LDLIBS := -lh2o-evloop -lgrpc -lgpr -lprotobuf-c -lhiredis -ljwt -ljansson -lssl -lcrypto -lz -lm

# Debian 12 packages: what the build needs, what the tests need, what the benchmarks need.
# protobuf-compiler (protoc) compiles the descriptor sets, at build time and in the tests;
# libprotobuf-dev carries google/protobuf/descriptor.proto, which google/api/annotations.proto imports.
DEB_BUILD := gcc make pkg-config libssl-dev libh2o-evloop-dev libgrpc-dev libprotobuf-c-dev \
	protobuf-c-compiler protobuf-compiler libprotobuf-dev libhiredis-dev libjansson-dev libjwt-dev liburcu-dev zlib1g-dev
DEB_TEST := libcmocka-dev redis-server redis-tools prometheus python3 python3-pytest curl procps iproute2 \
	dpkg-dev lintian systemd
DEB_RUN := redis-server curl
DEB_BENCH := nginx-light wrk nghttp2-client
DEB_FUZZ := clang libclang-rt-14-dev

PROTO_SRC := $(wildcard proto/*.proto)
# The annotated protos import google/api/annotations.proto, whose generated
# header includes http.pb-c.h and google/protobuf/descriptor.pb-c.h: generated
# too (descriptor.proto from libprotobuf-dev) for the code that includes
# proto/pb.h (demo backends, unit tests, fuzz targets).
PROTOBUF_INCLUDE ?= /usr/include
PROTO_IMPORTS := $(wildcard proto/google/api/*.proto)
GEN_IMPORTS_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTO_IMPORTS)) $(GEN)/google/protobuf/descriptor.pb-c.c
GEN_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTO_SRC)) $(GEN_IMPORTS_C)
GEN_H := $(GEN_C:.c=.h)
GW_SRC := $(wildcard core/*.c) $(wildcard shm/*.c) $(wildcard worker/*.c) $(wildcard worker/clients/*.c) \
	$(wildcard worker/transcode/*.c) $(filter-out master/main.c,$(wildcard master/*.c))
# The gateway transcodes with descriptors built at run time (core/descset*.c);
# of the generated code it links only the health-check messages of its probe.
GW_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(GW_SRC)) $(OBJ)/gen/health.pb-c.o
LIBGW := $(BUILD)/libgw.a
# The bundled descriptor set (gw_descset_add_bundled): protoc's FileDescriptorSet
# of proto/, linked in by core/bundled.S; stays in $(BUILD), never committed.
BUNDLED_PB := $(BUILD)/bundled.pb
BUNDLED_PROTO := $(wildcard proto/*.proto) $(wildcard proto/google/api/*.proto)
GW_OBJ += $(OBJ)/core/bundled.o

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_UTIL_SRC := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
# tests/backends/echo_backend.c is its own binary (a schema-less gRPC echo for
# tests/integration/test_descriptors.py); every other file there is demo-backend.
ECHO_SRC := tests/backends/echo_backend.c
ECHO_BIN := $(BUILD)/bin/echo-backend
BACKEND_SRC := $(filter-out $(ECHO_SRC),$(wildcard tests/backends/*.c))
BACKEND_BIN := $(if $(BACKEND_SRC),$(BUILD)/bin/demo-backend)

.PHONY: all deps deps-run deps-test deps-bench deps-fuzz run test test-unit test-integration test-asan bench bench-transcode \
	fuzz chaos \
	format clean check-config check-layers install deb
.DELETE_ON_ERROR:
# Generated protobuf-c sources are intermediates: keep them between builds.
.SECONDARY: $(GEN_C) $(GEN_H) $(patsubst $(GEN)/%.c,$(BUILD)/fuzz/gen/%.o,$(GEN_C))

all: $(BIN)/api-gateway $(BACKEND_BIN) $(ECHO_BIN)

# ---- dependencies --------------------------------------------------------
define install_debs
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >&2 || exit 1; \
	  else \
	    echo "missing Debian packages; run as root: apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi
endef

deps: $(BUILD)/.deps-build
$(BUILD)/.deps-build: Makefile
	$(call install_debs,$(DEB_BUILD))
	@mkdir -p $(@D) && touch $@
deps-test: $(BUILD)/.deps-test
$(BUILD)/.deps-test: Makefile | $(BUILD)/.deps-build
	$(call install_debs,$(DEB_TEST))
	@mkdir -p $(@D) && touch $@
deps-run: $(BUILD)/.deps-run
$(BUILD)/.deps-run: Makefile | $(BUILD)/.deps-build
	$(call install_debs,$(DEB_RUN))
	@mkdir -p $(@D) && touch $@
deps-bench: $(BUILD)/.deps-bench
$(BUILD)/.deps-bench: Makefile | $(BUILD)/.deps-build
	$(call install_debs,$(DEB_BENCH))
	@mkdir -p $(@D) && touch $@
deps-fuzz: $(BUILD)/.deps-fuzz
$(BUILD)/.deps-fuzz: Makefile | $(BUILD)/.deps-build
	$(call install_debs,$(DEB_FUZZ))
	@mkdir -p $(@D) && touch $@

# ---- generated protobuf-c code -------------------------------------------
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto $(PROTO_IMPORTS) | $(BUILD)/.deps-build
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --proto_path=$(PROTOBUF_INCLUDE) --c_out=$(GEN) $<

$(GEN)/google/protobuf/descriptor.pb-c.c $(GEN)/google/protobuf/descriptor.pb-c.h &: | $(BUILD)/.deps-build
	@mkdir -p $(GEN)
	protoc-c --proto_path=$(PROTOBUF_INCLUDE) --c_out=$(GEN) $(PROTOBUF_INCLUDE)/google/protobuf/descriptor.proto

$(OBJ)/gen/%.o: $(GEN)/%.c | $(GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c -o $@ $<

# ---- bundled descriptor set -----------------------------------------------
$(BUNDLED_PB): $(BUNDLED_PROTO) | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	protoc -Iproto --include_imports --descriptor_set_out=$@ proto/auth.proto proto/user.proto proto/tenant.proto

$(OBJ)/core/bundled.o: core/bundled.S $(BUNDLED_PB)
	@mkdir -p $(@D)
	$(CC) -DGW_BUNDLED_PB='"$(abspath $(BUNDLED_PB))"' -c -o $@ $<

# tests/unit/test_descset.c compares the runtime descriptors with protoc-c's
# for the bundled .proto files and for its own tests/unit/descset_*.proto.
DESCSET_TEST_PROTO := $(wildcard tests/unit/descset_*.proto)
DESCSET_TEST_GEN := $(patsubst tests/unit/%.proto,$(BUILD)/tests/gen/%.pb-c.c,$(DESCSET_TEST_PROTO))
DESCSET_TEST_PB := $(BUILD)/tests/descset_test.pb
$(BUILD)/tests/gen/%.pb-c.c $(BUILD)/tests/gen/%.pb-c.h: tests/unit/%.proto | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	protoc-c --proto_path=tests/unit --c_out=$(@D) $<
$(DESCSET_TEST_PB): $(DESCSET_TEST_PROTO) tests/unit/descset3opt.proto | $(BUILD)/.deps-build
	@mkdir -p $(@D)
	protoc -Itests/unit --include_imports --descriptor_set_out=$@ $^
$(OBJ)/tests/gen/%.o: $(BUILD)/tests/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(BUILD)/tests/gen $(GEN_CFLAGS) -c -o $@ $<
$(OBJ)/tests/unit/test_descset.o: CPPFLAGS += -I$(BUILD)/tests/gen -DGW_TEST_PB='"$(DESCSET_TEST_PB)"' \
	-DGW_BUNDLED_PB='"$(BUNDLED_PB)"'
$(OBJ)/tests/unit/test_descset.o: $(DESCSET_TEST_GEN:.c=.h) $(DESCSET_TEST_PB) $(BUNDLED_PB)
$(BUILD)/tests/test_descset: $(patsubst $(BUILD)/tests/gen/%.c,$(OBJ)/tests/gen/%.o,$(DESCSET_TEST_GEN))
.SECONDARY: $(DESCSET_TEST_GEN) $(DESCSET_TEST_GEN:.c=.h)

# ---- our code ------------------------------------------------------------
$(OBJ)/%.o: %.c | $(GEN_H) $(BUILD)/.deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBGW): $(GW_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BIN)/api-gateway: $(OBJ)/master/main.o $(LIBGW)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

GEN_OBJ := $(patsubst $(GEN)/%.c,$(OBJ)/gen/%.o,$(GEN_C))
$(BACKEND_BIN): $(patsubst %.c,$(OBJ)/%.o,$(BACKEND_SRC)) $(GEN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(ECHO_BIN): $(OBJ)/tests/backends/echo_backend.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lgrpc -lgpr

# Unit tests link the generated code themselves (test_transcode uses the
# bundled messages), whatever part of it the gateway links.
$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(patsubst %.c,$(OBJ)/%.o,$(TEST_UTIL_SRC)) $(GEN_OBJ) $(LIBGW)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# Test-only protos (tests/unit/transcode_p*.proto, for the transcoder's
# wrappers, optional fields, oneofs and body fields) and the well-known
# wrappers they import, generated into $(TEST_GEN) and linked into
# test_transcode_p3 only.
TEST_GEN := $(BUILD)/gen-test
TEST_PROTO := $(wildcard tests/unit/transcode_p*.proto)
TEST_GEN_C := $(patsubst tests/unit/%.proto,$(TEST_GEN)/%.pb-c.c,$(TEST_PROTO)) \
	$(TEST_GEN)/google/protobuf/wrappers.pb-c.c
TEST_GEN_H := $(TEST_GEN_C:.c=.h)
TEST_GEN_OBJ := $(patsubst $(TEST_GEN)/%.c,$(OBJ)/gen-test/%.o,$(TEST_GEN_C))
.SECONDARY: $(TEST_GEN_C) $(TEST_GEN_H)
$(TEST_GEN)/%.pb-c.c $(TEST_GEN)/%.pb-c.h: tests/unit/%.proto | $(BUILD)/.deps-build
	@mkdir -p $(TEST_GEN)
	protoc-c --proto_path=tests/unit --proto_path=/usr/include --c_out=$(TEST_GEN) $<
$(TEST_GEN)/google/protobuf/wrappers.pb-c.c $(TEST_GEN)/google/protobuf/wrappers.pb-c.h: \
		/usr/include/google/protobuf/wrappers.proto | $(BUILD)/.deps-build
	@mkdir -p $(TEST_GEN)
	protoc-c --proto_path=/usr/include --c_out=$(TEST_GEN) $<
$(OBJ)/gen-test/%.o: $(TEST_GEN)/%.c | $(TEST_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I$(TEST_GEN) $(GEN_CFLAGS) -c -o $@ $<
$(OBJ)/tests/unit/test_transcode_p3.o: CPPFLAGS += -I$(TEST_GEN)
$(OBJ)/tests/unit/test_transcode_p3.o: | $(TEST_GEN_H)
$(BUILD)/tests/test_transcode_p3: $(TEST_GEN_OBJ)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ---- running and testing -------------------------------------------------
run: $(BUILD)/.deps-run all
	@tests/run-demo.sh $(BIN)/api-gateway $(BACKEND_BIN)

# The shipped file leaves JWT_SECRET to the environment or a secrets file
# (never in a file under version control); check it with a placeholder.
check-config: $(BIN)/api-gateway
	@echo "checking etc/api-gateway.conf with JWT_SECRET=placeholder (set the real one in the environment or /etc/api-gateway/secrets.env)"
	JWT_SECRET=$${JWT_SECRET:-placeholder} $(BIN)/api-gateway -t -c etc/api-gateway.conf

# Include layers go one way (docs/ARCHITECTURE.md, Layers); `make test` checks
# them before the suites.
check-layers:
	@tests/check-layers.sh

test: $(BUILD)/.deps-test all $(UNIT_BIN)
	@tests/check-layers.sh
	@BUILD=$(BUILD) GW_BIN=$(BIN)/api-gateway GW_BACKEND=$(BACKEND_BIN) tests/run-tests.sh

test-unit: $(BUILD)/.deps-test $(UNIT_BIN)
	@BUILD=$(BUILD) tests/run-tests.sh unit

# ASan keeps freed memory in quarantine, so the chaos run's RSS bound is raised.
test-asan:
	CHAOS_RSS_BOUND_MB=512 $(MAKE) BUILD=build/asan BIN=build/asan/bin SANITIZE=1 OPT=-O1 test

bench: $(BUILD)/.deps-bench $(BUILD)/.deps-test all $(BUILD)/bench/bench_descset
	@BUILD=$(BUILD) GW_BIN=$(BIN)/api-gateway GW_BACKEND=$(BACKEND_BIN) tests/bench/run.sh

# protobuf-c unpack + pack with runtime descriptors (core/descset.c) against
# the generated ones; fails when the runtime path is over 5% slower.
bench-transcode: $(BUILD)/bench/bench_descset
	$(BUILD)/bench/bench_descset
$(BUILD)/bench/bench_descset: tests/bench/bench_descset.c $(LIBGW) $(GEN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(GEN_OBJ) $(LIBGW) $(LDLIBS)

# libFuzzer targets: our sources built once with clang and coverage into
# $(BUILD)/fuzz/libgw.a, which every target links (a target pulls only the
# objects it uses).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-unused-command-line-argument
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(FUZZ_WARN)
FUZZ_LIB_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(GW_SRC))
FUZZ_GEN_OBJ := $(patsubst $(GEN)/%.c,$(BUILD)/fuzz/gen/%.o,$(GEN_C))
FUZZ_OBJ += $(BUILD)/fuzz/obj/core/bundled.o
$(BUILD)/fuzz/obj/core/bundled.o: core/bundled.S $(BUNDLED_PB) | $(BUILD)/.deps-fuzz
	@mkdir -p $(@D)
	clang -DGW_BUNDLED_PB='"$(abspath $(BUNDLED_PB))"' -c -o $@ $<
$(BUILD)/fuzz/gen/%.o: $(GEN)/%.c | $(BUILD)/.deps-fuzz $(GEN_H)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZ_LIB_CFLAGS) -w -Dregister=register_ -c -o $@ $<
$(BUILD)/fuzz/obj/%.o: %.c | $(BUILD)/.deps-fuzz $(GEN_H)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZ_LIB_CFLAGS) $(FUZZ_WARN) -MMD -MP -c -o $@ $<
$(BUILD)/fuzz/libgw.a: $(FUZZ_OBJ) $(FUZZ_GEN_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libgw.a | $(BUILD)/.deps-fuzz
	@mkdir -p $(@D)
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $< $(BUILD)/fuzz/libgw.a $(LDLIBS)
# fuzz_transcode also links the transcoder's test protos (TEST_GEN above).
FUZZ_TEST_GEN_OBJ := $(patsubst $(TEST_GEN)/%.c,$(BUILD)/fuzz/gen-test/%.o,$(TEST_GEN_C))
$(BUILD)/fuzz/gen-test/%.o: $(TEST_GEN)/%.c | $(BUILD)/.deps-fuzz $(TEST_GEN_H)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -I$(TEST_GEN) $(FUZZ_LIB_CFLAGS) -w -c -o $@ $<
$(BUILD)/fuzz/fuzz_transcode: tests/fuzz/fuzz_transcode.c $(BUILD)/fuzz/libgw.a $(FUZZ_TEST_GEN_OBJ) \
		| $(BUILD)/.deps-fuzz $(TEST_GEN_H)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -I$(TEST_GEN) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_TEST_GEN_OBJ) $(BUILD)/fuzz/libgw.a $(LDLIBS)
-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
# fuzz_descset's seeds: the bundled set and one set per proto/*.proto (built, never committed).
FUZZ_SEEDS := $(BUILD)/fuzz/seeds/descset.stamp
$(FUZZ_SEEDS): $(BUNDLED_PB) $(BUNDLED_PROTO)
	@mkdir -p $(BUILD)/fuzz/seeds/descset
	cp $(BUNDLED_PB) $(BUILD)/fuzz/seeds/descset/bundled.pb
	for p in $(PROTO_SRC); do \
	  protoc -Iproto --descriptor_set_out=$(BUILD)/fuzz/seeds/descset/$$(basename $$p .proto).pb $$p || exit 1; \
	done
	touch $@
fuzz: $(FUZZ_BIN) $(FUZZ_SEEDS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_BIN)

# Faults under load (tests/chaos/README.md); a 40 s run is part of `make test`.
CHAOS_SECONDS ?= 600
chaos: $(BUILD)/.deps-test all
	@GW_BIN=$(BIN)/api-gateway GW_BACKEND=$(BACKEND_BIN) /usr/bin/python3 tests/chaos/run.py --duration $(CHAOS_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BIN)

# ---- installing and packaging (docs/OPERATIONS.md, Install) --------------
# `make install` lays out what systemd/api-gateway.service expects, under
# DESTDIR (staging) and PREFIX; `make deb` installs the same layout with
# PREFIX=/usr into a staging tree and builds build/api-gateway_<ver>_<arch>.deb
# with dpkg-deb. Neither rebuilds when given `-o $(BIN)/api-gateway`.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
CONFDIR := $(SYSCONFDIR)/api-gateway
UNITDIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share/api-gateway
DOCDIR ?= $(PREFIX)/share/doc/api-gateway
MANDIR ?= $(PREFIX)/share/man
# The deb ships its config as a conffile and creates secrets.env in postinst.
INSTALL_ETC ?= yes

# The installed unit is the repo's with the paths this install uses.
UNIT_SED := -e 's|/usr/local/bin/api-gateway|$(BINDIR)/api-gateway|g' -e 's|/etc/api-gateway/|$(CONFDIR)/|g'

install: $(BIN)/api-gateway $(BUNDLED_PB)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN)/api-gateway $(DESTDIR)$(BINDIR)/api-gateway
	sed $(UNIT_SED) systemd/api-gateway.service > $(DESTDIR)$(UNITDIR)/api-gateway.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/api-gateway.service
	install -m 0644 etc/api-gateway.conf etc/secrets.env.example $(DESTDIR)$(DATADIR)/
	@# The bundled descriptor set, to list next to an operator's own sets in
	@# PROTO_DESCRIPTOR_SET (the binary carries the same bytes).
	install -m 0644 $(BUNDLED_PB) $(DESTDIR)$(DATADIR)/bundled.pb
	install -m 0644 README.md docs/OPERATIONS.md docs/TROUBLESHOOTING.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/api-gateway.8 $(DESTDIR)$(MANDIR)/man8/api-gateway.8
ifeq ($(INSTALL_ETC),yes)
	@# An edited config is kept (the shipped one goes next to it as .new);
	@# secrets.env is created root-only and never overwritten.
	@conf=$(DESTDIR)$(CONFDIR)/api-gateway.conf; \
	if [ ! -e $$conf ]; then install -m 0644 etc/api-gateway.conf $$conf; \
	elif ! cmp -s etc/api-gateway.conf $$conf; then \
	  install -m 0644 etc/api-gateway.conf $$conf.new; echo "kept $$conf; the shipped one is $$conf.new"; fi
	@sec=$(DESTDIR)$(CONFDIR)/secrets.env; \
	if [ -e $$sec ]; then echo "kept $$sec"; \
	else (umask 077 && cp etc/secrets.env.example $$sec) && chmod 0600 $$sec && \
	  echo "created $$sec (mode 0600): set JWT_SECRET there"; fi
endif

# Debian package: version from GW_VERSION plus a Debian revision; Depends
# from dpkg-shlibdeps on the binary (it wants a debian/control to read, so
# the staging directory gets a minimal one).
DEB_VERSION ?= $(shell sed -n 's/^.define GW_VERSION "\(.*\)"/\1/p' master/main.c)-1
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_MAINTAINER ?= api-gateway maintainers <maintainers@users.noreply.b-seed-7c8e9275.example>
DEB_FILE := $(BUILD)/api-gateway_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_STAGE := $(BUILD)/deb
DEB_ROOT := $(DEB_STAGE)/debian/api-gateway
# Reproducible dates: the commit's, else now.
DEB_DATE := $(shell git log -1 --format=%ct 2>/dev/null || date +%s)

# dpkg-shlibdeps is in dpkg-dev.
DEB_PACKAGING := dpkg-dev
$(BUILD)/.deps-deb: Makefile
	$(call install_debs,$(DEB_PACKAGING))
	@mkdir -p $(@D) && touch $@

deb: $(DEB_FILE)
$(DEB_FILE): $(BIN)/api-gateway systemd/api-gateway.service etc/api-gateway.conf etc/secrets.env.example \
		$(wildcard packaging/deb/*) README.md docs/OPERATIONS.md docs/TROUBLESHOOTING.md docs/api-gateway.8 \
		| $(BUILD)/.deps-deb
	rm -rf $(DEB_STAGE) && mkdir -p $(DEB_ROOT)/DEBIAN
	$(MAKE) --no-print-directory -o $(BIN)/api-gateway install DESTDIR=$(abspath $(DEB_ROOT)) \
		PREFIX=/usr UNITDIR=/lib/systemd/system SYSCONFDIR=/etc INSTALL_ETC=no
	install -m 0644 etc/api-gateway.conf $(DEB_ROOT)/etc/api-gateway/api-gateway.conf
	strip --strip-unneeded --remove-section=.comment --remove-section=.note $(DEB_ROOT)/usr/bin/api-gateway
	install -m 0644 packaging/deb/copyright $(DEB_ROOT)/usr/share/doc/api-gateway/copyright
	install -D -m 0644 packaging/deb/lintian-overrides $(DEB_ROOT)/usr/share/lintian/overrides/api-gateway
	printf 'api-gateway (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
		'$(DEB_VERSION)' "$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" '$(DEB_MAINTAINER)' \
		"$$(date -u -R -d @$(DEB_DATE))" | gzip -9n > $(DEB_ROOT)/usr/share/doc/api-gateway/changelog.Debian.gz
	gzip -9n $(DEB_ROOT)/usr/share/doc/api-gateway/*.md $(DEB_ROOT)/usr/share/man/man8/api-gateway.8
	install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm $(DEB_ROOT)/DEBIAN/
	echo /etc/api-gateway/api-gateway.conf > $(DEB_ROOT)/DEBIAN/conffiles
	printf 'Source: api-gateway\n\nPackage: api-gateway\nArchitecture: any\n' > $(DEB_STAGE)/debian/control
	cd $(DEB_STAGE) && dpkg-shlibdeps -O debian/api-gateway/usr/bin/api-gateway \
		| sed -n 's/^shlibs:Depends=//p' > depends
	test -s $(DEB_STAGE)/depends
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' -e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' \
		-e "s|@DEPENDS@|$$(cat $(DEB_STAGE)/depends)|" \
		-e "s|@SIZE@|$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)|" packaging/deb/control.in > $(DEB_ROOT)/DEBIAN/control
	cd $(DEB_ROOT) && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort \
		| xargs md5sum > DEBIAN/md5sums
	find $(DEB_ROOT) -exec touch -h -d @$(DEB_DATE) {} +
	SOURCE_DATE_EPOCH=$(DEB_DATE) dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $@
