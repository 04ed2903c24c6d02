#!/bin/sh
# make-bare-initrd.sh INIT OUT: a newc cpio initrd holding INIT as /init,
# owned by root, nothing else. It is the boot benchmark's baseline guest
# (see bare-init.c). Written to a temporary file and renamed, so an
# interrupted build never leaves half an initrd.
set -eu

init=${1:?usage: make-bare-initrd.sh INIT OUT}
out=${2:?usage: make-bare-initrd.sh INIT OUT}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$init" "$dir/init"
chmod 0755 "$dir/init"
(cd "$dir" && echo init | cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
