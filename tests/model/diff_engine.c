// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * diff_engine.c - differential run of the corral ingress programs against
 * the reference model. Included (as a .c) by tests/bpf/test_diff.c and
 * tools/fuzz/diff_fuzz.c, together with model.c.
 *
 * Each policy is one reproducible unit: its random stream is derived from
 * (seed, policy index) alone, and both data plane instances and both
 * models start it from empty state. So "--seed S --policy P" replays a
 * case exactly. Every packet runs through corral_xdp (instance 0) and
 * corral_tc_in (instance 1) and through one model per instance; verdicts
 * and every counter delta (packets and bytes per row and reason, and the
 * global counters) must agree.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corral.skel.h"
#include "harness.h"
#include "pkt.h"
#include "model.h"

#define DIFF_NHOOK 2
#define DIFF_NSEC 1000000000ULL

struct diff_opts {
	__u64 seed;
	long policies;           /* policies to run (<= 0: until time runs out) */
	long min_packets;        /* ... and go on until this many packets ran */
	long pkts_per_policy;
	double seconds;          /* > 0: stop after this long */
	long only_policy;        /* >= 0: replay just this policy */
	int verbose;             /* print every packet of the run */
	int max_reports;         /* disagreements printed in full */
};

struct diff_result {
	long policies, packets, runs, short_frames, tc_refused, disagreements, errors;
	long by_reason[CORRAL_NREASON];
	long malformed_kinds, nonip;
	struct model_oracle oracle;
	/* first disagreement, for regression notes */
	long first_policy, first_packet;
};

/* ---- random numbers (splitmix64) --------------------------------------- */
struct rng {
	__u64 s;
};

