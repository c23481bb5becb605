// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include "rtp_quality.h"

/*
 * E-model, ITU-T G.107 simplified for G.711 with packet loss concealment:
 * R = 93.2 - Id - Ie_eff, with Ie = 0 and Bpl = 25.1 (G.113 Appendix I), and
 * the delay impairment Id from a one-way delay estimated as 20 ms of
 * packetization plus a jitter buffer of twice the jitter.
 */
double xt_emodel_mos(double loss_percent, double jitter_ms)
{
	double delay = 20.0 + 2.0 * jitter_ms, r, id, ie_eff;

	id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0.0);
	ie_eff = 95.0 * loss_percent / (loss_percent + 25.1);
	r = 93.2 - id - ie_eff;
	if (r <= 0.0)
		return 1.0;
	if (r >= 100.0)
		return 4.5;
	return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
}

bool xt_rtp_quality(const struct xt_rtp_stats *stats, struct xt_rtp_quality *q)
{
	memset(q, 0, sizeof(*q));
	if (!stats->received)
		return false;
	q->ssrc = stats->ssrc;
	/* as RFC 3550 counts them: duplicates included */
	q->received = (uint64_t)stats->received + stats->duplicates;
	q->duplicates = stats->duplicates;
	q->reordered = stats->reordered;
	q->expected = (uint64_t)(stats->max_seq - stats->base_seq) + 1;
	/* late packets were counted when expected, duplicates never were */
	q->lost = q->expected > stats->received ? q->expected - stats->received : 0;
	q->loss_fraction = q->expected ? (double)q->lost / (double)q->expected : 0.0;
	q->jitter_ms = stats->clock_hz ? (double)(stats->jitter >> 4) * 1000.0 / stats->clock_hz :
					 0.0;
	q->mos = xt_emodel_mos(100.0 * q->loss_fraction, q->jitter_ms);
	return true;
}
