#!/bin/bash
# contrib/guest/build-image.sh: builds the guest image of conmon-kata.
#
# From a kernel and the static agent it writes into DIR (the kernel is
# either conmon-kata's own, built by kernel/build-kernel.sh and given with
# --kernel, or Debian's packaged generic kernel, taken from its .deb, never
# installed):
#   vmlinux         the uncompressed kernel (ELF with a PVH entry note), for
#                   QEMU's -kernel: direct boot, no firmware, no decompression
#   vmlinuz         the package's bzImage, as a fallback (Debian's only)
#   initrd.img      an uncompressed newc cpio: /init (the agent, stripped),
#                   the kernel modules the guest needs and their load order, and with
#                   --hooks the guest hooks in /usr/share/oci/hooks
#   kernel.release  the kernel's release (uname -r), one line
#   modules.txt     the modules in load order, one name per line
#   image.stamp     the inputs of this image (sha256 of each), so that a
#                   rerun with the same inputs exits at once
# See docs/guest-image.md, and --help.
set -euo pipefail
shopt -s nullglob
export LC_ALL=C

readonly PROG=build-image.sh
# Bump when the layout of the image or of the cache changes: it is part of
# every stamp and cache key.
readonly FORMAT=1
readonly METAPACKAGE=linux-image-amd64
readonly DEFAULT_MODULES=(
	virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev
	virtio_console
	9pnet 9pnet_virtio 9p netfs fscache
	virtio_net failover net_failover
)
OUTPUTS=(vmlinux vmlinuz initrd.img kernel.release modules.txt)
readonly STAMP=image.stamp
# Where --hooks DIR lands in the initrd (Kata's conventional guest_hook_path).
readonly HOOKS_PATH=usr/share/oci/hooks

die() {
	echo "$PROG: $*" >&2
	exit 1
}

log() {
	echo "$PROG: $*" >&2
}

usage() {
	cat <<EOF
Usage: $PROG --agent PATH --out DIR [OPTION]...
       $PROG --extract-vmlinux BZIMAGE OUTFILE

Builds the conmon-kata guest image from a kernel and the static agent. The
kernel is conmon-kata's own (--kernel DIR, as built by
contrib/guest/kernel/build-kernel.sh: module-free) or, without --kernel,
Debian's packaged generic kernel (apt-get download + dpkg -x, never
installed), whose modules the guest needs go into the initrd.

Writes into DIR:
  vmlinux         uncompressed kernel with a PVH entry note (qemu -kernel)
  vmlinuz         the package's original bzImage (fallback; Debian's kernel
                  only)
  initrd.img      uncompressed newc cpio: /init = the agent, the kernel
                  modules in /lib/modules/RELEASE/, their load order in
                  /lib/modules/load-order; with --hooks, /$HOOKS_PATH
  kernel.release  the kernel release, e.g. 6.1.0-56-amd64
  modules.txt     the modules in load order, one name per line
  $STAMP     the sha256 of every input; when it matches, a rerun exits
                  at once without touching the network or the image

Options:
  --agent PATH           the agent binary, statically linked (becomes /init)
  --kernel DIR           use the module-free kernel in DIR (vmlinux and
                         kernel.release, from kernel/build-kernel.sh) instead
                         of Debian's package
  --out DIR              output directory (created when missing)
  --cache DIR            where the kernel .deb and the extracted kernel are
                         kept (default: DIR/cache); with a cached .deb no
                         network is needed
  --kernel-package NAME  the exact kernel package, e.g.
                         linux-image-6.1.0-56-amd64 (default: what
                         $METAPACKAGE depends on, resolved when no .deb is
                         cached yet)
  --extra-module NAME    load this module too (with its dependencies);
                         repeatable
  --busybox PATH         add this static busybox as /bin/busybox (debug shell)
  --hooks DIR            copy DIR into the initrd as /$HOOKS_PATH:
                         Kata's guest hooks, executables in DIR/prestart/,
                         DIR/poststart/ and DIR/poststop/ that the agent runs
                         for every container when guest_hook_path is
                         /$HOOKS_PATH. The guest has no shell or
                         libraries: every executable file in DIR must be a
                         static binary. Modes are kept as "executable or
                         not" (0755 or 0644).
  --force                rebuild even when the stamp matches
  --extract-vmlinux BZIMAGE OUTFILE
                         only extract and check the vmlinux of a bzImage
  -h, --help             this text