static __u64 rnd(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 rnd_n(struct rng *r, __u64 n)
{
	return n ? rnd(r) % n : 0;
}

static __u64 rnd_range(struct rng *r, __u64 lo, __u64 hi)
{
	return lo + rnd_n(r, hi - lo + 1);
}

/* true with probability pct percent */
static int chance(struct rng *r, int pct)
{
	return (int)rnd_n(r, 100) < pct;
}

/* ---- policy ------------------------------------------------------------ */
#define DIFF_NHOSTS 12

struct diff_case {
	struct model_policy pol;
	struct model_prefix hosts[DIFF_NHOSTS];   /* addresses the rules are built around */
	__u16 ports[12];                           /* ports the rules care about */
	int nports;
	int shed_active, syn_dynamic;
	__u64 now, tempo;
};

static void mask_prefix(struct model_prefix *p)
{
	int n = p->family == 4 ? 4 : 16, i;

	for (i = 0; i < n; i++) {
		int keep = p->plen - i * 8;

		if (keep <= 0)
			p->addr[i] = 0;
		else if (keep < 8)
			p->addr[i] &= (__u8)(0xff << (8 - keep));
	}
	for (i = n; i < 16; i++)
		p->addr[i] = 0;
}

static void random_host(struct rng *r, struct model_prefix *h, int family)
{
	int i;

	memset(h, 0, sizeof(*h));
	h->family = family;
	if (family == 4) {
		/* 10.78.0.0/15, sometimes 10.77.0.0/16 */
		h->addr[0] = 10;
		h->addr[1] = chance(r, 20) ? 77 : (__u8)(78 + rnd_n(r, 2));
		h->addr[2] = (__u8)rnd(r);
		h->addr[3] = (__u8)rnd(r);
		h->plen = 32;
	} else {
		h->addr[0] = 0xfd;
		h->addr[1] = 0x77;
		for (i = 2; i < 16; i++)
			h->addr[i] = (__u8)rnd(r);
		if (chance(r, 50))       /* few distinct /32s: nesting gets likely */
			h->addr[2] = h->addr[3] = 0;
		h->plen = 128;
	}
}

static void random_limit(struct rng *r, struct corral_limit *l)
{
	memset(l, 0, sizeof(*l));
	if (chance(r, 75)) {
		l->pkt_rate = chance(r, 50) ? rnd_range(r, 1, 50) : rnd_range(r, 51, 100000);
		l->pkt_burst = rnd_range(r, chance(r, 10) ? 0 : 1, 20);
	}
	if (chance(r, 45)) {
		l->byte_rate = chance(r, 50) ? rnd_range(r, 100, 20000) : rnd_range(r, 20000, 2000000);
		l->byte_burst = chance(r, 10) ? rnd_range(r, 0, 100) :
				chance(r, 60) ? rnd_range(r, 100, 2000) : rnd_range(r, 2000, 60000);
	}
}

static int rule_dup(const struct model_policy *pol, const struct model_rule *n)
{
	int i;

	for (i = 0; i < pol->nrules; i++) {
		const struct model_rule *o = &pol->rules[i];
		int same_group = o->kind == n->kind ||
				 ((o->kind == CORRAL_RULE_ALLOW || o->kind == CORRAL_RULE_DENY) &&
				  (n->kind == CORRAL_RULE_ALLOW || n->kind == CORRAL_RULE_DENY));

		if (same_group && o->pfx.family == n->pfx.family && o->pfx.plen == n->pfx.plen &&
		    !memcmp(o->pfx.addr, n->pfx.addr, 16))
			return 1;
	}
	return 0;
}

static const __u16 port_pool[] = { 0, 22, 53, 80, 443, 1000, 1023, 1024, 8080, 65535 };

static void random_policy(struct rng *r, struct diff_case *c)
{
	struct model_policy *pol = &c->pol;
	struct corral_cfg *cfg = &pol->cfg;
	int i, n;

	memset(c, 0, sizeof(*c));
	h_cfg_defaults(cfg);
	cfg->mode = chance(r, 25) ? CORRAL_MODE_MONITOR : CORRAL_MODE_ENFORCE;
	cfg->malformed_pass = chance(r, 25);
	cfg->v4_prefix = chance(r, 50) ? 32 : (__u8)rnd_range(r, 1, 32);
	cfg->v6_prefix = chance(r, 50) ? 64 : (__u8)rnd_range(r, 1, 128);
	cfg->key_class = chance(r, 30);
	cfg->default_class = (__u8)rnd_n(r, CORRAL_NCLASS);
	cfg->salt = rnd(r);
	cfg->epoch_ns = rnd_range(r, DIFF_NSEC / 10, 20 * DIFF_NSEC);
	cfg->hb_timeout_ns = rnd_range(r, DIFF_NSEC / 10, 3 * DIFF_NSEC);
	if (chance(r, 60))
		random_limit(r, &cfg->dflt);
	if (chance(r, 35)) {
		n = (int)rnd_range(r, 1, 8);
		for (i = 0; i < n; i++)
			cfg->dscp_class[rnd_n(r, 64)] = (__u8)rnd_n(r, CORRAL_NCLASS);
	}

	for (i = 0; i < DIFF_NHOSTS; i++)
		random_host(r, &c->hosts[i], i & 1 ? 4 : 6);
	/* some hosts share a /24 or /48 with another */
	for (i = 1; i < DIFF_NHOSTS; i++) {
		if (chance(r, 30) && c->hosts[i - 1].family == c->hosts[i].family) {
			int keep = c->hosts[i].family == 4 ? 3 : 6;

			memcpy(c->hosts[i].addr, c->hosts[i - 1].addr, keep);
		}
	}

	n = chance(r, 15) ? 0 : (int)rnd_range(r, 1, 24);
	for (i = 0; i < n && pol->nrules < MODEL_MAX_RULES; i++) {
		struct model_rule ru;
		const struct model_prefix *h = &c->hosts[rnd_n(r, DIFF_NHOSTS)];
		int k = (int)rnd_n(r, 100);

		memset(&ru, 0, sizeof(ru));
		ru.kind = k < 15 ? CORRAL_RULE_ALLOW : k < 35 ? CORRAL_RULE_DENY :
			  k < 65 ? CORRAL_RULE_CLASS : CORRAL_RULE_LIMIT;
		ru.pfx = *h;
		if (h->family == 4)
			ru.pfx.plen = chance(r, 5) ? (__u8)rnd_range(r, 0, 8)
						   : (__u8)rnd_range(r, 8, 32);
		else
			ru.pfx.plen = chance(r, 5) ? (__u8)rnd_range(r, 1, 16)
						   : (__u8)rnd_range(r, 16, 128);
		mask_prefix(&ru.pfx);
		ru.cls = (__u8)rnd_n(r, CORRAL_NCLASS);
		if (ru.kind == CORRAL_RULE_LIMIT)
			random_limit(r, &ru.lim);
		if (!rule_dup(pol, &ru))
			pol->rules[pol->nrules++] = ru;
	}

	/* ports the packets aim at */
	for (i = 0; i < 6; i++)
		c->ports[c->nports++] = port_pool[rnd_n(r, sizeof(port_pool) / sizeof(port_pool[0]))];
	for (; i < 10; i++)
		c->ports[c->nports++] = (__u16)rnd(r);

	n = chance(r, 30) ? 0 : (int)rnd_range(r, 1, MODEL_MAX_PORT_RULES / 2);
	for (i = 0; i < n; i++) {
		struct model_port_rule *p = &pol->ports[pol->nports++];
		__u16 at = c->ports[rnd_n(r, c->nports)];
		__u32 w = chance(r, 50) ? 0 : (__u32)rnd_n(r, chance(r, 20) ? 65536 : 200);

		p->proto_idx = (__u8)rnd_n(r, CORRAL_NPROTO);
		if (p->proto_idx >= CORRAL_PI_ICMP && chance(r, 70))
			at = 0;       /* ICMP has no port: its rules cover 0 */
		p->lo = at > w / 2 ? (__u16)(at - w / 2) : 0;
		p->hi = (__u32)p->lo + w > 65535 ? 65535 : (__u16)(p->lo + w);
		p->cls = (__u8)rnd_n(r, CORRAL_NCLASS);
	}

	if (chance(r, 50)) {
		cfg->syn_on = 1;
		n = (int)rnd_range(r, 1, 3);
		for (i = 0; i < n; i++)
			pol->synports[pol->nsynports++] = c->ports[rnd_n(r, c->nports)];
		cfg->syn_rate = chance(r, 30) ? 0 : rnd_range(r, 1, chance(r, 70) ? 300 : 5000);
		cfg->syn_burst = rnd_range(r, 1, 20);
		c->syn_dynamic = chance(r, 60);
	}
	c->shed_active = chance(r, 50);
	/* typical gap between packets: 1 us .. 5 ms */
	c->tempo = chance(r, 50) ? rnd_range(r, 1000, 100000) : rnd_range(r, 100000, 5000000);
	c->now = rnd_range(r, 10, 100000) * DIFF_NSEC + rnd_n(r, DIFF_NSEC);
}

/* ---- compile the policy into one data plane instance ------------------------ */
struct diff_dp {
	struct harness h;
	int synports_fd, synbkt_fd;
	struct corral_counter last[CORRAL_NSTATS];
	/* what this instance holds, to undo before the next policy */
	struct model_prefix trie[MODEL_MAX_RULES];
	int ntrie;
	__u16 synports[MODEL_MAX_SYNPORTS];
	int nsynports;
	__u32 *keys;
	struct corral_counter *vals;
};

static int dp_stats(struct diff_dp *d, struct corral_counter *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u32 count = CORRAL_NSTATS, out_batch = 0, k;
	int ncpu = d->h.ncpu, i, err;

	err = bpf_map_lookup_batch(d->h.stats_fd, NULL, &out_batch, d->keys, d->vals, &count,
				   &bo);
	if (err && errno != ENOENT)
		return -errno;
	if (count != CORRAL_NSTATS)
		return -EIO;
	memset(out, 0, sizeof(*out) * CORRAL_NSTATS);
	for (k = 0; k < count; k++) {
		__u32 key = d->keys[k];

		if (key >= CORRAL_NSTATS)
			return -EIO;
		for (i = 0; i < ncpu; i++) {
			out[key].packets += d->vals[k * ncpu + i].packets;
			out[key].bytes += d->vals[k * ncpu + i].bytes;
		}
	}
	return 0;
}

static int dp_open(struct diff_dp *d)
{
	struct h_opts o = { .clock_mode = CORRAL_CLOCK_FAKE, .buckets_max = 1 << 17 };
	int err;

	memset(d, 0, sizeof(*d));
	err = h_open(&d->h, &o);
	if (err)
		return err;
	d->synports_fd = bpf_map__fd(d->h.skel->maps.corral_synports);
	d->synbkt_fd = bpf_map__fd(d->h.skel->maps.corral_synbkt);
	d->keys = calloc(CORRAL_NSTATS, sizeof(*d->keys));
	d->vals = calloc((size_t)CORRAL_NSTATS * d->h.ncpu, sizeof(*d->vals));
	if (!d->keys || !d->vals)
		return -ENOMEM;
	return dp_stats(d, d->last);
}

static void dp_close(struct diff_dp *d)
{
	free(d->keys);
	free(d->vals);
	if (d->h.skel)
		h_close(&d->h);
}

/* the compiled trie value for rule prefix P: the longest rule of each kind containing P */
static void compile_entry(const struct model_policy *pol, const struct model_prefix *P,
			  struct corral_policy *out)
{
	const struct model_rule *best[5] = { NULL };
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < pol->nrules; i++) {
		const struct model_rule *r = &pol->rules[i];
		int slot = r->kind == CORRAL_RULE_DENY ? CORRAL_RULE_ALLOW : r->kind;

		if (!model_prefix_contains(&r->pfx, P))
			continue;
		if (!best[slot] || r->pfx.plen > best[slot]->pfx.plen)
			best[slot] = r;
	}
	if (best[CORRAL_RULE_ALLOW]) {
		out->flags |= CORRAL_POL_LIST;
		out->list = best[CORRAL_RULE_ALLOW]->kind == CORRAL_RULE_DENY ? CORRAL_LIST_DENY
									     : CORRAL_LIST_ALLOW;
	}
	if (best[CORRAL_RULE_CLASS]) {
		out->flags |= CORRAL_POL_CLASS;
		out->class = best[CORRAL_RULE_CLASS]->cls;
	}
	if (best[CORRAL_RULE_LIMIT]) {
		out->flags |= CORRAL_POL_LIMIT;
		out->limit = best[CORRAL_RULE_LIMIT]->lim;
	}
}

