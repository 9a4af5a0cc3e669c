/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * policy.h - stages 2 and 3: allow/deny lists and classification.
 *
 * Contract: policy_lookup() does the one LPM lookup on an address (skipped
 * when the policy trie is empty) and returns the compiled policy or NULL.
 * classify() picks the class with this precedence:
 *   1. source prefix class (from the same policy entry)
 *   2. protocol + destination port table (skipped for non-first fragments)
 *   3. DSCP table
 *   4. the default class.
 * Allow-listed sources are class 0 and never reach classify().
 */
#ifndef CORRAL_POLICY_H
#define CORRAL_POLICY_H

#include "parse.h"

static __always_inline const struct corral_policy *
policy_lookup(const struct corral_cfg *cfg, const __u32 addr[4], __u8 family)
{
	struct corral_lpm_key key = { .prefixlen = 128 };
	__u32 *w = (__u32 *)key.addr;

	if (!(cfg->tables & CORRAL_TBL_PREFIX))
		return NULL;
	if (family == 4) {
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = addr[0];
	} else {
		w[0] = addr[0];
		w[1] = addr[1];
		w[2] = addr[2];
		w[3] = addr[3];
	}
	return bpf_map_lookup_elem(&corral_policy, &key);
}

static __always_inline int proto_index(__u8 l4proto)
{
	switch (l4proto) {
	case CORRAL_IPPROTO_TCP:
		return CORRAL_PI_TCP;
	case CORRAL_IPPROTO_UDP:
		return CORRAL_PI_UDP;
	case CORRAL_IPPROTO_ICMP:
		return CORRAL_PI_ICMP;
	case CORRAL_IPPROTO_ICMPV6:
		return CORRAL_PI_ICMPV6;
	}
	return -1;
}

static __always_inline __u8 classify(const struct corral_cfg *cfg,
				     const struct corral_policy *pol,
				     const struct corral_pkt *p)
{
	if (pol && (pol->flags & CORRAL_POL_CLASS))
		return pol->class & (CORRAL_NCLASS - 1);

	if ((cfg->tables & CORRAL_TBL_PORT) && !p->frag) {
		int pi = proto_index(p->l4proto);

		if (pi >= 0) {
			__u32 idx = (__u32)pi * 65536 + (p->has_ports ? p->dport : 0);
			__u8 *c = bpf_map_lookup_elem(&corral_port_cls, &idx);

			if (c && *c != CORRAL_CLASS_ANY)
				return *c & (CORRAL_NCLASS - 1);
		}
	}

	if (cfg->tables & CORRAL_TBL_DSCP) {
		__u8 c = cfg->dscp_class[p->dscp & 63];

		if (c != CORRAL_CLASS_ANY)
			return c & (CORRAL_NCLASS - 1);
	}
	return cfg->default_class & (CORRAL_NCLASS - 1);
}

#endif /* CORRAL_POLICY_H */
