/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hits.h - hit counters per list and limit rule.
 *
 * Contract: rule_hit() counts one packet against the rule of the given
 * kind whose prefix is the source masked to len bits (LPM space, IPv4 as
 * ::ffff:a.b.c.d, len 96 + the IPv4 length), the rule a compiled policy
 * entry names through list_len / after_len / limit_len. One hash lookup;
 * the first hit of a rule inserts its entry, so the map holds only rules
 * that were hit (userspace deletes the entries of deleted rules). Per-CPU
 * values, so the additions are exact; userspace sums the CPUs.
 */
#ifndef CORRAL_HITS_H
#define CORRAL_HITS_H

#include "ctx.h"

static __always_inline __u32 hits_mask(__u32 len, __u32 word)
{
	__u32 lo = word * 32;

	if (len >= lo + 32)
		return 0xffffffff;
	if (len <= lo)
		return 0;
	return bpf_htonl(0xffffffff << (32 - (len - lo)));
}

static __always_inline void rule_hit(__u32 kind, __u32 len, const __u32 addr[4],
				     __u8 family, __u32 bytes, int dropped, __u64 now)
{
	struct corral_prefix_rule_key k = { .kind = kind };
	__u32 *w = (__u32 *)k.pfx.addr;
	struct corral_hits *v;

	if (len > 128)
		return;
	k.pfx.prefixlen = len;
	if (family == 4) {
		w[2] = bpf_htonl(0x0000ffff) & hits_mask(len, 2);
		w[3] = addr[0] & hits_mask(len, 3);
	} else {
		w[0] = addr[0] & hits_mask(len, 0);
		w[1] = addr[1] & hits_mask(len, 1);
		w[2] = addr[2] & hits_mask(len, 2);
		w[3] = addr[3] & hits_mask(len, 3);
	}
	v = bpf_map_lookup_elem(&corral_hits, &k);
	if (!v) {
		/* the first hit makes the entry (this CPU's value; the others
		 * start at zero); a CPU that lost the race adds below */
		struct corral_hits first = {
			.packets = 1, .bytes = bytes, .dropped = !!dropped, .last_ns = now,
		};

		if (!bpf_map_update_elem(&corral_hits, &k, &first, BPF_NOEXIST))
			return;
		v = bpf_map_lookup_elem(&corral_hits, &k);
		if (!v)
			return;   /* table full: not counted */
	}
	v->packets++;
	v->bytes += bytes;
	if (dropped)
		v->dropped++;
	v->last_ns = now;
}

#endif /* CORRAL_HITS_H */