static int port_cmp_width(const void *a, const void *b)
{
	const struct model_port_rule *x = *(const struct model_port_rule *const *)a;
	const struct model_port_rule *y = *(const struct model_port_rule *const *)b;
	__u32 wx = (__u32)x->hi - x->lo, wy = (__u32)y->hi - y->lo;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return x < y ? -1 : x > y;   /* list order among equal widths */
}

static void dp_set_ctl(struct diff_dp *d, const struct corral_ctl *c)
{
	struct corral_ctl *k = d->h.ctl;

	__atomic_store_n(&k->herd_start_ns, c->herd_start_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&k->herd_salt, c->herd_salt, __ATOMIC_RELAXED);
	__atomic_store_n(&k->syn_burst, c->syn_burst, __ATOMIC_RELAXED);
	__atomic_store_n(&k->heartbeat_ns, c->heartbeat_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&k->syn, c->syn, __ATOMIC_RELAXED);
	__atomic_store_n(&k->shed, c->shed, __ATOMIC_RELAXED);
	__atomic_store_n(&k->fake_now_ns, c->fake_now_ns, __ATOMIC_RELEASE);
}

static int dp_load_policy(struct diff_dp *d, const struct diff_case *c)
{
	const struct model_policy *pol = &c->pol;
	const struct model_port_rule *ord[MODEL_MAX_PORT_RULES];
	struct corral_bucket zb = { 0 };
	struct corral_ctl ctl0;
	struct corral_cfg cfg;
	__u32 zero = 0;
	__u8 off = 0, on = 1;
	int i, j, err;

	/* undo the previous policy */
	for (i = 0; i < d->ntrie; i++) {
		err = h_policy_del(&d->h, d->trie[i].family, d->trie[i].addr, d->trie[i].plen);
		if (err && err != -ENOENT)
			return err;
	}
	d->ntrie = 0;
	for (i = 0; i < d->nsynports; i++) {
		__u32 k = d->synports[i];

		if (bpf_map_update_elem(d->synports_fd, &k, &off, BPF_ANY))
			return -errno;
	}
	d->nsynports = 0;
	h_port_clear(&d->h);
	err = h_buckets_clear(&d->h);
	if (err)
		return err;
	if (bpf_map_update_elem(d->synbkt_fd, &zero, &zb, BPF_ANY))
		return -errno;
	memset(&ctl0, 0, sizeof(ctl0));
	dp_set_ctl(d, &ctl0);

	/* the compiled trie: one entry per distinct rule prefix */
	for (i = 0; i < pol->nrules; i++) {
		const struct model_prefix *P = &pol->rules[i].pfx;
		struct corral_policy v;

		for (j = 0; j < d->ntrie; j++)
			if (d->trie[j].family == P->family && d->trie[j].plen == P->plen &&
			    !memcmp(d->trie[j].addr, P->addr, 16))
				break;
		if (j < d->ntrie)
			continue;
		compile_entry(pol, P, &v);
		err = h_policy_set(&d->h, P->family, P->addr, P->plen, &v);
		if (err)
			return err;
		d->trie[d->ntrie++] = *P;
	}

	/* port table: widest first, so the narrowest range wins */
	for (i = 0; i < pol->nports; i++)
		ord[i] = &pol->ports[i];
	qsort(ord, pol->nports, sizeof(ord[0]), port_cmp_width);
	for (i = 0; i < pol->nports; i++)
		h_port_set(&d->h, ord[i]->proto_idx, ord[i]->lo, ord[i]->hi, ord[i]->cls);

	for (i = 0; i < pol->nsynports; i++) {
		__u32 k = pol->synports[i];

		if (bpf_map_update_elem(d->synports_fd, &k, &on, BPF_ANY))
			return -errno;
		d->synports[d->nsynports++] = pol->synports[i];
	}

	cfg = pol->cfg;
	cfg.tables = 0;
	if (d->ntrie)
		cfg.tables |= CORRAL_TBL_PREFIX;
	if (pol->nports)
		cfg.tables |= CORRAL_TBL_PORT;
	for (i = 0; i < 64; i++)
		if (cfg.dscp_class[i] != CORRAL_CLASS_ANY)
			cfg.tables |= CORRAL_TBL_DSCP;
	h_cfg_set(&d->h, &cfg);
	return 0;
}