Modules always included with Debian's kernel (with their dependencies, in
load order; our own kernel has them built in):
  ${DEFAULT_MODULES[*]}

Environment:
  SOURCE_DATE_EPOCH      the mtime of every file in initrd.img (default 0)

Needs (Debian packages): apt dpkg xz-utils cpio kmod binutils coreutils
util-linux; zstd or gzip only for kernels compressed that way.
EOF
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "missing tool '$t' (Debian package: $(tool_package "$t")); run contrib/install-deps.sh"
	done
}

tool_package() {
	case $1 in
	apt-get | apt-cache) echo apt ;;
	dpkg | dpkg-deb) echo dpkg ;;
	xz) echo xz-utils ;;
	zstd) echo zstd ;;
	gzip) echo gzip ;;
	cpio) echo cpio ;;
	depmod | modprobe) echo kmod ;;
	readelf | strip) echo binutils ;;
	flock) echo util-linux ;;
	*) echo coreutils ;;
	esac
}

sha256_of() {
	local sum
	sum=$(sha256sum <"$1") || die "cannot read $1"
	echo "${sum%% *}"
}

elapsed() {
	local now=$EPOCHREALTIME
	# EPOCHREALTIME is seconds.microseconds
	local us=$((${now/./} - ${START/./}))
	printf '%d.%02d s' $((us / 1000000)) $(((us % 1000000) / 10000))
}

# --- checks on ELF files ------------------------------------------------------

# check_static WHAT FILE: an x86-64 ELF executable with no interpreter and no
# shared libraries, or die.
check_static() {
	local what=$1 file=$2 header segments dynamic
	header=$(readelf -hW "$file" 2>/dev/null) || die "$what $file is not an ELF file"
	grep -q 'Machine:.*X86-64' <<<"$header" || die "$what $file is not an x86-64 binary"
	grep -Eq 'Type:[[:space:]]+(EXEC|DYN)' <<<"$header" || die "$what $file is not an executable"
	segments=$(readelf -lW "$file" 2>/dev/null) || true
	dynamic=$(readelf -dW "$file" 2>/dev/null) || true
	if grep -Eq '^[[:space:]]*INTERP[[:space:]]' <<<"$segments"; then
		die "$what $file is dynamically linked (it has a program interpreter); link it with -static"
	fi
	if grep -q '(NEEDED)' <<<"$dynamic"; then
		die "$what $file needs shared libraries ($(awk '/\(NEEDED\)/ {printf "%s ", $NF}' <<<"$dynamic" | tr -d '[]')); link it with -static"
	fi
}

# elf_complete FILE: FILE is an ELF whose program and section headers and
# segments all fit in the file (catches a truncated decompression).
elf_complete() {
	local file=$1 size magic end=0 shoff shnum shentsize off filesz
	magic=$(od -An -tx1 -N4 "$file" 2>/dev/null | tr -d ' \n')
	[ "$magic" = 7f454c46 ] || return 1
	size=$(stat -c %s "$file")
	local header
	header=$(readelf -hW "$file" 2>/dev/null) || return 1
	shoff=$(awk -F: '/Start of section headers/ {print $2+0}' <<<"$header")
	shnum=$(awk -F: '/Number of section headers/ {print $2+0}' <<<"$header")
	shentsize=$(awk -F: '/Size of section headers/ {print $2+0}' <<<"$header")
	end=$((shoff + shnum * shentsize))
	while read -r off filesz; do
		((off + filesz > end)) && end=$((off + filesz))
	done < <(readelf -lW "$file" 2>/dev/null | awk '$1 == "LOAD" || $1 == "NOTE" {print $2, $5}')
	((end > 0 && end <= size))
}

# has_pvh_note FILE: readelf shows a Xen note of type 0x12
# (XEN_ELFNOTE_PHYS32_ENTRY), the 32-bit entry point of a PVH boot.
has_pvh_note() {
	readelf -nW "$1" 2>/dev/null |
		awk '$1 == "Xen" && (/\(0x00000012\)/ || /PHYS32_ENTRY/) {found = 1} END {exit !found}'
}

