#!/bin/bash
# contrib/guest/kernel/build-kernel.sh: builds conmon-kata's own guest kernel.
#
# From Debian's kernel source (package linux-source-6.1, a tarball in
# /usr/src) it configures `make tinyconfig` plus guest.config (beside this
# script), checks that every option of guest.config survived, and builds a
# module-free vmlinux with a PVH entry note. Writes into DIR:
#   vmlinux         the kernel, for QEMU's -kernel
#   kernel.release  its release (uname -r), one line
#   config          the full .config it was built from
#   build.key       the inputs it was built from
# Built kernels are cached by the key of their inputs (guest.config, this
# script, the source package's version, the compiler and linker versions):
# a rerun with the same inputs takes milliseconds. See docs/guest-image.md.
set -euo pipefail
export LC_ALL=C

readonly PROG=build-kernel.sh
readonly SOURCE_PACKAGE=linux-source-6.1
readonly LOCALVERSION=-conmon-kata
readonly OUTPUTS=(vmlinux kernel.release config build.key)

die() {
	echo "$PROG: $*" >&2
	exit 1
}

log() {
	echo "$PROG: $*" >&2
}

usage() {
	cat <<EOF
Usage: $PROG --out DIR [--cache DIR] [--source TARBALL] [--jobs N]

Builds conmon-kata's guest kernel from Debian's $SOURCE_PACKAGE: tinyconfig
plus $(dirname "$0")/guest.config, no modules, PVH entry.

Options:
  --out DIR         where vmlinux, kernel.release, config and build.key go
  --cache DIR       where built kernels and the unpacked source are kept,
                    one folder per key (default: DIR/cache)
  --source TARBALL  the kernel source tarball (default: the one the package
                    $SOURCE_PACKAGE installs in /usr/src)
  --jobs N          parallel jobs for make (default: nproc)
  -h, --help        this text

Needs (Debian packages): $SOURCE_PACKAGE gcc make flex bison bc libelf-dev
xz-utils binutils.
EOF
}

out='' cache='' source='' jobs=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--out | --cache | --source | --jobs)
		[ -n "${2:-}" ] || die "$1 needs a value (see --help)"
		case $1 in
		--out) out=$2 ;;
		--cache) cache=$2 ;;
		--source) source=$2 ;;
		--jobs) jobs=$2 ;;
		esac
		shift 2
		;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$out" ] || die "--out DIR is required (see --help)"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs '$jobs' is not a positive number"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
fragment=$here/guest.config
[ -r "$fragment" ] || die "cannot read $fragment"

if [ -z "$source" ]; then
	version=$(dpkg-query -W -f '${Version}' "$SOURCE_PACKAGE" 2>/dev/null) ||
		die "the package $SOURCE_PACKAGE is not installed (run contrib/install-deps.sh)"
	source=/usr/src/$SOURCE_PACKAGE.tar.xz
	source_id="$SOURCE_PACKAGE $version"
else
	source_id="$(basename "$source") $(stat -c '%s %Y' "$source" 2>/dev/null)"
fi
[ -r "$source" ] || die "cannot read the kernel source $source"
for t in gcc make flex bison bc xz readelf; do
	command -v "$t" >/dev/null 2>&1 || die "missing tool '$t' (run contrib/install-deps.sh)"
done

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd -P)
[ -n "$cache" ] || cache=$out/cache
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd -P)

# key_text: everything the kernel is built from.
key_text() {
	echo "# $PROG: the inputs of this kernel"
	echo "fragment $(sha256sum <"$fragment" | cut -d' ' -f1)"
	echo "script $(sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)"
	echo "source $source_id"
	echo "gcc $(gcc --version | head -n 1)"
	echo "ld $(ld --version | head -n 1)"
}
key=$(key_text)
key_sha=$(sha256sum <<<"$key" | cut -d' ' -f1)
built=$cache/kernel-${key_sha:0:16}

install_outputs() {
	local f
	for f in "${OUTPUTS[@]}"; do
		ln -f "$built/$f" "$out/.$f.$$" 2>/dev/null || cp "$built/$f" "$out/.$f.$$"
		mv -f "$out/.$f.$$" "$out/$f"
	done
}

if [ -f "$built/build.key" ] && [ "$(cat "$built/build.key")" = "$key" ]; then
	if ! cmp -s "$built/build.key" "$out/build.key" 2>/dev/null; then
		install_outputs
	fi
	log "kernel $(cat "$built/kernel.release") is up to date (cached in $built)"
	exit 0
fi

# One build at a time per cache.
exec {lockfd}>"$cache/.lock"
if ! flock -n "$lockfd"; then
	log "waiting for another build holding $cache/.lock"
	flock "$lockfd"
fi

start=$EPOCHREALTIME
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# The unpacked source is kept per source, since unpacking takes a minute.
src=$cache/source-$(sha256sum <<<"$source_id" | cut -c1-16)
if [ ! -f "$src/.unpacked" ]; then
	rm -rf "$src" && mkdir -p "$src.tmp.$$"
	log "unpacking $source"
	tar -C "$src.tmp.$$" --strip-components=1 -xJf "$source" || die "cannot unpack $source"
	touch "$src.tmp.$$/.unpacked"
	mv -T "$src.tmp.$$" "$src"
fi

obj=$tmp/obj
make_k() {
	make -s -C "$src" O="$obj" ARCH=x86_64 LOCALVERSION= "$@"
}
log "configuring: tinyconfig + ${fragment#"$here"/}"
make_k tinyconfig >/dev/null || die "make tinyconfig failed"
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment" >"$tmp/merge.log" 2>&1 ||
	die "merging guest.config failed: $(tail -n 3 "$tmp/merge.log")"
echo "CONFIG_LOCALVERSION=\"$LOCALVERSION\"" >>"$obj/.config"
make_k olddefconfig >/dev/null || die "make olddefconfig failed"

# Every "CONFIG_X=v" of the fragment must be in the result as written, and
# every "# CONFIG_X is not set" must not be set: Kconfig drops an option
# whose dependencies are missing without a word.
dropped=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$obj/.config" || dropped+=("$line")
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$obj/.config" || dropped+=("$line")
		;;
	esac
done <"$fragment"
[ ${#dropped[@]} -eq 0 ] ||
	die "guest.config: Kconfig did not keep ${dropped[*]} (a dependency is missing, or the option does not exist in this source)"

log "building vmlinux with $jobs jobs"
if ! make_k -j"$jobs" vmlinux >"$tmp/make.log" 2>&1; then
	tail -n 20 "$tmp/make.log" >&2
	die "the kernel build failed (last lines above)"
fi
readelf -nW "$obj/vmlinux" 2>/dev/null | grep -q 'PHYS32_ENTRY\|(0x00000012)' ||
	die "the built vmlinux has no PVH entry note (CONFIG_PVH)"

b=$tmp/out
mkdir "$b"
cp "$obj/vmlinux" "$b/vmlinux"
make_k -s kernelrelease >"$b/kernel.release"
cp "$obj/.config" "$b/config"
echo "$key" >"$b/build.key"
chmod 0644 "$b"/*
chmod 0755 "$b"
rm -rf "$built"
mv -T "$b" "$built"
# Only the newest kernel is kept.
for old in "$cache"/kernel-*; do
	[ "$old" = "$built" ] || rm -rf "$old"
done
install_outputs

now=$EPOCHREALTIME
us=$((${now/./} - ${start/./}))
log "kernel $(cat "$out/kernel.release"): vmlinux $(stat -c %s "$out/vmlinux") bytes, built in $((us / 1000000)).$(((us % 1000000) / 100000)) s"
