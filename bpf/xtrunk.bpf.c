// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunk's XDP media relay. The logic lives in relay.h. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "relay.h"

/* Under libxdp's dispatcher: run early, and let later programs see what we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xtrunk_relay);

SEC("xdp")
int xtrunk_relay(struct xdp_md *ctx)
{
	return xt_relay(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
