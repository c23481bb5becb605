# shellcheck shell=bash
# The three-host topology the lab, the tests and the demo share:
#
#   NS_L (eth0 .2) ==veth== (left0 .1) NS_R (right0 .1) ==veth== (eth0 .2) NS_E
#
# The relay host NS_R is an endpoint on both networks, not a router: IP
# forwarding stays off, so only XDP (or a relay process) moves media across.
# Source this file; callers delete the namespaces (ip netns del) when done.
# XT_LAB_OFFLOADS=gro|kernel|tuned chooses the end hosts' offloads (see
# end_host_offloads below; gro when unset).

# three_hosts NS_L NS_R NS_E V4_L V4_R V6_L V6_R
#   V4_* are /24 prefixes ("10.77.1"), V6_* /64 prefixes ("fd77:1").
three_hosts() {
	local ns_l=$1 ns_r=$2 ns_e=$3 v4l=$4 v4r=$5 v6l=$6 v6r=$7 ns
	for ns in "$ns_l" "$ns_r" "$ns_e"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add eth0 netns "$ns_l" type veth peer name left0 netns "$ns_r"
	ip link add right0 netns "$ns_r" type veth peer name eth0 netns "$ns_e"

	ip -n "$ns_l" addr add "$v4l.2/24" dev eth0
	ip -n "$ns_l" addr add "$v6l::2/64" dev eth0 nodad
	ip -n "$ns_r" addr add "$v4l.1/24" dev left0
	ip -n "$ns_r" addr add "$v6l::1/64" dev left0 nodad
	ip -n "$ns_r" addr add "$v4r.1/24" dev right0
	ip -n "$ns_r" addr add "$v6r::1/64" dev right0 nodad
	ip -n "$ns_e" addr add "$v4r.2/24" dev eth0
	ip -n "$ns_e" addr add "$v6r::2/64" dev eth0 nodad
	ip netns exec "$ns_r" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0

	ip -n "$ns_l" link set eth0 up
	ip -n "$ns_r" link set left0 up
	ip -n "$ns_r" link set right0 up
	ip -n "$ns_e" link set eth0 up

	# Permanent neighbours: no ARP/ND races in what the tests measure.
	local m_l m_rl m_rr m_e
	m_l=$(_mac "$ns_l" eth0)
	m_rl=$(_mac "$ns_r" left0)
	m_rr=$(_mac "$ns_r" right0)
	m_e=$(_mac "$ns_e" eth0)
	_neigh "$ns_r" left0 "$v4l.2" "$v6l::2" "$m_l"
	_neigh "$ns_r" right0 "$v4r.2" "$v6r::2" "$m_e"
	_neigh "$ns_l" eth0 "$v4l.1" "$v6l::1" "$m_rl"
	_neigh "$ns_e" eth0 "$v4r.1" "$v6r::1" "$m_rr"

	# The end hosts' offloads; kernel: as the kernel made them, untouched.
	local mode=${XT_LAB_OFFLOADS:-gro}
	[[ $mode == kernel ]] || end_host_offloads "$ns_l" "$mode" || return 1
	[[ $mode == kernel ]] || end_host_offloads "$ns_e" "$mode"
}

# end_host_offloads NS MODE: the offloads of an end host's eth0, the veth the
# relay's XDP program transmits into. MODE (XT_LAB_OFFLOADS for three_hosts):
#   gro     (the default) GRO on, tx checksumming left on: XDP frames reach the
#           host (a veth peer needs NAPI, an XDP program or GRO, to take them),
#           and its senders hand the relay partial UDP checksums
#           (CHECKSUM_PARTIAL) that XDP must complete
#   kernel  the kernel's veth defaults, as containers and pods are wired
#           (three_hosts leaves them untouched; here they are set back): tx
#           checksumming on, GRO off, so XDP cannot transmit to the host and
#           the relay must carry media to it in userspace
#   tuned   tx checksumming off, GRO on: the host sends full checksums and
#           takes XDP frames, the easiest case for the relay
end_host_offloads() {
	case $2 in
	gro) ip netns exec "$1" ethtool -K eth0 tx on gro on >/dev/null ;;
	kernel) ip netns exec "$1" ethtool -K eth0 tx on gro off >/dev/null ;;
	tuned) ip netns exec "$1" ethtool -K eth0 tx off gro on >/dev/null ;;
	*)
		echo "netns.sh: XT_LAB_OFFLOADS=$2: expected gro, kernel or tuned" >&2
		return 1
		;;
	esac
}

_mac() {
	ip -n "$1" -j link show "$2" | jq -r '.[0].address'
}

# _neigh NS DEV V4 V6 MAC
_neigh() {
	ip -n "$1" neigh replace "$3" lladdr "$5" dev "$2" nud permanent
	ip -n "$1" neigh replace "$4" lladdr "$5" dev "$2" nud permanent
}
