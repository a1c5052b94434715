# xenblk top-level Makefile: drives setup, the kernel modules, userspace, tests.
#
#   make            modules for every supported kernel whose headers are installed
#   make setup      install what is missing (apt), fetch test kernels; idempotent
#   make modules KVER=6.1.0-56-amd64   modules for one kernel
#   make modules-one KVER=... XB_ONLY=front KBUILD_DIR=DIR   one module into its own tree
#   make check      unit tests (GoogleTest, ASan + UBSan) of the shared core and xbctl
#   make xbctl      build/ctl/xbctl (libnl-genl-3)
#   make fuzz       bounded libFuzzer run on request decode + validation
#   make boottest   boot each kernel under QEMU and load both modules (no Xen)
#   make test       setup + every test the project has
#   make bench      benchmarks: ours vs stock vs native (not part of make test)
#   make deb        Debian packages xenblk-dkms + xenblk-utils into build/deb/
#   make dkms-install / dkms-remove   both modules through DKMS, every installed kernel
#   make clean
SHELL := /bin/bash
TOP   := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
CACHE ?= /var/cache/xenblk

CORE_SRCS := $(wildcard $(TOP)/kmod/core/*.cpp)
CORE_HDRS := $(wildcard $(TOP)/kmod/core/*.hpp $(TOP)/kmod/rt/*.hpp $(TOP)/include/uapi/xenblk/*.h)
CORE_INCS := -I$(TOP)/kmod/rt -I$(TOP)/kmod/core -I$(TOP)/include/uapi

.PHONY: all setup modules modules-one tools xbctl check fuzz boottest vmtest demo test bench clean \
	deb dkms-install dkms-remove
all: modules

# ---------------------------------------------------------------- kernels
# Supported series; for each, the newest Debian amd64 headers installed.
SERIES := 6.1 6.12
kver_of = $(lastword $(shell ls -d /usr/src/linux-headers-$(1).*-amd64 2>/dev/null | sed 's|.*/linux-headers-||' | grep -vE -- '-(cloud|rt)-amd64$$' | sort -V))
# `make modules KVER=REL` (or KVERS="REL ...") builds for the kernels named
ifneq ($(origin KVER),command line)
KVERS ?= $(strip $(foreach s,$(SERIES),$(call kver_of,$(s))))
else
KVERS ?= $(KVER)
endif

# ---------------------------------------------------------------- modules
# Each kernel gets its own build tree (a tree of links to kmod/), so that 6.1
# and 6.12 objects never mix and incremental builds stay incremental.
KMOD_SRC  ?= $(TOP)/kmod
KBUILD_DIR ?= $(BUILD)/$(KVER)/kmod
KDIR       = /lib/modules/$(KVER)/build
# 6.12 (BTF vmlinux in the headers): keep pahole away from C++ debug info
PAHOLE_VARS = $(if $(shell grep -s '^CONFIG_PAHOLE_HAS_LANG_EXCLUDE=y' $(KDIR)/.config), \
	MODULE_PAHOLE_FLAGS=--lang_exclude=rust,c++,c++03,c++11,c++14)

modules:
	@[ -n "$(KVERS)" ] || { echo "no supported kernel headers installed: run 'make setup'" >&2; exit 1; }
	@set -e; for k in $(KVERS); do $(MAKE) --no-print-directory modules-one KVER=$$k; done

modules-one:
	@[ -d $(KDIR) ] || { echo "no headers for $(KVER) in $(KDIR)" >&2; exit 1; }
	@mkdir -p $(KBUILD_DIR)
	@cp -asf $(KMOD_SRC)/. $(KBUILD_DIR)/
	@find $(KBUILD_DIR) -xtype l -delete
	@echo "  MODULES $(KVER)"
	@set -o pipefail; $(MAKE) -C $(KDIR) M=$(KBUILD_DIR) W=1 XENBLK_TOP=$(TOP) XB_ONLY=$(XB_ONLY) $(PAHOLE_VARS) modules \
		2>&1 | tee $(KBUILD_DIR)/../build.log
	@$(TOP)/scripts/check-build-log $(KBUILD_DIR)/../build.log

setup:
	@$(TOP)/scripts/setup.sh

# ---------------------------------------------------------------- unit tests
UNIT_SRCS := $(wildcard $(TOP)/tests/unit/*.cpp)
UNIT_DIR  := $(BUILD)/unit
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_WARN := -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
# the core is built exactly as the kernel needs it: no exceptions, no RTTI
CORE_UFLAGS := -std=c++17 -O1 -g $(SAN) $(UNIT_WARN) -fno-exceptions -fno-rtti $(CORE_INCS)
TEST_UFLAGS := -std=c++17 -O1 -g $(SAN) $(UNIT_WARN) $(CORE_INCS) -I$(TOP)/ctl -pthread

UNIT_CORE_OBJS := $(patsubst $(TOP)/kmod/core/%.cpp,$(UNIT_DIR)/core/%.o,$(CORE_SRCS))
UNIT_TEST_OBJS := $(patsubst $(TOP)/tests/unit/%.cpp,$(UNIT_DIR)/test/%.o,$(UNIT_SRCS))
# xbctl's kernel-free part is unit-tested too
CTL_HDRS := $(wildcard $(TOP)/ctl/*.hpp)
UNIT_CTL_OBJS := $(UNIT_DIR)/ctl/xbctl_core.o $(UNIT_DIR)/ctl/xbctl_limits.o

$(UNIT_DIR)/ctl/%.o: $(TOP)/ctl/%.cpp $(CTL_HDRS) $(CORE_HDRS)
	@mkdir -p $(@D)
	g++ $(TEST_UFLAGS) -c -o $@ $<

$(UNIT_DIR)/core/%.o: $(TOP)/kmod/core/%.cpp $(CORE_HDRS)
	@mkdir -p $(@D)
	g++ $(CORE_UFLAGS) -c -o $@ $<

$(UNIT_DIR)/test/%.o: $(TOP)/tests/unit/%.cpp $(CORE_HDRS) $(CTL_HDRS)
	@mkdir -p $(@D)
	g++ $(TEST_UFLAGS) -c -o $@ $<

$(UNIT_DIR)/xenblk-unit: $(UNIT_CORE_OBJS) $(UNIT_TEST_OBJS) $(UNIT_CTL_OBJS)
	g++ $(SAN) -pthread -o $@ $^ -lgtest_main -lgtest

check: $(UNIT_DIR)/xenblk-unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $<

# ---------------------------------------------------------------- tools
# Test tools (tests/tools/NAME.cpp -> build/tools/NAME), static, linked with the
# core; the VM test bed puts build/tools/* on PATH in dom0 and the domU.
TOOLS_DIR  := $(BUILD)/tools
TOOL_SRCS  := $(wildcard $(TOP)/tests/tools/*.cpp)
TOOLS      := $(patsubst $(TOP)/tests/tools/%.cpp,$(TOOLS_DIR)/%,$(TOOL_SRCS))
TOOL_CORE  := $(patsubst $(TOP)/kmod/core/%.cpp,$(TOOLS_DIR)/core/%.o,$(CORE_SRCS))
TOOL_FLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -Wshadow $(CORE_INCS)

$(TOOLS_DIR)/core/%.o: $(TOP)/kmod/core/%.cpp $(CORE_HDRS)
	@mkdir -p $(@D)
	g++ $(TOOL_FLAGS) -fno-exceptions -fno-rtti -c -o $@ $<
# (kept: the tools link them, and a pattern rule's objects would be deleted)
.SECONDARY: $(TOOL_CORE)

$(TOOLS_DIR)/%: $(TOP)/tests/tools/%.cpp $(TOOL_CORE) $(CORE_HDRS) $(wildcard $(TOP)/tests/tools/*.hpp)
	@mkdir -p $(@D)
	g++ $(TOOL_FLAGS) -static -o $@ $< $(TOOL_CORE)

# Tools a case runs dozens of times are linked dynamically (the test bed copies
# their libraries): under TCG a static glibc binary now and then dies of a
# general protection fault in its TLS setup (Documentation/testing.md).
TOOLS_DYN := $(TOOLS_DIR)/xb-json $(TOOLS_DIR)/xb-nopriv $(TOOLS_DIR)/xb-powercut
$(TOOLS_DYN): $(TOOLS_DIR)/%: $(TOP)/tests/tools/%.cpp $(CORE_HDRS)
	@mkdir -p $(@D)
	g++ $(TOOL_FLAGS) -pthread -o $@ $<

tools: $(TOOLS) $(TOOLS_DIR)/xbctl

# ---------------------------------------------------------------- xbctl
# Linked against the shared libnl: the test bed copies a tool's libraries (ldd)
# along with it, and a static libnl drags in glibc's NSS warnings.
CTL_DIR   := $(BUILD)/ctl
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
NL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || echo -lnl-genl-3 -lnl-3)
CTL_FLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -Wshadow -I$(TOP)/include/uapi -I$(TOP)/ctl
CTL_SRCS  := $(TOP)/ctl/xbctl.cpp $(TOP)/ctl/xbctl_core.cpp $(TOP)/ctl/xbctl_limits.cpp

$(CTL_DIR)/xbctl: $(CTL_SRCS) $(CTL_HDRS) $(TOP)/include/uapi/xenblk/netlink.h
	@mkdir -p $(@D)
	g++ $(CTL_FLAGS) $(NL_CFLAGS) $(CPPFLAGS) $(CXXFLAGS) $(LDFLAGS) -o $@ $(CTL_SRCS) $(NL_LIBS)

xbctl: $(CTL_DIR)/xbctl

# on the test bed's PATH in dom0 and the domU
$(TOOLS_DIR)/xbctl: $(CTL_DIR)/xbctl
	@mkdir -p $(@D)
	cp $< $@

# ---------------------------------------------------------------- fuzzing
FUZZ_SECONDS ?= 20
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SRCS    := $(TOP)/kmod/core/abi.cpp $(TOP)/kmod/core/wire.cpp $(TOP)/kmod/core/validate.cpp

$(FUZZ_DIR)/fuzz_request: $(TOP)/tests/fuzz/fuzz_request.cpp $(TOP)/tests/fuzz/fuzz_input.hpp $(FUZZ_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(CORE_INCS) -o $@ $(TOP)/tests/fuzz/fuzz_request.cpp $(FUZZ_SRCS)

# the frontend's side: responses and backend keys from an untrusted backend
FUZZ_RSP_SRCS := $(TOP)/kmod/core/abi.cpp $(TOP)/kmod/core/wire.cpp $(TOP)/kmod/core/front_response.cpp \
	$(TOP)/kmod/core/negotiate.cpp
$(FUZZ_DIR)/fuzz_response: $(TOP)/tests/fuzz/fuzz_response.cpp $(TOP)/tests/fuzz/fuzz_input.hpp $(FUZZ_RSP_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(CORE_INCS) -o $@ $(TOP)/tests/fuzz/fuzz_response.cpp $(FUZZ_RSP_SRCS)

# FUZZ_SECONDS for the request target, FUZZ_RSP_SECONDS for the response target;
# each keeps its corpus in build/fuzz and starts from the one committed in
# tests/fuzz/corpus/ (the minimised corpus of the 10^8-execution runs: reliability.md)
FUZZ_RSP_SECONDS ?= 15
fuzz: $(FUZZ_DIR)/fuzz_request $(FUZZ_DIR)/fuzz_response
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-response
	$(FUZZ_DIR)/fuzz_request -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_DIR)/corpus \
		$(TOP)/tests/fuzz/corpus/request
	$(FUZZ_DIR)/fuzz_response -max_total_time=$(FUZZ_RSP_SECONDS) -print_final_stats=1 $(FUZZ_DIR)/corpus-response \
		$(TOP)/tests/fuzz/corpus/response

# ---------------------------------------------------------------- everything
# Installs what is missing, builds, runs every suite; the last line of output
# is "N passed, N failed, N skipped".
# (the builds use every core: the unit tests alone took 2.5 minutes on one)
JOBS ?= $(shell nproc)
test: setup
	@$(MAKE) --no-print-directory -j$(JOBS) modules tools
	@$(MAKE) --no-print-directory -j$(JOBS) $(UNIT_DIR)/xenblk-unit
	@$(TOP)/tests/run-all --kernels "$(KVERS)"

# Seeded bugs (not part of make test): each tests/mutants/*.mut applied to a
# copy of the tree, built, and the checks it names run; prints which caught it.
mutants: modules tools
	@$(TOP)/tests/mutants/run

boottest: modules
	@$(TOP)/tests/run-all --kernels "$(KVERS)" --only boot

# Boots the test bed and shows our drivers at work (DEMO_FRONT=stock or
# DEMO_BACK=stock|qdisk to show a stock peer instead).
DEMO_FRONT ?= ours
DEMO_BACK  ?= ours
DEMO_KERNEL ?= 6.1
demo: setup
	@$(MAKE) --no-print-directory modules tools
	@$(TOP)/tests/vm/run --kernel $(DEMO_KERNEL) --front $(DEMO_FRONT) --back $(DEMO_BACK) \
		$$(sed -n 's/^# vm-options: //p' $(TOP)/tests/demo/demo.sh) \
		--dom0-script $(TOP)/tests/demo/demo.sh --domu-script $(TOP)/tests/demo/demo.sh \
		--name demo --console 2>&1 | $(TOP)/tests/demo/show

# The kernel selftests in the Xen test bed, over the driver matrix.
vmtest: setup
	@$(MAKE) --no-print-directory modules tools
	@$(TOP)/tests/run-all --kernels "$(KVERS)" --only vm

# Benchmarks (Documentation/benchmarks.md): every configuration in the test bed,
# interleaved in an order shuffled from BENCH_SEED (default: the date and time),
# BENCH_ROUNDS rounds of BENCH_RUNTIME seconds per fio profile; the table, JSON
# and plot go to bench/results/DATE-TIME/ (or BENCH_OUT).  A try-out:
# make bench BENCH_ROUNDS=1 BENCH_RUNTIME=3 (labelled quick).
BENCH_ROUNDS  ?= 7
BENCH_RUNTIME ?= 5
BENCH_KERNEL  ?= 6.1
BENCH_CONFIGS ?= stock:stock ours:ours ours:stock stock:ours native
BENCH_OUT     ?=
BENCH_SEED    ?=
bench: setup
	@$(MAKE) --no-print-directory modules
	@$(TOP)/tests/bench/run --rounds $(BENCH_ROUNDS) --runtime $(BENCH_RUNTIME) --kernel $(BENCH_KERNEL) \
		--configs "$(BENCH_CONFIGS)" $(if $(BENCH_OUT),--out $(BENCH_OUT)) $(if $(BENCH_SEED),--seed $(BENCH_SEED))

# ---------------------------------------------------------------- packaging
# Documentation/deployment.md.  The version is packaging/debian/changelog's.
XB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(TOP)/packaging/debian/changelog 2>/dev/null)

deb:
	@$(TOP)/packaging/build-deb $(BUILD)/deb

# The modules of this tree through DKMS: sources in $(DKMS_SOURCETREE)/xenblk-VERSION,
# modules in /lib/modules/KVER/updates/dkms (depmod), for every kernel with
# headers (DKMS skips kernels outside the supported series).  The modprobe.d
# redirect of the stock driver names comes with the package only.
# DKMS_OPTS adds dkms options (--dkmstree, --installtree, --no-depmod: scratch trees).
DKMS_SOURCETREE ?= /usr/src
DKMS_OPTS  ?=
DKMS_KVERS ?= $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/*/build)))
DKMS_SRC   := $(DKMS_SOURCETREE)/xenblk-$(XB_VERSION)
DKMS_ARGS   = -m xenblk -v $(XB_VERSION) --sourcetree $(DKMS_SOURCETREE) $(DKMS_OPTS)

