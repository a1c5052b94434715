#!/bin/bash
# xenblk: install what the build and the tests need, idempotently.
#
#   scripts/setup.sh            install host packages, add bookworm-backports, fetch
#                               the kernel images the boot tests run
#   scripts/setup.sh --print    print the kernel releases that setup selects
#
# Kernel releases are not hard-coded: the 6.1 release is the one Debian's
# linux-headers-amd64 meta package points at in bookworm(-security), the 6.12
# release the one it points at in bookworm-backports.  The backports entry is
# derived from the machine's own first Debian source entry, so no mirror host is
# ever named here.
set -euo pipefail

SRCDIR=/etc/apt/sources.list.d
BPO_FILE=$SRCDIR/xenblk-bookworm-backports.sources
CACHE=${XENBLK_CACHE:-/var/cache/xenblk}
export DEBIAN_FRONTEND=noninteractive

log() { echo "setup: $*" >&2; }

updated=0
apt_update() { [ $updated = 1 ] || { log "apt-get update"; apt-get update -qq; updated=1; }; }

add_backports() {
  [ -e "$BPO_FILE" ] && return 0
  local src
  src=$(ls "$SRCDIR"/*.sources 2>/dev/null | grep -v xenblk | head -n1 || true)
  if [ -n "$src" ]; then
    # first deb822 stanza, Suites replaced, comments dropped
    awk 'BEGIN{RS=""; FS="\n"} NR==1{for(i=1;i<=NF;i++){ if($i ~ /^#/) continue;
           if($i ~ /^Suites:/) print "Suites: bookworm-backports"; else print $i } exit}' \
        "$src" > "$BPO_FILE.tmp"
  elif [ -f /etc/apt/sources.list ]; then
    local uri
    uri=$(awk '$1=="deb" && $0 ~ / bookworm / {for(i=2;i<=NF;i++) if($i ~ /:\/\//){print $i; exit}}' /etc/apt/sources.list)
    [ -n "$uri" ] || { log "no Debian source entry to derive backports from"; return 1; }
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n' "$uri" > "$BPO_FILE.tmp"
  else
    log "no apt source entries found"; return 1
  fi
  grep -q '^URIs:' "$BPO_FILE.tmp" || { rm -f "$BPO_FILE.tmp"; log "could not derive backports entry"; return 1; }
  mv "$BPO_FILE.tmp" "$BPO_FILE"
  updated=0
  log "added $BPO_FILE"
}

# kernel ABI name (e.g. 6.1.0-56-amd64) the linux-headers-amd64 meta package of a
# given upstream series points at (highest version of that series).
kver_of_series() {
  apt-cache show linux-headers-amd64 2>/dev/null | awk -v s="$1" '
    /^Version:/ {v=$2}
    /^Depends:/ { if (index(v, s) == 1) { match($0, /linux-headers-[^ ,]*/);
                  n=substr($0, RSTART+14, RLENGTH-14); print v, n } }' |
    sort -V | tail -n1 | cut -d' ' -f2
}

HOST_PKGS=(
  build-essential g++ make bc kmod cpio gzip xz-utils zstd file dwarves
  libgtest-dev clang llvm libclang-rt-14-dev
  qemu-system-x86 qemu-system-xen busybox-static
  libnl-genl-3-dev pkg-config
  fdisk e2fsprogs fio util-linux bash coreutils
  gnuplot-nox
  dkms dh-dkms debhelper lintian groff-base
)

missing_pkgs() {
  local p; for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done
}

install_pkgs() {
  local need; need=$(missing_pkgs "$@")
  [ -n "$need" ] || return 0
  apt_update
  log "installing:" $need
  apt-get install -y -qq --no-install-recommends $need >/dev/null
}

# download + extract a kernel image package (not installed: no boot loader hooks)
fetch_image() {
  local kver=$1 dir=$CACHE/kernel/$1
  [ -e "$dir/.done" ] && return 0
  apt_update
  rm -rf "$dir" "$dir.debs"; mkdir -p "$dir" "$dir.debs"
  log "fetching linux-image-$kver"
  (cd "$dir.debs" && apt-get download -qq "linux-image-$kver" 2>/dev/null ||
     apt-get download -qq "linux-image-$kver-unsigned")
  for d in "$dir.debs"/*.deb; do dpkg-deb -x "$d" "$dir"; done
  rm -rf "$dir.debs"
  # modules of newer kernels are compressed: keep a decompressed tree
  find "$dir/lib/modules" "$dir/usr/lib/modules" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
  find "$dir/lib/modules" "$dir/usr/lib/modules" -name '*.ko.zst' -exec zstd -q --rm -d {} + 2>/dev/null || true
  local base
  for base in "$dir" "$dir/usr"; do
    [ -d "$base/lib/modules/$kver" ] && depmod -b "$base" "$kver"
  done
  touch "$dir/.done"
}

main() {
  if [ "${1:-}" = --print ]; then
    echo "KVER_6_1=$(kver_of_series 6.1.)"
    echo "KVER_6_12=$(kver_of_series 6.12.)"
    return 0
  fi
  add_backports
  install_pkgs "${HOST_PKGS[@]}"
  local k61 k612
  k61=$(kver_of_series 6.1.); k612=$(kver_of_series 6.12.)
  if [ -z "$k61" ] || [ -z "$k612" ]; then
    apt_update
    k61=$(kver_of_series 6.1.); k612=$(kver_of_series 6.12.)
  fi
  [ -n "$k61" ] || { log "no 6.1 kernel found in the apt sources"; return 1; }
  [ -n "$k612" ] || { log "no 6.12 kernel found in bookworm-backports"; return 1; }
  install_pkgs "linux-headers-$k61"
  if ! dpkg -s "linux-headers-$k612" >/dev/null 2>&1; then
    apt_update
    log "installing linux-headers-$k612 (bookworm-backports)"
    apt-get install -y -qq --no-install-recommends -t bookworm-backports "linux-headers-$k612" >/dev/null
  fi
  fetch_image "$k61"
  fetch_image "$k612"
  mkdir -p "$CACHE"
  printf 'KVER_6_1=%s\nKVER_6_12=%s\n' "$k61" "$k612" > "$CACHE/kernels.mk"
  log "ready: kernels $k61 $k612"
}

main "$@"
