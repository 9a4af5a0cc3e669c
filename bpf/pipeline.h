/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pipeline.h - the ingress pipeline, written once for every hook:
 * parse -> lists -> classify -> shed -> SYN gate -> buckets -> count.
 *
 * Contract: pipeline_ingress() returns CORRAL_V_PASS, CORRAL_V_DROP or
 * CORRAL_V_TX (a reject class answered a shaping drop: see reject.h) and
 * counts the packet once under its reason (see enum corral_reason). In
 * monitor mode every verdict is computed and counted, drops are also
 * counted as would-drop, and everything passes. The clock is read at most
 * once, and only when a stage needs it. A packet a list or limit rule
 * decides on is also counted against that rule (hits.h). Configuration comes from the live
 * slot named by corral_ctl.cfg_gen; the shed word is one 64-bit read.
 *
 * With SYN cookies on (enforce mode), a SYN to a protected port that the
 * gate lets through is answered at stage 5 with a cookie SYN-ACK
 * (CORRAL_V_TX, reason SYN_COOKIE); at tc ingress (pipeline_ingress in tc mode,
 * pipeline_cookie_ack beside XDP) the pipeline hands the ACKs whose cookie checks to their listener and counts them as
 * the gate's admissions.
 *
 * pipeline_egress() classifies by destination for corral_tc_out and, when
 * enabled, polices per destination; it returns the class or -1 to drop.
 */
#ifndef CORRAL_PIPELINE_H
#define CORRAL_PIPELINE_H

#include "parse.h"
#include "policy.h"
#include "shed.h"
#include "bucket.h"
#include "syn.h"
#include "stats.h"
#include "hits.h"
#include "reject.h"
#include "cookie.h"

static __always_inline enum corral_verdict
verdict_drop(const struct corral_cfg *cfg, __u32 row, __u32 reason, __u32 len)
{
	stats_add(row, reason, len);
	if (cfg->mode == CORRAL_MODE_MONITOR) {
		stats_add(row, CORRAL_R_WOULD_DROP, len);
		return CORRAL_V_PASS;
	}
	return CORRAL_V_DROP;
}

/*
 * A drop by corral's shaping (shed, SYN gate, bucket) of a class: counted
 * like any drop; in enforce mode a class with action reject answers it.
 */
static __always_inline enum corral_verdict
verdict_shape(const struct corral_cfg *cfg, struct corral_pkt *p, __u8 class, __u32 reason,
	      __u64 now)
{
	enum corral_verdict v = verdict_drop(cfg, class, reason, p->len);

	if (v == CORRAL_V_DROP && class < CORRAL_NCLASS &&
	    cfg->class_action[class] == CORRAL_ACTION_REJECT)
		return reject_reply(cfg, p, now);
	return v;
}

static __always_inline const struct corral_cfg *cfg_live(struct corral_ctl **ctlp)
{
	__u32 zero = 0, slot;
	struct corral_ctl *ctl = bpf_map_lookup_elem(&corral_ctl, &zero);

	if (!ctl)
		return NULL;
	*ctlp = ctl;
	slot = READ_ONCE(ctl->cfg_gen) & 1;
	return bpf_map_lookup_elem(&corral_cfg, &slot);
}

#ifdef CORRAL_COOKIE_ACK
/* an ACK (no SYN, no RST) to a cookie port, enforce mode */
static __always_inline int cookie_ack_wanted(const struct corral_cfg *cfg, const struct corral_pkt *p)
{
	__u32 port;
	__u8 *on;

	if (!cfg->syn_on || !cfg->syn_cookies || cfg->mode != CORRAL_MODE_ENFORCE ||
	    p->l4proto != CORRAL_IPPROTO_TCP || !p->has_ports ||
	    (p->tcp_flags & (CORRAL_TCP_SYN | CORRAL_TCP_ACK | CORRAL_TCP_RST)) != CORRAL_TCP_ACK)
		return 0;
	port = p->dport;
	on = bpf_map_lookup_elem(&corral_synports, &port);
	return on && *on;
}

/* its listener takes the cookie: the connection is the gate's admission */
static __always_inline void cookie_admit(const struct corral_cfg *cfg, struct corral_ctl *ctl,
					 struct corral_pkt *p, __u8 class)
{
	if (cookie_ack(p) != COOKIE_ACK_OK)
		return;
	syn_debit(cfg, ctl, ctx_now(ctl));
	stats_add(class, CORRAL_R_SYN_ADMIT, p->len);
}

/* tc ingress beside XDP: only the ACKs of the cookies XDP sent */
static __always_inline void pipeline_cookie_ack(struct corral_pkt *p)
{
	const struct corral_cfg *cfg;
	struct corral_ctl *ctl = NULL;

	cfg = cfg_live(&ctl);
	if (!cfg || !ctl || parse_packet(p) != PARSE_IP || !cookie_ack_wanted(cfg, p))
		return;
	cookie_admit(cfg, ctl, p, classify(cfg, policy_lookup(cfg, p->src, p->family), p));
}
#endif

