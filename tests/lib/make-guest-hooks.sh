#!/bin/bash
# make-guest-hooks.sh HOOK OUTDIR: the guest hook directory of the hook
# tests (tests/integration/test-agent-hooks.c), for build-image.sh --hooks. HOOK
# is the static test-guest-hook; it appears under several names:
#
#   record                 not in a stage directory: a spec hook's path
#                          (createContainer resolves in the guest's root)
#   prestart/05-readme     not executable: the agent must skip it
#   prestart/10-record     two prestart hooks, to see the lexical order
#   prestart/20-record
#   poststart/10-record
#   poststop/10-record
#
# Built beside OUTDIR and renamed into place; files get fixed modes, so
# that the image's stamp (which hashes OUTDIR) only changes with HOOK.
set -euo pipefail

hook=${1:?usage: make-guest-hooks.sh HOOK OUTDIR}
out=${2:?usage: make-guest-hooks.sh HOOK OUTDIR}

tmp=$(mktemp -d "$(dirname "$out")/.guest-hooks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp"/{prestart,poststart,poststop}
install -m 0755 "$hook" "$tmp/record"
for h in prestart/10-record prestart/20-record poststart/10-record poststop/10-record; do
	install -m 0755 "$hook" "$tmp/$h"
done
echo "not a hook: the agent runs executables only" >"$tmp/prestart/05-readme"
chmod 0644 "$tmp/prestart/05-readme"
chmod 0755 "$tmp" "$tmp"/{prestart,poststart,poststop}
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
