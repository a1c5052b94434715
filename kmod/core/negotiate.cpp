// SPDX-License-Identifier: GPL-2.0
// negotiate.cpp - xenstore feature negotiation (see negotiate.hpp and
// Documentation/negotiation.md).
#include "negotiate.hpp"

namespace xb {

namespace {

using kstd::Errno;
using kstd::to_int;

constexpr size_t val_buf_len = 32;   // a u64 needs 20 digits

// Text appended to a caller buffer, always NUL-terminated; remembers overflow.
class Text {
public:
	Text(char* buf, size_t len) : buf_(buf), len_(len), full_(len == 0)
	{
		if (len)
			buf[0] = '\0';
	}
	void put(char c)
	{
		if (pos_ + 1 >= len_) {
			full_ = true;
			return;
		}
		buf_[pos_++] = c;
		buf_[pos_] = '\0';
	}
	void put(const char* s)
	{
		while (*s)
			put(*s++);
	}
	void put_u64(u64 v)
	{
		char digits[20];
		int n = 0;

		do {
			digits[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
			v /= 10;
		} while (v);
		while (n)
			put(digits[--n]);
	}
	int status() const { return full_ ? to_int(Errno::toobig) : 0; }
private:
	char* buf_;
	size_t len_;
	size_t pos_ = 0;
	bool full_;
};

// Read a number; *present tells whether the key exists.
int read_number(const KeySource& src, const char* key, u64* out, bool* present)
{
	char buf[val_buf_len];

	buf[0] = '\0';
	*present = src.read(key, buf, sizeof(buf));
	if (!*present)
		return 0;
	buf[sizeof(buf) - 1] = '\0';
	if (kstd::strlen(buf) >= sizeof(buf) - 1 || !parse_u64(buf, out))
		return to_int(Errno::inval);
	return 0;
}

int read_required_u32(const KeySource& src, const char* key, u32* out)
{
	u64 v = 0;
	bool present;
	int err = read_number(src, key, &v, &present);

	if (err)
		return err;
	if (!present)
		return to_int(Errno::noent);
	if (v > 0xffffffffu)
		return to_int(Errno::inval);
	*out = static_cast<u32>(v);
	return 0;
}

int read_protocol(const KeySource& src, Abi* out)
{
	char buf[val_buf_len];

	buf[0] = '\0';
	if (!src.read(key::protocol, buf, sizeof(buf)))
		return parse_protocol(nullptr, out) ? 0 : to_int(Errno::inval);
	buf[sizeof(buf) - 1] = '\0';
	if (kstd::strlen(buf) >= sizeof(buf) - 1 || !parse_protocol(buf, out))
		return to_int(Errno::inval);
	return 0;
}

int put_u64(KeySink& out, const char* key, u64 v)
{
	char buf[val_buf_len];
	int err = format_u64(buf, sizeof(buf), v);

	return err ? err : out.write(key, buf);
}

int put_bool(KeySink& out, const char* key, bool v)
{
	return out.write(key, v ? "1" : "0");
}

bool valid_physical_size(u32 size, u32 logical)
{
	return kstd::is_pow2(size) && size >= logical;
}

u32 at_least_one(u32 v)
{
	return v ? v : 1;
}

} // namespace

bool valid_sector_size(u32 size)
{
	return kstd::is_pow2(size) && size >= 512 && size <= 4096;
}

// ---- numbers --------------------------------------------------------------------

bool parse_u64(const char* s, u64* out)
{
	u64 v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned int c = static_cast<unsigned char>(*s);

		if (c < '0' || c > '9')
			return false;
		if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, c - '0', &v))
			return false;
	}
	*out = v;
	return true;
}

bool parse_u32(const char* s, u32* out)
{
	u64 v;

	if (!parse_u64(s, &v) || v > 0xffffffffu)
		return false;
	*out = static_cast<u32>(v);
	return true;
}

int format_u64(char* buf, size_t len, u64 v)
{
	Text t(buf, len);

	t.put_u64(v);
	return t.status();
}

int read_u64(const KeySource& src, const char* key, u64 dflt, u64* out)
{
	u64 v = 0;
	bool present;
	int err = read_number(src, key, &v, &present);

	if (!err)
		*out = present ? v : dflt;
	return err;
}

int read_u32(const KeySource& src, const char* key, u32 dflt, u32* out)
{
	u64 v = 0;
	int err = read_u64(src, key, dflt, &v);

	if (err)
		return err;
	if (v > 0xffffffffu)
		return to_int(Errno::inval);
	*out = static_cast<u32>(v);
	return 0;
}