# --- vmlinux from a bzImage ---------------------------------------------------

# decompress FORMAT FILE OFFSET [LENGTH] > OUT: decompress the stream at
# OFFSET of FILE. The exit status is not trusted (gzip and zstd complain
# about the data that follows the stream); the caller checks the result.
decompress() {
	local format=$1 file=$2 offset=$3 length=${4:-}
	local count=()
	[ -n "$length" ] && count=("count=$length")
	(
		set +o pipefail
		dd if="$file" iflag=skip_bytes,count_bytes bs=1M skip="$offset" "${count[@]}" status=none |
			case $format in
			xz) xz -dc --single-stream ;;
			zstd) zstd -dcq ;;
			gzip) gzip -dcq ;;
			esac
	) 2>/dev/null || true
}

format_at() {
	local sig
	sig=$(od -An -tx1 -j "$2" -N6 "$1" 2>/dev/null | tr -d ' \n')
	case $sig in
	fd377a585a00) echo xz ;;
	28b52ffd*) echo zstd ;;
	1f8b08*) echo gzip ;;
	*) echo unknown ;;
	esac
}

need_decompressor() {
	case $1 in
	xz) need_tool xz ;;
	zstd) need_tool zstd ;;
	gzip) need_tool gzip ;;
	esac
}

le_u() { # le_u FILE OFFSET BYTES: little-endian unsigned integer
	od --endian=little -An -t "u$3" -j "$2" -N "$3" "$1" 2>/dev/null | tr -d ' \n'
}

# extract_vmlinux BZIMAGE OUT: write the kernel ELF inside BZIMAGE to OUT.
# First where the boot header says the payload is (boot protocol >= 2.08:
# payload_offset/payload_length, relative to the protected-mode code that
# starts after the setup sectors); then, for any other image, at each place
# that carries the magic of an xz, zstd or gzip stream.
extract_vmlinux() {
	local bz=$1 out=$2 format offset length
	[ -f "$bz" ] || die "no bzImage at $bz"
	if [ "$(od -An -c -j $((0x202)) -N4 "$bz" 2>/dev/null | tr -d ' \n')" = HdrS ] &&
		(($(le_u "$bz" $((0x206)) 2) >= 0x208)); then
		local setup_sects
		setup_sects=$(le_u "$bz" $((0x1f1)) 1)
		((setup_sects == 0)) && setup_sects=4
		offset=$(((setup_sects + 1) * 512 + $(le_u "$bz" $((0x248)) 4)))
		length=$(le_u "$bz" $((0x24c)) 4)
		format=$(format_at "$bz" "$offset")
		if [ "$format" != unknown ]; then
			need_decompressor "$format"
			decompress "$format" "$bz" "$offset" "$length" >"$out"
			if elf_complete "$out"; then
				log "vmlinux: $format payload at offset $offset (from the boot header), $(stat -c %s "$out") bytes"
				check_vmlinux "$out"
				return 0
			fi
		fi
	fi
	local magic
	for format in xz zstd gzip; do
		case $format in
		xz) magic='\xfd7zXZ\x00' ;;
		zstd) magic='\x28\xb5\x2f\xfd' ;;
		gzip) magic='\x1f\x8b\x08' ;;
		esac
		local offsets
		offsets=$(LC_ALL=C grep -obUaP "$magic" "$bz" 2>/dev/null | cut -d: -f1 | head -n 16) || true
		[ -n "$offsets" ] || continue
		need_decompressor "$format"
		for offset in $offsets; do
			decompress "$format" "$bz" "$offset" >"$out"
			if elf_complete "$out"; then
				log "vmlinux: $format stream at offset $offset (found by its magic), $(stat -c %s "$out") bytes"
				check_vmlinux "$out"
				return 0
			fi
		done
	done
	rm -f "$out"
	die "no xz, zstd or gzip stream in $bz decompresses to a complete ELF kernel"
}

check_vmlinux() {
	has_pvh_note "$1" ||
		die "the kernel has no PVH entry note (Xen ELF note 0x12, XEN_ELFNOTE_PHYS32_ENTRY): it cannot boot directly with qemu -kernel; use a kernel built with CONFIG_PVH=y"
}

