#!/usr/bin/env bash
# End to end, as deployed: two real SIP phones call each other through
# xtrunkd and each must hear the other. baresip (headless: a sine tone as its
# microphone, its decoded audio recorded to a WAV) runs on the PBX host and on
# the trunk host; the PBX's phone calls the trunk's through the relay, which
# answers by itself; each sends a tone of its own frequency, G.711. What each
# phone heard is judged by its frequency (tone_meter), not by packet counts.
#
# The call is placed once per offload mode of the phones' veths
# (tools/netns.sh end_host_offloads; XT_PHONES_OFFLOADS lists them, default
# "kernel gro"):
#   kernel  the kernel's defaults, as containers are wired: XDP cannot
#           transmit into a veth whose peer has GRO off and no XDP program, so
#           xtrunkd must say so, naming the device, and relay that media in
#           userspace;
#   gro     senders hand the relay partial UDP checksums (tx checksum offload
#           on): XDP must complete them, and carries the audio;
#   tuned   full checksums, GRO on: XDP carries the audio.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
MODES=${XT_PHONES_OFFLOADS:-kernel gro}
# What each mode sets on the phones' eth0: tx checksumming, GRO.
declare -A OFFLOADS=([kernel]="on off" [gro]="on on" [tuned]="off on")
for mode in $MODES; do
	[[ -n ${OFFLOADS[$mode]:-} ]] || {
		echo "$0: XT_PHONES_OFFLOADS: '$mode' is not one of ${!OFFLOADS[*]}" >&2
		exit 1
	}
done
command -v baresip >/dev/null || {
	echo "$0: baresip is not installed (tools/deps.sh installs it)" >&2
	exit 1
}
lab_init p phones
TONE_METER=$XT_BUILD/tone_meter

declare -A NS=([pbx]=$NS_P [trunk]=$NS_T)
declare -A HOST4=([pbx]=10.94.1.2 [trunk]=10.94.2.2)
declare -A USER=([pbx]=2000 [trunk]=1000)
declare -A DEV=([pbx]=left0 [trunk]=right0) # the relay's device facing each phone
declare -A NAME=([pbx]="the PBX's phone" [trunk]="the trunk's phone")
# Whole cycles in tone_meter's 50 ms blocks (multiples of 20 Hz), far apart.
declare -A TONE=([pbx]=500 [trunk]=1200)
RELAY_P=10.94.1.1
CALL_SECONDS=8 # the caller hangs up after this (baresip -t counts from its start)
MIN_HEARD=4    # seconds of the other phone's tone each must hear, at least
MAX_OTHER=0.5  # seconds of any other sound (own tone, noise), at most
MIN_PACKETS=400 # RTP packets of MIN_HEARD seconds both ways (G.711 20 ms)

