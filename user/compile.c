// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * compile.c - rule compilation (source policy trie, port class table).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

static void lpm_mask(const struct corral_lpm_key *in, __u32 len, struct corral_lpm_key *out)
{
	__u32 i;

	memset(out, 0, sizeof(*out));
	out->prefixlen = len;
	for (i = 0; i < 16; i++) {
		__u32 bit = i * 8;

		if (bit + 8 <= len)
			out->addr[i] = in->addr[i];
		else if (bit < len)
			out->addr[i] = in->addr[i] & (__u8)(0xff << (8 - (len - bit)));
	}
}

bool corral_lpm_contains(const struct corral_lpm_key *a, const struct corral_lpm_key *b)
{
	struct corral_lpm_key m;

	if (a->prefixlen > b->prefixlen)
		return false;
	lpm_mask(b, a->prefixlen, &m);
	return !memcmp(m.addr, a->addr, sizeof(m.addr));
}

/* order: prefix length, then address */
static int key_cmp(const void *pa, const void *pb)
{
	const struct corral_lpm_key *a = pa, *b = pb;

	if (a->prefixlen != b->prefixlen)
		return a->prefixlen < b->prefixlen ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

struct node {
	struct corral_lpm_key key;       /* first member: bsearch by key_cmp */
	const struct corral_prule *list, *cls, *limit;
};

/* ::ffff:0:0/96, where IPv4 prefixes live in the trie */
static const struct corral_lpm_key v4_space = {
	.prefixlen = 96,
	.addr = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff },
};

static bool in_v4_space(const struct corral_lpm_key *k)
{
	return corral_lpm_contains(&v4_space, k);
}

static int u32_cmp(const void *pa, const void *pb)
{
	__u32 a = *(const __u32 *)pa, b = *(const __u32 *)pb;

	return a < b ? -1 : a > b;
}

