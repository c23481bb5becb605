/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flow's call quality from the RTP statistics the XDP program keeps
 * (xt_rtp_stats): loss and jitter as RFC 3550 counts them, and an E-model MOS.
 */
#ifndef XTRUNK_RTP_QUALITY_H
#define XTRUNK_RTP_QUALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "xtrunk_abi.h"

/* RTP quality of a flow, derived from its statistics (RFC 3550 A.3, A.8). */
struct xt_rtp_quality {
	uint32_t ssrc;
	uint64_t expected, lost, received, duplicates, reordered;
	double loss_fraction; /* lost / expected */
	double jitter_ms;
	double mos; /* E-model (ITU-T G.107, simplified) for G.711 */
};

/* false when the flow has seen no RTP yet. */
bool xt_rtp_quality(const struct xt_rtp_stats *stats, struct xt_rtp_quality *q);

/* The MOS (1 to 4.5) for a loss in percent and a jitter in ms (see rtp_quality.c). */
double xt_emodel_mos(double loss_percent, double jitter_ms);

#endif
