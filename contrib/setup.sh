#!/bin/bash
# contrib/setup.sh: the main job, from a fresh Debian 12 machine.
# Installs the dependencies, builds everything, builds the guest image,
# then boots a VM and shows that its kernel is not the host's.
# Idempotent: a second run rebuilds nothing that did not change.
set -euo pipefail
cd "$(dirname "$0")/.."

contrib/install-deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build
meson compile -C build guest-image

echo
echo "== booting a VM (accelerator chosen by the configuration: KVM if it works, else TCG)"
build/vmctl/vmctl --config build/contrib/configuration-build.toml --root /run/vmctl debug boot
