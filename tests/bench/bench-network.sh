#!/bin/bash
# bench-network.sh: TCP throughput and ping round trip between a peer
# network namespace and a pod, VM pod beside runc pod (issue 11).
#
# The benchmark is the CNI here: it makes a peer namespace and one
# namespace per pod, joined by veth pairs with documentation addresses
# (192.0.2.0/24 to the VM pod, 198.51.100.0/24 to the runc pod, MTU 1500),
# and starts each container in its pod's namespace with Podman's
# `--network ns:PATH`. Nothing is sent outside these namespaces.
#   ours:     peer -> veth -> tc redirect -> tap -> QEMU virtio-net -> guest
#   baseline: peer -> veth -> the container (runc, host kernel)
# Each container serves a BENCH_NET_MIB MiB file from its /dev/shm with
# busybox httpd (pod -> peer) and sinks whatever nc receives on port 5001
# (peer -> pod). The peer side (tests/lib/netpeer.py) times the transfer
# from the first byte to the end, and checks the length; ping is busybox's
# (20 echoes, 0.2 s apart, the average).
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

BENCH_NET_MIB=${BENCH_NET_MIB:-32}
BYTES=$((BENCH_NET_MIB * 1024 * 1024))
NETPEER="$CK_SOURCE_ROOT/tests/lib/netpeer.py"

bench_setup network "TCP throughput ($BENCH_NET_MIB MiB) and ping between a peer namespace and the pod" \
	"Podman + conmon-kata + vmctl (a VM per container, tcfilter)" "Podman + conmon + runc"
bench_metric to_pod_mibps MiB/s higher "TCP peer -> pod (nc)"
bench_metric from_pod_mibps MiB/s higher "TCP pod -> peer (httpd)"
bench_metric rtt_ms ms lower "ping peer -> pod, average of 20"
bench_podman_setup

tag=$(basename "$B_ROOT" | tr -dc 'a-zA-Z0-9' | tail -c 6)
NS_PEER="net-bpeer-$tag"
declare -A NS=([ours]="net-bvm-$tag" [baseline]="net-brunc-$tag")
declare -A POD_IP=([ours]=192.0.2.2 [baseline]=198.51.100.2)
declare -A PEER_IP=([ours]=192.0.2.1 [baseline]=198.51.100.1)

netns_cleanup() {
	ip netns del "$NS_PEER"
	ip netns del "${NS[ours]}"
	ip netns del "${NS[baseline]}"
}
bench_on_cleanup netns_cleanup
ip netns add "$NS_PEER" && ip -n "$NS_PEER" link set lo up || bench_die "ip netns add $NS_PEER"
for v in ours baseline; do
	ns=${NS[$v]}
	ip netns add "$ns" &&
		ip -n "$ns" link add name eth0 type veth peer name "p-$v" netns "$NS_PEER" &&
		ip -n "$ns" addr add "${POD_IP[$v]}/24" dev eth0 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$NS_PEER" addr add "${PEER_IP[$v]}/24" dev "p-$v" &&
		ip -n "$NS_PEER" link set "p-$v" up || bench_die "$v: cannot set up $ns"
	"$(pm_for $v)" run -d --name "net-$v" --network "ns:/run/netns/$ns" "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" \
		sh -c "head -c $BYTES /dev/urandom >/dev/shm/blob && (while :; do nc -l -p 5001 >/dev/null; done) &
			exec httpd -f -p 8080 -h /dev/shm" >"$B_TMP/out" 2>"$B_TMP/err" || run_failed "$v: podman run -d"
done

peer() { # ARGS...: netpeer.py in the peer namespace, bounded
	timeout "$BENCH_CALL_TIMEOUT" ip netns exec "$NS_PEER" python3 "$NETPEER" "$@"
}

mibps() { python3 -c "import sys; print(f'{$1 / 1048576 / float(sys.argv[1]):.2f}')" "$2"; }

net_one() { # variant run
	local v=$1 ip=${POD_IP[$1]} out n sum secs rtt
	out=$(peer put "$ip" 5001 "$BYTES") || bench_die "$v: TCP to $ip:5001 failed"
	read -r sum secs <<<"$out"
	record to_pod_mibps "$v" "$2" "$(mibps "$BYTES" "$secs")" MiB/s
	out=$(peer get "$ip" 8080 /blob) || bench_die "$v: HTTP from $ip:8080 failed"
	read -r n sum secs <<<"$out"
	[ "$n" = "$BYTES" ] || bench_die "$v: HTTP from $ip:8080 brought $n bytes, not $BYTES"
	record from_pod_mibps "$v" "$2" "$(mibps "$BYTES" "$secs")" MiB/s
	out=$(timeout 60 ip netns exec "$NS_PEER" busybox ping -q -c 20 -i 0.2 -W 5 "$ip") ||
		bench_die "$v: ping $ip failed"
	rtt=$(printf '%s\n' "$out" | sed -n 's|^round-trip min/avg/max = [0-9.]*/\([0-9.]*\)/.*|\1|p')
	record rtt_ms "$v" "$2" "$rtt" ms
}

bench_interleave net_one
bench_finish
