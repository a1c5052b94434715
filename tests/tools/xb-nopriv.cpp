// SPDX-License-Identifier: GPL-2.0
// xb-nopriv - run a command as user and group nobody (65534), with no
// supplementary groups and so no capabilities: how test scripts check that a
// privileged operation is refused to an ordinary user.
//
//   xb-nopriv CMD [ARGS...]     exit status: CMD's, or 126 if it cannot drop privileges
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <grp.h>
#include <unistd.h>

int main(int argc, char** argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: xb-nopriv CMD [ARGS...]\n");
		return 126;
	}
	if (setgroups(0, nullptr) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
		std::fprintf(stderr, "xb-nopriv: cannot become nobody: %s\n", std::strerror(errno));
		return 126;
	}
	if (geteuid() == 0) {
		std::fprintf(stderr, "xb-nopriv: still root\n");
		return 126;
	}
	execvp(argv[1], argv + 1);
	std::fprintf(stderr, "xb-nopriv: %s: %s\n", argv[1], std::strerror(errno));
	return 127;
}