# --- arguments -----------------------------------------------------------------

# Temporary files and directories, removed on any exit.
tmpdirs=()
cleanup() {
	local d
	for d in "${tmpdirs[@]}"; do
		[ -n "$d" ] && rm -rf -- "$d"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

START=$EPOCHREALTIME
agent='' out='' cache='' kernel_package='' kernel_dir='' busybox='' hooks='' force=0
extra_modules=()

optarg() { # optarg OPTION VALUE: die when VALUE is missing
	[ -n "${2:-}" ] || die "$1 needs a value (see --help)"
}

while [ $# -gt 0 ]; do
	opt=$1
	val=''
	case $opt in
	--*=*)
		val=${opt#*=}
		opt=${opt%%=*}
		set -- "$opt" "$val" "${@:2}"
		;;
	esac
	case $opt in
	-h | --help)
		usage
		exit 0
		;;
	--agent | --out | --cache | --kernel | --kernel-package | --extra-module | --busybox | --hooks)
		optarg "$opt" "${2:-}"
		case $opt in
		--agent) agent=$2 ;;
		--kernel) kernel_dir=$2 ;;
		--out) out=$2 ;;
		--cache) cache=$2 ;;
		--kernel-package) kernel_package=$2 ;;
		--extra-module) extra_modules+=("$2") ;;
		--busybox) busybox=$2 ;;
		--hooks) hooks=$2 ;;
		esac
		shift 2
		;;
	--force)
		force=1
		shift
		;;
	--extract-vmlinux)
		[ $# -eq 3 ] || die "usage: $PROG --extract-vmlinux BZIMAGE OUTFILE"
		need_tool od dd readelf grep
		tmp=$3.tmp.$$
		tmpdirs+=("$tmp")
		extract_vmlinux "$2" "$tmp"
		mv -f "$tmp" "$3"
		log "$3: ELF with a PVH entry note"
		exit 0
		;;
	*)
		die "unknown argument '$opt' (see --help)"
		;;
	esac
done

[ -n "$agent" ] || die "--agent PATH is required (see --help)"
[ -n "$out" ] || die "--out DIR is required (see --help)"
[ -e "$agent" ] || die "agent $agent does not exist (build it first: ninja -C BUILDDIR agent/kata-agent)"
{ [ -f "$agent" ] && [ -r "$agent" ]; } || die "agent $agent is not a readable file"
if [ -n "$busybox" ]; then
	{ [ -f "$busybox" ] && [ -r "$busybox" ]; } || die "busybox $busybox is not a readable file"
fi
if [ -n "$hooks" ]; then
	{ [ -d "$hooks" ] && [ -r "$hooks" ] && [ -x "$hooks" ]; } || die "hooks $hooks is not a readable directory"
	hooks=$(cd "$hooks" && pwd -P)
fi
if [ -n "$kernel_package" ] && ! [[ $kernel_package =~ ^[a-z0-9][a-z0-9.+-]+$ ]]; then
	die "--kernel-package '$kernel_package' is not a Debian package name"
fi
if [ -n "$kernel_dir" ]; then
	[ -z "$kernel_package" ] || die "--kernel and --kernel-package exclude each other"
	[ ${#extra_modules[@]} -eq 0 ] || die "--extra-module: the kernel of --kernel has no modules"
	for f in vmlinux kernel.release; do
		[ -r "$kernel_dir/$f" ] || die "--kernel $kernel_dir has no $f (build it with contrib/guest/kernel/build-kernel.sh)"
	done
	kernel_dir=$(cd "$kernel_dir" && pwd -P)
	OUTPUTS=(vmlinux initrd.img kernel.release modules.txt)
	modules=()
else
	modules=("${DEFAULT_MODULES[@]}")
fi
for m in "${extra_modules[@]}"; do
	[[ $m =~ ^[A-Za-z0-9_-]+$ ]] || die "--extra-module '$m' is not a module name"
	modules+=("$m")
done
epoch=${SOURCE_DATE_EPOCH:-0}
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH '$epoch' is not a number of seconds"

need_tool sha256sum stat
self=$(readlink -f "${BASH_SOURCE[0]}")
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd -P)
[ -n "$cache" ] || cache=$out/cache
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd -P)

