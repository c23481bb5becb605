/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Ablation, for the benchmark only (tools/bench_steps.sh): a build with
 * -DXT_WITHOUT_<STEP> leaves that step of the relay out, so that the
 * benchmark can show what each step costs a packet. The program xtrunk
 * attaches never defines them: without its steps the relay is wrong (no
 * source check, stale checksums, no counters).
 */
#ifndef XTRUNK_ABLATION_H
#define XTRUNK_ABLATION_H

/* XT_STEP(NAME): 1, unless the build left step NAME out. */
#define XT_STEP(name) (!XT_WITHOUT_##name)

#ifndef XT_WITHOUT_GLOBAL_COUNTERS
#define XT_WITHOUT_GLOBAL_COUNTERS 0 /* rx and the verdict's per-CPU counter */
#endif
#ifndef XT_WITHOUT_SOURCE_CHECK
#define XT_WITHOUT_SOURCE_CHECK 0 /* the signalled source's address and port */
#endif
#ifndef XT_WITHOUT_TX_PORT_CHECK
#define XT_WITHOUT_TX_PORT_CHECK 0 /* XDP_TX only to a device in xt_tx_ports */
#endif
#ifndef XT_WITHOUT_PARTIAL_TEST
#define XT_WITHOUT_PARTIAL_TEST 0 /* is the UDP checksum partial? */
#endif
#ifndef XT_WITHOUT_REWRITE
#define XT_WITHOUT_REWRITE 0 /* addresses, ports, DSCP, TTL and both checksums */
#endif
#ifndef XT_WITHOUT_MACS
#define XT_WITHOUT_MACS 0 /* the next hop's MAC addresses */
#endif
#ifndef XT_WITHOUT_FLOW_COUNTERS
#define XT_WITHOUT_FLOW_COUNTERS 0 /* the flow's packets and bytes */
#endif
#ifndef XT_WITHOUT_LAST_SEEN
#define XT_WITHOUT_LAST_SEEN 0 /* the flow's last-seen time (per-CPU jiffy clock) */
#endif

#endif /* XTRUNK_ABLATION_H */
