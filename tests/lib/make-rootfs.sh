#!/bin/bash
# make-rootfs.sh OUTDIR: a minimal container root filesystem from Debian's
# busybox-static: /bin/busybox plus one symlink per applet (what
# `busybox --install -s` makes), the directories a container expects, and
# /etc/passwd and /etc/group with a few users for the uid/gid tests.
# Idempotent and atomic: the tree is built beside OUTDIR and renamed into
# place, so an interrupted run never leaves half a rootfs.
set -euo pipefail

out=${1:?usage: make-rootfs.sh OUTDIR}
busybox=${BUSYBOX:-/bin/busybox}

if ! file_out=$(readelf -d "$busybox" 2>&1) || echo "$file_out" | grep -q NEEDED; then
	echo "make-rootfs.sh: $busybox is missing or not static (install busybox-static)" >&2
	exit 1
fi
if [ -x "$out/bin/busybox" ] && cmp -s "$busybox" "$out/bin/busybox"; then
	exit 0
fi

tmp=$(mktemp -d "$(dirname "$out")/.rootfs.XXXXXX")
chmod 0755 "$tmp" # mktemp makes it 0700: the root of a container must be 0755
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/user,var/tmp,run}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$busybox" "$tmp/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$tmp/$(dirname "$applet")"
	ln -sf /bin/busybox "$tmp/$applet"
done
cat >"$tmp/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$tmp/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
user:x:1000:
extra:x:2000:user
nogroup:x:65534:
GROUP
chown 1000:1000 "$tmp/home/user"
echo "conmon-kata-test" >"$tmp/etc/hostname"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