# One build at a time in DIR, and one at a time using the cache.
lock() { # lock FILE
	command -v flock >/dev/null 2>&1 || return 0
	local fd
	exec {fd}>"$1"
	if ! flock -n "$fd"; then
		log "waiting for another build holding $1"
		flock "$fd"
	fi
}
lock "$out/.lock"

# --- the kernel package -------------------------------------------------------

# cached_deb PACKAGE: the newest cached .deb of PACKAGE, or nothing.
cached_deb() {
	local debs=("$cache/$1"_*_amd64.deb)
	[ ${#debs[@]} -gt 0 ] || return 0
	printf '%s\n' "${debs[@]}" | sort -V | tail -n 1
}

# deb_sha256 DEB: its sha256, remembered in DEB.sha256 with the file's size,
# mtime and inode, so that a rerun does not hash 70 MB again.
deb_sha256() {
	local deb=$1 id sum line
	id=$(stat -c '%s %Y %i' "$deb")
	if [ -f "$deb.sha256" ]; then
		read -r line <"$deb.sha256" || true
		if [ "${line#* }" = "$id" ]; then
			echo "${line%% *}"
			return 0
		fi
	fi
	sum=$(sha256_of "$deb")
	echo "$sum $id" >"$deb.sha256.$$" && mv -f "$deb.sha256.$$" "$deb.sha256"
	echo "$sum"
}

pkg=$kernel_package
deb=''
if [ -z "$pkg" ] && [ -f "$cache/kernel-package" ]; then
	read -r pkg <"$cache/kernel-package" || true
fi
if [ -n "$pkg" ]; then
	deb=$(cached_deb "$pkg")
fi
# The remembered package's .deb is gone: resolve again.
if [ -z "$deb" ] && [ -z "$kernel_package" ]; then
	pkg=''
fi

# stamp_text: the inputs of the image, one per line.
stamp_text() {
	echo "# $PROG: the inputs of this image; a rerun with the same inputs keeps it"
	echo "format $FORMAT"
	echo "script $script_sha"
	if [ -n "$kernel_dir" ]; then
		echo "kernel $kernel_dir $(cat "$kernel_dir/kernel.release") $kernel_sha"
	else
		echo "kernel-package $pkg"
		echo "kernel-deb $(basename "$deb") $deb_sha"
	fi
	echo "agent $agent_sha"
	echo "busybox ${busybox_sha:-none}"
	echo "hooks ${hooks_sha:-none}"
	echo "modules ${modules[*]}"
	echo "source-date-epoch $epoch"
}

# outputs_text: the size of each output, checked by the fast path.
outputs_text() {
	local f
	for f in "${OUTPUTS[@]}"; do
		echo "output $f $(stat -c %s "$1/$f")"
	done
}

script_sha=$(sha256_of "$self")
agent_sha=$(sha256_of "$agent")
busybox_sha=''
[ -n "$busybox" ] && busybox_sha=$(sha256_of "$busybox")

# hooks_entries DIR: every entry of DIR, one per line, sorted by path:
# "dir PATH", "file PATH x|- SHA256" (x: an execute bit is set), "link
# PATH TARGET". That is all the initrd keeps of DIR, so the sha256 of this
# list stands for DIR in the stamp.
hooks_entries() {
	local type mode p x
	(cd "$1" && find . -mindepth 1 -printf '%P\t%y %m\n') | LC_ALL=C sort | while IFS=$'\t' read -r p type; do
		case $p in
		*[[:space:]]*) die "hooks: '$p' in $1: names with white space are not supported" ;;
		esac
		mode=${type#* }
		case ${type%% *} in
		d) echo "dir $p" ;;
		l) echo "link $p $(readlink "$1/$p")" ;;
		f)
			x=-
			((8#$mode & 8#111)) && x=x
			echo "file $p $x $(sha256_of "$1/$p")"
			;;
		*) die "hooks: $1/$p is neither a file, a directory nor a symlink" ;;
		esac
	done
}
# hooks_executables: the executable files of the hooks, one path a line.
hooks_executables() {
	awk '$1 == "file" && $3 == "x" {print $2}' <<<"$hooks_list"
}
hooks_sha='' hooks_list=''
if [ -n "$hooks" ]; then
	hooks_list=$(hooks_entries "$hooks") || exit 1
	hooks_sha=$(sha256sum <<<"$hooks_list")
	hooks_sha=${hooks_sha%% *}