ctl() { in_ns "$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }
other() { [[ $1 == pbx ]] && echo trunk || echo pbx; }
stat_field() { ctl -j stats | jq -r ".$1 // 0"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# phone_config DIR SIDE: baresip's configuration for SIDE's phone in DIR: SIP
# over UDP on its host's address, no registration, G.711 only, its tone as the
# audio source (ausine makes 48 kHz stereo only; baresip resamples it to
# 8 kHz mono), a player nobody reads (aubridge without a source of the same
# name: no sound device), and the sndfile filter, which records what the
# phone sends and what it decoded to DIR/rec/dump-*-{enc,dec}.wav. The callee
# (the trunk's) answers by itself.
phone_config() {
	local dir=$1 side=$2 answer=
	[[ $side == trunk ]] && answer=";answermode=auto"
	mkdir -p "$dir/rec"
	cat >"$dir/config" <<-EOF
		# written by $0
		poll_method epoll
		sip_listen ${HOST4[$side]}:5060
		sip_trans_def udp
		audio_source ausine,${TONE[$side]}
		ausrc_srate 48000
		ausrc_channels 2
		audio_player aubridge,nil
		audio_alert aubridge,nil
		module_path /usr/lib/baresip/modules
		module g711.so
		module ausine.so
		module aubridge.so
		module sndfile.so
		module_tmp account.so
		module_app menu.so
		snd_path $dir/rec
	EOF
	echo "<sip:${USER[$side]}@${HOST4[$side]}>;regint=0$answer" >"$dir/accounts"
	: >"$dir/contacts"
}

write_config() {
	{
		printf '# written by %s\n[relay]\npin_dir = %s\n\n' "$0" "$PIN"
		lab_sides
	} >"$CONF"
}

# offloads_are NS TX GRO: the host's eth0 has tx checksumming and GRO as said.
offloads_are() {
	local k
	k=$(ip netns exec "$1" ethtool -k eth0)
	grep -q "^tx-checksumming: $2" <<<"$k" && grep -q "^generic-receive-offload: $3" <<<"$k"
}
phones_offloads_are() { offloads_are "$NS_P" "$1" "$2" && offloads_are "$NS_T" "$1" "$2"; }

# The relay as the lab made it: xtrunkd stopped, no XDP program, no pins.
relay_reset() {
	stop_xtrunkd
	local rc=$?
	ctl iface detach left0 >/dev/null 2>&1
	ctl iface detach right0 >/dev/null 2>&1
	rm -rf "$PIN"
	return $rc
}

# recording SIDE enc|dec HZ: tone_meter's line for what SIDE's phone sent
# (enc) or decoded (dec), judged against HZ.
recording() {
	local wav
	wav=$(find "$RUN/$1/rec" -name "dump-*-$2.wav" 2>/dev/null | head -1)
	[[ -n $wav ]] || {
		echo "no recording"
		return
	}
	"$TONE_METER" "$wav" "$3" 2>&1
}
# seconds_of LINE HZ|other: the seconds tone_meter counted.
seconds_of() {
	if [[ $2 == other ]]; then
		sed -nE 's/.* ([0-9.]+) s of other sound.*/\1/p' <<<"$1"
	else
		sed -nE "s/.* ([0-9.]+) s of $2 Hz,.*/\\1/p" <<<"$1"
	fi
}

# call_log: what xtrunkd logged about the run's one call.
call_log() { grep -E '^call c[0-9]+:' "$XD_LOG" | sed -E 's/^call c[0-9]+: //'; }
# "XDP USERSPACE" packets of the call, once it ended.
call_media() { call_log | sed -nE 's/^media relayed: ([0-9]+) packets in XDP, ([0-9]+) in userspace$/\1 \2/p'; }
call_ended() { [[ -n $(call_media) ]]; }

# egress_warning DEV: xtrunkd's log has a line about DEV's veth peer that
# cannot take XDP frames (GRO off, no XDP program), and how to fix it.
egress_warning() { grep -E "interface $1: .*veth peer .*GRO off.*ethtool -K eth0 gro on" "$XD_LOG"; }

# phone_call MODE: one call between the two phones with the phones' veths in
# MODE, xtrunkd started fresh; then what each heard and how it went.
phone_call() {
	local mode=$1 side callee caller line s media xdp user redirect0 csum0 tx gro
	RUN=$WORK/$mode
	mkdir -p "$RUN"
	echo "# --- the phones' veths in $mode mode ---"
	for side in pbx trunk; do
		end_host_offloads "${NS[$side]}" "$mode"
		phone_config "$RUN/$side" "$side"
	done
	read -r tx gro <<<"${OFFLOADS[$mode]}"
	check "$mode: the phones' eth0: tx checksumming $tx, GRO $gro" phones_offloads_are "$tx" "$gro"

	if ! start_xtrunkd "$RUN/xtrunkd.log"; then
		fail "$mode: xtrunkd starts in the relay namespace and says it is ready"
		sed 's/^/# /' "$XD_LOG"
		return
	fi
	pass "$mode: xtrunkd starts in the relay namespace and says it is ready"
	redirect0=$(stat_field redirect)
	csum0=$(stat_field csum_completed)

	# The trunk's phone waits for the call; the PBX's dials the trunk's
	# number at the relay and hangs up after CALL_SECONDS.
	(cd "$RUN" && exec ip netns exec "$NS_T" baresip -v -f "$RUN/trunk" -t 60 \
		</dev/null >"$RUN/trunk.log" 2>&1) &
	callee=$!
	track $callee
	check "$mode: the trunk's phone listens for SIP" wait_until 10 udp_bound "$NS_T" 5060
	(cd "$RUN" && exec ip netns exec "$NS_P" baresip -v -f "$RUN/pbx" -t $CALL_SECONDS \
		-e "/dial sip:${USER[trunk]}@$RELAY_P" </dev/null >"$RUN/pbx.log" 2>&1) &
	caller=$!
	track $caller
	check "$mode: the trunk's phone answers by itself" \
		wait_until 10 grep -qs 'Call established' "$RUN/trunk.log"
	check "$mode: the PBX's phone sees the call established" \
		wait_until 10 grep -qs 'Call established' "$RUN/pbx.log"
	check "$mode: the PBX's phone hangs up after $CALL_SECONDS s and exits cleanly" \
		reap $caller $((CALL_SECONDS + 15))
	check "$mode: xtrunkd ends the call" wait_until 10 call_ended
	kill $callee 2>/dev/null
	check "$mode: the trunk's phone exits cleanly when stopped" reap $callee 10
	check_eq "$mode: the call was answered and ended by the PBX's BYE" "answered (200)|BYE from pbx" \
		"$(call_log | grep -E '^(answered|BYE from|cancelled by|failed:)' | paste -sd'|')"

	# What each phone sent (its own tone) and heard: the other's tone, long
	# enough, and nothing else.
	for side in pbx trunk; do
		line=$(recording $side enc "${TONE[$side]}")
		s=$(seconds_of "$line" "${TONE[$side]}")
		check "$mode: ${NAME[$side]} sent its ${TONE[$side]} Hz tone for at least $MIN_HEARD s" \
			ge "${s:-0}" $MIN_HEARD
		line=$(recording $side dec "${TONE[$(other $side)]}")
		echo "# ${NAME[$side]} heard: $line"
		s=$(seconds_of "$line" "${TONE[$(other $side)]}")
		check "$mode: ${NAME[$side]} hears ${NAME[$(other $side)]}'s ${TONE[$(other $side)]} Hz tone for at least $MIN_HEARD s" \
			ge "${s:-0}" $MIN_HEARD
		s=$(seconds_of "$line" other)
		check "$mode: ... and at most $MAX_OTHER s of anything else (not its own ${TONE[$side]} Hz)" \
			le "${s:-99}" $MAX_OTHER
	done

	# Which path carried it, as the user sees it: xtrunkd's call log and
	# warnings, xtrunkctl stats.
	media=$(call_media)
	read -r xdp user <<<"${media:-0 0}"
	echo "# xtrunkd: media relayed: ${xdp} packets in XDP, ${user} in userspace"
	echo "# xtrunkctl stats: redirect +$(($(stat_field redirect) - redirect0)), csum_completed +$(($(stat_field csum_completed) - csum0))"
	case $mode in
	kernel)
		for side in pbx trunk; do
			check "$mode: xtrunkd warns that ${DEV[$side]}'s veth peer cannot take XDP frames, naming the device" \
				egress_warning "${DEV[$side]}"
		done
		check "$mode: xtrunkd's userspace relay carried the audio (at least $MIN_PACKETS packets)" \
			ge "$user" $MIN_PACKETS
		check_eq "$mode: XDP redirected nothing into the veths that would drop it (xtrunkctl stats)" \
			"$redirect0" "$(stat_field redirect)"
		;;
	gro | tuned)
		check "$mode: XDP redirected the audio (xtrunkctl stats: redirect up by at least $MIN_PACKETS)" \
			ge $(($(stat_field redirect) - redirect0)) $MIN_PACKETS
		check "$mode: ... and xtrunkd's call log counts it in XDP" ge "$xdp" $MIN_PACKETS
		check "$mode: xtrunkd warns about no device" test -z "$(egress_warning '[a-z0-9]+')"
		;;
	esac
	if [[ $mode == gro ]]; then
		check "$mode: the phones sent partial checksums and XDP completed them (xtrunkctl stats csum_completed)" \
			ge $(($(stat_field csum_completed) - csum0)) $MIN_PACKETS
	fi
	check_eq "$mode: after the call no flow is left" 0 "$(ctl -j flow list | jq length)"
	check "$mode: xtrunkd stops cleanly" relay_reset
}

XT_LAB_OFFLOADS=kernel lab_up 94
write_config
for mode in $MODES; do
	phone_call "$mode"
done
finish_tests phones