dkms-install:
	@if dpkg -s xenblk-dkms >/dev/null 2>&1; then echo "xenblk-dkms is installed: remove it first" >&2; exit 1; fi
	@command -v dkms >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends dkms >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends dkms >/dev/null; }; }
	@if dkms status $(DKMS_ARGS) | grep -q .; then dkms remove $(DKMS_ARGS) --all; fi
	rm -rf $(DKMS_SRC)
	$(TOP)/packaging/stage-src $(DKMS_SRC) $(XB_VERSION)
	dkms add $(DKMS_ARGS)
	@set -e; unset MAKEFLAGS MAKELEVEL MFLAGS; for k in $(DKMS_KVERS); do \
		rc=0; dkms install $(DKMS_ARGS) -k $$k || rc=$$?; \
		case $$rc in 0) ;; 77) echo "dkms-install: $$k skipped (not a supported kernel)" ;; *) exit $$rc ;; esac; \
	done
	@dkms status $(DKMS_ARGS)

dkms-remove:
	@if command -v dkms >/dev/null && dkms status $(DKMS_ARGS) | grep -q .; then dkms remove $(DKMS_ARGS) --all; fi
	@if dpkg -S $(DKMS_SRC) >/dev/null 2>&1; then echo "$(DKMS_SRC) belongs to a package: left alone" >&2; else rm -rf $(DKMS_SRC); fi

clean:
	rm -rf $(BUILD)