/* ---- control words ------------------------------------------------------------ */
static void random_ctl_step(struct rng *r, const struct diff_case *c, struct corral_ctl *ctl)
{
	__u64 now;
	int k = (int)rnd_n(r, 100);

	/* the clock only moves forward */
	if (k < 40)
		;
	else if (k < 80)
		ctl->fake_now_ns += rnd_n(r, c->tempo);
	else if (k < 97)
		ctl->fake_now_ns += rnd_n(r, 50 * c->tempo);
	else if (k < 99)
		ctl->fake_now_ns += rnd_n(r, DIFF_NSEC);
	else
		ctl->fake_now_ns += rnd_n(r, 5 * DIFF_NSEC);
	now = ctl->fake_now_ns;

	if (chance(r, 4)) {     /* controller tick, or a stale one */
		__u64 to = c->pol.cfg.hb_timeout_ns;

		if (chance(r, 50))
			ctl->heartbeat_ns = now;
		else if (chance(r, 30) && now > to + 1)   /* right at the timeout */
			ctl->heartbeat_ns = now - to - rnd_n(r, 2);
		else
			ctl->heartbeat_ns = now > 6 * DIFF_NSEC ? now - rnd_n(r, 6 * DIFF_NSEC) : 0;
		if (chance(r, 5))
			ctl->heartbeat_ns = now + rnd_n(r, DIFF_NSEC);   /* ahead of the clock */
	}
	if (c->shed_active && chance(r, 2)) {
		__u32 fl = 0, frac;
		int f = (int)rnd_n(r, 10);

		if (chance(r, 80))
			fl |= CORRAL_SHED_ON;
		if (chance(r, 50))
			fl |= CORRAL_SHED_HB;
		frac = f < 2 ? 0 : f < 3 ? CORRAL_FRAC_ONE : f < 5 ? 5000 :
		       (__u32)rnd_range(r, 1, CORRAL_FRAC_ONE - 1);
		ctl->shed = CORRAL_SHED_PACK(rnd_n(r, CORRAL_NCLASS), frac,
					     chance(r, 50) ? CORRAL_SCOPE_NEW : CORRAL_SCOPE_ALL, fl);
	}
	if (c->syn_dynamic && chance(r, 3)) {
		__u32 fl = 0, win = 0;

		if (chance(r, 80))
			fl |= CORRAL_SYN_ACTIVE;
		if (chance(r, 50))
			fl |= CORRAL_SYN_HB;
		if (chance(r, 60)) {
			fl |= CORRAL_SYN_HERD;
			win = chance(r, 10) ? 0 : (__u32)rnd_range(r, 1, 20000);
			if (chance(r, 70)) {     /* a new herd; otherwise the window is resized */
				ctl->herd_salt = rnd(r);
				ctl->herd_start_ns = chance(r, 10) ? now + rnd_n(r, DIFF_NSEC)
								   : now - rnd_n(r, DIFF_NSEC);
			}
		}
		ctl->syn_burst = chance(r, 50) ? 0 : rnd_range(r, 1, 50);
		ctl->syn = CORRAL_SYN_PACK(chance(r, 30) ? 0 : rnd_range(r, 1, chance(r, 70) ? 300 : 5000),
					   win, fl);
	}
}

