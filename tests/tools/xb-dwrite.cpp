// SPDX-License-Identifier: GPL-2.0
// xb-dwrite - write a file to a block device in O_DIRECT requests, optionally
// with O_DSYNC, which makes the kernel send each write as a FUA write (on a
// queue that advertises FUA; blkfront in barrier mode sends those as data
// barriers).  busybox dd has no oflag=dsync, hence this tool.
//
//   xb-dwrite [--dsync] [--bs BYTES] SRC DEV OFFSET_BYTES
//
// SRC is read whole and written at OFFSET_BYTES in requests of --bs bytes
// (default: the whole file in one request).  Sizes and the offset must be
// multiples of 512.  Exit status 0 only if every byte was written.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

int usage()
{
	std::fprintf(stderr, "usage: xb-dwrite [--dsync] [--bs BYTES] SRC DEV OFFSET_BYTES\n");
	return 2;
}

bool parse_size(const char* s, unsigned long long& out)
{
	char* end = nullptr;
	errno = 0;
	out = std::strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

} // namespace

int main(int argc, char** argv)
{
	bool dsync = false;
	unsigned long long bs = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const std::string a = argv[i];
		if (a == "--dsync")
			dsync = true;
		else if (a == "--bs" && i + 1 < argc && parse_size(argv[i + 1], bs) && bs && bs % 512 == 0)
			i++;
		else
			return usage();
	}
	if (argc - i != 3)
		return usage();
	unsigned long long off = 0;
	if (!parse_size(argv[i + 2], off) || off % 512)
		return usage();

	const int src = open(argv[i], O_RDONLY);
	struct stat st {};
	if (src < 0 || fstat(src, &st) < 0) {
		std::fprintf(stderr, "xb-dwrite: %s: %s\n", argv[i], std::strerror(errno));
		return 1;
	}
	const size_t len = static_cast<size_t>(st.st_size);
	if (!len || len % 512) {
		std::fprintf(stderr, "xb-dwrite: %s: size %zu is not a non-zero multiple of 512\n", argv[i], len);
		return 1;
	}
	if (!bs || bs > len)
		bs = len;
	void* buf = nullptr;
	if (posix_memalign(&buf, 4096, len)) {
		std::fprintf(stderr, "xb-dwrite: out of memory\n");
		return 1;
	}
	char* p = static_cast<char*>(buf);
	for (size_t got = 0; got < len;) {
		const ssize_t r = read(src, p + got, len - got);
		if (r <= 0) {
			std::fprintf(stderr, "xb-dwrite: reading %s: %s\n", argv[i], r ? std::strerror(errno) : "short file");
			return 1;
		}
		got += static_cast<size_t>(r);
	}
	close(src);

	const int dev = open(argv[i + 1], O_WRONLY | O_DIRECT | (dsync ? O_DSYNC : 0));
	if (dev < 0) {
		std::fprintf(stderr, "xb-dwrite: %s: %s\n", argv[i + 1], std::strerror(errno));
		return 1;
	}
	for (size_t done = 0; done < len;) {
		const size_t n = len - done < bs ? len - done : bs;
		const ssize_t w = pwrite(dev, p + done, n, static_cast<off_t>(off + done));
		if (w != static_cast<ssize_t>(n)) {
			std::fprintf(stderr, "xb-dwrite: writing %s at byte %llu: %s\n", argv[i + 1],
				     off + done, w < 0 ? std::strerror(errno) : "short write");
			return 1;
		}
		done += n;
	}
	if (close(dev) < 0) {
		std::fprintf(stderr, "xb-dwrite: closing %s: %s\n", argv[i + 1], std::strerror(errno));
		return 1;
	}
	std::free(buf);
	return 0;
}
