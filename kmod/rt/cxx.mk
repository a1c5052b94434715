# SPDX-License-Identifier: GPL-2.0
# cxx.mk - kbuild support for freestanding C++ in xenblk's modules (6.1 and 6.12).
#
# Included by kmod/Kbuild.  For each module, $(call xb_cxx_module,DIR,SOURCES)
# compiles SOURCES (paths below kmod/, without .cpp) into DIR/cxx/*.o and
# pre-links them into DIR/cxx-prelink.o, which the module lists as a member.
# Shared sources (kmod/core, kmod/rt) are compiled once per module: objects are
# never shared between modules.
#
# Why the prelink: C++ emits inline and template functions in COMDAT groups.
# Per-object objtool and compiler-generated __mcount_loc entries would reference
# COMDAT copies that `ld -r` discards.  So C++ objects are compiled without
# -mrecord-mcount and without objtool, linked into one object (COMDATs folded),
# then objtool (unless the kernel defers it to the linked module, as with IBT)
# and scripts/recordmcount run on that.

# kbuild runs make -rR: there is no default CXX.  Use the g++ of the kernel's gcc.
CXX := $(patsubst %gcc,%g++,$(patsubst %gcc-12,%g++-12,$(CC)))

# C-only flags of KBUILD_CFLAGS (and W=1), and flags handled differently here.
xb-cxx-drop-flags := -std=gnu11 -std=gnu89 -Wno-pointer-sign \
	-Werror=strict-prototypes -Werror=implicit-function-declaration \
	-Werror=implicit-int -Werror=incompatible-pointer-types -Werror=designated-init \
	-Wstrict-prototypes -Wdeclaration-after-statement -Wno-declaration-after-statement \
	-Wmissing-prototypes -Wold-style-definition -Wmissing-parameter-type \
	-Wmissing-include-dirs -Wnested-externs -Wno-override-init -Wmissing-declarations \
	-mrecord-mcount

xb-cxxflags := -std=gnu++20 -nostdinc++ -ffreestanding -fno-exceptions -fno-rtti \
	-fno-threadsafe-statics -fno-use-cxa-atexit -fcheck-new \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-DXENBLK_KERNEL -Wall -Wextra -Wshadow -Wno-unused-parameter -Werror \
	-I$(src)/rt -I$(src)/core -I$(XENBLK_TOP)/include/uapi

# No $(LINUXINCLUDE): C++ never sees kernel headers; -nostdinc keeps libc out.
xb_cxx_flags = -Wp,-MMD,$(depfile) $(NOSTDINC_FLAGS) \
	$(filter-out $(xb-cxx-drop-flags), $(KBUILD_CPPFLAGS) $(KBUILD_CFLAGS) \
		$(KBUILD_CFLAGS_MODULE) $(CFLAGS_MODULE)) \
	$(xb-cxxflags) -DKBUILD_BASENAME=$(call name-fix,$(basetarget))

# Objects needing runtime support the kernel lacks: static constructors
# (.init_array is ignored without CONFIG_CONSTRUCTORS), unwinding, TLS.
xb-bad-sections := \.(init_array|fini_array|ctors|dtors|eh_frame|gcc_except_table|tbss|tdata)
xb-bad-undefs   := __cxa_atexit|atexit|__cxa_guard_|__gxx_personality|_Unwind_|__cxa_throw|__cxa_begin_catch|__dynamic_cast|_ZTI|__tls_get_addr|_GLOBAL_OFFSET_TABLE_
cmd_xb_cxx_check = \
	if $(OBJDUMP) -h $@ | grep -Eq '$(xb-bad-sections)'; then \
		echo "$@: error: C++ static constructor, unwind or TLS section:" >&2; \
		$(OBJDUMP) -h $@ | grep -E '$(xb-bad-sections)' >&2; rm -f $@; exit 1; fi; \
	if $(NM) -u $@ | grep -Eq '$(xb-bad-undefs)'; then \
		echo "$@: error: needs C++ runtime support the kernel does not have:" >&2; \
		$(NM) -u $@ | grep -E '$(xb-bad-undefs)' >&2; rm -f $@; exit 1; fi

# g++ references __cxa_pure_virtual weakly: a missing definition would load with
# NULL vtable slots.  After the prelink no weak undefined symbol may remain.
cmd_xb_cxx_check_weak = \
	if $(NM) $@ | grep -Eq '^ +[wv] '; then \
		echo "$@: error: unresolved weak C++ symbols:" >&2; \
		$(NM) $@ | grep -E '^ +[wv] ' >&2; rm -f $@; exit 1; fi

# 6.12 (CONFIG_CALL_PADDING) compiles with -fpatchable-function-entry: gcc-12 puts
# one __patchable_function_entries section per object outside the COMDAT groups
# and `ld -r` then fails.  x86 does not read that table: drop it.  No-op on 6.1.
xb-strip-pfe = $(if $(filter -fpatchable-function-entry=%,$(KBUILD_CFLAGS)), \
	; $(OBJCOPY) --remove-section=__patchable_function_entries $@)

quiet_cmd_xb_cxx_o_cpp = CXX $(quiet_modtag) $@
      cmd_xb_cxx_o_cpp = $(CXX) $(xb_cxx_flags) -c -o $@ $< $(xb-strip-pfe) ; $(cmd_xb_cxx_check)

define rule_xb_cxx_o_cpp
	$(call cmd_and_fixdep,xb_cxx_o_cpp)
endef

# 6.12 ships a BTF vmlinux, so modfinal runs pahole, which (1.24) cannot encode
# C++ DWARF.  The top Makefile passes MODULE_PAHOLE_FLAGS=--lang_exclude=...c++;
# when built without it, drop the C++ debug info instead of losing the .ko.
xb-btf-strip = $(if $(CONFIG_DEBUG_INFO_BTF_MODULES),$(if $(wildcard $(objtree)/vmlinux), \
	$(if $(findstring c++,$(MODULE_PAHOLE_FLAGS)),,; $(OBJCOPY) --strip-debug $@)))

quiet_cmd_xb_cxx_prelink = LD [C++] $@
      cmd_xb_cxx_prelink = $(LD) $(KBUILD_LDFLAGS) -r -o $@ $(filter %.o,$(real-prereqs)) \
		$(cmd_objtool) $(if $(objtool-enabled),--link) \
		$(if $(CONFIG_FUNCTION_TRACER), ; $(objtree)/scripts/recordmcount $@) \
		$(xb-btf-strip) ; \
		$(cmd_xb_cxx_check) ; $(cmd_xb_cxx_check_weak)

define rule_xb_cxx_prelink
	$(call cmd_and_savecmd,xb_cxx_prelink)
	$(call cmd,gen_objtooldep)
endef

# $(call xb_cxx_module,DIR,SOURCES)
define xb_cxx_module
$(1)-cxx-objs := $$(addprefix $(1)/cxx/,$$(addsuffix .o,$(2)))
$$(addprefix $$(obj)/,$$($(1)-cxx-objs)): $$(obj)/$(1)/cxx/%.o: $$(src)/%.cpp FORCE
	$$(call if_changed_rule,xb_cxx_o_cpp)
$$(obj)/$(1)/cxx-prelink.o: $$(addprefix $$(obj)/,$$($(1)-cxx-objs)) FORCE
	$$(call if_changed_rule,xb_cxx_prelink)
targets += $$($(1)-cxx-objs)
endef