/* ---- packets ------------------------------------------------------------------- */
static void source_addr(struct rng *r, const struct diff_case *c, int family, __u8 *out)
{
	int i, tries;

	if (chance(r, 35)) {
		/* the hot source of this family: its buckets run dry */
		memcpy(out, c->hosts[family == 4 ? 1 : 0].addr, 16);
		return;
	}
	for (tries = 0; tries < 4; tries++) {
		const struct model_prefix *h = &c->hosts[rnd_n(r, DIFF_NHOSTS)];

		if (h->family != family)
			continue;
		memcpy(out, h->addr, 16);
		/*
		 * move to a neighbour: flip one low bit, any bit, or the bit at
		 * either side of the aggregation prefix or of a rule's prefix
		 */
		if (chance(r, 60)) {
			int n = family == 4 ? 4 : 16, k = (int)rnd_n(r, 100), pos;

			if (k < 45) {
				pos = n * 8 - 1 - (int)rnd_n(r, 12);
			} else if (k < 60) {
				pos = (int)rnd_n(r, n * 8);
			} else if (k < 80) {
				pos = (family == 4 ? c->pol.cfg.v4_prefix : c->pol.cfg.v6_prefix) -
				      (int)rnd_n(r, 2);
			} else {
				const struct model_rule *ru = c->pol.nrules ?
					&c->pol.rules[rnd_n(r, c->pol.nrules)] : NULL;

				pos = ru && ru->pfx.family == family ? ru->pfx.plen - (int)rnd_n(r, 2)
								     : n * 8 - 1;
			}
			if (pos >= 0 && pos < n * 8)
				out[pos / 8] ^= (__u8)(0x80u >> (pos % 8));
		}
		return;
	}
	memset(out, 0, 16);
	if (family == 4) {
		out[0] = 10;
		out[1] = (__u8)(78 + rnd_n(r, 2));
		out[2] = (__u8)rnd(r);
		out[3] = (__u8)rnd(r);
	} else {
		out[0] = 0xfd;
		out[1] = 0x77;
		for (i = 2; i < 16; i++)
			out[i] = (__u8)rnd(r);
	}
}

static const __u8 ext_types[] = { PKT_HOPOPTS, PKT_ROUTING, PKT_DSTOPTS, PKT_AH, PKT_FRAGMENT };

