/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats.h - stage 7: per-CPU counters per class row x reason.
 *
 * Contract: stats_add() counts one packet and its bytes; gstat_inc() bumps
 * a global counter. Per-CPU values, so plain increments are exact;
 * userspace sums the CPUs.
 */
#ifndef CORRAL_STATS_H
#define CORRAL_STATS_H

#include "ctx.h"

static __always_inline void stats_add(__u32 row, __u32 reason, __u32 len)
{
	__u32 key = CORRAL_STAT_KEY(row, reason);
	struct corral_counter *c = bpf_map_lookup_elem(&corral_stats, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void gstat_inc(__u32 g)
{
	__u32 key = CORRAL_GSTAT_KEY(g);
	struct corral_counter *c = bpf_map_lookup_elem(&corral_stats, &key);

	if (c)
		c->packets++;
}

#endif /* CORRAL_STATS_H */
