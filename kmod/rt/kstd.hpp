// SPDX-License-Identifier: GPL-2.0
// kstd.hpp - the freestanding C++ subset xenblk's kernel code is written in.
//
// Compiles unchanged in three places: the kernel modules (-nostdinc, -ffreestanding,
// no exceptions, no RTTI), userspace unit tests and the fuzzer.  It includes no
// header in the kernel; types come from compiler builtins.  In userspace it pulls
// <new> for placement new so that it never clashes with the standard library.
#pragma once

#if __has_include(<new>) && !defined(XENBLK_KERNEL)
#include <new>
#define XENBLK_HAVE_STD_NEW 1
#else
#define XENBLK_HAVE_STD_NEW 0
#endif

namespace kstd {

using size_t    = __SIZE_TYPE__;
using ptrdiff_t = __PTRDIFF_TYPE__;
using uintptr_t = __UINTPTR_TYPE__;
using u8  = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using s8  = __INT8_TYPE__;
using s16 = __INT16_TYPE__;
using s32 = __INT32_TYPE__;
using s64 = __INT64_TYPE__;

template <class T> struct remove_reference { using type = T; };
template <class T> struct remove_reference<T&> { using type = T; };
template <class T> struct remove_reference<T&&> { using type = T; };

template <class T>
constexpr typename remove_reference<T>::type&& move(T&& t) noexcept
{
	return static_cast<typename remove_reference<T>::type&&>(t);
}
template <class T>
constexpr T&& forward(typename remove_reference<T>::type& t) noexcept
{
	return static_cast<T&&>(t);
}
template <class T> constexpr const T& min(const T& a, const T& b) { return b < a ? b : a; }
template <class T> constexpr const T& max(const T& a, const T& b) { return a < b ? b : a; }
template <class T> constexpr void swap(T& a, T& b) noexcept { T t = move(a); a = move(b); b = move(t); }

template <class T, size_t N> constexpr size_t array_size(const T (&)[N]) { return N; }

constexpr bool is_pow2(u64 v) { return v && !(v & (v - 1)); }

// a + b, reporting unsigned overflow
constexpr bool add_overflows(u64 a, u64 b, u64* out) { return __builtin_add_overflow(a, b, out); }

inline void memcpy(void* d, const void* s, size_t n) { __builtin_memcpy(d, s, n); }
inline void memset(void* d, int c, size_t n) { __builtin_memset(d, c, n); }
inline int memcmp(const void* a, const void* b, size_t n) { return __builtin_memcmp(a, b, n); }
inline size_t strlen(const char* s) { return __builtin_strlen(s); }
inline int strcmp(const char* a, const char* b) { return __builtin_strcmp(a, b); }

// Read or write a location shared with another domain exactly once (READ_ONCE / WRITE_ONCE).
template <class T> inline T read_once(const T& v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); }
template <class T> inline void write_once(T& v, T x) { __atomic_store_n(&v, x, __ATOMIC_RELAXED); }

// Status codes: 0 is success, negative values are Linux errno values so that C glue
// can return them unchanged.
enum class Errno : int {
	ok = 0,
	perm = -1, noent = -2, io = -5, nxio = -6, toobig = -7, again = -11, nomem = -12,
	fault = -14, busy = -16, exist = -17, nodev = -19, inval = -22, nospc = -28,
	range = -34, nodata = -61, overflow = -75, proto = -71, opnotsupp = -95,
	timedout = -110, shutdown = -108,
};
constexpr int to_int(Errno e) { return static_cast<int>(e); }

// Value-or-error result; T must be default constructible.
template <class T> class Result {
public:
	Result(const T& v) : val_(v), err_(Errno::ok) {}              // NOLINT(implicit)
	Result(T&& v) : val_(move(v)), err_(Errno::ok) {}             // NOLINT(implicit)
	Result(Errno e) : val_(), err_(e) {}                          // NOLINT(implicit)
	bool ok() const { return err_ == Errno::ok; }
	explicit operator bool() const { return ok(); }
	Errno error() const { return err_; }
	T& value() { return val_; }
	const T& value() const { return val_; }
	T& operator*() { return val_; }
	const T& operator*() const { return val_; }
	T* operator->() { return &val_; }
	const T* operator->() const { return &val_; }
private:
	T val_;
	Errno err_;
};

// Owning pointer for objects from operator new (which is kmalloc in the kernel).
template <class T> class unique_ptr {
public:
	unique_ptr() = default;
	explicit unique_ptr(T* p) : p_(p) {}
	unique_ptr(const unique_ptr&) = delete;
	unique_ptr& operator=(const unique_ptr&) = delete;
	unique_ptr(unique_ptr&& o) noexcept : p_(o.release()) {}
	unique_ptr& operator=(unique_ptr&& o) noexcept { reset(o.release()); return *this; }
	~unique_ptr() { reset(); }
	T* get() const { return p_; }
	T* operator->() const { return p_; }
	T& operator*() const { return *p_; }
	explicit operator bool() const { return p_ != nullptr; }
	T* release() { T* p = p_; p_ = nullptr; return p; }
	void reset(T* p = nullptr) { T* old = p_; p_ = p; delete old; }
private:
	T* p_ = nullptr;
};

// The same for arrays from operator new[].
template <class T> class unique_ptr<T[]> {
public:
	unique_ptr() = default;
	explicit unique_ptr(T* p) : p_(p) {}
	unique_ptr(const unique_ptr&) = delete;
	unique_ptr& operator=(const unique_ptr&) = delete;
	unique_ptr(unique_ptr&& o) noexcept : p_(o.release()) {}
	unique_ptr& operator=(unique_ptr&& o) noexcept { reset(o.release()); return *this; }
	~unique_ptr() { reset(); }
	T* get() const { return p_; }
	T& operator[](size_t i) const { return p_[i]; }
	explicit operator bool() const { return p_ != nullptr; }
	T* release() { T* p = p_; p_ = nullptr; return p; }
	void reset(T* p = nullptr) { T* old = p_; p_ = p; delete[] old; }
private:
	T* p_ = nullptr;
};

// A pointer + length view over contiguous objects.
template <class T> class span {
public:
	constexpr span() = default;
	constexpr span(T* p, size_t n) : p_(p), n_(n) {}
	template <size_t N> constexpr span(T (&a)[N]) : p_(a), n_(N) {}   // NOLINT(implicit)
	constexpr T* data() const { return p_; }
	constexpr size_t size() const { return n_; }
	constexpr bool empty() const { return n_ == 0; }
	constexpr T& operator[](size_t i) const { return p_[i]; }
	constexpr T* begin() const { return p_; }
	constexpr T* end() const { return p_ + n_; }
	constexpr span subspan(size_t off, size_t n) const { return span(p_ + off, n); }
private:
	T* p_ = nullptr;
	size_t n_ = 0;
};

} // namespace kstd

#if !XENBLK_HAVE_STD_NEW
// Freestanding: the declarations <new> would give.
namespace std {
struct nothrow_t { explicit nothrow_t() = default; };
extern const nothrow_t nothrow;
enum class align_val_t : __SIZE_TYPE__ {};
} // namespace std
inline void* operator new(__SIZE_TYPE__, void* p) noexcept { return p; }
inline void* operator new[](__SIZE_TYPE__, void* p) noexcept { return p; }
inline void operator delete(void*, void*) noexcept {}
inline void operator delete[](void*, void*) noexcept {}
void* operator new(__SIZE_TYPE__ n, const std::nothrow_t&) noexcept;
void* operator new[](__SIZE_TYPE__ n, const std::nothrow_t&) noexcept;
#endif