static int random_spec(struct rng *r, const struct diff_case *c, struct pkt_spec *s)
{
	__u8 src6[16], dst6[16] = { 0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	__u8 src4[16];
	int syn_aim = c->pol.nsynports && chance(r, 35);
	__u16 dport = syn_aim ? c->pol.synports[rnd_n(r, c->pol.nsynports)] :
		      chance(r, 75) ? c->ports[rnd_n(r, c->nports)] : (__u16)rnd(r);
	__u16 sport = (__u16)rnd_range(r, 1024, 65535);
	int fam = (int)rnd_n(r, 100), i, k;
	__u8 proto;

	k = (int)rnd_n(r, 100);
	proto = k < 50 ? PKT_TCP : k < 75 ? PKT_UDP : k < 85 ? PKT_ICMP : k < 90 ? PKT_ICMPV6 :
		k < 94 ? PKT_NONE : k < 97 ? PKT_GRE : PKT_SCTP;
	if (syn_aim)
		proto = PKT_TCP;
	if (fam < 8) {
		static const __u16 et[] = { PKT_ETH_ARP, PKT_ETH_LLDP, 0x88B5, 0x0842, 0x86DE };

		pkt_spec_nonip(s, et[rnd_n(r, 5)]);
		s->payload_len = (__u32)rnd_n(r, 60);
	} else if (fam < 54) {
		source_addr(r, c, 4, src4);
		pkt_spec_v4(s, *(__u32 *)src4, PKT_IP4(10, 77, 0, 2), proto, sport, dport);
		if (proto == PKT_ICMPV6 && chance(r, 70))
			s->l4proto = PKT_ICMP;
		if (chance(r, 25))
			s->ip_opt_len = (__u8)(4 * rnd_range(r, 1, 10));
		if (chance(r, 15)) {
			s->frag_off = chance(r, 40) ? 0 : (__u16)rnd_range(r, 1, 8191);
			s->mf = chance(r, 60);
		}
	} else {
		source_addr(r, c, 6, src6);
		pkt_spec_v6(s, src6, dst6, proto, sport, dport);
		if (proto == PKT_ICMP && chance(r, 70))
			s->l4proto = PKT_ICMPV6;
		if (chance(r, 40)) {
			int n = chance(r, 70) ? (int)rnd_range(r, 1, 4) : (int)rnd_range(r, 5, 9);

			for (i = 0; i < n; i++) {
				__u8 t = ext_types[rnd_n(r, 5)];
				__u16 len = 0;

				if (t == PKT_AH)
					len = (__u16)(4 * rnd_range(r, 3, 16));
				else if (t != PKT_FRAGMENT && chance(r, 50))
					len = (__u16)(8 * rnd_range(r, 1, 8));
				pkt_spec_add_ext(s, t, len);
			}
			if (chance(r, 40)) {
				s->frag_off = chance(r, 50) ? 0 : (__u16)rnd_range(r, 1, 8191);
				s->mf = chance(r, 60);
			}
		}
	}
	if (s->family) {
		s->dscp = chance(r, 50) ? 0 : (__u8)rnd_n(r, 64);
		if (s->l4proto == PKT_TCP) {
			k = (int)rnd_n(r, 100);
			s->tcp_flags = k < 40 ? PKT_SYN : k < 55 ? (PKT_SYN | PKT_ACK) :
				       k < 80 ? PKT_ACK : (__u8)rnd(r);
			if (syn_aim && chance(r, 80))
				s->tcp_flags = PKT_SYN;
			if (chance(r, 20))
				s->tcp_opt_len = (__u8)(4 * rnd_range(r, 1, 10));
		}
		s->payload_len = chance(r, 60) ? (__u32)rnd_n(r, 64) : (__u32)rnd_n(r, 1200);
		if (chance(r, 4))
			s->no_l4 = 1;
		if (chance(r, 10)) {    /* one lie */
			switch (rnd_n(r, 4)) {
			case 0:
				s->ihl_override = (int)rnd_range(r, 1, 15);
				break;
			case 1:
				s->version_override = (int)rnd_range(r, 1, 15);
				break;
			case 2:
				s->iplen_delta = (int)rnd_range(r, 1, 80) * (chance(r, 50) ? 1 : -1);
				break;
			default:
				s->doff_override = (int)rnd_range(r, 1, 15);
				break;
			}
		}
	}
	/* VLAN tags: every depth 0..3 */
	k = (int)rnd_n(r, 100);
	s->nvlan = k < 55 ? 0 : k < 75 ? 1 : k < 90 ? 2 : 3;
	for (i = 0; i < s->nvlan; i++) {
		s->vlan_tpid[i] = chance(r, 30) ? PKT_ETH_8021AD : PKT_ETH_8021Q;
		s->vlan_tci[i] = (__u16)rnd_n(r, 4096);
	}
	return 0;
}

/* a frame: built from a random spec, then maybe truncated, mutated or replaced */
static __u32 random_frame(struct rng *r, const struct diff_case *c, __u8 *buf, __u32 cap)
{
	struct pkt_spec s;
	struct pkt_layout lay;
	int len, i, k;

	random_spec(r, c, &s);
	len = pkt_build(&s, buf, cap, &lay);
	k = (int)rnd_n(r, 100);
	if (len < 0 || k < 3) {
		/* random bytes behind a plausible EtherType */
		static const __u16 et[] = { 0x0800, 0x86DD, 0x8100, 0x88A8, 0x0806 };

		len = (int)rnd_range(r, 14, 160);
		for (i = 0; i < len; i++)
			buf[i] = (__u8)rnd(r);
		if (chance(r, 80)) {
			__u16 t = et[rnd_n(r, 5)];

			buf[12] = (__u8)(t >> 8);
			buf[13] = (__u8)t;
		}
		return (__u32)len;
	}
	if (k < 14) {
		/* truncate: at a header boundary (+-2) or at any byte */
		int offs[64], n = pkt_boundaries(&lay, offs, 64), at;

		if (n > 0 && chance(r, 60))
			at = offs[rnd_n(r, n)] + (int)rnd_range(r, 0, 4) - 2;
		else
			at = (int)rnd_n(r, (__u64)len + 1);
		if (at < 0)
			at = 0;
		if (at < len)
			len = at;
	} else if (k < 22) {
		/* flip a few bytes among the headers */
		int n = (int)rnd_range(r, 1, 4), span = len < 100 ? len : 100;

		for (i = 0; i < n && span > 12; i++)
			buf[rnd_range(r, 12, span - 1)] = chance(r, 50) ? (__u8)rnd(r)
									 : buf[0] ^ (__u8)rnd(r);
	}
	return (__u32)len;
}

/* ---- compare and report -------------------------------------------------------- */
static void hexdump(const __u8 *b, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			printf("#     %04x ", i);
		printf(" %02x", b[i]);
		if (i % 16 == 15 || i + 1 == len)
			printf("\n");
	}
	if (!len)
		printf("#     (empty frame)\n");
}

static const char *row_name(__u32 row, char *b, size_t n)
{
	if (row == CORRAL_ROW_NONE)
		snprintf(b, n, "none");
	else
		snprintf(b, n, "class%u", row);
	return b;
}

