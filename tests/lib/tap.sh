#!/bin/sh
# tap.sh - a small TAP producer for test scripts (POSIX sh, works in busybox).
#
#   . tap.sh
#   tap_plan 3                 # optional: "1..3"; without it tap_done prints the plan
#   tap_ok "name" cmd args...  # runs cmd; "ok N - name" or "not ok N - name"
#   tap_is "name" got want     # compares two strings
#                              # (both return 1 on failure: `tap_ok ... || return`)
#   tap_pass "name" / tap_fail "name" "why"
#   tap_skip "name" "why"
#   tap_diag "text"            # "# text"
#   tap_end                    # the script reached its end (its last line)
#   tap_ended "what"           # after the script: fails "what ran to its end" if
#                              # it returned before tap_end with nothing failed
#   tap_done                   # prints the plan if none was given; returns 1 on failure
#
# Lines go to stdout, prefixed with $TAP_PREFIX (empty by default) so that a
# harness can pick them out of a console that carries other output.
TAP_N=0
TAP_FAILED=0
TAP_PLANNED=
TAP_ENDED=
TAP_PREFIX=${TAP_PREFIX:-}

tap_line() { printf '%s%s\n' "$TAP_PREFIX" "$*"; }
tap_plan() { TAP_PLANNED=$1; tap_line "1..$1"; }
tap_diag() { tap_line "# $*"; }
tap_pass() { TAP_N=$((TAP_N + 1)); tap_line "ok $TAP_N - $1"; }
tap_fail() {
	TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
	tap_line "not ok $TAP_N - $1"
	[ -n "${2:-}" ] && tap_diag "$2"
	return 0
}
tap_skip() { TAP_N=$((TAP_N + 1)); tap_line "ok $TAP_N - $1 # SKIP ${2:-}"; }
tap_ok() {
	_name=$1; shift
	if "$@"; then tap_pass "$_name"; else tap_fail "$_name" "command failed: $*"; return 1; fi
}
tap_is() {
	if [ "$2" = "$3" ]; then tap_pass "$1"; else tap_fail "$1" "got '$2', want '$3'"; return 1; fi
}
tap_end() { TAP_ENDED=1; }
# A script that returns early with every check passed would pass having tested
# less than it says: every dom0_main and domu_main ends with tap_end, and the
# test bed calls tap_ended after it.  One that stopped after a failure has
# failed already; the note says where it stopped.
tap_ended() {
	[ -z "$TAP_ENDED" ] || return 0
	if [ "$TAP_FAILED" = 0 ]; then tap_fail "$1 ran to its end" "it returned after test $TAP_N without reaching tap_end"
	else tap_diag "$1 stopped after test $TAP_N, after a failure"; fi
}
tap_done() {
	[ -n "$TAP_PLANNED" ] || tap_line "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ] && { [ -z "$TAP_PLANNED" ] || [ "$TAP_PLANNED" = "$TAP_N" ]; }
}