int read_bool(const KeySource& src, const char* key, bool dflt, bool* out)
{
	u64 v = 0;
	int err = read_u64(src, key, dflt ? 1 : 0, &v);

	if (!err)
		*out = v != 0;
	return err;
}

// ---- key names --------------------------------------------------------------------

int queue_key(char* buf, size_t len, u32 nr_queues, u32 queue, const char* leaf)
{
	Text t(buf, len);

	if (nr_queues > 1) {
		t.put("queue-");
		t.put_u64(queue);
		t.put('/');
	}
	t.put(leaf);
	return t.status();
}

int ring_ref_key(char* buf, size_t len, u32 nr_queues, u32 queue, u32 ring_order, u32 page)
{
	int err = queue_key(buf, len, nr_queues, queue, key::ring_ref);

	if (err || ring_order == 0)
		return err;
	Text t(buf + kstd::strlen(buf), len - kstd::strlen(buf));
	t.put_u64(page);
	return t.status();
}

// ---- flush modes --------------------------------------------------------------------

const char* flush_mode_name(FlushMode m)
{
	switch (m) {
	case FlushMode::flush:
		return "flush";
	case FlushMode::barrier:
		return "barrier";
	case FlushMode::none:
		break;
	}
	return "none";
}

BlockFlags flush_flags(FlushMode m)
{
	switch (m) {
	case FlushMode::flush:
		return {true, false};
	case FlushMode::barrier:
		return {true, true};
	case FlushMode::none:
		break;
	}
	return {false, false};
}

FlushDowngrade downgrade_flush(FlushMode current, u8 failed_op, bool barrier_offered)
{
	FlushDowngrade d = {current, current};

	if (current == FlushMode::flush && failed_op == BLKIF_OP_FLUSH_DISKCACHE)
		d.to = barrier_offered ? FlushMode::barrier : FlushMode::none;
	else if (current == FlushMode::barrier && failed_op == BLKIF_OP_WRITE_BARRIER)
		d.to = FlushMode::none;
	return d;
}

FlushDowngrade apply_flush_downgrade(NegotiatedConfig* cfg, u8 failed_op)
{
	FlushDowngrade d = downgrade_flush(cfg->flush, failed_op, cfg->barrier_offered);
	BlockFlags f = flush_flags(d.to);

	cfg->flush = d.to;
	cfg->write_cache = f.write_cache;
	cfg->fua = f.fua;
	return d;
}

// ---- backend ---------------------------------------------------------------------------

int backend_publish_transport(const BackendConfig& cfg, KeySink& out)
{
	int err = put_bool(out, key::feature_persistent, cfg.persistent);

	if (!err && cfg.max_indirect_segments)
		err = put_u64(out, key::feature_max_indirect_segments,
			      kstd::min(cfg.max_indirect_segments, blkif_max_indirect_segs));
	if (!err)
		err = put_u64(out, key::multi_queue_max_queues, at_least_one(cfg.max_queues));
	if (!err)
		err = put_u64(out, key::max_ring_page_order,
			      kstd::min(cfg.max_ring_order, blkif_max_ring_order));
	return err;
}

int backend_publish_device(const BackendConfig& cfg, const DeviceProps& dev, KeySink& out)
{
	bool flush_cache = false, barrier = false;
	bool discard = cfg.discard && dev.discard && !dev.read_only;
	u32 info = (dev.cdrom ? VDISK_CDROM : 0) | (dev.removable ? VDISK_REMOVABLE : 0) |
		   (dev.read_only ? VDISK_READONLY : 0);
	int err;

	if (!valid_sector_size(dev.logical_block_size) ||
	    !valid_physical_size(dev.physical_block_size, dev.logical_block_size))
		return to_int(Errno::inval);

	// Either feature makes a frontend turn its write cache (and, for a
	// barrier, FUA) on: whatever the policy, offer them only when the device
	// really has a volatile cache.  The policy only narrows what is offered.
	switch (cfg.flush) {
	case FlushPolicy::automatic:
	case FlushPolicy::both:
		flush_cache = barrier = dev.write_cache;
		break;
	case FlushPolicy::flush:
		flush_cache = dev.write_cache;
		break;
	case FlushPolicy::barrier:
		barrier = dev.write_cache;
		break;
	case FlushPolicy::none:
		break;
	}

	err = put_bool(out, key::feature_flush_cache, flush_cache);
	if (!err)
		err = put_bool(out, key::feature_barrier, barrier);
	if (!err && discard) {
		u32 gran = dev.discard_granularity ? dev.discard_granularity : dev.logical_block_size;

		err = put_u64(out, key::discard_granularity, gran);
		if (!err)
			err = put_u64(out, key::discard_alignment, dev.discard_alignment);
		if (!err)
			err = put_bool(out, key::discard_secure, dev.secure_erase);
		if (!err)
			err = put_bool(out, key::feature_discard, true);
	}
	if (!err)
		err = put_u64(out, key::sectors, dev.sectors);
	if (!err)
		err = put_u64(out, key::sector_size, dev.logical_block_size);
	if (!err)
		err = put_u64(out, key::physical_sector_size, dev.physical_block_size);
	if (!err)
		err = put_u64(out, key::info, info);
	return err;
}

