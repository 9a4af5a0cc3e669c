/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bucket.h - stage 6: per-source token buckets as GCRA.
 *
 * Contract: each bucket keeps one theoretical arrival time (TAT) per
 * dimension. A packet costing `cost` ns conforms when
 * max(tat, now) + cost - now <= limit, with limit = burst * (ns per unit);
 * the new TAT is published with compare-and-swap, so CPUs racing on one
 * bucket can never pass more than the bucket allows. At a frozen clock
 * exactly `burst` packets pass; after dt, exactly floor(dt / cost) more.
 * A packet must conform to both the packet and the byte bucket; when the
 * byte bucket refuses it, the packet token is given back.
 *
 * bucket_key() masks the address to the aggregation prefix;
 * bucket_get() finds or creates the LRU entry (new entries counted).
 */
#ifndef CORRAL_BUCKET_H
#define CORRAL_BUCKET_H

#include "stats.h"

#define CORRAL_NSEC 1000000000ULL
#ifndef CORRAL_CAS_TRIES
#define CORRAL_CAS_TRIES 8
#endif

enum gcra_result {
	GCRA_DROP = 0,
	GCRA_PASS = 1,
	GCRA_BUSY = 2,   /* lost every compare-and-swap race */
};

static __always_inline int gcra_take(__u64 *tat, __u64 now, __u64 cost, __u64 limit)
{
	int i;

#pragma unroll
	for (i = 0; i < CORRAL_CAS_TRIES; i++) {
		__u64 old = READ_ONCE(*tat);
		__u64 next = (old > now ? old : now) + cost;

		if (next - now > limit)
			return GCRA_DROP;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return GCRA_PASS;
	}
	return GCRA_BUSY;
}

static __always_inline __u32 mask_bits(__u32 word, int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return word;
	return word & bpf_htonl(~0U << (32 - bits));
}

static __always_inline void bucket_key(struct corral_src_key *k, const __u32 addr[4],
				       __u8 family, const struct corral_cfg *cfg, __u8 class)
{
	int len;

	k->family = family;
	k->class = cfg->key_class ? class : CORRAL_CLASS_ANY;
	k->pad[0] = k->pad[1] = 0;
	if (family == 4) {
		k->addr[0] = mask_bits(addr[0], cfg->v4_prefix);
		k->addr[1] = k->addr[2] = k->addr[3] = 0;
		return;
	}
	len = cfg->v6_prefix;
	k->addr[0] = mask_bits(addr[0], len);
	k->addr[1] = mask_bits(addr[1], len - 32);
	k->addr[2] = mask_bits(addr[2], len - 64);
	k->addr[3] = mask_bits(addr[3], len - 96);
}

static __always_inline struct corral_bucket *bucket_get(void *map, const struct corral_src_key *k,
							__u32 gstat_new)
{
	struct corral_bucket *b = bpf_map_lookup_elem(map, k);
	struct corral_bucket zero = {};

	if (b)
		return b;
	if (bpf_map_update_elem(map, k, &zero, BPF_NOEXIST) == 0)
		gstat_inc(gstat_new);
	return bpf_map_lookup_elem(map, k);
}

static __always_inline int limit_active(const struct corral_limit *l)
{
	return l->pkt_rate || l->byte_rate;
}

/* returns GCRA_PASS, GCRA_DROP or GCRA_BUSY */
static __always_inline int bucket_police(struct corral_bucket *b, const struct corral_limit *l,
					 __u64 now, __u32 len)
{
	__u64 pkt_cost = 0;
	int r;

	if (l->pkt_rate) {
		pkt_cost = CORRAL_NSEC / l->pkt_rate;
		r = gcra_take(&b->tat_pkt, now, pkt_cost, l->pkt_burst * pkt_cost);
		if (r != GCRA_PASS)
			return r;
	}
	if (l->byte_rate) {
		__u64 cost = (__u64)len * CORRAL_NSEC / l->byte_rate;
		__u64 limit = l->byte_burst * CORRAL_NSEC / l->byte_rate;

		r = gcra_take(&b->tat_byte, now, cost, limit);
		if (r != GCRA_PASS) {
			if (pkt_cost)
				__sync_fetch_and_add(&b->tat_pkt, -pkt_cost);
			return r;
		}
	}
	return GCRA_PASS;
}

#endif /* CORRAL_BUCKET_H */