int corral_policy_compile(const struct corral_prule *rules, size_t n,
			  struct corral_pol_entry **out, size_t *nout)
{
	struct corral_pol_entry *res = NULL;
	struct node *nodes = NULL;
	__u32 lens[129];
	size_t i, nn = 0, nlens = 0;
	bool seen_len[129] = { false };

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	/* one more for the IPv4 barrier */
	nodes = calloc(n + 1, sizeof(*nodes));
	res = calloc(n + 1, sizeof(*res));
	if (!nodes || !res) {
		free(nodes);
		free(res);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		lpm_mask(&rules[i].key.pfx, rules[i].key.pfx.prefixlen, &nodes[i].key);
	qsort(nodes, n, sizeof(*nodes), key_cmp);
	for (i = 0; i < n; i++) {
		if (nn && !key_cmp(&nodes[nn - 1].key, &nodes[i].key))
			continue;
		nodes[nn++].key = nodes[i].key;
	}
	/*
	 * An IPv6 rule shorter than /96 that covers ::ffff:0:0/96 (::/0, say)
	 * would be the longest match of every IPv4 source. A rule-less entry
	 * at ::ffff:0:0/96 stops it there; IPv4 entries below merge only rules
	 * from the IPv4 space (see the walk below).
	 */
	for (i = 0; i < nn; i++) {
		if (nodes[i].key.prefixlen < v4_space.prefixlen &&
		    corral_lpm_contains(&nodes[i].key, &v4_space) &&
		    !bsearch(&v4_space, nodes, nn, sizeof(*nodes), key_cmp)) {
			nodes[nn++].key = v4_space;
			qsort(nodes, nn, sizeof(*nodes), key_cmp);
			break;
		}
	}
	/* the rules that sit exactly on each prefix */
	for (i = 0; i < n; i++) {
		struct corral_lpm_key k;
		struct node *nd;

		lpm_mask(&rules[i].key.pfx, rules[i].key.pfx.prefixlen, &k);
		nd = bsearch(&k, nodes, nn, sizeof(*nodes), key_cmp);
		if (!nd)
			continue;
		switch (rules[i].key.kind) {
		case CORRAL_RULE_ALLOW:
			if (!nd->list)
				nd->list = &rules[i];
			break;
		case CORRAL_RULE_DENY:
			/* allow and deny on one prefix is refused upstream; deny wins */
			nd->list = &rules[i];
			break;
		case CORRAL_RULE_CLASS:
			nd->cls = &rules[i];
			break;
		case CORRAL_RULE_LIMIT:
			nd->limit = &rules[i];
			break;
		}
		if (k.prefixlen <= 128 && !seen_len[k.prefixlen]) {
			seen_len[k.prefixlen] = true;
			lens[nlens++] = k.prefixlen;
		}
	}
	qsort(lens, nlens, sizeof(lens[0]), u32_cmp);

	for (i = 0; i < nn; i++) {
		const struct corral_prule *list = NULL, *after = NULL, *cls = NULL, *limit = NULL;
		struct corral_pol_entry *e = &res[i];
		size_t j;

		/* walk the containing prefixes from longest to shortest */
		for (j = nlens; j-- > 0;) {
			struct corral_lpm_key m;
			struct node *nd;

			if (lens[j] > nodes[i].key.prefixlen)
				continue;
			/* IPv4 entries never inherit IPv6 rules */
			if (lens[j] < v4_space.prefixlen && in_v4_space(&nodes[i].key))
				break;
			lpm_mask(&nodes[i].key, lens[j], &m);
			nd = bsearch(&m, nodes, nn, sizeof(*nodes), key_cmp);
			if (!nd)
				continue;
			if (!list) {
				list = nd->list;
			} else if (nd->list && !after && list->val.expires_ns &&
				   (!nd->list->val.expires_ns ||
				    nd->list->val.expires_ns > list->val.expires_ns)) {
				/* what the data plane applies once the timed rule
				 * has expired (the next list rule that outlives it) */
				after = nd->list;
			}
			if (!cls)
				cls = nd->cls;
			if (!limit)
				limit = nd->limit;
			if (list && cls && limit && (!list->val.expires_ns || after))
				break;
		}
		e->key = nodes[i].key;
		memset(&e->val, 0, sizeof(e->val));
		e->val.class = CORRAL_CLASS_ANY;
		if (list) {
			e->val.flags |= CORRAL_POL_LIST;
			e->val.list = list->key.kind == CORRAL_RULE_ALLOW ? CORRAL_LIST_ALLOW
									 : CORRAL_LIST_DENY;
			e->val.list_len = (__u8)list->key.pfx.prefixlen;
			e->val.list_expires_ns = list->val.expires_ns;
			if (after) {
				e->val.list_after = after->key.kind == CORRAL_RULE_ALLOW
							    ? CORRAL_LIST_ALLOW : CORRAL_LIST_DENY;
				e->val.after_len = (__u8)after->key.pfx.prefixlen;
			}
		}
		if (cls) {
			e->val.flags |= CORRAL_POL_CLASS;
			e->val.class = cls->val.class;
		}
		if (limit) {
			e->val.flags |= CORRAL_POL_LIMIT;
			e->val.limit = limit->val.limit;
			e->val.limit_len = (__u8)limit->key.pfx.prefixlen;
		}
	}
	free(nodes);
	*out = res;
	*nout = nn;
	return 0;
}

static int width_cmp(const void *pa, const void *pb)
{
	const struct corral_ptrule *a = *(const struct corral_ptrule *const *)pa;
	const struct corral_ptrule *b = *(const struct corral_ptrule *const *)pb;
	__u32 wa = (__u32)a->key.port_hi - a->key.port_lo;
	__u32 wb = (__u32)b->key.port_hi - b->key.port_lo;

	if (wa != wb)
		return wa > wb ? -1 : 1;
	if (a->key.proto_idx != b->key.proto_idx)
		return a->key.proto_idx < b->key.proto_idx ? -1 : 1;
	if (a->key.port_lo != b->key.port_lo)
		return a->key.port_lo < b->key.port_lo ? -1 : 1;
	return 0;
}

int corral_port_compile(const struct corral_ptrule *rules, size_t n, __u8 *table)
{
	const struct corral_ptrule **ord;
	size_t i;

	memset(table, CORRAL_CLASS_ANY, CORRAL_PORT_TABLE_SIZE);
	if (!n)
		return 0;
	ord = calloc(n, sizeof(*ord));
	if (!ord)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ord[i] = &rules[i];
	qsort(ord, n, sizeof(*ord), width_cmp);
	for (i = 0; i < n; i++) {
		const struct corral_ptrule *r = ord[i];
		__u32 p, base;

		if (r->key.proto_idx >= CORRAL_NPROTO)
			continue;
		base = (__u32)r->key.proto_idx * 65536u;
		for (p = r->key.port_lo; p <= r->key.port_hi; p++)
			table[base + p] = r->cls;
	}
	free(ord);
	return 0;
}

int corral_ptrule_cmp(const void *pa, const void *pb)
{
	const struct corral_ptrule *a = pa, *b = pb;

	if (a->key.proto_idx != b->key.proto_idx)
		return a->key.proto_idx < b->key.proto_idx ? -1 : 1;
	if (a->key.port_lo != b->key.port_lo)
		return a->key.port_lo < b->key.port_lo ? -1 : 1;
	return a->key.port_hi < b->key.port_hi ? -1 : a->key.port_hi > b->key.port_hi;
}