fi

kernel_sha=''
[ -n "$kernel_dir" ] && kernel_sha=$(sha256_of "$kernel_dir/vmlinux")
if { [ -n "$deb" ] || [ -n "$kernel_dir" ]; } && [ "$force" = 0 ] && [ -f "$out/$STAMP" ]; then
	[ -n "$deb" ] && deb_sha=$(deb_sha256 "$deb")
	up_to_date=1
	for f in "${OUTPUTS[@]}"; do
		[ -f "$out/$f" ] || up_to_date=0
	done
	if [ "$up_to_date" = 1 ] && [ "$(stamp_text; outputs_text "$out")" = "$(cat "$out/$STAMP")" ]; then
		# Newer mtimes for make/ninja, whose inputs may have been touched
		# without changing.
		touch -c "${OUTPUTS[@]/#/$out/}" "$out/$STAMP"
		log "$out is up to date ($(elapsed))"
		exit 0
	fi
fi

# --- a build from here on -----------------------------------------------------

need_tool dpkg dpkg-deb tar cpio depmod modprobe readelf od dd sort touch strip
check_static agent "$agent"
[ -n "$busybox" ] && check_static busybox "$busybox"
for p in $(hooks_executables); do
	check_static "guest hook" "$hooks/$p"
done

lock "$cache/.lock"
rm -rf "$out"/.build.* "$cache"/.download.* "$cache"/.kit.*

resolve_package() {
	need_tool apt-cache
	log "resolving the kernel package: apt-cache depends $METAPACKAGE"
	local deps
	deps=$(apt-cache depends "$METAPACKAGE" 2>/dev/null) ||
		die "cannot resolve the kernel package: apt does not know $METAPACKAGE (run 'apt-get update' first)"
	pkg=$(awk '$1 == "Depends:" || $1 == "|Depends:" {print $2}' <<<"$deps" | tr -d '<>' |
		grep -E '^linux-image-[0-9][^ ]*-amd64$' | grep -Ev -- '-(cloud|rt)-amd64$' | head -n 1) || true
	[ -n "$pkg" ] ||
		die "cannot resolve the kernel package: $METAPACKAGE depends on no generic linux-image-VERSION-amd64 (run 'apt-get update' first, or pass --kernel-package)"
	log "kernel package: $pkg"
}

