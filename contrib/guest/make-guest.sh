#!/bin/bash
# contrib/guest/make-guest.sh: the build's guest image, with the kernel the
# meson option guest_kernel chose. Run by meson (contrib/meson.build and
# tests/lib/meson.build); by hand:
#   make-guest.sh ours|debian AGENT OUTDIR CACHE [build-image.sh option]...
# ours:   contrib/guest/kernel/build-kernel.sh builds our module-free kernel
#         (or finds it in its cache, CACHE/kernel) into CACHE/kernel/current,
#         then build-image.sh --kernel uses it;
# debian: build-image.sh takes Debian's packaged kernel and its modules,
#         with the vsock transport module for agent_channel = "vsock".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
mode=${1:?usage: make-guest.sh ours|debian AGENT OUTDIR CACHE [OPTION]...}
agent=${2:?missing AGENT}
out=${3:?missing OUTDIR}
cache=${4:?missing CACHE}
shift 4
case $mode in
ours)
	kernel=$cache/kernel/current
	"$here/kernel/build-kernel.sh" --out "$kernel" --cache "$cache/kernel"
	exec "$here/build-image.sh" --agent "$agent" --out "$out" --cache "$cache" --kernel "$kernel" "$@"
	;;
debian)
	exec "$here/build-image.sh" --agent "$agent" --out "$out" --cache "$cache" \
		--extra-module vmw_vsock_virtio_transport "$@"
	;;
*)
	echo "make-guest.sh: unknown kernel '$mode' (ours or debian)" >&2
	exit 1
	;;
esac
