// SPDX-License-Identifier: GPL-2.0
// xb-powercut - records for the random power-cut loop (tests/selftests/blk/powercut.sh).
//
//   xb-powercut plan SEED CUTS MAXMS
//       one line per cut, "PLAN K MS" (MS in 0..MAXMS-1: how long after the domU
//       started writing the cut comes), from SEED; SEED "random" draws one and
//       prints "SEED N" first
//   xb-powercut write DEV REGION SEED FIRST_SECTOR MAX_RECORDS [--threads N]
//       appends 4 KiB records with O_DIRECT from FIRST_SECTOR on, in batches of
//       four (the batch's writes in flight at once on N threads, default 4), and
//       fsyncs after each batch; once fsync returned it prints "XB-ACK REGION N ok"
//       (N: records durable so far).  After MAX_RECORDS it prints "XB-FULL REGION"
//       and waits to be killed.  An I/O error: "XB-IOERR ..." and exit 1.
//   xb-powercut once DEV REGION SEED SECTOR
//       one record (index 0) at SECTOR, not flushed: the negative control
//   xb-powercut check DEV REGION SEED FIRST_SECTOR RECORDS [--lost]
//       reads the records back (O_DIRECT) and names every damaged one: which
//       of its 512-byte sectors read back as zeros, as a sector of another record
//       (region/record/sector: stale or misplaced data), or as something else,
//       and whether a second read of it gives the same bytes (a difference
//       points at the read, not at the disk).  "XB-CHECK REGION RECORDS DAMAGED";
//       exit 0 when none is damaged.  --lost: every record must read back as
//       zeros instead ("XB-LOST REGION RECORDS KEPT").
//   xb-powercut canary FILE MIB / canary-check FILE MIB
//       writes / checks a pattern file (dom0's memory canary, in tmpfs): every
//       damaged page is named with what it holds; "XB-CANARY PAGES DAMAGED".
//
// A record is 8 sectors; each sector starts with a header (magic, seed, region,
// record, sector) and is filled from a generator seeded by all of them, so that
// every sector names itself wherever it lands and dom0 needs nothing from the
// domU to check it.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

constexpr size_t kSector = 512;
constexpr size_t kRecord = 4096;
constexpr unsigned kPerRecord = kRecord / kSector;
constexpr unsigned kBatch = 4;
constexpr uint64_t kMagic = 0x3143455243504258ull;   // "XBPCREC1"

struct SectorHeader {
	uint64_t magic;
	uint64_t seed;
	uint32_t region;
	uint32_t record;
	uint32_t sector;
	uint32_t pad;
};

