#!/bin/bash
# End to end: the real Podman from Debian drives vmctl (as its OCI runtime)
# and conmon-kata (as its conmon), so every container below runs in its own
# QEMU VM with the guest kernel. docs/conmon-interface.md#conformance-checks
# item 28 (the Podman checks), and the "Tests" section of issue 5.
#
# Isolation: a Podman of its own (storage under $T_TMP, runroot, tmpdir and
# vmctl's root under $T_ROOT), a tmux server of its own; the image is the
# busybox-static test rootfs imported with `podman import`.
#
# Run time: about 15 VM boots (~2.5-3 s each under TCG) plus the waits the
# tests need (stop timeouts, --timeout, tty output): about one minute on two
# cores.
. "$CK_SOURCE_ROOT/tests/lib/tap.sh"
tap_setup

: "${CK_TEST_CONFIG:?}"
: "${CK_TEST_ROOTFS:?}"
IMAGE=localhost/ck-busybox
# The hard RLIMIT_NOFILE on the CI machine is 20000; Podman's default
# (1048576) is above it.
UL=(--ulimit nofile=20000:20000)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# A message with every container id (64 hex digits) written <id>.
ids_out() { printf '%s' "$1" | sed -E 's/[0-9a-f]{64}/<id>/g'; }
# What Podman adds to a create or exec failure whose words say "not found".
NOT_FOUND="OCI runtime attempted to invoke a command that was not found"

# ---------------------------------------------------------------------------
# Podman of our own. `pm` is also written out as a script ($PM) so that
# script(1) and tmux, which take a command string, run the same Podman.
VROOT_WANTED="$T_ROOT/vmctl"
VROOT=$VROOT_WANTED
write_pm() { # storage driver
	PM="$T_TMP/pm"
	STORAGE_DRIVER=$1
	{
		echo '#!/bin/sh'
		printf 'exec'
		printf ' %q' podman --root "$T_TMP/storage" --runroot "$T_ROOT/runroot" \
			--tmpdir "$T_ROOT/tmp" --cgroup-manager cgroupfs --events-backend file \
			--storage-driver "$1" \
			--runtime "$VMCTL" --conmon "$CONMON_KATA" \
			--runtime-flag "config=$CK_TEST_CONFIG" --runtime-flag "root=$VROOT"
		echo ' "$@"'
	} >"$PM"
	chmod +x "$PM"
}
pm() { "$PM" "$@"; }

e2e_cleanup() {
	local status=$?
	[ -S "$T_TMP/tmux.sock" ] && tmux -S "$T_TMP/tmux.sock" kill-server >/dev/null 2>&1
	if [ -n "${PM:-}" ] && [ -x "$PM" ]; then
		timeout 60 "$PM" rm -af -t 0 >/dev/null 2>&1
	fi
	# overlay mounts of our storage, if any survived
	grep -F " $T_TMP/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	if [ "$VROOT" != "$VROOT_WANTED" ] && [ -d "$VROOT" ]; then
		# the short runtime root outside $T_ROOT (see below): end what
		# mentions it, by pid, then remove it
		local pids
		pids=$(pgrep -f -- "$VROOT")
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		local i
		for i in $(seq 1 100); do
			pgrep -f -- "$VROOT" >/dev/null 2>&1 || break
			sleep 0.05
		done
		umount -R -l "$VROOT" 2>/dev/null
		rm -rf "$VROOT"
	fi
	(exit $status)
	tap_cleanup
}
trap e2e_cleanup EXIT

import_image() {
	tar -C "$CK_TEST_ROOTFS" -c . | pm import - "$IMAGE" >"$T_TMP/import.log" 2>&1
}

write_pm overlay
if ! import_image; then
	pm system reset -f >/dev/null 2>&1
	rm -rf "$T_TMP/storage"
	write_pm vfs
	import_image
fi
run_capture img pm image exists "$IMAGE"
assert_eq "setup: busybox rootfs imported as $IMAGE (isolated storage)" 0 "$img_rc"
if [ "$img_rc" != 0 ]; then
	sed 's/^/# /' "$T_TMP/import.log"
	echo "Bail out! cannot import the test image"
	exit 1