static __always_inline enum corral_verdict pipeline_ingress(struct corral_pkt *p)
{
	const struct corral_policy *pol;
	const struct corral_limit *lim;
	const struct corral_cfg *cfg;
	struct corral_ctl *ctl = NULL;
	struct corral_src_key key;
	__u64 shed, now = 0;
	int have_now = 0;
	__u8 class;
	int r, cookies;

	cfg = cfg_live(&ctl);
	if (!cfg || !ctl)
		return CORRAL_V_PASS;

	/* 1. parse */
	r = parse_packet(p);
	if (r == PARSE_NONIP) {
		stats_add(CORRAL_ROW_NONE, CORRAL_R_NONIP, p->len);
		return CORRAL_V_PASS;
	}
	if (r != PARSE_IP) {
		if (cfg->malformed_pass) {
			stats_add(CORRAL_ROW_NONE, CORRAL_R_MALFORMED, p->len);
			return CORRAL_V_PASS;
		}
		return verdict_drop(cfg, CORRAL_ROW_NONE, CORRAL_R_MALFORMED, p->len);
	}

	/* 2. lists */
	pol = policy_lookup(cfg, p->src, p->family);
	if (pol && (pol->flags & CORRAL_POL_LIST)) {
		__u8 list = pol->list, len = pol->list_len;
		__u64 exp = pol->list_expires_ns;

		now = ctx_now(ctl);
		have_now = 1;
		/* a timed rule goes on its own, before userspace removes it */
		if (exp && now >= exp) {
			list = pol->list_after;
			len = pol->after_len;
		}
		if (list == CORRAL_LIST_DENY) {
			rule_hit(CORRAL_RULE_DENY, len, p->src, p->family, p->len, 1, now);
			return verdict_drop(cfg, CORRAL_ROW_NONE, CORRAL_R_DENY, p->len);
		}
		if (list == CORRAL_LIST_ALLOW) {
			rule_hit(CORRAL_RULE_ALLOW, len, p->src, p->family, p->len, 0, now);
			stats_add(0, CORRAL_R_ALLOW, p->len);
			return CORRAL_V_PASS;
		}
	}

	/* 3. classify */
	class = classify(cfg, pol, p);
	bucket_key(&key, p->src, p->family, cfg, class);
#ifdef CORRAL_COOKIE_ACK
	/* the ACK of a cookie SYN-ACK (tc mode): its connection, then the rest */
	if (p->skb && cookie_ack_wanted(cfg, p))
		cookie_admit(cfg, ctl, p, class);
#endif

	/* 4. shed */
	shed = READ_ONCE(ctl->shed);
	if (CORRAL_SHED_FLAGS(shed) & CORRAL_SHED_ON) {
		now = ctx_now(ctl);
		have_now = 1;
		if (shed_decide(cfg, shed, READ_ONCE(ctl->heartbeat_ns), now, class, &key, p))
			return verdict_shape(cfg, p, class, CORRAL_R_SHED, now);
	}

	/* 5. SYN admission on protected ports */
	if (syn_protected(cfg, p)) {
		__u32 verdict;

		if (!have_now) {
			now = ctx_now(ctl);
			have_now = 1;
		}
		stats_add(class, CORRAL_R_SYN_SEEN, p->len);
		cookies = cfg->syn_cookies && cfg->mode == CORRAL_MODE_ENFORCE;
		verdict = syn_gate(cfg, ctl, &key, now, cookies ? SYN_PEEK : SYN_TAKE);
		if (verdict != CORRAL_R_SYN_ADMIT)
			return verdict_shape(cfg, p, class, verdict, now);
		if (cookies) {
			/* answered here: no per-source state for a SYN that
			 * may be spoofed; its ACK meets the buckets */
			stats_add(class, CORRAL_R_SYN_COOKIE, p->len);
			return cookie_synack(p);
		}
		stats_add(class, CORRAL_R_SYN_ADMIT, p->len);
	}

	/* 6. per-source buckets */
	lim = (pol && (pol->flags & CORRAL_POL_LIMIT)) ? &pol->limit : &cfg->dflt;
	if (limit_active(lim)) {
		struct corral_bucket *b = bucket_get(&corral_buckets, &key, CORRAL_G_SRC_NEW);
		__u32 rule_len = (pol && (pol->flags & CORRAL_POL_LIMIT)) ? pol->limit_len : 255;

		if (!have_now)
			now = ctx_now(ctl);
		if (b) {
			r = bucket_police(b, lim, now, p->len);
			if (r == GCRA_BUSY)
				gstat_inc(CORRAL_G_BUCKET_RETRY);
			/* the default limit is no rule: len 255 counts nothing */
			rule_hit(CORRAL_RULE_LIMIT, rule_len, p->src, p->family, p->len,
				 r != GCRA_PASS, now);
			if (r != GCRA_PASS)
				return verdict_shape(cfg, p, class, CORRAL_R_RATE, now);
		}
	}

	/* 7. count */
	stats_add(class, CORRAL_R_PASS, p->len);
	return CORRAL_V_PASS;
}

static __always_inline int pipeline_egress(struct corral_pkt *p)
{
	const struct corral_policy *pol;
	const struct corral_limit *lim;
	const struct corral_cfg *cfg;
	struct corral_ctl *ctl = NULL;
	struct corral_src_key key;
	__u8 class;

	cfg = cfg_live(&ctl);
	if (!cfg || !ctl || parse_packet(p) != PARSE_IP)
		return CORRAL_CLASS_ANY;

	pol = policy_lookup(cfg, p->dst, p->family);
	if (pol && (pol->flags & CORRAL_POL_LIST) && pol->list == CORRAL_LIST_ALLOW)
		return 0;
	class = classify(cfg, pol, p);

	lim = (pol && (pol->flags & CORRAL_POL_LIMIT)) ? &pol->limit : &cfg->egress;
	if (cfg->egress_buckets && limit_active(lim)) {
		struct corral_bucket *b;

		bucket_key(&key, p->dst, p->family, cfg, class);
		b = bucket_get(&corral_dbuckets, &key, CORRAL_G_DST_NEW);
		if (b && bucket_police(b, lim, ctx_now(ctl), p->len) != GCRA_PASS &&
		    cfg->mode == CORRAL_MODE_ENFORCE)
			return -1;
	}
	return class;
}

#endif /* CORRAL_PIPELINE_H */
