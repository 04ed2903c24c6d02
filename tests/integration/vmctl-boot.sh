#!/bin/bash
# Integration: vmctl's operator commands and the boot failure paths, through
# the binary. Each failure must give the promised one-line error on stderr,
# exit non-zero and leave no QEMU running.
. "$CK_SOURCE_ROOT/tests/lib/tap.sh"
tap_setup

base_config=${CK_TEST_CONFIG:?}

# write_config NAME [sed expressions...]: a variant of the test config
write_config() {
	local name=$1
	shift
	local out="$T_TMP/$name.toml"
	cp "$base_config" "$out"
	local e
	for e in "$@"; do sed -i "$e" "$out"; done
	echo "$out"
}

vmctl() { "$VMCTL" --root "$T_ROOT" "$@"; }

# --- version and help ------------------------------------------------------
run_capture v vmctl --version
assert_eq "vmctl --version exits 0" 0 "$v_rc"
assert_match "--version names the OCI spec like runc" '^spec: 1\.0\.2$' "$(echo "$v_out" | sed -n 3p)"
run_capture h vmctl --help
assert_eq "vmctl --help exits 0" 0 "$h_rc"
assert_match "--help lists check, env and debug" 'check.*env.*debug' "$(echo $h_out)"
run_capture u vmctl frobnicate
assert_eq "unknown command exits 1" 1 "$u_rc"
assert_eq "unknown command: one line" "vmctl: unknown command 'frobnicate' (see vmctl --help)" "$u_err"

# --- check and env ------------------------------------------------------------
run_capture c vmctl --config "$base_config" check
assert_eq "check passes with the build configuration" 0 "$c_rc"
assert_match "check reports the QEMU version" '^qemu +ok +.*QEMU emulator version' "$c_out"
assert_match "check reports vhost-vsock absent but optional" '^vhost-vsock +(ok|absent)' "$c_out"
assert_match "check reports KVM" '^kvm +(ok|absent)' "$c_out"
assert_match "check ends with its result" 'result: ok$' "$c_out"

missing_kernel=$(write_config missing-kernel 's#^kernel = .*#kernel = "/nonexistent/vmlinux"#')
run_capture c2 vmctl --config "$missing_kernel" check
assert_eq "check fails when the kernel is missing" 1 "$c2_rc"
assert_match "check names the missing kernel" '^guest kernel +MISSING +kernel = /nonexistent/vmlinux: No such file' "$c2_out"

run_capture e vmctl --config "$base_config" env
assert_eq "env exits 0" 0 "$e_rc"
assert_match "env shows the [hypervisor.qemu] section" '^\[hypervisor\.qemu\]' "$e_out"
assert_match "env says where a value came from" "accel = \"tcg\" +# from $base_config:[0-9]+" "$e_out"

# --- configuration errors -----------------------------------------------------
unknown_key=$(write_config unknown-key '/^\[hypervisor.qemu\]/a bogus_key = 1')
line=$(grep -n '^bogus_key' "$unknown_key" | cut -d: -f1)
run_capture k vmctl --config "$unknown_key" debug boot
assert_eq "unknown config key exits 1" 1 "$k_rc"
assert_eq "unknown config key: one line naming file:line and the key" \
	"vmctl: $unknown_key:$line: unknown key 'bogus_key' in [hypervisor.qemu]" "$k_err"

# --- boot failures ---------------------------------------------------------------
run_capture m vmctl --config "$missing_kernel" debug boot
assert_eq "missing kernel exits 1" 1 "$m_rc"
assert_lines "missing kernel: one line" 1 "$m_err"
assert_match "missing kernel: names the key and the path" \
	'hypervisor\.qemu\.kernel: /nonexistent/vmlinux: No such file or directory$' "$m_err"
assert_no_qemu "missing kernel: no QEMU left" "$T_ROOT"

head -c 65536 /dev/urandom >"$T_TMP/garbage-kernel"
garbage=$(write_config garbage "s#^kernel = .*#kernel = \"$T_TMP/garbage-kernel\"#")
run_capture g vmctl --config "$garbage" debug boot
assert_eq "unbootable kernel exits 1" 1 "$g_rc"
assert_lines "unbootable kernel: one line" 1 "$g_err"
assert_match "unbootable kernel: QEMU's own complaint, with the accelerator" \
	'boot failed: QEMU \(tcg\) exited before the guest agent answered: .*kernel' "$g_err"
assert_no_qemu "unbootable kernel: no QEMU left" "$T_ROOT"