download_package() {
	need_tool apt-get apt-cache
	apt-cache show "$pkg" >/dev/null 2>&1 ||
		die "cannot resolve the kernel package: apt does not know $pkg (run 'apt-get update' first?)"
	local dl
	dl=$(mktemp -d "$cache/.download.XXXXXX")
	tmpdirs+=("$dl")
	# apt-get download writes into the working directory; as root it fetches
	# as the _apt user, which must be able to write there.
	if [ "$(id -u)" = 0 ] && getent passwd _apt >/dev/null 2>&1; then
		chown _apt "$dl" 2>/dev/null || true
	fi
	log "downloading $pkg (apt-get download)"
	(cd "$dl" && apt-get download -q "$pkg") >&2 ||
		die "cannot download $pkg: apt-get download failed (network, or stale apt lists: run 'apt-get update')"
	local got=("$dl"/*.deb)
	[ ${#got[@]} -eq 1 ] || die "apt-get download $pkg left ${#got[@]} .deb files, expected 1"
	[ "$(dpkg-deb -f "${got[0]}" Package 2>/dev/null)" = "$pkg" ] ||
		die "the downloaded ${got[0]##*/} is not the package $pkg"
	deb=$cache/${got[0]##*/}
	mv -f "${got[0]}" "$deb"
	chmod 0644 "$deb"
}

# --- conmon-kata's own kernel: a kit of vmlinux and its release, no modules ---

if [ -n "$kernel_dir" ]; then
	kit=$cache/kit-ours-${kernel_sha:0:16}
	if [ ! -d "$kit" ]; then
		k=$(mktemp -d "$cache/.kit.XXXXXX")
		tmpdirs+=("$k")
		cp "$kernel_dir/vmlinux" "$k/vmlinux"
		check_vmlinux "$k/vmlinux"
		cp "$kernel_dir/kernel.release" "$k/kernel.release"
		: >"$k/modules.txt"
		chmod 0755 "$k"
		mv -T "$k" "$kit" || die "cannot move the kernel kit to $kit"
		for old in "$cache"/kit-ours-*; do
			[ "$old" = "$kit" ] || rm -rf "$old"
		done
	fi
fi

if [ -z "$deb" ] && [ -z "$kernel_dir" ]; then
	[ -n "$pkg" ] || resolve_package
	deb=$(cached_deb "$pkg")
	[ -n "$deb" ] || download_package
fi
if [ -z "$kernel_dir" ]; then
	echo "$pkg" >"$cache/kernel-package.$$" && mv -f "$cache/kernel-package.$$" "$cache/kernel-package"
	deb_sha=$(deb_sha256 "$deb")
	log "kernel package $pkg: ${deb##*/}"
fi

# --- the kernel kit: vmlinux, vmlinuz and the modules, cached per .deb --------
#
# Everything that depends only on the .deb, the module list and this script
# is kept in CACHE/kit-KEY, so that a new agent rebuilds only the cpio.

if [ -z "$kernel_dir" ]; then
	kit_key=$(printf '%s\n' "kit $FORMAT" "$script_sha" "$deb_sha" "${modules[*]}" | sha256sum)
	kit=$cache/kit-${kit_key:0:16}
fi

build_kit() {
	local k root release vmlinuz moddir
	k=$(mktemp -d "$cache/.kit.XXXXXX")
	tmpdirs+=("$k")
	root=$k/root
	log "extracting ${deb##*/} (dpkg -x)"
	dpkg -x "$deb" "$root" || die "dpkg -x ${deb##*/} failed"

	local images=("$root"/boot/vmlinuz-*)
	[ ${#images[@]} -eq 1 ] || die "${deb##*/} holds ${#images[@]} boot/vmlinuz-* files, expected 1"
	vmlinuz=${images[0]}
	release=${vmlinuz##*/vmlinuz-}
	# A merged-/usr package ships usr/lib/modules; depmod and modprobe -d
	# look in lib/modules.
	if [ ! -d "$root/lib/modules/$release" ] && [ -d "$root/usr/lib/modules/$release" ] && [ ! -e "$root/lib" ]; then
		ln -s usr/lib "$root/lib"
	fi
	moddir=$root/lib/modules/$release
	[ -d "$moddir" ] || die "${deb##*/} has no lib/modules/$release"

	cp "$vmlinuz" "$k/vmlinuz"
	extract_vmlinux "$vmlinuz" "$k/vmlinux"

	# An empty configuration directory: the host's /etc/modprobe.d and
	# /etc/depmod.d must not change the guest's modules.
	mkdir "$k/empty.d"
	log "depmod $release"
	depmod -C "$k/empty.d" -b "$root" "$release" || die "depmod -b $root $release failed"

	local m line path base names=() seen=" "
	mkdir "$k/modules"
	for m in "${modules[@]}"; do
		local deps
		if ! deps=$(modprobe -C "$k/empty.d" -d "$root" -S "$release" --show-depends "$m" 2>&1); then
			case $deps in
			*"not found"*) die "module $m is not in $pkg ($release)" ;;
			*) die "modprobe --show-depends $m failed: ${deps//$'\n'/ }" ;;
			esac
		fi
		while read -r line; do
			case $line in
			"builtin "*) continue ;;
			"insmod "*) ;;
			*) die "module $m: unexpected line from modprobe --show-depends: $line" ;;
			esac
			path=${line#insmod }
			path=${path%% *}
			base=${path##*/}
			base=${base%%.ko*}
			case $seen in *" $base "*) continue ;; esac
			seen+="$base "
			case $path in
			*.ko) cp "$path" "$k/modules/$base.ko" ;;
			*.ko.xz) need_tool xz && xz -dc "$path" >"$k/modules/$base.ko" ;;
			*.ko.zst) need_tool zstd && zstd -dcq "$path" >"$k/modules/$base.ko" ;;
			*.ko.gz) need_tool gzip && gzip -dc "$path" >"$k/modules/$base.ko" ;;
			*) die "module $m: unknown module file type $path" ;;
			esac || die "cannot copy $path"
			names+=("$base")
		done <<<"$deps"
	done
	[ ${#names[@]} -gt 0 ] || die "no module to load: every module is built into $release"
	printf '%s\n' "${names[@]}" >"$k/modules.txt"
	echo "$release" >"$k/kernel.release"
	rm -rf "$root" "$k/empty.d"
	chmod 0755 "$k"
	mv -T "$k" "$kit" || die "cannot move the kernel kit to $kit"
	# Only the newest kit is kept.
	local old
	for old in "$cache"/kit-*; do
		[ "$old" = "$kit" ] || rm -rf "$old"
	done
}

if [ -n "$kernel_dir" ]; then
	log "kernel: our own, $kernel_dir"
elif [ -d "$kit" ]; then
	log "kernel kit cached in $kit"
else
	build_kit
fi
release=$(<"$kit/kernel.release")
mapfile -t names <"$kit/modules.txt"
log "modules: ${names[*]:-none}"

# --- the initrd -----------------------------------------------------------------

b=$(mktemp -d "$out/.build.XXXXXX")
tmpdirs+=("$b")
s=$b/root
mkdir -p "$s"/{dev,proc,sys,run,tmp,mnt,etc,lib/modules/"$release"}
# without its symbols and debug information (the build tree keeps them):
# every guest holds /init twice, in the initrd QEMU loads and in the
# rootfs it unpacks to (docs/performance.md)
strip -o "$s/init" "$agent" || die "cannot strip $agent"
if [ -n "$busybox" ]; then
	mkdir "$s/bin"
	cp "$busybox" "$s/bin/busybox"
fi
if [ -n "$hooks" ]; then
	mkdir -p "$s/$HOOKS_PATH"
	cp -R -P "$hooks/." "$s/$HOOKS_PATH/" || die "cannot copy the hooks of $hooks"
fi
for n in "${names[@]}"; do
	cp "$kit/modules/$n.ko" "$s/lib/modules/$release/$n.ko"
	echo "/lib/modules/$release/$n.ko"
done >"$s/lib/modules/load-order"

# Fixed modes and mtimes: the same inputs give the same bytes.
find "$s" -type d -exec chmod 0755 {} +
find "$s" -type f -exec chmod 0644 {} +
chmod 1777 "$s/tmp"
chmod 0755 "$s/init"
[ -n "$busybox" ] && chmod 0755 "$s/bin/busybox"
for p in $(hooks_executables); do
	chmod 0755 "$s/$HOOKS_PATH/$p"
done
find "$s" -exec touch -h -d "@$epoch" {} +

(cd "$s" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) >"$b/initrd.img" ||
	die "cpio failed"
rm -rf "$s"

# --- outputs, installed atomically ----------------------------------------------

for f in vmlinux vmlinuz; do
	[ -f "$kit/$f" ] || continue
	ln -f "$kit/$f" "$b/$f" 2>/dev/null || cp "$kit/$f" "$b/$f"
done
cp "$kit/kernel.release" "$b/kernel.release"
cp "$kit/modules.txt" "$b/modules.txt"
chmod 0644 "${OUTPUTS[@]/#/$b/}"
touch "${OUTPUTS[@]/#/$b/}"
{
	stamp_text
	outputs_text "$b"
} >"$b/$STAMP"

# The stamp goes first and comes back last: an interrupted install leaves no
# stamp, and the next run rebuilds.
rm -f "$out/$STAMP"
# Debian's vmlinuz does not belong with our kernel.
[ -n "$kernel_dir" ] && rm -f "$out/vmlinuz"
for f in "${OUTPUTS[@]}" "$STAMP"; do
	if [ "$b/$f" -ef "$out/$f" ]; then
		# vmlinux and vmlinuz are hard links into the kit: already there
		rm -f "$b/$f"
	else
		mv -f "$b/$f" "$out/$f" || die "cannot install $f in $out"
	fi
done
log "$out: kernel $release, initrd.img $(stat -c %s "$out/initrd.img") bytes, ${#names[@]} modules ($(elapsed))"
