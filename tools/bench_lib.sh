# shellcheck shell=bash
# Helpers the benchmark scripts share. Source it.

# xtrunkd_config_fit XTRUNKD NETNS CONF: drop from CONF the keys this xtrunkd
# does not know (a benchmark may run an older or newer build than the one its
# configuration was written for: keys like control or sip_rate come and go),
# checked with --check-config in NETNS, where the configured interfaces are.
# Fails, printing xtrunkd's complaint, when something else is wrong.
xtrunkd_config_fit() {
	local xtrunkd=$1 ns=$2 conf=$3 out key
	for _ in 1 2 3 4 5 6; do
		out=$(nsenter --net="/run/netns/$ns" "$xtrunkd" -c "$conf" --check-config 2>&1) && return 0
		key=$(sed -n "s/.*unknown key '\([a-z_0-9]*\)'.*/\1/p" <<<"$out" | head -1)
		if [[ -z $key ]]; then
			echo "$out" >&2
			return 1
		fi
		sed -i "/^${key}[[:space:]]*=/d" "$conf"
	done
	echo "$out" >&2
	return 1
}