uint64_t splitmix(uint64_t* s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void fill_record(uint8_t* buf, uint64_t seed, uint32_t region, uint32_t record)
{
	for (unsigned s = 0; s < kPerRecord; s++) {
		uint8_t* p = buf + s * kSector;
		const SectorHeader h = {kMagic, seed, region, record, s, 0};
		memcpy(p, &h, sizeof(h));
		uint64_t g = seed ^ (uint64_t{region} << 40) ^ (uint64_t{record} << 8) ^ s;
		for (size_t i = sizeof(h); i < kSector; i += 8) {
			const uint64_t v = splitmix(&g);
			memcpy(p + i, &v, 8);
		}
	}
}

bool parse_u64(const char* s, uint64_t* out)
{
	char* end = nullptr;
	errno = 0;
	*out = std::strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0';
}

int usage()
{
	std::fprintf(stderr,
		"usage: xb-powercut plan SEED|random CUTS MAXMS\n"
		"       xb-powercut write DEV REGION SEED FIRST_SECTOR MAX_RECORDS [--threads N]\n"
		"       xb-powercut once DEV REGION SEED SECTOR\n"
		"       xb-powercut check DEV REGION SEED FIRST_SECTOR RECORDS [--lost]\n"
		"       xb-powercut check-list DEV SEED LIST   (LIST: REGION FIRST_SECTOR RECORDS a line)\n"
		"       xb-powercut canary|canary-check FILE MIB\n");
	return 2;
}

uint8_t* aligned(size_t len)
{
	void* p = nullptr;
	return posix_memalign(&p, 4096, len) ? nullptr : static_cast<uint8_t*>(p);
}

bool write_all(int fd, const uint8_t* buf, size_t len, uint64_t off, std::string* why)
{
	const ssize_t w = pwrite(fd, buf, len, static_cast<off_t>(off));
	if (w == static_cast<ssize_t>(len))
		return true;
	*why = w < 0 ? std::strerror(errno) : "short write";
	return false;
}

int cmd_plan(int argc, char** argv)
{
	uint64_t seed, cuts, maxms;
	if (argc != 3 || !parse_u64(argv[1], &cuts) || !parse_u64(argv[2], &maxms) || !maxms)
		return usage();
	if (std::string(argv[0]) == "random") {
		const int fd = open("/dev/urandom", O_RDONLY);
		if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
			return 1;
		close(fd);
		seed &= 0xffffffffffffull;   // short enough to retype
		std::printf("SEED %llu\n", static_cast<unsigned long long>(seed));
	} else if (!parse_u64(argv[0], &seed)) {
		return usage();
	}
	uint64_t g = seed;
	for (uint64_t k = 1; k <= cuts; k++) {
		const uint64_t ms = splitmix(&g) % maxms;
		std::printf("PLAN %llu %llu\n", static_cast<unsigned long long>(k),
			    static_cast<unsigned long long>(ms));
	}
	return 0;
}

int cmd_write(int argc, char** argv)
{
	uint64_t region, seed, first, max, threads = kBatch;
	if (argc < 5 || !parse_u64(argv[1], &region) || !parse_u64(argv[2], &seed) ||
	    !parse_u64(argv[3], &first) || !parse_u64(argv[4], &max))
		return usage();
	if (argc == 7 && std::string(argv[5]) == "--threads" && parse_u64(argv[6], &threads) &&
	    threads >= 1 && threads <= kBatch)
		;
	else if (argc != 5)
		return usage();
	const int fd = open(argv[0], O_RDWR | O_DIRECT);
	uint8_t* buf = aligned(kRecord * kBatch);
	if (fd < 0 || !buf) {
		std::printf("XB-IOERR open %s: %s\n", argv[0], std::strerror(errno));
		return 1;
	}
	setvbuf(stdout, nullptr, _IOLBF, 0);
	std::printf("XB-WRITING %llu\n", static_cast<unsigned long long>(region));
	for (uint64_t done = 0; done + kBatch <= max; done += kBatch) {
		std::string why[kBatch];
		bool ok[kBatch];
		for (unsigned j = 0; j < kBatch; j++)
			fill_record(buf + j * kRecord, seed, static_cast<uint32_t>(region),
				    static_cast<uint32_t>(done + j));
		// the batch's writes in flight at once (threads), then one fsync
		auto part = [&](unsigned t) {
			for (unsigned j = t; j < kBatch; j += static_cast<unsigned>(threads))
				ok[j] = write_all(fd, buf + j * kRecord, kRecord,
						  first * kSector + (done + j) * kRecord, &why[j]);
		};
		std::vector<std::thread> ts;
		for (unsigned t = 1; t < threads; t++)
			ts.emplace_back(part, t);
		part(0);
		for (auto& t : ts)
			t.join();
		for (unsigned j = 0; j < kBatch; j++) {
			if (!ok[j]) {
				std::printf("XB-IOERR write record %llu: %s\n",
					    static_cast<unsigned long long>(done + j), why[j].c_str());
				return 1;
			}
		}
		if (fsync(fd) != 0) {
			std::printf("XB-IOERR fsync after record %llu: %s\n",
				    static_cast<unsigned long long>(done + kBatch - 1), std::strerror(errno));
			return 1;
		}
		std::printf("XB-ACK %llu %llu ok\n", static_cast<unsigned long long>(region),
			    static_cast<unsigned long long>(done + kBatch));
	}
	std::printf("XB-FULL %llu\n", static_cast<unsigned long long>(region));
	for (;;)
		pause();
}

int cmd_once(int argc, char** argv)
{
	uint64_t region, seed, sector;
	if (argc != 4 || !parse_u64(argv[1], &region) || !parse_u64(argv[2], &seed) ||
	    !parse_u64(argv[3], &sector))
		return usage();
	const int fd = open(argv[0], O_RDWR | O_DIRECT);
	uint8_t* buf = aligned(kRecord);
	std::string why;
	if (fd < 0 || !buf) {
		std::printf("XB-IOERR open %s: %s\n", argv[0], std::strerror(errno));
		return 1;
	}
	fill_record(buf, seed, static_cast<uint32_t>(region), 0);
	if (!write_all(fd, buf, kRecord, sector * kSector, &why)) {
		std::printf("XB-IOERR write: %s\n", why.c_str());
		return 1;
	}
	return 0;
}

bool all_zero(const uint8_t* p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

// What one damaged sector holds instead.
std::string sector_holds(const uint8_t* got, uint64_t seed)
{
	if (all_zero(got, kSector))
		return "zeros";
	SectorHeader h;
	memcpy(&h, got, sizeof(h));
	if (h.magic != kMagic)
		return "other data";
	uint8_t want[kRecord];
	fill_record(want, h.seed, h.region, h.record);
	const bool whole = h.sector < kPerRecord && memcmp(want + h.sector * kSector, got, kSector) == 0;
	char b[128];
	std::snprintf(b, sizeof(b), "region %u record %u sector %u%s%s", h.region, h.record, h.sector,
		      h.seed == seed ? "" : " of another run's seed",
		      whole ? "" : " (header only, rest differs)");
	return b;
}

// Checks the n records of a region from sector first (or, lost, that they are
// all zeros); prints the damaged ones and the XB-CHECK (XB-LOST) line.  The
// number damaged, or -1 after a read error (XB-IOERR, no XB-CHECK line).
int64_t check_region(int fd, uint64_t region, uint64_t seed, uint64_t first, uint64_t n, bool lost)
{
	static uint8_t* got;
	static uint64_t got_n;
	static uint8_t* again;
	if (!again)
		again = aligned(kRecord);
	if (got_n < (n ? n : 1)) {
		std::free(got);
		got_n = n ? n : 1;
		got = aligned(got_n * kRecord);
	}
	if (!got || !again) {
		std::printf("XB-IOERR no memory for region %llu\n", static_cast<unsigned long long>(region));
		got_n = 0;
		return -1;
	}
	if (n && pread(fd, got, n * kRecord, static_cast<off_t>(first * kSector)) !=
		     static_cast<ssize_t>(n * kRecord)) {
		std::printf("XB-IOERR read of region %llu: %s\n", static_cast<unsigned long long>(region),
			    std::strerror(errno));
		return -1;
	}
	uint64_t bad = 0;
	uint8_t want[kRecord];
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t* rec = got + i * kRecord;
		if (lost) {
			if (!all_zero(rec, kRecord))
				bad++;
			continue;
		}
		fill_record(want, seed, static_cast<uint32_t>(region), static_cast<uint32_t>(i));
		if (memcmp(rec, want, kRecord) == 0)
			continue;
		bad++;
		const uint64_t sector = first + i * kPerRecord;
		const bool reread = pread(fd, again, kRecord, static_cast<off_t>(sector * kSector)) ==
				    static_cast<ssize_t>(kRecord);
		std::printf("XB-DAMAGED region %llu record %llu at sector %llu; second read %s\n",
			    static_cast<unsigned long long>(region), static_cast<unsigned long long>(i),
			    static_cast<unsigned long long>(sector),
			    !reread ? "failed" : memcmp(again, rec, kRecord) ? "DIFFERS (the read, not the disk?)"
									       : "the same");
		for (unsigned s = 0; s < kPerRecord; s++) {
			if (memcmp(rec + s * kSector, want + s * kSector, kSector) == 0)
				continue;
			std::printf("XB-DAMAGED   sector %u of 8 holds %s\n", s, sector_holds(rec + s * kSector, seed).c_str());
		}
	}
	std::printf("%s %llu %llu %llu\n", lost ? "XB-LOST" : "XB-CHECK", static_cast<unsigned long long>(region),
		    static_cast<unsigned long long>(n), static_cast<unsigned long long>(bad));
	return static_cast<int64_t>(bad);
}

int cmd_check(int argc, char** argv)
{
	uint64_t region, seed, first, n;
	bool lost = false;
	if (argc < 5 || !parse_u64(argv[1], &region) || !parse_u64(argv[2], &seed) ||
	    !parse_u64(argv[3], &first) || !parse_u64(argv[4], &n))
		return usage();
	if (argc == 6 && std::string(argv[5]) == "--lost")
		lost = true;
	else if (argc != 5)
		return usage();
	const int fd = open(argv[0], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		std::printf("XB-IOERR open %s: %s\n", argv[0], std::strerror(errno));
		return 2;
	}
	const int64_t bad = check_region(fd, region, seed, first, n, lost);
	return bad < 0 ? 2 : bad ? 1 : 0;
}

// Every region of LIST ("REGION FIRST_SECTOR RECORDS" a line) in one run: one
// XB-CHECK line per region (none for a region that could not be read), then
// "XB-CHECKED REGIONS DAMAGED".  For re-reading every earlier region after
// each power cut without a process start per region.
int cmd_check_list(int argc, char** argv)
{
	uint64_t seed;
	if (argc != 3 || !parse_u64(argv[1], &seed))
		return usage();
	const int fd = open(argv[0], O_RDONLY | O_DIRECT);
	FILE* list = std::fopen(argv[2], "r");
	if (fd < 0 || !list) {
		std::printf("XB-IOERR open %s or %s: %s\n", argv[0], argv[2], std::strerror(errno));
		return 2;
	}
	unsigned long long region, first, n;
	uint64_t regions = 0, damaged = 0;
	bool ioerr = false;
	while (std::fscanf(list, "%llu %llu %llu", &region, &first, &n) == 3) {
		const int64_t bad = check_region(fd, region, seed, first, n, false);
		regions++;
		if (bad < 0)
			ioerr = true;
		else
			damaged += static_cast<uint64_t>(bad);
	}
	std::fclose(list);
	std::printf("XB-CHECKED %llu %llu\n", static_cast<unsigned long long>(regions),
		    static_cast<unsigned long long>(damaged));
	return ioerr ? 2 : damaged ? 1 : 0;
}

// A dom0 memory canary: a file of MIB mebibytes in tmpfs (page cache: dom0's
// own pages), each 512-byte sector a record sector of region kCanary.  Checked
// after every cut: a page of dom0's that a backend handed back while a domU's
// frame or a bio still reached it would show here, with what it holds instead.
constexpr uint32_t kCanary = 0xcafe;

int cmd_canary(int argc, char** argv, bool check)
{
	uint64_t mib;
	if (argc != 2 || !parse_u64(argv[1], &mib) || !mib)
		return usage();
	const int fd = check ? open(argv[0], O_RDONLY) : open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		std::printf("XB-IOERR open %s: %s\n", argv[0], std::strerror(errno));
		return 2;
	}
	std::vector<uint8_t> want(kRecord), got(kRecord);
	uint64_t bad = 0;
	for (uint64_t i = 0; i < mib * 256; i++) {
		fill_record(want.data(), kCanary, kCanary, static_cast<uint32_t>(i));
		if (!check) {
			if (pwrite(fd, want.data(), kRecord, static_cast<off_t>(i * kRecord)) != static_cast<ssize_t>(kRecord))
				return 2;
			continue;
		}
		if (pread(fd, got.data(), kRecord, static_cast<off_t>(i * kRecord)) != static_cast<ssize_t>(kRecord))
			return 2;
		if (memcmp(got.data(), want.data(), kRecord) == 0)
			continue;
		if (++bad <= 8)
			for (unsigned s = 0; s < kPerRecord; s++)
				if (memcmp(got.data() + s * kSector, want.data() + s * kSector, kSector))
					std::printf("XB-CANARY page %llu sector %u holds %s\n", static_cast<unsigned long long>(i),
						    s, sector_holds(got.data() + s * kSector, kCanary).c_str());
	}
	if (check)
		std::printf("XB-CANARY %llu pages, %llu damaged\n", static_cast<unsigned long long>(mib * 256),
			    static_cast<unsigned long long>(bad));
	close(fd);
	return bad ? 1 : 0;
}

} // namespace

int main(int argc, char** argv)
{
	if (argc < 2)
		return usage();
	const std::string cmd = argv[1];
	if (cmd == "plan")
		return cmd_plan(argc - 2, argv + 2);
	if (cmd == "write")
		return cmd_write(argc - 2, argv + 2);
	if (cmd == "once")
		return cmd_once(argc - 2, argv + 2);
	if (cmd == "check")
		return cmd_check(argc - 2, argv + 2);
	if (cmd == "check-list")
		return cmd_check_list(argc - 2, argv + 2);
	if (cmd == "canary" || cmd == "canary-check")
		return cmd_canary(argc - 2, argv + 2, cmd == "canary-check");
	return usage();
}