fi

# ---------------------------------------------------------------------------
# 0. vmctl's root inside the test's root: $T_ROOT/vmctl. Unix socket paths
# hold at most 107 bytes, and the pod directory <root>/pods/<64-hex id>/
# is long; the runtime must cope with a root of this length (runc keeps no
# socket under its root; CRI-O and Podman let operators choose the root). If
# it does not, the rest of the suite runs with a short root outside $T_ROOT
# so that it still tests everything else.
pod_dir_len=$((${#VROOT} + 71)) # <root>/pods/<64 hex>/
run_capture lr pm run --rm "${UL[@]}" "$IMAGE" true
assert_eq "run --rm true with vmctl --root=$VROOT (pod dir path: $pod_dir_len bytes): exit 0" 0 "$lr_rc"
if [ "$lr_rc" != 0 ]; then
	printf '%s\n' "$lr_err" | sed 's/^/# /'
	pm rm -af -t 0 >/dev/null 2>&1
	# a failed boot must not leave the pod's directory behind either
	assert_eq "failed boot, then rm -af: <root>/containers is empty" "" \
		"$(ls -A "$VROOT/containers" 2>/dev/null | tr '\n' ' ')"
	assert_eq "failed boot, then rm -af: <root>/pods is empty" "" \
		"$(ls -A "$VROOT/pods" 2>/dev/null | tr '\n' ' ')"
	VROOT=$(mktemp -d /run/ckv.XXXXXX)
	write_pm "$STORAGE_DRIVER"
	echo "# the rest runs with --root=$VROOT"
fi
T_QEMU_PATTERN="qemu-system.*$VROOT"

inspect() { pm inspect --format "$2" "$1" 2>/dev/null; }
is_running() { [ "$(inspect "$1" '{{.State.Status}}')" = running ]; }
logs_have() { pm logs "$1" 2>/dev/null | grep -Eq -- "$2"; }
qemu_count() { pgrep -f -- "$T_QEMU_PATTERN" | grep -c ''; }

# tmux helpers: a server of our own, one session per test
tmx() { tmux -S "$T_TMP/tmux.sock" "$@"; }
pane() { tmx capture-pane -p -J -t "$1" 2>/dev/null | tr -d '\r'; }
pane_has() { pane "$1" | grep -Eq -- "$2"; }

# ---------------------------------------------------------------------------
# 1. the guest kernel
run_capture u pm run --rm "${UL[@]}" "$IMAGE" uname -r
assert_eq "run --rm uname -r: exit 0" 0 "$u_rc"
assert_eq "run --rm uname -r: the guest image's kernel release" "$(cat "$CK_BUILD_ROOT/guest/kernel.release")" "$u_out"
assert_ne "run --rm uname -r: the guest's kernel, not the host's" "$(uname -r)" "$u_out"
# free page reporting (docs/performance.md): the agent lowers the order
# from a pageblock (2 MiB, 6.1's default) to 128 KiB at boot
run_capture fpr pm run --rm "${UL[@]}" "$IMAGE" cat /sys/module/page_reporting/parameters/page_reporting_order
assert_eq "free page reporting: reading the guest's order exits 0" 0 "$fpr_rc"
assert_eq "free page reporting: the guest reports free blocks from 128 KiB (order 5)" 5 "$fpr_out"

# ---------------------------------------------------------------------------
# 2. exit codes
run_capture e42 pm run --name ex42 "${UL[@]}" "$IMAGE" sh -c 'exit 42'
assert_eq "run sh -c 'exit 42': exit 42" 42 "$e42_rc"
assert_eq "run sh -c 'exit 42': inspect .State.ExitCode is 42" 42 "$(inspect ex42 '{{.State.ExitCode}}')"
pm rm -f ex42 >/dev/null 2>&1

run_capture t pm run --rm "${UL[@]}" "$IMAGE" true
assert_eq "run --rm true: exit 0" 0 "$t_rc"

run_capture ne pm run --rm "${UL[@]}" "$IMAGE" /nonexistent
assert_eq "run --rm /nonexistent: exit 127" 127 "$ne_rc"
# the guest's words, which Podman maps to 127 (conmon-interface.md#what-callers-do-with-the-messages)
assert_eq "run --rm /nonexistent: Podman's error carries the guest's \"no such file or directory\"" \
	"Error: $VMCTL: unable to start container process: exec: \"/nonexistent\": stat /nonexistent: no such file or directory: $NOT_FOUND" \
	"$(ids_out "$ne_err")"

run_capture nx pm run --rm "${UL[@]}" "$IMAGE" /etc/passwd
assert_eq "run --rm /etc/passwd (not executable): exit 126" 126 "$nx_rc"
assert_eq "run --rm /etc/passwd: Podman's error carries the guest's \"permission denied\"" \
	"Error: $VMCTL: unable to start container process: exec: \"/etc/passwd\": permission denied: OCI permission denied" \
	"$(ids_out "$nx_err")"

# ---------------------------------------------------------------------------
# 2b. seccomp: Podman's default profile holds in the guest, and so does
# one given with --security-opt, in the container and in an exec (the
# monitor compiles the profile on the host, the guest loads the program)
run_capture sd pm run --rm "${UL[@]}" "$IMAGE" grep Seccomp: /proc/self/status
assert_match "run: Podman's default seccomp profile is in force in the guest (Seccomp: 2)" \
	'^Seccomp:[[:space:]]+2$' "$sd_out"
printf '%s' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}' \
	>"$T_TMP/nomkdir.json"
run_capture sp pm run --rm --security-opt seccomp="$T_TMP/nomkdir.json" "${UL[@]}" "$IMAGE" mkdir /tmp/x
assert_eq "run --security-opt seccomp=F (mkdir refused with EXDEV): exit 1" 1 "$sp_rc"
assert_match "run --security-opt seccomp=F: mkdir says \"Invalid cross-device link\"" 'Invalid cross-device link' "$sp_err"
run_capture spd pm run -d --name scx --security-opt seccomp="$T_TMP/nomkdir.json" "${UL[@]}" "$IMAGE" sleep 1000
[ "$spd_rc" = 0 ] && wait_for 30 is_running scx
run_capture spx pm exec scx mkdir /tmp/y
assert_eq "exec in that container: mkdir is refused there too (exit 1)" 1 "$spx_rc"
assert_match "exec in that container: \"Invalid cross-device link\"" 'Invalid cross-device link' "$spx_err"
pm rm -f -t 0 scx >/dev/null 2>&1

# ---------------------------------------------------------------------------
# 3, 4, 12 (and later 5b, 6c, 10): one long-running container, reused.
# It prints numbered lines and exits 5 from a TERM trap.
run_capture lg pm run -d --name lg "${UL[@]}" "$IMAGE" \
	sh -c 'trap "echo got TERM; exit 5" TERM; i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.2; done'
assert_eq "run -d: exit 0" 0 "$lg_rc"
lg_id=$lg_out
[ "$lg_rc" = 0 ] && wait_for 30 logs_have lg '^line 5$'
run_capture l pm logs lg
assert_eq "logs: exit 0" 0 "$l_rc"
assert_eq "logs: the numbered lines, in order" "line 1
line 2
line 3
line 4
line 5" "$(printf '%s\n' "$l_out" | head -5)"

# 12. the PID Podman reports is a live host process
lg_pid=$(inspect lg '{{.State.Pid}}')
if [ -n "$lg_pid" ] && [ "$lg_pid" -gt 0 ] 2>/dev/null && kill -0 "$lg_pid" 2>/dev/null; then
	pass "inspect .State.Pid ($lg_pid) of a running container is a live host process"
else
	fail "inspect .State.Pid of a running container is a live host process" "pid: '$lg_pid'"
fi

# 4. exec, non-interactive
run_capture x1 pm exec lg sh -c 'echo from-exec; echo to-stderr >&2'
assert_eq "exec: exit 0" 0 "$x1_rc"
assert_eq "exec: stdout" "from-exec" "$x1_out"
assert_match "exec: stderr" 'to-stderr' "$x1_err"
run_capture x2 pm exec lg false
assert_eq "exec false: exit 1" 1 "$x2_rc"
run_capture x3 pm exec lg sh -c 'exit 3'
assert_eq "exec sh -c 'exit 3': exit 3" 3 "$x3_rc"
run_capture x4 pm exec lg /nonexistent
assert_eq "exec /nonexistent: exit 127" 127 "$x4_rc"
assert_eq "exec /nonexistent: Podman's error carries the guest's \"no such file or directory\"" \
	"Error: $VMCTL: exec failed: unable to start container process: exec: \"/nonexistent\": stat /nonexistent: no such file or directory: $NOT_FOUND" \
	"$(ids_out "$x4_err")"
run_capture x5 pm exec -e FOO=bar -w /tmp lg sh -c 'echo $FOO; pwd'
assert_eq "exec -e FOO=bar -w /tmp: exit 0" 0 "$x5_rc"
assert_eq "exec -e FOO=bar -w /tmp: env and workdir applied" "bar
/tmp" "$x5_out"

# ---------------------------------------------------------------------------
# 10. a second container at the same time: a VM of its own
run_capture c2 pm run -d --name c2 "${UL[@]}" "$IMAGE" sleep 1000
c2_id=$c2_out
assert_eq "second run -d: exit 0" 0 "$c2_rc"
[ "$c2_rc" = 0 ] && wait_for 30 is_running c2
assert_eq "two running containers: two QEMU processes" 2 "$(qemu_count)"
if pgrep -f -- "qemu-system.*$lg_id" >/dev/null && pgrep -f -- "qemu-system.*$c2_id" >/dev/null; then
	pass "two running containers: each container id has its own QEMU"
else
	fail "two running containers: each container id has its own QEMU" "$(pgrep -af -- "$T_QEMU_PATTERN" | cut -c1-200)"
fi
b1=$(pm exec lg cat /proc/sys/kernel/random/boot_id 2>&1)
b2=$(pm exec c2 cat /proc/sys/kernel/random/boot_id 2>&1)
assert_match "guest boot_id readable in c1" '^[0-9a-f-]{36}$' "$b1"
assert_ne "c1 and c2 run in different guests (boot_id differs)" "$b1" "$b2"
pm rm -f -t 0 c2 >/dev/null 2>&1
at_most_one_qemu() { [ "$(qemu_count)" -le 1 ]; }
wait_for 30 at_most_one_qemu
assert_eq "after rm -f c2: one QEMU left" 1 "$(qemu_count)"

# ---------------------------------------------------------------------------
# 6c. exec -it into the running container through tmux: size, resize, tty,
# exit status
tmx new-session -d -x 100 -y 33 -s execit \
	"$PM exec -it lg sh -c 'stty size; tty; echo READY; sleep 4; stty size; exit 4'; echo RC=\$?; sleep 600"
wait_for 30 pane_has execit '^(READY|RC=)'
tmx resize-window -t execit -x 90 -y 25
wait_for 30 pane_has execit '^RC='
p=$(pane execit)
assert_match "exec -it: stty size shows the terminal's 33x100" '^33 100$' "$p"
assert_match "exec -it: resize reaches the process (25 90)" '^25 90$' "$p"
assert_match "exec -it: tty(1) names the terminal, as with runc (/dev/pts/N)" \
	'^/dev/pts/[0-9]+$' "$(printf '%s\n' "$p" | sed -n 2p)"
assert_match "exec -it: exit 4 comes back" '^RC=4$' "$p"
tmx kill-session -t execit 2>/dev/null

# ---------------------------------------------------------------------------
# 5b. stop with a TERM trap that exits 5; 3. logs after stop; k8s-file
s=$(now_ms)
run_capture st pm stop lg
el=$(($(now_ms) - s))
assert_eq "stop (TERM trap): exit 0" 0 "$st_rc"
if [ "$el" -lt 8000 ]; then pass "stop (TERM trap): returns before the 10 s timeout (${el} ms)"; else fail "stop (TERM trap): returns before the 10 s timeout" "took ${el} ms"; fi
assert_eq "stop (TERM trap): exit code 5" 5 "$(inspect lg '{{.State.ExitCode}}')"
run_capture l2 pm logs lg
assert_match "logs after stop: the trap's output" '^got TERM$' "$l2_out"
assert_eq "logs after stop: still the numbered lines" "line 1" "$(printf '%s\n' "$l2_out" | head -1)"

# 12 (cont.): the PID is gone once the container stopped
if wait_for 10 sh -c "! kill -0 $lg_pid"; then
	pass "after stop: .State.Pid ($lg_pid) is gone"
else
	fail "after stop: .State.Pid is gone" "$(ps -o pid,comm,args -p "$lg_pid" | cut -c1-200)"
fi

assert_eq "log driver is k8s-file" "k8s-file" "$(inspect lg '{{.HostConfig.LogConfig.Type}}')"
log_path=$(inspect lg '{{.HostConfig.LogConfig.Path}}')
if [ -n "$log_path" ] && [ -s "$log_path" ]; then
	pass "k8s-file: log file exists ($log_path)"
	cri='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} (stdout|stderr) [PF] '
	bad=$(grep -Evn -- "$cri" "$log_path" | head -3)
	if [ -z "$bad" ]; then pass "k8s-file: every line matches the CRI format ($(grep -c '' "$log_path") lines)"; else fail "k8s-file: every line matches the CRI format" "$bad"; fi
	assert_match "k8s-file: 'line 1' is a full stdout record" ' stdout F line 1$' "$(head -1 "$log_path")"
	assert_match "k8s-file: the trap's output is logged" ' stdout F got TERM$' "$(cat "$log_path")"
else
	fail "k8s-file: log file exists" "path: '$log_path'"
fi
pm rm -f lg >/dev/null 2>&1

# ---------------------------------------------------------------------------
# 5a. stop -t 2 on a process that ignores SIGTERM: SIGKILL after 2 s
pm run -d --name ig "${UL[@]}" "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 1; done' >/dev/null &&
	wait_for 30 is_running ig
s=$(now_ms)
run_capture sk pm stop -t 2 ig
el=$(($(now_ms) - s))
assert_eq "stop -t 2 (TERM ignored): exit 0" 0 "$sk_rc"
if [ "$el" -ge 1900 ] && [ "$el" -le 5000 ]; then pass "stop -t 2 (TERM ignored): stopped after about 2 s (${el} ms)"; else fail "stop -t 2 (TERM ignored): stopped after about 2 s" "took ${el} ms"; fi
assert_eq "stop -t 2 (TERM ignored): exit code 137" 137 "$(inspect ig '{{.State.ExitCode}}')"
assert_eq "stop -t 2 (TERM ignored): state exited" exited "$(inspect ig '{{.State.Status}}')"
pm rm -f ig >/dev/null 2>&1

# ---------------------------------------------------------------------------
# 6a. run -it through script(1): a real pty, its size set inside script
run_capture sc script -qfec "stty rows 30 cols 100; exec $PM run -it --rm ${UL[*]} $IMAGE sh -c 'stty size; tty; echo hi; exit 3'" /dev/null </dev/null
sc_text=$(printf '%s\n' "$sc_out" | tr -d '\r' | sed 's/^\^@//')
assert_eq "run -it (script): exit 3 comes back" 3 "$sc_rc"
assert_match "run -it (script): stty size shows 30x100" '^30 100$' "$sc_text"
assert_match "run -it (script): tty(1) names a terminal" '^/dev/(pts/[0-9]+|console)$' "$sc_text"
assert_match "run -it (script): output reaches the terminal" '^hi$' "$sc_text"

# 6b. run -it through tmux: size and resize
tmx new-session -d -x 120 -y 40 -s runit \
	"$PM run -it --rm ${UL[*]} $IMAGE sh -c 'stty size; echo READY; sleep 4; stty size; exit 6'; echo RC=\$?; sleep 600"
wait_for 60 pane_has runit '^(READY|RC=)'
tmx resize-window -t runit -x 80 -y 24
wait_for 30 pane_has runit '^RC='
p=$(pane runit)
assert_match "run -it (tmux): stty size shows 40x120" '^40 120$' "$p"
assert_match "run -it (tmux): resize reaches the container (24 80)" '^24 80$' "$p"
assert_match "run -it (tmux): exit 6 comes back" '^RC=6$' "$p"
tmx kill-session -t runit 2>/dev/null

# ---------------------------------------------------------------------------
# 7. stdin: piped into run -i, and through podman attach
run_capture pi sh -c "printf 'hello\nworld\n' | '$PM' run -i --rm ${UL[*]} $IMAGE cat"
assert_eq "printf | run -i --rm cat: exit 0" 0 "$pi_rc"
assert_eq "printf | run -i --rm cat: the input comes back" "hello
world" "$pi_out"

pm run -d -i --name at "${UL[@]}" "$IMAGE" \
	sh -c 'while read l; do echo "got $l"; done; echo EOF-seen; exit 6' >/dev/null &&
	wait_for 30 is_running at
sleep 1
if is_running at; then pass "run -d -i: stdin stays open (still running)"; else fail "run -d -i: stdin stays open (still running)" "status: $(inspect at '{{.State.Status}}')"; fi
run_capture at sh -c "printf 'one\ntwo\n' | timeout 30 '$PM' attach at"
assert_eq "attach with piped stdin: exit 0" 0 "$at_rc"
assert_eq "attach: input reached the container and its output came back" \
	"got one
got two
EOF-seen" "$at_out"
wait_for 15 sh -c "[ \"\$('$PM' inspect --format '{{.State.ExitCode}}' at)\" = 6 ]"
assert_eq "attach: stdin EOF ended the container (exit 6)" 6 "$(inspect at '{{.State.ExitCode}}')"
pm rm -f at >/dev/null 2>&1

# ---------------------------------------------------------------------------
# 8. --log-driver journald, where a journald runs
if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null; then
	marker="ck-e2e-journald-$$-$RANDOM"
	run_capture jd pm run -d --log-driver journald "${UL[@]}" "$IMAGE" echo "$marker"
	jd_id=$jd_out
	assert_eq "run --log-driver journald: exit 0" 0 "$jd_rc"
	wait_for 30 sh -c "journalctl --no-pager CONTAINER_ID_FULL=$jd_id | grep -q $marker"
	assert_match "journald: journalctl CONTAINER_ID_FULL=<id> has the output" "$marker" \
		"$(journalctl --no-pager CONTAINER_ID_FULL="$jd_id" 2>&1)"
	pm rm -f "$jd_id" >/dev/null 2>&1
else
	skip "run --log-driver journald: journalctl CONTAINER_ID_FULL=<id> has the output" "no journald"
fi

# ---------------------------------------------------------------------------
# 9. podman run --timeout
s=$(now_ms)
run_capture to pm run --rm --timeout 3 "${UL[@]}" "$IMAGE" sleep 100
el=$(($(now_ms) - s))
# the exit files say -1 (conmon-interface.md#timeout), which Podman reports as 255
assert_eq "run --timeout 3 sleep 100: exit 255 (the timeout's -1)" 255 "$to_rc"
if [ "$el" -ge 2000 ] && [ "$el" -le 15000 ]; then pass "run --timeout 3 sleep 100: killed after about 3 s (${el} ms incl. boot)"; else fail "run --timeout 3 sleep 100: killed after about 3 s" "took ${el} ms"; fi

# ---------------------------------------------------------------------------
# 13. conmon-kata as Podman's conmon for another runtime (containers.conf has
# one conmon_path for all): with runc it is plain conmon, on the host kernel.
pm_runc() {
	podman --root "$T_TMP/storage" --runroot "$T_ROOT/runroot" --tmpdir "$T_ROOT/tmp" \
		--cgroup-manager cgroupfs --events-backend file --storage-driver "$STORAGE_DRIVER" \
		--runtime runc --conmon "$CONMON_KATA" "$@"
}
run_capture rn pm_runc run --rm "${UL[@]}" --ulimit nproc=4096:4096 "$IMAGE" sh -c 'uname -r; exit 3'
assert_eq "--runtime runc --conmon conmon-kata: exit status 3" 3 "$rn_rc"
assert_eq "--runtime runc --conmon conmon-kata: the host's kernel" "$(uname -r)" "$rn_out"
[ "$rn_rc" = 3 ] || printf '%s\n' "$rn_err" | sed 's/^/# /'

# ---------------------------------------------------------------------------
# 14. networking (issue 11, docs/networking.md): on Podman's default bridge
# the VM's eth0 has the address and MAC Podman assigned, and a port
# published on the host's loopback reaches httpd in the VM.
port=$((20000 + RANDOM % 20000))
run_capture nw pm run -d --name nw -p "127.0.0.1:$port:80" "${UL[@]}" "$IMAGE" \
	sh -c 'mkdir -p /www && echo hello-from-the-vm >/www/index.html && exec httpd -f -p 80 -h /www'
assert_eq "run -d -p 127.0.0.1:$port:80 httpd: exit 0" 0 "$nw_rc"
[ "$nw_rc" = 0 ] && wait_for 30 is_running nw
nw_ip=$(inspect nw '{{.NetworkSettings.IPAddress}}')
nw_mac=$(inspect nw '{{.NetworkSettings.MacAddress}}')
run_capture ga pm exec nw sh -c 'cat /sys/class/net/eth0/address; ip -4 addr show dev eth0; ip -4 route'
assert_match "the address Podman assigned ($nw_ip) is on the guest's eth0" "inet $nw_ip/[0-9]+ " "$ga_out"
assert_eq "the guest's eth0 has the MAC Podman assigned" "$nw_mac" "$(printf '%s\n' "$ga_out" | head -1)"
assert_match "the guest has the default route Podman's network gives" '^default via [0-9.]+ dev eth0' "$ga_out"
http_get() { # port: the body of GET / on the host's loopback
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET / HTTP/1.0\r\n\r\n' >&3
	timeout 10 cat <&3 | tr -d '\r' | sed '1,/^$/d'
	exec 3<&-
}
got_page() { [ "$(http_get "$port" 2>/dev/null)" = hello-from-the-vm ]; }
wait_for 30 got_page
assert_eq "GET http://127.0.0.1:$port/ on the host reaches httpd in the VM" hello-from-the-vm \
	"$(http_get "$port" 2>&1)"
pm rm -f -t 0 nw >/dev/null 2>&1

# ---------------------------------------------------------------------------
# 11. after rm -af nothing is left
run_capture rm pm rm -af -t 0
assert_eq "rm -af -t 0: exit 0" 0 "$rm_rc"
tmx kill-server >/dev/null 2>&1
# (pgrep runs from this script, whose command line does not mention $T_ROOT)
mentioning_us() { pgrep -af -- "$T_ROOT"; pgrep -af -- "$VROOT"; }
none_left() { [ -z "$(mentioning_us)" ]; }
wait_for 30 none_left
left=$(mentioning_us | sort -u | cut -c1-200)
if [ -z "$left" ]; then pass "after rm -af: no QEMU, monitor or stand-in mentions the test's roots"; else fail "after rm -af: no QEMU, monitor or stand-in mentions the test's roots" "$left"; fi
assert_eq "after rm -af: podman ps -a is empty" "" "$(pm ps -aq 2>&1)"
assert_eq "after rm -af: vmctl's state dir <root>/containers is empty" "" \
	"$(ls -A "$VROOT/containers" 2>/dev/null | tr '\n' ' ')"
assert_eq "after rm -af: vmctl's pods dir <root>/pods is empty" "" \
	"$(ls -A "$VROOT/pods" 2>/dev/null | tr '\n' ' ')"
for f in "$VROOT"/containers/*/state.json; do
	[ -f "$f" ] && echo "# left: $(grep -o '"id":"[0-9a-f]\{12\}' "$f" | cut -d'"' -f4) $(grep -o '"status":"[a-z]*"' "$f")"
done
assert_eq "after rm -af: no mounts under the test's roots or storage" "" \
	"$(grep -F -e " $T_ROOT/" -e " $VROOT/" -e " $T_TMP/" /proc/self/mountinfo | awk '{print $5}')"

tap_done
