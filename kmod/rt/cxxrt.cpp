// SPDX-License-Identifier: GPL-2.0
// cxxrt.cpp - the whole C++ runtime a xenblk module has: operator new/delete over
// kmalloc/kfree, std::nothrow and the two ABI hooks g++ may reference.
//
// Modules are built with -fcheck-new, so `new T` tests for NULL before running a
// constructor.  Nothing else is provided on purpose: no atexit, no guard
// variables, no personality routine, no unwinder, no typeinfo.  The build rejects
// objects that need them (kmod/rt/cxx.mk).
#include "kstd.hpp"
#include "rt_api.h"

using kstd::size_t;

void* operator new(size_t n) { return xb_rt_alloc(n); }
void* operator new[](size_t n) { return xb_rt_alloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return xb_rt_alloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return xb_rt_alloc(n); }
void operator delete(void* p) noexcept { xb_rt_free(p); }
void operator delete[](void* p) noexcept { xb_rt_free(p); }
void operator delete(void* p, size_t) noexcept { xb_rt_free(p); }
void operator delete[](void* p, size_t) noexcept { xb_rt_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { xb_rt_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { xb_rt_free(p); }

const std::nothrow_t std::nothrow{};   // constant-initialised: no static constructor

extern "C" void __cxa_pure_virtual() { xb_rt_fatal("pure virtual function called"); }
extern "C" void __cxa_deleted_virtual() { xb_rt_fatal("deleted virtual function called"); }
