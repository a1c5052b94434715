// SPDX-License-Identifier: GPL-2.0
#include "wire.hpp"

namespace xb {
namespace {

// The two wire layouts.  Their field names are identical, so one template
// body serves both.
struct X86_64 {
	using request = union blkif_x86_64_request;
	using rw = struct blkif_x86_64_request_rw;
	using discard = struct blkif_x86_64_request_discard;
	using indirect = struct blkif_x86_64_request_indirect;
	using other = struct blkif_x86_64_request_other;
	using response = struct blkif_x86_64_response;
};
struct X86_32 {
	using request = union blkif_x86_32_request;
	using rw = struct blkif_x86_32_request_rw;
	using discard = struct blkif_x86_32_request_discard;
	using indirect = struct blkif_x86_32_request_indirect;
	using other = struct blkif_x86_32_request_other;
	using response = struct blkif_x86_32_response;
};

// No hidden padding: zeroing the named fields zeroes every byte.
template <class L> constexpr bool all_bytes_named()
{
	return __has_unique_object_representations(typename L::rw) &&
	       __has_unique_object_representations(typename L::discard) &&
	       __has_unique_object_representations(typename L::indirect) &&
	       __has_unique_object_representations(typename L::other) &&
	       __has_unique_object_representations(typename L::response);
}
static_assert(all_bytes_named<X86_64>() && all_bytes_named<X86_32>(),
	      "a wire struct has implicit padding");
static_assert(sizeof(X86_64::request) == entry_size(Abi::x86_64) &&
	      sizeof(X86_32::request) == entry_size(Abi::x86_32),
	      "a request fills its ring entry");

// Keep the compiler from re-reading shared memory in place of the private
// copy just taken (it may not know the two can differ): the kernel's barrier().
inline void compiler_barrier() { asm volatile("" ::: "memory"); }

// The single read of a shared object: copy it, then parse only the copy.
template <class T> void copy_in(T* dst, const void* shared)
{
	kstd::memcpy(dst, shared, sizeof(*dst));
	compiler_barrier();
}

// Private-to-private reinterpretation of the copied bytes as one member.
// Wire structs are never passed or returned by value: clang 14 mis-returns
// small structs holding the 4-byte-aligned u64 of the x86_32 layout.
template <class T> void view_as(const u8* bytes, T* v)
{
	kstd::memcpy(v, bytes, sizeof(*v));
}

template <class T> void zero(T* v)
{
	kstd::memset(v, 0, sizeof(*v));
}

Segment from_wire(const struct blkif_request_segment& s)
{
	return Segment{ s.gref, s.first_sect, s.last_sect };
}

void to_wire(const Segment& s, struct blkif_request_segment* w)
{
	zero(w);
	w->gref = s.gref;
	w->first_sect = s.first_sect;
	w->last_sect = s.last_sect;
}

template <class L> void decode_request_as(const void* slot, Request* out)
{
	u8 raw[sizeof(typename L::request)];
	copy_in(&raw, slot);

	*out = Request{};
	out->op = raw[0];
	out->kind = request_kind(out->op);
	switch (out->kind) {
	case ReqKind::rw: {
		typename L::rw r;
		view_as(raw, &r);
		out->nr_segments = r.nr_segments;
		out->handle = r.handle;
		out->id = r.id;
		out->sector = r.sector_number;
		for (size_t i = 0; i < kstd::array_size(out->seg); i++)
			out->seg[i] = from_wire(r.seg[i]);
		break;
	}
	case ReqKind::discard: {
		typename L::discard r;
		view_as(raw, &r);
		out->discard_flag = r.flag;
		out->handle = r.handle;
		out->id = r.id;
		out->sector = r.sector_number;
		out->nr_sectors = r.nr_sectors;
		break;
	}
	case ReqKind::indirect: {
		typename L::indirect r;
		view_as(raw, &r);
		out->indirect_op = r.indirect_op;
		out->nr_segments = r.nr_segments;
		out->id = r.id;
		out->sector = r.sector_number;
		out->handle = r.handle;
		for (size_t i = 0; i < kstd::array_size(out->indirect_grefs); i++)
			out->indirect_grefs[i] = r.indirect_grefs[i];
		break;
	}
	case ReqKind::other: {
		typename L::other r;
		view_as(raw, &r);
		out->id = r.id;
		break;
	}
	}
}

// Build the wire struct W in a zeroed entry-sized buffer and copy it out whole.
template <class L, class W> void write_entry(void* slot, const W& w)
{
	u8 raw[sizeof(typename L::request)];
	static_assert(sizeof(W) <= sizeof(raw), "wire struct larger than an entry");
	kstd::memset(raw, 0, sizeof(raw));
	kstd::memcpy(raw, &w, sizeof(w));
	kstd::memcpy(slot, raw, sizeof(raw));
}

template <class L> bool encode_request_as(const Request& q, void* slot)
{
	switch (request_kind(q.op)) {
	case ReqKind::rw: {
		if (q.nr_segments > 255)
			return false;
		typename L::rw r;
		zero(&r);
		r.operation = q.op;
		r.nr_segments = static_cast<u8>(q.nr_segments);
		r.handle = q.handle;
		r.id = q.id;
		r.sector_number = q.sector;
		const size_t n = kstd::min<size_t>(q.nr_segments, kstd::array_size(r.seg));
		for (size_t i = 0; i < n; i++)
			to_wire(q.seg[i], &r.seg[i]);
		write_entry<L>(slot, r);
		break;
	}
	case ReqKind::discard: {
		typename L::discard r;
		zero(&r);
		r.operation = q.op;
		r.flag = q.discard_flag;
		r.handle = q.handle;
		r.id = q.id;
		r.sector_number = q.sector;
		r.nr_sectors = q.nr_sectors;
		write_entry<L>(slot, r);
		break;
	}
	case ReqKind::indirect: {
		typename L::indirect r;
		zero(&r);
		r.operation = q.op;
		r.indirect_op = q.indirect_op;
		r.nr_segments = q.nr_segments;
		r.id = q.id;
		r.sector_number = q.sector;
		r.handle = q.handle;
		for (size_t i = 0; i < kstd::array_size(r.indirect_grefs); i++)
			r.indirect_grefs[i] = q.indirect_grefs[i];
		write_entry<L>(slot, r);
		break;
	}
	case ReqKind::other: {
		typename L::other r;
		zero(&r);
		r.operation = q.op;
		r.id = q.id;
		write_entry<L>(slot, r);
		break;
	}
	}
	return true;
}

template <class L> void encode_response_as(void* slot, u64 id, u8 op, s16 status)
{
	typename L::response r;
	zero(&r);
	r.id = id;
	r.operation = op;
	r.status = status;
	write_entry<L>(slot, r);
}

template <class L> void decode_response_as(const void* slot, Response* out)
{
	typename L::response r;
	copy_in(&r, slot);
	out->id = r.id;
	out->op = r.operation;
	out->status = r.status;
}

} // namespace

void decode_request(Abi abi, const void* slot, Request* out)
{
	if (abi == Abi::x86_32)
		decode_request_as<X86_32>(slot, out);
	else
		decode_request_as<X86_64>(slot, out);
}

bool decode_indirect_segments(const void* page, size_t first, size_t count, Segment* out)
{
	const size_t per_page = BLKIF_SEGS_PER_INDIRECT_FRAME;
	if (first > per_page || count > per_page - first)
		return false;
	const auto* segs = static_cast<const struct blkif_request_segment*>(page) + first;
	for (size_t i = 0; i < count; i++) {
		struct blkif_request_segment s;
		copy_in(&s, &segs[i]);
		out[i] = from_wire(s);
	}
	return true;
}

void encode_response(Abi abi, void* slot, u64 id, u8 op, s16 status)
{
	if (abi == Abi::x86_32)
		encode_response_as<X86_32>(slot, id, op, status);
	else
		encode_response_as<X86_64>(slot, id, op, status);
}

bool encode_request(Abi abi, const Request& req, void* slot)
{
	if (abi == Abi::x86_32)
		return encode_request_as<X86_32>(req, slot);
	return encode_request_as<X86_64>(req, slot);
}

void decode_response(Abi abi, const void* slot, Response* out)
{
	if (abi == Abi::x86_32)
		decode_response_as<X86_32>(slot, out);
	else
		decode_response_as<X86_64>(slot, out);
}

} // namespace xb