static void report(const struct diff_opts *o, long pi, long k, int hook,
		   const struct diff_case *c, const struct corral_ctl *ctl, const __u8 *pkt,
		   __u32 len, int got_v, const struct corral_counter *got,
		   const struct model_out *want)
{
	static const char *const gname[] = { "src_new", "dst_new", "bucket_retry" };
	const struct model_pkt *p = &want->pkt;
	char b1[16];
	__u32 key;

	printf("# DISAGREEMENT seed %llu policy %ld packet %ld hook %s\n",
	       (unsigned long long)o->seed, pi, k, hook ? "corral_tc_in" : "corral_xdp");
	if (pi >= 0)
		printf("#   reproduce: diff_fuzz --seed %llu --policy %ld --verbose\n",
		       (unsigned long long)o->seed, pi);
	else
		printf("#   regression row %ld of tests/model/regress.c\n", -pi);
	if (want->note)
		printf("#   contract: %s\n", want->note);
	printf("#   verdict: data plane %s, model %s (model reason %s, row %s)\n",
	       got_v == H_DROP ? "drop" : "pass", want->verdict == CORRAL_V_DROP ? "drop" : "pass",
	       model_reason_name(want->reason), row_name(want->row, b1, sizeof(b1)));
	printf("#   model parse: %s%s%s family %u proto %u dscp %u frag %u ports %u %u->%u "
	       "flags %#x vlan %d ext %d\n",
	       p->result == MODEL_P_IP ? "ip" : p->result == MODEL_P_NONIP ? "non-ip" : "malformed",
	       p->why ? ": " : "", p->why ? p->why : "", p->family, p->l4proto, p->dscp, p->frag,
	       p->has_ports, p->sport, p->dport, p->tcp_flags, p->nvlan, p->next);
	for (key = 0; key < CORRAL_NSTATS; key++) {
		const struct corral_counter *g = &got[key], *w = &want->stats[key];

		if (g->packets == w->packets && g->bytes == w->bytes)
			continue;
		if (key < CORRAL_NROWS * CORRAL_NREASON)
			printf("#   counter %s/%s: data plane %llu pkts %llu bytes, model %llu pkts "
			       "%llu bytes\n",
			       row_name(key / CORRAL_NREASON, b1, sizeof(b1)),
			       model_reason_name(key % CORRAL_NREASON),
			       (unsigned long long)g->packets, (unsigned long long)g->bytes,
			       (unsigned long long)w->packets, (unsigned long long)w->bytes);
		else
			printf("#   global %s: data plane %llu, model %llu\n",
			       gname[key - CORRAL_GSTAT_KEY(0)], (unsigned long long)g->packets,
			       (unsigned long long)w->packets);
	}
	printf("#   clock %llu heartbeat %llu shed %#llx syn %#llx herd start %llu salt %#llx\n",
	       (unsigned long long)ctl->fake_now_ns, (unsigned long long)ctl->heartbeat_ns,
	       (unsigned long long)ctl->shed, (unsigned long long)ctl->syn,
	       (unsigned long long)ctl->herd_start_ns, (unsigned long long)ctl->herd_salt);
	printf("#   frame (%u bytes):\n", len);
	hexdump(pkt, len);
	printf("#   policy:\n");
	model_policy_print(&c->pol, "#     ");
}

static int out_equal(const struct corral_counter *got, const struct model_out *want)
{
	return !memcmp(got, want->stats, sizeof(want->stats));
}