int backend_publish(const BackendConfig& cfg, const DeviceProps& dev, KeySink& out)
{
	int err = backend_publish_transport(cfg, out);

	return err ? err : backend_publish_device(cfg, dev, out);
}

int backend_read_frontend(const KeySource& frontend, const BackendConfig& cfg,
			  kstd::span<BackQueue> queues, BackConnectInfo* out)
{
	BackConnectInfo c;
	bool fe_persistent = false;
	char k[key_buf_len];
	int err;

	err = read_protocol(frontend, &c.abi);
	if (!err)
		err = read_u32(frontend, key::multi_queue_num_queues, 1, &c.nr_queues);
	if (!err)
		err = read_u32(frontend, key::ring_page_order, 0, &c.ring_order);
	if (!err)
		err = read_bool(frontend, key::feature_persistent, false, &fe_persistent);
	if (err)
		return err;
	if (c.nr_queues == 0)
		return to_int(Errno::inval);
	if (c.nr_queues > at_least_one(cfg.max_queues) ||
	    c.ring_order > kstd::min(cfg.max_ring_order, blkif_max_ring_order))
		return to_int(Errno::range);
	if (c.nr_queues > queues.size())
		return to_int(Errno::nospc);

	for (u32 q = 0; q < c.nr_queues; q++) {
		for (u32 p = 0; p < (1u << c.ring_order); p++) {
			err = ring_ref_key(k, sizeof(k), c.nr_queues, q, c.ring_order, p);
			if (!err)
				err = read_required_u32(frontend, k, &queues[q].ring_refs[p]);
			if (err)
				return err;
		}
		err = queue_key(k, sizeof(k), c.nr_queues, q, key::event_channel);
		if (!err)
			err = read_required_u32(frontend, k, &queues[q].event_channel);
		if (err)
			return err;
	}
	c.persistent = cfg.persistent && fe_persistent;
	*out = c;
	return 0;
}

// ---- frontend ---------------------------------------------------------------------------

int frontend_negotiate_transport(const KeySource& backend, const FrontendLimits& lim,
				 NegotiatedConfig* out)
{
	u32 be_queues = 1, be_order = 0;
	int err = read_u32(backend, key::multi_queue_max_queues, 1, &be_queues);

	if (!err)
		err = read_u32(backend, key::max_ring_page_order, 0, &be_order);
	if (err)
		return err;
	out->abi = native_abi();
	out->nr_queues = at_least_one(kstd::min(kstd::min(be_queues, at_least_one(lim.max_queues)),
						kstd::min(at_least_one(lim.nr_cpus), frontend_max_queues)));
	out->ring_order = kstd::min(kstd::min(be_order, lim.max_ring_order), blkif_max_ring_order);
	out->persistent_offered = lim.persistent;
	return 0;
}

