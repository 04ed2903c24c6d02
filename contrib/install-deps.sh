#!/bin/bash
# contrib/install-deps.sh: installs, from Debian 12's archive, everything the
# build, the guest image, the main job and the tests need. Idempotent: when
# every package is already there it does nothing (no apt-get update).
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc libc6-dev git
	libglib2.0-dev libyajl-dev libseccomp-dev libcap-dev
	libnl-3-dev libnl-route-3-dev libsystemd-dev
	# hypervisor
	qemu-system-x86
	# guest image: kernel .deb extraction, modules, initrd
	apt dpkg cpio xz-utils zstd kmod binutils
	# our guest kernel (contrib/guest/kernel/build-kernel.sh)
	linux-source-6.1 make flex bison bc libelf-dev
	# end-to-end clients and test tools
	podman conmon runc busybox-static containernetworking-plugins iproute2 containerd
	iptables uidmap fuse-overlayfs slirp4netns tmux util-linux procps
	python3
	# the systemd cgroup driver's tests: a private bus (tests/unit/test-host-systemd.c)
	dbus
	# the pod monitor under memcheck, test only (tests/e2e/monitor_valgrind.py)
	valgrind
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "${status:0:2}" = "ii" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present" >&2
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