/* ---- the run ----------------------------------------------------------------------- */
struct diff_engine {
	struct diff_dp dp[DIFF_NHOOK];
	struct model m[DIFF_NHOOK];
	struct diff_result *res;
	int reports;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 policy_seed(__u64 seed, long pi)
{
	struct rng r = { seed ^ ((__u64)pi * 0xd1342543de82ef95ULL) };

	rnd(&r);
	return rnd(&r);
}

/*
 * BPF_PROG_TEST_RUN for tc refuses a frame whose EtherType is IPv4 or IPv6
 * but which is shorter than Ethernet plus that IP header.
 */
static int tc_refuses(const __u8 *pkt, __u32 len)
{
	__u16 et = (__u16)(pkt[12] << 8 | pkt[13]);

	return (et == 0x0800 && len < 14 + 20) || (et == 0x86DD && len < 14 + 40);
}

/*
 * One frame through both hooks and both models. Returns 0 on agreement,
 * 1 on a disagreement (reported), <0 on an error.
 */
static int diff_one(struct diff_engine *e, const struct diff_opts *o, long pi, long k,
		    const struct diff_case *c, const struct corral_ctl *ctl, const __u8 *pkt,
		    __u32 len)
{
	struct diff_result *res = e->res;
	int hook, bad = 0;

	if (len < 14) {
		/* BPF_PROG_TEST_RUN refuses frames shorter than Ethernet */
		res->short_frames++;
		return 0;
	}
	for (hook = 0; hook < DIFF_NHOOK; hook++) {
		struct diff_dp *d = &e->dp[hook];
		struct corral_counter now[CORRAL_NSTATS], delta[CORRAL_NSTATS];
		struct model_hint hint = { .stats = delta };
		struct model_out want;
		int v, err, i;

		dp_set_ctl(d, ctl);
		v = h_run(&d->h, hook ? H_TC_IN : H_XDP, pkt, len);
		if (v == -EINVAL && hook && tc_refuses(pkt, len)) {
			res->tc_refused++;
			continue;
		}
		if (v < 0) {
			printf("# error: policy %ld packet %ld: test run (%u bytes): %s\n", pi, k, len,
			       strerror(-v));
			res->errors++;
			return v;
		}
		err = dp_stats(d, now);
		if (err)
			return err;
		for (i = 0; i < CORRAL_NSTATS; i++) {
			delta[i].packets = now[i].packets - d->last[i].packets;
			delta[i].bytes = now[i].bytes - d->last[i].bytes;
		}
		memcpy(d->last, now, sizeof(now));
		err = model_eval(&e->m[hook], &c->pol, ctl, pkt, len, &hint, &want);
		if (err)
			return err;
		res->runs++;
		if (!hook)
			res->by_reason[want.reason]++;
		if (o->verbose) {
			char rb[16];

			printf("# policy %ld packet %ld %s: %u bytes, %s %s/%s\n", pi, k,
			       hook ? "tc" : "xdp", len,
			       want.verdict == CORRAL_V_DROP ? "drop" : "pass",
			       row_name((__u32)want.row, rb, sizeof(rb)),
			       model_reason_name(want.reason));
		}
		if (want.note || (v == H_DROP) != (want.verdict == CORRAL_V_DROP) ||
		    !out_equal(delta, &want)) {
			if (!res->disagreements) {
				res->first_policy = pi;
				res->first_packet = k;
			}
			res->disagreements++;
			if (e->reports < o->max_reports) {
				e->reports++;
				report(o, pi, k, hook, c, ctl, pkt, len, v, delta, &want);
			}
			bad = 1;
		}
	}
	return bad;
}

static int diff_policy(struct diff_engine *e, const struct diff_opts *o, long pi)
{
	struct rng r = { policy_seed(o->seed, pi) };
	struct diff_case c;
	struct corral_ctl ctl;
	__u8 buf[PKT_BUF_MAX];
	long k;
	int hook, err;

	random_policy(&r, &c);
	for (hook = 0; hook < DIFF_NHOOK; hook++) {
		err = dp_load_policy(&e->dp[hook], &c);
		if (err) {
			printf("# error: policy %ld: load: %s\n", pi, strerror(-err));
			return err;
		}
		model_reset(&e->m[hook]);
	}
	model_oracle_reset(&e->res->oracle);
	if (o->verbose) {
		printf("# policy %ld:\n", pi);
		model_policy_print(&c.pol, "#   ");
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.fake_now_ns = c.now;
	ctl.heartbeat_ns = c.now;
	e->res->policies++;
	for (k = 0; k < o->pkts_per_policy; k++) {
		__u32 len;

		random_ctl_step(&r, &c, &ctl);
		len = random_frame(&r, &c, buf, sizeof(buf));
		err = diff_one(e, o, pi, k, &c, &ctl, buf, len);
		e->res->packets++;
		if (err < 0)
			return err;
		if (err)
			break;   /* state has diverged: go on with the next policy */
	}
	return 0;
}

static int diff_engine_open(struct diff_engine *e, struct diff_result *res)
{
	int i, err;

	memset(e, 0, sizeof(*e));
	memset(res, 0, sizeof(*res));
	res->first_policy = res->first_packet = -1;
	e->res = res;
	err = model_oracle_init(&res->oracle);
	if (err)
		return err;
	for (i = 0; i < DIFF_NHOOK; i++) {
		err = dp_open(&e->dp[i]);
		if (err)
			return err;
		err = model_init(&e->m[i], &res->oracle);
		if (err)
			return err;
	}
	return 0;
}

static void diff_engine_close(struct diff_engine *e)
{
	int i;

	for (i = 0; i < DIFF_NHOOK; i++) {
		model_free(&e->m[i]);
		dp_close(&e->dp[i]);
	}
	model_oracle_free(&e->res->oracle);
}

/* run the policies; returns 0 or a negative errno (disagreements are in res) */
static int diff_run(struct diff_engine *e, const struct diff_opts *o)
{
	double t0 = mono_s();
	long pi;
	int err;

	if (o->only_policy >= 0)
		return diff_policy(e, o, o->only_policy);
	for (pi = 0; o->policies <= 0 || pi < o->policies || e->res->packets < o->min_packets;
	     pi++) {
		if (o->seconds > 0 && mono_s() - t0 >= o->seconds)
			break;
		err = diff_policy(e, o, pi);
		if (err)
			return err;
	}
	return 0;
}

/* fractional shedding: the share of shed sources matches F (5 sigma + 3) */
static int diff_frac_ok(const struct diff_result *res, double *dev)
{
	const struct model_oracle *o = &res->oracle;
	double d = fabs((double)o->frac_shed - o->frac_expect);

	*dev = o->frac_var > 0 ? d / sqrt(o->frac_var) : 0;
	return d <= 5 * sqrt(o->frac_var) + 3;
}

static void diff_summary(const struct diff_result *res, double secs)
{
	static const int show[] = { CORRAL_R_PASS, CORRAL_R_ALLOW, CORRAL_R_NONIP, CORRAL_R_RATE,
				    CORRAL_R_SHED, CORRAL_R_DENY, CORRAL_R_MALFORMED,
				    CORRAL_R_SYN_DEFER, CORRAL_R_SYN_CAP };
	size_t i;

	printf("# %ld policies, %ld packets (%ld hook runs; not run: %ld frames under 14 bytes, "
	       "%ld short IP frames refused by the tc test run), %ld disagreements, %.1f s\n",
	       res->policies, res->packets, res->runs, res->short_frames, res->tc_refused,
	       res->disagreements, secs);
	printf("# model reasons (xdp runs):");
	for (i = 0; i < sizeof(show) / sizeof(show[0]); i++)
		printf(" %s %ld", model_reason_name(show[i]), res->by_reason[show[i]]);
	printf("\n# fractional shed decisions %llu: shed %llu, expected %.1f; herd sources %llu, "
	       "deferrals %llu\n",
	       (unsigned long long)res->oracle.frac_decisions,
	       (unsigned long long)res->oracle.frac_shed, res->oracle.frac_expect,
	       (unsigned long long)res->oracle.herd_learned,
	       (unsigned long long)res->oracle.herd_defer);
}
