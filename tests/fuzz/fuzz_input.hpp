// fuzz_input.hpp - what the libFuzzer targets share: the input as a stream of
// bytes (zeros once it runs out) and a check that traps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#define CHECK(e) do { if (!(e)) __builtin_trap(); } while (0)

struct Input {
	const uint8_t* p;
	size_t n;
	uint8_t byte() { return take(1) ? p[-1] : 0; }
	// Copy up to len bytes into dst (zero-filled beyond the input).
	void fill(uint8_t* dst, size_t len)
	{
		const size_t k = n < len ? n : len;
		std::memset(dst, 0, len);
		std::memcpy(dst, p, k);
		take(k);
	}
	bool take(size_t k)
	{
		if (n < k)
			return false;
		p += k;
		n -= k;
		return true;
	}
};
