#!/bin/bash
# contrib/setup.sh: the main job, from a fresh Debian 12 machine.
# Installs the dependencies, builds everything, builds the guest image,
# then runs a busybox container through Podman with conmon-kata and vmctl:
# the container runs in its own VM, and its kernel is not the host's.
# Idempotent: a second run rebuilds nothing that did not change.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build
meson compile -C build guest-image test-rootfs

# A test image without a registry: the busybox-static rootfs, imported.
if ! podman image exists localhost/ck-busybox; then
	tar -C build/tests/lib/rootfs -c . | podman import - localhost/ck-busybox >/dev/null
fi

podman_vm=(podman --runtime "$top/build/vmctl/vmctl" --conmon "$top/build/conmon-kata/conmon-kata"
	--runtime-flag "config=$top/build/contrib/configuration-build.toml")

echo
echo "== a container in a VM (podman --runtime vmctl --conmon conmon-kata)"
guest=$("${podman_vm[@]}" run --rm --ulimit nofile=20000:20000 localhost/ck-busybox uname -r)
echo "host kernel:      $(uname -r)"
echo "container kernel: $guest"
if [ "$guest" = "$(uname -r)" ]; then
	echo "setup.sh: the container ran on the host kernel" >&2
	exit 1
fi
echo
echo "== the VM behind it (vmctl debug boot)"
build/vmctl/vmctl --config build/contrib/configuration-build.toml debug boot