int frontend_negotiate_device(const KeySource& backend, const FrontendLimits& lim,
			      NegotiatedConfig* out)
{
	NegotiatedConfig c = *out;
	bool present, flush_cache = false, barrier = false, be_persistent = false;
	u32 indirect = 0;
	BlockFlags f;
	int err;

	err = read_number(backend, key::sectors, &c.sectors, &present);
	if (err)
		return err;
	if (!present)
		return to_int(Errno::noent);
	if (!valid_disk_sectors(c.sectors))
		return to_int(Errno::inval);
	err = read_u32(backend, key::sector_size, 512, &c.sector_size);
	if (!err)
		err = read_u32(backend, key::physical_sector_size, c.sector_size,
			       &c.physical_sector_size);
	if (!err)
		err = read_u32(backend, key::info, 0, &c.info);
	if (!err)
		err = read_bool(backend, key::feature_flush_cache, false, &flush_cache);
	if (!err)
		err = read_bool(backend, key::feature_barrier, false, &barrier);
	if (!err)
		err = read_bool(backend, key::feature_discard, false, &c.discard);
	if (!err)
		err = read_bool(backend, key::feature_persistent, false, &be_persistent);
	if (!err)
		err = read_u32(backend, key::feature_max_indirect_segments, 0, &indirect);
	if (!err && c.discard) {
		err = read_u32(backend, key::discard_granularity, 0, &c.discard_granularity);
		if (!err)
			err = read_u32(backend, key::discard_alignment, 0, &c.discard_alignment);
		if (!err)
			err = read_bool(backend, key::discard_secure, false, &c.discard_secure);
	}
	if (err)
		return err;
	if (!valid_sector_size(c.sector_size) ||
	    !valid_physical_size(c.physical_sector_size, c.sector_size))
		return to_int(Errno::inval);

	c.read_only = c.info & VDISK_READONLY;

	c.flush = flush_cache ? FlushMode::flush : barrier ? FlushMode::barrier : FlushMode::none;
	c.barrier_offered = barrier;
	f = flush_flags(c.flush);
	c.write_cache = f.write_cache;
	c.fua = f.fua;

	if (c.discard) {
		if (!c.discard_granularity)
			c.discard_granularity = c.sector_size;
		// extents we cannot express in whole sectors: do not discard at all
		if (c.discard_granularity % c.sector_size ||
		    c.discard_alignment % c.sector_size) {
			c.discard = false;
		} else {
			c.discard_alignment %= c.discard_granularity;
		}
	}
	if (!c.discard) {
		c.discard_secure = false;
		c.discard_granularity = 0;
		c.discard_alignment = 0;
	}

	c.persistent = lim.persistent && be_persistent;

	indirect = kstd::min(kstd::min(indirect, lim.max_indirect_segments), blkif_max_indirect_segs);
	c.max_indirect_segments = indirect > blkif_max_direct_segs ? indirect : 0;

	*out = c;
	return 0;
}

int frontend_negotiate(const KeySource& backend, const FrontendLimits& lim, NegotiatedConfig* out)
{
	NegotiatedConfig c = *out;
	int err = frontend_negotiate_transport(backend, lim, &c);

	if (!err)
		err = frontend_negotiate_device(backend, lim, &c);
	if (!err)
		*out = c;
	return err;
}

int frontend_publish(const NegotiatedConfig& cfg, kstd::span<const FrontQueue> queues,
		     KeySink& out)
{
	char k[key_buf_len];
	int err = 0;

	if (cfg.nr_queues == 0 || queues.size() != cfg.nr_queues ||
	    cfg.ring_order > blkif_max_ring_order)
		return to_int(Errno::inval);
	for (const FrontQueue& q : queues)
		if (q.ring_refs.size() != (size_t{1} << cfg.ring_order))
			return to_int(Errno::inval);

	// Keys a previous connection wrote stay in the directory (an unbind + bind,
	// a reconnect after the backend's limits were lowered): the optional ones
	// not used now are removed, or the backend would read them as ours.
	if (cfg.ring_order > 0)
		err = put_u64(out, key::ring_page_order, cfg.ring_order);
	else
		err = out.remove(key::ring_page_order);
	if (!err && cfg.nr_queues > 1)
		err = put_u64(out, key::multi_queue_num_queues, cfg.nr_queues);
	else if (!err)
		err = out.remove(key::multi_queue_num_queues);
	for (u32 q = 0; !err && q < cfg.nr_queues; q++) {
		for (u32 p = 0; !err && p < queues[q].ring_refs.size(); p++) {
			err = ring_ref_key(k, sizeof(k), cfg.nr_queues, q, cfg.ring_order, p);
			if (!err)
				err = put_u64(out, k, queues[q].ring_refs[p]);
		}
		if (!err)
			err = queue_key(k, sizeof(k), cfg.nr_queues, q, key::event_channel);
		if (!err)
			err = put_u64(out, k, queues[q].event_channel);
	}
	if (!err)
		err = out.write(key::protocol, protocol_name(cfg.abi));
	if (!err)
		err = put_bool(out, key::feature_persistent, cfg.persistent_offered);
	return err;
}

} // namespace xb