# a kernel that boots but whose initrd has no agent: the guest panics
head -c 4096 /dev/urandom >"$T_TMP/garbage-initrd"
no_agent=$(write_config no-agent "s#^initrd = .*#initrd = \"$T_TMP/garbage-initrd\"#")
run_capture p vmctl --config "$no_agent" debug boot
assert_eq "initrd without agent exits 1" 1 "$p_rc"
assert_match "initrd without agent: guest stopped, console log named" \
	'the tcg guest stopped before its agent answered .*console log: /.*/console\.log$' "$p_err"
assert_no_qemu "initrd without agent: no QEMU left" "$T_ROOT"

# a boot that cannot finish within the timeout: the guest kernel finds no
# /init and, with panic=0 (the last panic= wins), waits forever; a plain
# short timeout is not enough once a boot takes less than a second
slow=$(write_config slow 's#^boot_timeout = .*#boot_timeout = 1#' \
	's#^kernel_params = .*#kernel_params = "rdinit=/nonexistent panic=0"#')
run_capture s vmctl --config "$slow" debug boot
assert_eq "boot timeout exits 1" 1 "$s_rc"
assert_lines "boot timeout: one line" 1 "$s_err"
assert_match "boot timeout: names accelerator, timeout and console log" \
	'tcg boot did not reach the guest agent within 1\.0 s; console log: /.*/console\.log$' "$s_err"
assert_no_qemu "boot timeout: no QEMU left" "$T_ROOT"

# --- a good boot -------------------------------------------------------------------
kept_before=$(ls "$T_ROOT/debug" 2>/dev/null | sort)
run_capture b vmctl --config "$base_config" debug boot
assert_eq "debug boot exits 0" 0 "$b_rc"
guest=$(echo "$b_out" | sed -n 's/^guest kernel: *\([^ ]*\).*/\1/p')
assert_ne "the guest kernel is not the host's" "$(uname -r)" "$guest"
assert_eq "the guest kernel is the image's (build/guest/kernel.release)" "$(cat "$CK_BUILD_ROOT/guest/kernel.release")" "$guest"
assert_match "boot time reported" '^boot time: +[0-9]+\.[0-9]+ s' "$b_out"
assert_no_qemu "debug boot: no QEMU left" "$T_ROOT"
assert_eq "debug boot: its run directory removed (failed boots keep theirs)" "$kept_before" \
	"$(ls "$T_ROOT/debug" 2>/dev/null | sort)"

# --- accel = "auto": KVM when it works, else TCG, and the verdict is cached -------
auto=$(write_config auto 's#^accel = .*#accel = "auto"#')
run_capture a1 vmctl --config "$auto" debug boot
assert_eq "auto boot exits 0" 0 "$a1_rc"
accel1=$(echo "$a1_out" | sed -n 's/^accelerator: *//p')
if [ "$accel1" = kvm ]; then
	pass "auto: KVM works on this host"
	assert_match "auto: verdict cached as working" '"kvm":"works"' "$(cat "$T_ROOT/accel-verdict.json")"
elif [ -e /dev/kvm ]; then
	assert_eq "auto: fell back to TCG" tcg "$accel1"
	assert_match "auto: the fallback is a warning naming the KVM failure" \
		'warning: QEMU \(kvm\) exited|warning: kvm boot did not reach the guest agent' "$a1_err"
	assert_match "auto: verdict cached for this boot of the host" '"kvm":"hangs"' \
		"$(cat "$T_ROOT/accel-verdict.json")"
	run_capture a2 vmctl --config "$auto" debug boot
	assert_eq "auto, cached verdict: straight to TCG" tcg "$(echo "$a2_out" | sed -n 's/^accelerator: *//p')"
	assert_eq "auto, cached verdict: no warning" "" "$a2_err"
	run_capture a3 vmctl --config "$auto" check
	assert_match "check reports the cached verdict" '^kvm-boot +absent +KVM guests do not boot' "$a3_out"
else
	assert_eq "auto without /dev/kvm: TCG" tcg "$accel1"
fi
assert_no_qemu "auto: no QEMU left" "$T_ROOT"

# --- interrupted boot ------------------------------------------------------------------
# not through the vmctl() function: the signal must reach vmctl itself
"$VMCTL" --root "$T_ROOT" --config "$base_config" debug boot >/dev/null 2>"$T_TMP/int.err" &
pid=$!
if wait_for 20 pgrep -f "qemu-system.*$T_ROOT"; then
	kill -INT $pid
	wait $pid
	rc=$?
	assert_eq "Ctrl-C during boot exits 130" 130 "$rc"
	wait_for 5 sh -c "! pgrep -f 'qemu-system.*$T_ROOT'"
	assert_no_qemu "Ctrl-C during boot: no QEMU left" "$T_ROOT"
else
	fail "QEMU never started for the interrupt test"
	kill $pid
fi

tap_done
