// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * state.c - configuration commands: parse, apply in memory, store.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "state.h"

/* ---- errors ------------------------------------------------------------ */


struct pc {
	int argc;
	char **argv;
	const char *obj;
	char *err;
	size_t errlen;
};

#define invarg(pc, what, word) \
	corral_seterr((pc)->err, (pc)->errlen, "%s: invalid %s \"%s\"", (pc)->obj, what, word)
#define duparg(pc, word) \
	corral_seterr((pc)->err, (pc)->errlen, "%s: duplicate \"%s\"", (pc)->obj, word)
#define unknown(pc, word) \
	corral_seterr((pc)->err, (pc)->errlen, "%s: unknown argument \"%s\"", (pc)->obj, word)
#define missing(pc, after) \
	corral_seterr((pc)->err, (pc)->errlen, "%s: missing argument after \"%s\"", (pc)->obj, after)

/* the next word, or an error naming the word it should follow */
#define NEXT_ARG(pc, i) do { \
	if ((i) + 1 >= (pc)->argc) \
		return missing(pc, (pc)->argv[i]); \
	(i)++; \
} while (0)

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static int prefix_arg(struct pc *pc, const char *word, struct corral_prefix *p)
{
	int err = corral_parse_prefix(word, p);

	if (err == -EDOM)
		return corral_seterr(pc->err, pc->errlen, "%s: invalid prefix \"%s\": host bits set",
			      pc->obj, word);
	if (err == -EAFNOSUPPORT)
		return corral_seterr(pc->err, pc->errlen,
			      "%s: invalid prefix \"%s\": IPv4-mapped; write the IPv4 prefix",
			      pc->obj, word);
	if (err)
		return invarg(pc, "prefix", word);
	return 0;
}

static int class_arg(struct pc *pc, const char *word, __u8 *cls)
{
	__u32 v;

	if (corral_parse_u32_range(word, 0, CORRAL_NCLASS - 1, &v))
		return invarg(pc, "class", word);
	*cls = (__u8)v;
	return 0;
}

/* ---- parse ------------------------------------------------------------- */

static int parse_mode(struct pc *pc, struct corral_op *op)
{
	int i = 2;

	if (!is(pc->argv[1], "set"))
		return CORRAL_PARSE_NOT_CONFIG;
	op->kind = CORRAL_OP_MODE_SET;
	op->mode.mode = -1;
	op->mode.malformed_pass = -1;
	for (; i < pc->argc; i++) {
		const char *w = pc->argv[i];

		if (is(w, "enforce") || is(w, "monitor")) {
			if (op->mode.mode >= 0)
				return duparg(pc, w);
			op->mode.mode = is(w, "enforce") ? CORRAL_MODE_ENFORCE : CORRAL_MODE_MONITOR;
		} else if (is(w, "malformed")) {
			if (op->mode.malformed_pass >= 0)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (is(pc->argv[i], "pass"))
				op->mode.malformed_pass = 1;
			else if (is(pc->argv[i], "drop"))
				op->mode.malformed_pass = 0;
			else
				return invarg(pc, "malformed verdict", pc->argv[i]);
		} else {
			return invarg(pc, "mode", w);
		}
	}
	if (op->mode.mode < 0 && op->mode.malformed_pass < 0)
		return missing(pc, "set");
	return 0;
}

static int parse_aggregate(struct pc *pc, struct corral_op *op)
{
	int i;

	if (!is(pc->argv[1], "set"))
		return CORRAL_PARSE_NOT_CONFIG;
	op->kind = CORRAL_OP_AGGREGATE_SET;
	op->agg.v4 = op->agg.v6 = op->agg.key_class = -1;
	for (i = 2; i < pc->argc; i++) {
		const char *w = pc->argv[i];
		__u32 v;

		if (is(w, "v4") || is(w, "v6")) {
			bool v4 = is(w, "v4");
			int *dst = v4 ? &op->agg.v4 : &op->agg.v6;

			if (*dst >= 0)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_u32_range(pc->argv[i], 1, v4 ? 32 : 128, &v))
				return invarg(pc, v4 ? "IPv4 prefix length" : "IPv6 prefix length",
					      pc->argv[i]);
			*dst = (int)v;
		} else if (is(w, "class")) {
			if (op->agg.key_class >= 0)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (is(pc->argv[i], "on"))
				op->agg.key_class = 1;
			else if (is(pc->argv[i], "off"))
				op->agg.key_class = 0;
			else
				return invarg(pc, "on|off", pc->argv[i]);
		} else {
			return unknown(pc, w);
		}
	}
	if (op->agg.v4 < 0 && op->agg.v6 < 0 && op->agg.key_class < 0)
		return missing(pc, "set");
	return 0;
}

static int parse_limit(struct pc *pc, struct corral_op *op)
{
	struct corral_limit *l = &op->limit.lim;
	bool has_burst = false, has_bburst = false;
	const char *w;
	int i = 3, err;

	if (is(pc->argv[1], "add"))
		op->kind = CORRAL_OP_LIMIT_ADD;
	else if (is(pc->argv[1], "del"))
		op->kind = CORRAL_OP_LIMIT_DEL;
	else
		return CORRAL_PARSE_NOT_CONFIG;
	if (pc->argc < 3)
		return missing(pc, pc->argv[1]);
	w = pc->argv[2];
	if (is(w, "default")) {
		op->limit.target = CORRAL_LT_DEFAULT;
	} else if (is(w, "egress")) {
		op->limit.target = CORRAL_LT_EGRESS;
	} else {
		op->limit.target = CORRAL_LT_PREFIX;
		err = prefix_arg(pc, w, &op->limit.pfx);
		if (err)
			return err;
	}
	if (op->kind == CORRAL_OP_LIMIT_DEL) {
		if (pc->argc > 3)
			return unknown(pc, pc->argv[3]);
		return 0;
	}
	for (; i < pc->argc; i++) {
		w = pc->argv[i];
		if (is(w, "rate")) {
			if (l->pkt_rate)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_rate(pc->argv[i], &l->pkt_rate))
				return invarg(pc, "rate", pc->argv[i]);
		} else if (is(w, "burst")) {
			if (has_burst)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_u64(pc->argv[i], &l->pkt_burst) || !l->pkt_burst)
				return invarg(pc, "burst", pc->argv[i]);
			has_burst = true;
		} else if (is(w, "bytes")) {
			if (l->byte_rate)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_byterate(pc->argv[i], &l->byte_rate))
				return invarg(pc, "byte rate", pc->argv[i]);
		} else if (is(w, "bburst")) {
			if (has_bburst)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_size(pc->argv[i], &l->byte_burst))
				return invarg(pc, "size", pc->argv[i]);
			has_bburst = true;
		} else {
			return unknown(pc, w);
		}
	}
	if (!l->pkt_rate && !l->byte_rate)
		return corral_seterr(pc->err, pc->errlen, "%s: \"%s\" needs rate or bytes",
			      pc->obj, pc->argv[2]);
	if (has_burst && !l->pkt_rate)
		return corral_seterr(pc->err, pc->errlen, "%s: burst needs rate", pc->obj);
	if (has_bburst && !l->byte_rate)
		return corral_seterr(pc->err, pc->errlen, "%s: bburst needs bytes", pc->obj);
	if (l->pkt_rate && !has_burst) {
		l->pkt_burst = l->pkt_rate / 10;
		if (!l->pkt_burst)
			l->pkt_burst = 1;
	}
	if (l->byte_rate && !has_bburst) {
		l->byte_burst = l->byte_rate / 10;
		if (l->byte_burst < 1514)
			l->byte_burst = 1514;
	}
	return 0;
}

static int parse_class(struct pc *pc, struct corral_op *op)
{
	const char *w;
	int i, err;
	__u32 v;

	if (is(pc->argv[1], "default")) {
		op->kind = CORRAL_OP_CLASS_DEFAULT;
		if (pc->argc < 3)
			return missing(pc, "default");
		if (pc->argc > 3)
			return unknown(pc, pc->argv[3]);
		return class_arg(pc, pc->argv[2], &op->cls.cls);
	}
	if (is(pc->argv[1], "set")) {
		op->kind = CORRAL_OP_CLASS_ACTION;
		if (pc->argc < 3)
			return missing(pc, "set");
		err = class_arg(pc, pc->argv[2], &op->cls.cls);
		if (err)
			return err;
		if (pc->argc < 4)
			return missing(pc, pc->argv[2]);
		if (!is(pc->argv[3], "action"))
			return unknown(pc, pc->argv[3]);
		if (pc->argc < 5)
			return missing(pc, "action");
		if (is(pc->argv[4], "drop"))
			op->cls.action = CORRAL_ACTION_DROP;
		else if (is(pc->argv[4], "reject"))
			op->cls.action = CORRAL_ACTION_REJECT;
		else
			return invarg(pc, "action (drop|reject)", pc->argv[4]);
		if (pc->argc > 5)
			return unknown(pc, pc->argv[5]);
		return 0;
	}
	if (is(pc->argv[1], "reply")) {
		bool has_burst = false;

		op->kind = CORRAL_OP_CLASS_REPLY;
		for (i = 2; i < pc->argc; i++) {
			w = pc->argv[i];
			if (is(w, "rate")) {
				if (op->reply.rate)
					return duparg(pc, w);
				NEXT_ARG(pc, i);
				if (corral_parse_rate(pc->argv[i], &op->reply.rate) ||
				    !op->reply.rate || op->reply.rate > 1000000000ull)
					return invarg(pc, "reply rate", pc->argv[i]);
			} else if (is(w, "burst")) {
				if (has_burst)
					return duparg(pc, w);
				NEXT_ARG(pc, i);
				if (corral_parse_u64(pc->argv[i], &op->reply.burst) ||
				    !op->reply.burst || op->reply.burst > 1000000000ull)
					return invarg(pc, "burst", pc->argv[i]);
				has_burst = true;
			} else {
				return unknown(pc, w);
			}
		}
		if (!op->reply.rate)
			return corral_seterr(pc->err, pc->errlen, "%s: reply needs rate", pc->obj);
		if (!has_burst) {
			op->reply.burst = op->reply.rate / 10;
			if (!op->reply.burst)
				op->reply.burst = 1;
		}
		return 0;
	}
	if (is(pc->argv[1], "add"))
		op->kind = CORRAL_OP_CLASS_ADD;
	else if (is(pc->argv[1], "del"))
		op->kind = CORRAL_OP_CLASS_DEL;
	else
		return CORRAL_PARSE_NOT_CONFIG;
	if (pc->argc < 3)
		return missing(pc, pc->argv[1]);
	err = class_arg(pc, pc->argv[2], &op->cls.cls);
	if (err)
		return err;
	if (pc->argc < 4)
		return missing(pc, pc->argv[2]);
	i = 3;
	w = pc->argv[i];
	if (is(w, "proto")) {
		bool has_port = false;

		op->cls.sel = CORRAL_CS_PROTO;
		NEXT_ARG(pc, i);
		if (corral_parse_proto(pc->argv[i], &op->cls.proto_idx))
			return invarg(pc, "protocol", pc->argv[i]);
		op->cls.lo = 0;
		op->cls.hi = 65535;
		for (i++; i < pc->argc; i++) {
			w = pc->argv[i];
			if (!is(w, "dport"))
				return unknown(pc, w);
			if (has_port)
				return duparg(pc, w);
			if (op->cls.proto_idx == CORRAL_PI_ICMP ||
			    op->cls.proto_idx == CORRAL_PI_ICMPV6)
				return corral_seterr(pc->err, pc->errlen, "%s: proto %s takes no dport",
					      pc->obj, corral_proto_name(op->cls.proto_idx));
			NEXT_ARG(pc, i);
			if (corral_parse_port_range(pc->argv[i], &op->cls.lo, &op->cls.hi))
				return invarg(pc, "port", pc->argv[i]);
			has_port = true;
		}
		return 0;
	}
	if (is(w, "src")) {
		op->cls.sel = CORRAL_CS_SRC;
		NEXT_ARG(pc, i);
		err = prefix_arg(pc, pc->argv[i], &op->cls.pfx);
		if (err)
			return err;
	} else if (is(w, "dscp")) {
		op->cls.sel = CORRAL_CS_DSCP;
		NEXT_ARG(pc, i);
		if (corral_parse_u32_range(pc->argv[i], 0, 63, &v))
			return invarg(pc, "dscp", pc->argv[i]);
		op->cls.dscp = (__u8)v;
	} else {
		return unknown(pc, w);
	}
	if (i + 1 < pc->argc)
		return unknown(pc, pc->argv[i + 1]);
	return 0;
}

static int parse_list(struct pc *pc, struct corral_op *op, bool allow)
{
	bool add = is(pc->argv[1], "add");
	int err;

	if (add)
		op->kind = allow ? CORRAL_OP_ALLOW_ADD : CORRAL_OP_DENY_ADD;
	else if (is(pc->argv[1], "del"))
		op->kind = allow ? CORRAL_OP_ALLOW_DEL : CORRAL_OP_DENY_DEL;
	else
		return CORRAL_PARSE_NOT_CONFIG;
	if (pc->argc < 3)
		return missing(pc, pc->argv[1]);
	err = prefix_arg(pc, pc->argv[2], &op->list.pfx);
	if (err)
		return err;
	if (pc->argc == 3)
		return 0;
	if (!add || !is(pc->argv[3], "timeout"))
		return unknown(pc, pc->argv[3]);
	if (pc->argc < 5)
		return missing(pc, "timeout");
	if (corral_parse_duration(pc->argv[4], &op->list.timeout_ns) ||
	    op->list.timeout_ns > CORRAL_LIST_TIMEOUT_MAX_NS)
		return invarg(pc, "timeout (at most 1 year)", pc->argv[4]);
	if (pc->argc > 5)
		return unknown(pc, pc->argv[5]);
	return 0;
}

static int parse_shed(struct pc *pc, struct corral_op *op)
{
	__u32 level, frac, scope = CORRAL_SCOPE_NEW;
	bool has_scope = false;
	int i;

	if (is(pc->argv[1], "off")) {
		op->kind = CORRAL_OP_SHED_OFF;
		if (pc->argc > 2)
			return unknown(pc, pc->argv[2]);
		return 0;
	}
	if (is(pc->argv[1], "tune")) {
		op->kind = CORRAL_OP_SHED_TUNE;
		for (i = 2; i < pc->argc; i++) {
			const char *w = pc->argv[i];
			__u64 *dst;

			if (is(w, "epoch"))
				dst = &op->tune.epoch_ns;
			else if (is(w, "timeout"))
				dst = &op->tune.timeout_ns;
			else
				return unknown(pc, w);
			if (*dst)
				return duparg(pc, w);
			NEXT_ARG(pc, i);
			if (corral_parse_duration(pc->argv[i], dst))
				return invarg(pc, "duration", pc->argv[i]);
			/* (now mod epoch) * CORRAL_FRAC_ONE must fit 64 bits */
			if (dst == &op->tune.epoch_ns && *dst > CORRAL_EPOCH_MAX_NS)
				return invarg(pc, "epoch (at most 86400s)", pc->argv[i]);
		}
		if (!op->tune.epoch_ns && !op->tune.timeout_ns)
			return missing(pc, "tune");
		return 0;
	}
	if (!is(pc->argv[1], "set"))
		return CORRAL_PARSE_NOT_CONFIG;
	op->kind = CORRAL_OP_SHED_SET;
	if (pc->argc < 3)
		return missing(pc, "set");
	if (corral_parse_level(pc->argv[2], &level, &frac))
		return invarg(pc, "level", pc->argv[2]);
	for (i = 3; i < pc->argc; i++) {
		const char *w = pc->argv[i];

		if (!is(w, "scope"))
			return unknown(pc, w);
		if (has_scope)
			return duparg(pc, w);
		NEXT_ARG(pc, i);
		if (is(pc->argv[i], "new"))
			scope = CORRAL_SCOPE_NEW;
		else if (is(pc->argv[i], "all"))
			scope = CORRAL_SCOPE_ALL;
		else
			return invarg(pc, "scope", pc->argv[i]);
		has_scope = true;
	}
	op->shed.word = CORRAL_SHED_PACK(level, frac, scope, CORRAL_SHED_ON);
	return 0;
}

int corral_op_parse(int argc, char **argv, struct corral_op *op, char *err, size_t errlen)
{
	struct pc pc = { argc, argv, argc > 0 ? argv[0] : "", err, errlen };

	memset(op, 0, sizeof(*op));
	if (err && errlen)
		err[0] = 0;
	if (argc < 2)
		return CORRAL_PARSE_NOT_CONFIG;
	if (is(argv[0], "mode"))
		return parse_mode(&pc, op);
	if (is(argv[0], "aggregate"))
		return parse_aggregate(&pc, op);
	if (is(argv[0], "limit"))
		return parse_limit(&pc, op);
	if (is(argv[0], "class"))
		return parse_class(&pc, op);
	if (is(argv[0], "allow"))
		return parse_list(&pc, op, true);
	if (is(argv[0], "deny"))
		return parse_list(&pc, op, false);
	if (is(argv[0], "shed"))
		return parse_shed(&pc, op);
	return CORRAL_PARSE_NOT_CONFIG;
}

/* ---- in-memory state ----------------------------------------------------- */

void corral_cfg_defaults(struct corral_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = CORRAL_MODE_ENFORCE;
	c->malformed_pass = 0;
	c->v4_prefix = 32;
	c->v6_prefix = 64;
	c->key_class = 0;
	c->default_class = 4;
	c->epoch_ns = 60ull * 1000000000ull;
	c->hb_timeout_ns = 2ull * 1000000000ull;
	memset(c->dscp_class, CORRAL_CLASS_ANY, sizeof(c->dscp_class));
	c->reply_rate = CORRAL_REPLY_RATE_DEFAULT;
	c->reply_burst = CORRAL_REPLY_BURST_DEFAULT;
}

int corral_state_init(struct corral_state *s)
{
	memset(s, 0, sizeof(*s));
	corral_cfg_defaults(&s->cfg);
	return 0;
}

void corral_state_free(struct corral_state *s)
{
	free(s->pr);
	free(s->pt);
	free(s->pidx);
	s->pidx = NULL;
	s->pidx_cap = 0;
	s->pidx_ok = false;
	s->pr = NULL;
	s->pt = NULL;
	s->npr = s->npt = s->pr_cap = s->pt_cap = 0;
}

static void prule_key(struct corral_prefix_rule_key *k, __u32 kind, const struct corral_prefix *p)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	corral_prefix_to_lpm(p, &k->pfx);
}

static size_t pkey_hash(const struct corral_prefix_rule_key *k)
{
	const unsigned char *b = (const unsigned char *)k;
	__u64 h = 1469598103934665603ull;   /* FNV-1a */

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

/* the index slot holding key k, or the empty slot where it would go */
static size_t pidx_slot(const struct corral_state *s, const struct corral_prefix_rule_key *k)
{
	size_t m = s->pidx_cap - 1, i = pkey_hash(k) & m;

	while (s->pidx[i] && memcmp(&s->pr[s->pidx[i] - 1].key, k, sizeof(*k)))
		i = (i + 1) & m;
	return i;
}

static int pidx_build(struct corral_state *s, size_t want)
{
	size_t cap = 64;

	while (cap < 2 * want)
		cap *= 2;
	if (cap != s->pidx_cap) {
		__u32 *p = realloc(s->pidx, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->pidx = p;
		s->pidx_cap = cap;
	}
	memset(s->pidx, 0, cap * sizeof(*s->pidx));
	for (size_t i = 0; i < s->npr; i++)
		s->pidx[pidx_slot(s, &s->pr[i].key)] = (__u32)i + 1;
	s->pidx_ok = true;
	return 0;
}

static struct corral_prule *prule_find(struct corral_state *s,
				       const struct corral_prefix_rule_key *k)
{
	size_t i;

	if (!s->pidx_ok && pidx_build(s, s->npr + 1)) {
		/* no memory for the index: the slow way */
		for (i = 0; i < s->npr; i++)
			if (!memcmp(&s->pr[i].key, k, sizeof(*k)))
				return &s->pr[i];
		return NULL;
	}
	i = s->pidx[pidx_slot(s, k)];
	return i ? &s->pr[i - 1] : NULL;
}

/* drop slot i, shifting later members of its probe run back (no tombstones) */
static void pidx_delete(struct corral_state *s, size_t i)
{
	size_t m = s->pidx_cap - 1, j = i;

	for (;;) {
		size_t home;

		s->pidx[i] = 0;
		for (;;) {
			j = (j + 1) & m;
			if (!s->pidx[j])
				return;
			home = pkey_hash(&s->pr[s->pidx[j] - 1].key) & m;
			/* j's entry may move to i only if its home is not in (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		s->pidx[i] = s->pidx[j];
		i = j;
	}
}

static int prule_put(struct corral_state *s, const struct corral_prefix_rule_key *k,
		     const struct corral_prefix_rule *v, char *err, size_t errlen, const char *obj)
{
	struct corral_prule *r = prule_find(s, k);

	if (!r) {
		if (s->npr >= CORRAL_MAX_PREFIX_RULES)
			return corral_seterr(err, errlen, "%s: too many prefix rules (at most %u)",
				      obj, CORRAL_MAX_PREFIX_RULES);
		if (s->npr == s->pr_cap) {
			size_t cap = s->pr_cap ? s->pr_cap * 2 : 64;
			void *p = realloc(s->pr, cap * sizeof(*s->pr));

			if (!p)
				return -ENOMEM;
			s->pr = p;
			s->pr_cap = cap;
		}
		r = &s->pr[s->npr++];
		r->key = *k;
		if (s->pidx_ok) {
			if (2 * s->npr > s->pidx_cap)
				s->pidx_ok = pidx_build(s, s->npr) == 0;
			else
				s->pidx[pidx_slot(s, k)] = (__u32)s->npr;
		}
	}
	r->val = *v;
	return 0;
}

static void prule_remove(struct corral_state *s, struct corral_prule *r)
{
	size_t pos = (size_t)(r - s->pr), last = s->npr - 1;

	if (s->pidx_ok) {
		pidx_delete(s, pidx_slot(s, &r->key));
		/* the last rule moves into the hole: repoint its slot */
		if (pos != last)
			s->pidx[pidx_slot(s, &s->pr[last].key)] = (__u32)pos + 1;
	}
	*r = s->pr[last];
	s->npr--;
}

static struct corral_ptrule *ptrule_find(struct corral_state *s,
					 const struct corral_port_rule_key *k)
{
	size_t i;

	for (i = 0; i < s->npt; i++)
		if (!memcmp(&s->pt[i].key, k, sizeof(*k)))
			return &s->pt[i];
	return NULL;
}

static int apply_list(struct corral_state *s, const struct corral_op *op, char *err, size_t errlen)
{
	bool allow = op->kind == CORRAL_OP_ALLOW_ADD || op->kind == CORRAL_OP_ALLOW_DEL;
	bool add = op->kind == CORRAL_OP_ALLOW_ADD || op->kind == CORRAL_OP_DENY_ADD;
	__u32 kind = allow ? CORRAL_RULE_ALLOW : CORRAL_RULE_DENY;
	struct corral_prefix_rule_key k, other;
	struct corral_prefix_rule v = { .class = 0 };
	char buf[CORRAL_PREFIX_STRLEN];
	struct corral_prule *r;

	if (op->list.timeout_ns)
		v.expires_ns = (s->now_ns ? s->now_ns : corral_now_ns()) + op->list.timeout_ns;
	corral_prefix_str(&op->list.pfx, buf, sizeof(buf));
	prule_key(&k, kind, &op->list.pfx);
	if (!add) {
		r = prule_find(s, &k);
		if (!r)
			return corral_seterr(err, errlen, "%s: %s is not in the %s list",
				      corral_rule_kind_name(kind), buf, corral_rule_kind_name(kind));
		prule_remove(s, r);
		return 0;
	}
	prule_key(&other, allow ? CORRAL_RULE_DENY : CORRAL_RULE_ALLOW, &op->list.pfx);
	if (prule_find(s, &other))
		return corral_seterr(err, errlen, "%s: %s is in the %s list", corral_rule_kind_name(kind), buf,
			      corral_rule_kind_name(other.kind));
	return prule_put(s, &k, &v, err, errlen, corral_rule_kind_name(kind));
}

static int apply_limit(struct corral_state *s, const struct corral_op *op, char *err, size_t errlen)
{
	struct corral_prefix_rule_key k;
	struct corral_prefix_rule v;
	char buf[CORRAL_PREFIX_STRLEN];
	struct corral_prule *r;
	bool add = op->kind == CORRAL_OP_LIMIT_ADD;

	switch (op->limit.target) {
	case CORRAL_LT_DEFAULT:
		if (add)
			s->cfg.dflt = op->limit.lim;
		else
			memset(&s->cfg.dflt, 0, sizeof(s->cfg.dflt));
		return 0;
	case CORRAL_LT_EGRESS:
		if (add) {
			s->cfg.egress = op->limit.lim;
			s->cfg.egress_buckets = 1;
		} else {
			memset(&s->cfg.egress, 0, sizeof(s->cfg.egress));
			s->cfg.egress_buckets = 0;
		}
		return 0;
	case CORRAL_LT_PREFIX:
		break;
	}
	prule_key(&k, CORRAL_RULE_LIMIT, &op->limit.pfx);
	if (!add) {
		r = prule_find(s, &k);
		if (!r)
			return corral_seterr(err, errlen, "limit: no limit for %s",
				      corral_prefix_str(&op->limit.pfx, buf, sizeof(buf)));
		prule_remove(s, r);
		return 0;
	}
	memset(&v, 0, sizeof(v));
	v.limit = op->limit.lim;
	return prule_put(s, &k, &v, err, errlen, "limit");
}

static int apply_class(struct corral_state *s, const struct corral_op *op, char *err, size_t errlen)
{
	bool add = op->kind == CORRAL_OP_CLASS_ADD;
	char buf[CORRAL_PREFIX_STRLEN];

	if (op->kind == CORRAL_OP_CLASS_DEFAULT) {
		s->cfg.default_class = op->cls.cls;
		return 0;
	}
	switch (op->cls.sel) {
	case CORRAL_CS_DSCP:
		if (add) {
			s->cfg.dscp_class[op->cls.dscp] = op->cls.cls;
		} else {
			if (s->cfg.dscp_class[op->cls.dscp] != op->cls.cls)
				return corral_seterr(err, errlen, "class: no rule class %u dscp %u",
					      op->cls.cls, op->cls.dscp);
			s->cfg.dscp_class[op->cls.dscp] = CORRAL_CLASS_ANY;
		}
		return 0;
	case CORRAL_CS_SRC: {
		struct corral_prefix_rule_key k;
		struct corral_prefix_rule v;
		struct corral_prule *r;

		prule_key(&k, CORRAL_RULE_CLASS, &op->cls.pfx);
		r = prule_find(s, &k);
		if (!add) {
			if (!r || r->val.class != op->cls.cls)
				return corral_seterr(err, errlen, "class: no rule class %u src %s",
					      op->cls.cls,
					      corral_prefix_str(&op->cls.pfx, buf, sizeof(buf)));
			prule_remove(s, r);
			return 0;
		}
		memset(&v, 0, sizeof(v));
		v.class = op->cls.cls;
		return prule_put(s, &k, &v, err, errlen, "class");
	}
	case CORRAL_CS_PROTO: {
		struct corral_port_rule_key k;
		struct corral_ptrule *r;

		memset(&k, 0, sizeof(k));
		k.proto_idx = op->cls.proto_idx;
		k.port_lo = op->cls.lo;
		k.port_hi = op->cls.hi;
		r = ptrule_find(s, &k);
		if (!add) {
			if (!r || r->cls != op->cls.cls) {
				if (op->cls.lo == 0 && op->cls.hi == 65535)
					return corral_seterr(err, errlen, "class: no rule class %u proto %s",
						      op->cls.cls, corral_proto_name(k.proto_idx));
				return corral_seterr(err, errlen,
					      "class: no rule class %u proto %s dport %u-%u",
					      op->cls.cls, corral_proto_name(k.proto_idx),
					      op->cls.lo, op->cls.hi);
			}
			*r = s->pt[--s->npt];
			return 0;
		}
		if (!r) {
			if (s->npt >= CORRAL_MAX_PORT_RULES)
				return corral_seterr(err, errlen, "class: too many port rules (at most %u)",
					      CORRAL_MAX_PORT_RULES);
			if (s->npt == s->pt_cap) {
				size_t cap = s->pt_cap ? s->pt_cap * 2 : 16;
				void *p = realloc(s->pt, cap * sizeof(*s->pt));

				if (!p)
					return -ENOMEM;
				s->pt = p;
				s->pt_cap = cap;
			}
			r = &s->pt[s->npt++];
			r->key = k;
		}
		r->cls = op->cls.cls;
		return 0;
	}
	}
	return -EINVAL;
}

int corral_state_apply(struct corral_state *s, const struct corral_op *op,
		       char *err, size_t errlen)
{
	switch (op->kind) {
	case CORRAL_OP_MODE_SET:
		if (op->mode.mode >= 0)
			s->cfg.mode = (__u8)op->mode.mode;
		if (op->mode.malformed_pass >= 0)
			s->cfg.malformed_pass = (__u8)op->mode.malformed_pass;
		return 0;
	case CORRAL_OP_AGGREGATE_SET:
		if (op->agg.v4 >= 0)
			s->cfg.v4_prefix = (__u8)op->agg.v4;
		if (op->agg.v6 >= 0)
			s->cfg.v6_prefix = (__u8)op->agg.v6;
		if (op->agg.key_class >= 0)
			s->cfg.key_class = (__u8)op->agg.key_class;
		return 0;
	case CORRAL_OP_LIMIT_ADD:
	case CORRAL_OP_LIMIT_DEL:
		return apply_limit(s, op, err, errlen);
	case CORRAL_OP_CLASS_ADD:
	case CORRAL_OP_CLASS_DEL:
	case CORRAL_OP_CLASS_DEFAULT:
		return apply_class(s, op, err, errlen);
	case CORRAL_OP_ALLOW_ADD:
	case CORRAL_OP_ALLOW_DEL:
	case CORRAL_OP_DENY_ADD:
	case CORRAL_OP_DENY_DEL:
		return apply_list(s, op, err, errlen);
	case CORRAL_OP_SHED_SET:
		s->shed = op->shed.word;
		s->shed_dirty = true;
		return 0;
	case CORRAL_OP_SHED_OFF:
		s->shed = 0;
		s->shed_dirty = true;
		return 0;
	case CORRAL_OP_CLASS_ACTION:
		s->cfg.class_action[op->cls.cls] = op->cls.action;
		return 0;
	case CORRAL_OP_CLASS_REPLY:
		s->cfg.reply_rate = op->reply.rate;
		s->cfg.reply_burst = op->reply.burst;
		return 0;
	case CORRAL_OP_SHED_TUNE:
		if (op->tune.epoch_ns)
			s->cfg.epoch_ns = op->tune.epoch_ns;
		if (op->tune.timeout_ns)
			s->cfg.hb_timeout_ns = op->tune.timeout_ns;
		return 0;
	}
	return corral_seterr(err, errlen, "internal: unknown operation %d", (int)op->kind);
}

__u8 corral_state_tables(const struct corral_state *s)
{
	__u8 t = 0;
	size_t i;

	if (s->npr)
		t |= CORRAL_TBL_PREFIX;
	if (s->npt)
		t |= CORRAL_TBL_PORT;
	for (i = 0; i < sizeof(s->cfg.dscp_class); i++) {
		if (s->cfg.dscp_class[i] != CORRAL_CLASS_ANY) {
			t |= CORRAL_TBL_DSCP;
			break;
		}
	}
	return t;
}

/* ---- load / store ---------------------------------------------------------- */

/* read every key (and value) of a hash map into a malloc'd array */
static int map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals, size_t *n)
{
	size_t cap = 64, cnt = 0;
	char *k = malloc(cap * ksz), *v = vsz ? malloc(cap * vsz) : NULL;
	char cur[64], next[64];
	int err = 0;

	*keys = NULL;
	if (vals)
		*vals = NULL;
	*n = 0;
	if (!k || (vsz && !v) || ksz > sizeof(cur)) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	if (bpf_map_get_next_key(fd, NULL, next)) {
		err = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	for (;;) {
		if (cnt == cap) {
			char *nk, *nv = NULL;

			cap *= 2;
			nk = realloc(k, cap * ksz);
			if (nk)
				k = nk;
			if (vsz) {
				nv = realloc(v, cap * vsz);
				if (nv)
					v = nv;
			}
			if (!nk || (vsz && !nv)) {
				err = -ENOMEM;
				goto out;
			}
		}
		memcpy(k + cnt * ksz, next, ksz);
		if (vsz) {
			if (bpf_map_lookup_elem(fd, next, v + cnt * vsz)) {
				if (errno != ENOENT) {
					err = -errno;
					goto out;
				}
				/* deleted meanwhile: skip */
				cnt--;
			}
		}
		cnt++;
		memcpy(cur, next, ksz);
		if (bpf_map_get_next_key(fd, cur, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
	}
out:
	if (err) {
		free(k);
		free(v);
		return err;
	}
	*keys = k;
	if (vals)
		*vals = v;
	else
		free(v);
	*n = cnt;
	return 0;
}

int corral_state_load(const struct corral_handle *h, struct corral_state *s)
{
	struct corral_prefix_rule_key *pk;
	struct corral_prefix_rule *pv;
	struct corral_port_rule_key *tk;
	__u8 *tv;
	size_t n, i;
	int err;

	corral_state_init(s);
	corral_cfg_begin(h, &s->cfg);
	s->shed = corral_shed_read(h);
	s->now_ns = corral_dp_now(h);

	err = map_dump(h->prules_fd, sizeof(*pk), sizeof(*pv), (void **)&pk, (void **)&pv, &n);
	if (err)
		return err;
	s->pr = calloc(n ? n : 1, sizeof(*s->pr));
	if (!s->pr) {
		free(pk);
		free(pv);
		return -ENOMEM;
	}
	s->pr_cap = n ? n : 1;
	s->npr = 0;
	for (i = 0; i < n; i++) {
		/* an expired timed rule is gone: the next store deletes it */
		if (pv[i].expires_ns && pv[i].expires_ns <= s->now_ns &&
		    (pk[i].kind == CORRAL_RULE_ALLOW || pk[i].kind == CORRAL_RULE_DENY))
			continue;
		s->pr[s->npr].key = pk[i];
		s->pr[s->npr].val = pv[i];
		s->npr++;
	}
	free(pk);
	free(pv);

	err = map_dump(h->pt_rules_fd, sizeof(*tk), sizeof(*tv), (void **)&tk, (void **)&tv, &n);
	if (err)
		goto fail;
	s->pt = calloc(n ? n : 1, sizeof(*s->pt));
	if (!s->pt) {
		free(tk);
		free(tv);
		err = -ENOMEM;
		goto fail;
	}
	s->pt_cap = n ? n : 1;
	for (i = 0; i < n; i++) {
		s->pt[i].key = tk[i];
		s->pt[i].cls = tv[i];
	}
	s->npt = n;
	free(tk);
	free(tv);
	return 0;
fail:
	corral_state_free(s);
	return err;
}

static int prk_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct corral_prefix_rule_key));
}

static int ptk_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct corral_port_rule_key));
}

static int lpmk_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct corral_lpm_key));
}

/* qsort and bsearch want a valid base even for 0 elements: an empty state has NULL arrays */
static void sort_n(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
	if (n)
		qsort(base, n, sz, cmp);
}

static bool found_in(const void *key, const void *base, size_t n, size_t sz,
		     int (*cmp)(const void *, const void *))
{
	return n && bsearch(key, base, n, sz, cmp);
}

/*
 * Hit counters (corral_hits) appear in the data plane on a rule's first
 * hit. Delete those of rules that are gone, and of rules that are new
 * (a leftover of an earlier rule on the same prefix must not count for
 * it): called before the policy is published and again once stale
 * entries are gone, which catches a hit that raced a deletion. fresh is
 * sorted. The map holds only rules that were hit, so the walk is short.
 */
static int hits_prune(const struct corral_handle *h, const struct corral_state *s,
		      const struct corral_prefix_rule_key *fresh, size_t nfresh,
		      char *err, size_t errlen)
{
	struct corral_prefix_rule_key *keys = NULL;
	size_t n = 0, i;
	int ret;

	if (h->hits_fd < 0)
		return 0;
	ret = map_dump(h->hits_fd, sizeof(*keys), 0, (void **)&keys, NULL, &n);
	if (ret) {
		corral_seterr(err, errlen, "corral_hits: read: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++) {
		if (found_in(&keys[i], s->pr, s->npr, sizeof(*s->pr), prk_cmp) &&
		    !found_in(&keys[i], fresh, nfresh, sizeof(*fresh), prk_cmp))
			continue;
		if (bpf_map_delete_elem(h->hits_fd, &keys[i]) && errno != ENOENT) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_hits: delete: %s", strerror(errno));
			break;
		}
	}
	free(keys);
	return ret;
}

int corral_state_store(struct corral_handle *h, struct corral_state *s,
		       char *err, size_t errlen)
{
	struct corral_pol_entry *pol = NULL;
	struct corral_lpm_key *pol_keys = NULL;
	struct corral_prefix_rule_key *old_pk = NULL, *fresh = NULL;
	struct corral_port_rule_key *old_tk = NULL;
	struct corral_cfg c;
	size_t npol = 0, nold_pol = 0, nold_pk = 0, nold_tk = 0, nfresh = 0, i;
	__u8 *table = NULL;
	int ret = 0;

	/* 1. rule maps: insert/update */
	sort_n(s->pr, s->npr, sizeof(*s->pr), prk_cmp);
	s->pidx_ok = false;   /* the index held the old positions */
	sort_n(s->pt, s->npt, sizeof(*s->pt), ptk_cmp);
	fresh = calloc(s->npr ? s->npr : 1, sizeof(*fresh));
	if (!fresh) {
		ret = -ENOMEM;
		corral_seterr(err, errlen, "corral_hits: %s", strerror(ENOMEM));
		goto out;
	}
	for (i = 0; i < s->npr; i++) {
		struct corral_prefix_rule cur;
		bool is_new;

		is_new = bpf_map_lookup_elem(h->prules_fd, &s->pr[i].key, &cur) != 0;
		if (!is_new && !memcmp(&cur, &s->pr[i].val, sizeof(cur)))
			continue;
		if (is_new)
			fresh[nfresh++] = s->pr[i].key;
		if (bpf_map_update_elem(h->prules_fd, &s->pr[i].key, &s->pr[i].val, BPF_ANY)) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_prules: update: %s", strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < s->npt; i++) {
		__u8 cur;

		if (!bpf_map_lookup_elem(h->pt_rules_fd, &s->pt[i].key, &cur) && cur == s->pt[i].cls)
			continue;
		if (bpf_map_update_elem(h->pt_rules_fd, &s->pt[i].key, &s->pt[i].cls, BPF_ANY)) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_pt_rules: update: %s", strerror(errno));
			goto out;
		}
	}

	/* new rules start their hit counters at zero, before the policy that
	 * names them is published (fresh is in s->pr order: sorted) */
	ret = hits_prune(h, s, fresh, nfresh, err, errlen);
	if (ret)
		goto out;

	/* 2. compiled policy: insert/update */
	ret = corral_policy_compile(s->pr, s->npr, &pol, &npol);
	if (ret) {
		corral_seterr(err, errlen, "policy: compile: %s", strerror(-ret));
		goto out;
	}
	sort_n(pol, npol, sizeof(*pol), lpmk_cmp);
	for (i = 0; i < npol; i++) {
		struct corral_policy cur;

		if (!bpf_map_lookup_elem(h->policy_fd, &pol[i].key, &cur) &&
		    !memcmp(&cur, &pol[i].val, sizeof(cur)))
			continue;
		if (bpf_map_update_elem(h->policy_fd, &pol[i].key, &pol[i].val, BPF_ANY)) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_policy: update: %s", strerror(errno));
			goto out;
		}
	}

	/* 3. port class table */
	table = malloc(CORRAL_PORT_TABLE_SIZE);
	if (!table) {
		ret = -ENOMEM;
		corral_seterr(err, errlen, "port table: %s", strerror(ENOMEM));
		goto out;
	}
	ret = corral_port_compile(s->pt, s->npt, table);
	if (ret) {
		corral_seterr(err, errlen, "port table: compile: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < CORRAL_PORT_TABLE_SIZE; i++) {
		if (CORRAL_PORT_CLS(h, i) != table[i])
			__atomic_store_n(&CORRAL_PORT_CLS(h, i), table[i], __ATOMIC_RELAXED);
	}

	/* 4. configuration flip */
	s->cfg.tables = corral_state_tables(s);
	s->cfg.list_expiry_ns = 0;
	for (i = 0; i < s->npr; i++) {
		__u64 e = s->pr[i].val.expires_ns;

		if (e && (!s->cfg.list_expiry_ns || e < s->cfg.list_expiry_ns))
			s->cfg.list_expiry_ns = e;
	}
	corral_cfg_begin(h, &c);
	if (memcmp(&c, &s->cfg, sizeof(c)))
		corral_cfg_commit(h, &s->cfg);

	/* 5. stale entries */
	ret = map_dump(h->policy_fd, sizeof(*pol_keys), 0, (void **)&pol_keys, NULL, &nold_pol);
	if (ret) {
		corral_seterr(err, errlen, "corral_policy: read: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < nold_pol; i++) {
		struct corral_pol_entry probe = { .key = pol_keys[i] };

		if (found_in(&probe, pol, npol, sizeof(*pol), lpmk_cmp))
			continue;
		if (bpf_map_delete_elem(h->policy_fd, &pol_keys[i]) && errno != ENOENT) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_policy: delete: %s", strerror(errno));
			goto out;
		}
	}
	ret = map_dump(h->prules_fd, sizeof(*old_pk), 0, (void **)&old_pk, NULL, &nold_pk);
	if (ret) {
		corral_seterr(err, errlen, "corral_prules: read: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < nold_pk; i++) {
		if (found_in(&old_pk[i], s->pr, s->npr, sizeof(*s->pr), prk_cmp))
			continue;
		if (bpf_map_delete_elem(h->prules_fd, &old_pk[i]) && errno != ENOENT) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_prules: delete: %s", strerror(errno));
			goto out;
		}
	}
	ret = map_dump(h->pt_rules_fd, sizeof(*old_tk), 0, (void **)&old_tk, NULL, &nold_tk);
	if (ret) {
		corral_seterr(err, errlen, "corral_pt_rules: read: %s", strerror(-ret));
		goto out;
	}
	for (i = 0; i < nold_tk; i++) {
		if (found_in(&old_tk[i], s->pt, s->npt, sizeof(*s->pt), ptk_cmp))
			continue;
		if (bpf_map_delete_elem(h->pt_rules_fd, &old_tk[i]) && errno != ENOENT) {
			ret = -errno;
			corral_seterr(err, errlen, "corral_pt_rules: delete: %s", strerror(errno));
			goto out;
		}
	}

	ret = hits_prune(h, s, NULL, 0, err, errlen);
	if (ret)
		goto out;

	/* 6. shed word */
	if (s->shed_dirty)
		corral_shed_write(h, s->shed);
	ret = 0;
out:
	free(fresh);
	free(pol);
	free(pol_keys);
	free(old_pk);
	free(old_tk);
	free(table);
	return ret;
}

/* apply ops in order; the first failure names its line (where[i]) */
static int apply_all(struct corral_state *s, const struct corral_op *ops, size_t n,
		     const char *const *where, char *err, size_t errlen)
{
	char msg[512];

	for (size_t i = 0; i < n; i++) {
		int ret = corral_state_apply(s, &ops[i], msg, sizeof(msg));

		if (!ret)
			continue;
		if (ret == -ENOMEM)
			snprintf(msg, sizeof(msg), "%s", strerror(ENOMEM));
		if (where && where[i])
			corral_seterr(err, errlen, "%s: %s", where[i], msg);
		else
			corral_seterr(err, errlen, "%s", msg);
		return ret;
	}
	return 0;
}

int corral_ops_commit(const struct corral_op *ops, size_t n, const char *const *where,
		      char *err, size_t errlen)
{
	struct corral_handle h;
	struct corral_state s;
	int ret;

	ret = corral_handle_open(&h);
	if (ret == -ENOENT)
		return corral_seterr(err, errlen, "not loaded (attach a device first)"), -ENOENT;
	if (ret)
		return corral_seterr(err, errlen, "%s: open: %s", corral_pin_dir(), strerror(-ret)), ret;
	ret = corral_lock(&h);
	if (ret) {
		corral_seterr(err, errlen, "lock: %s", strerror(-ret));
		goto close;
	}
	ret = corral_state_load(&h, &s);
	if (ret) {
		corral_seterr(err, errlen, "read state: %s", strerror(-ret));
		goto close;
	}
	ret = apply_all(&s, ops, n, where, err, errlen);
	if (ret)
		goto free;
	ret = corral_state_store(&h, &s, err, errlen);
free:
	corral_state_free(&s);
close:
	corral_handle_close(&h);
	return ret;
}

int corral_ops_check(const struct corral_op *ops, size_t n, const char *const *where,
		     bool loaded, char *err, size_t errlen)
{
	struct corral_handle h;
	struct corral_state s;
	int ret;

	ret = corral_handle_open(&h);
	if (ret == -ENOENT && !loaded)
		return corral_seterr(err, errlen, "not loaded (attach a device first)"), -ENOENT;
	if (ret == -ENOENT) {
		/* the file's own attach loads a fresh corral: check against that */
		ret = corral_state_init(&s);
		if (ret)
			return corral_seterr(err, errlen, "%s", strerror(-ret)), ret;
	} else if (ret) {
		return corral_seterr(err, errlen, "%s: open: %s", corral_pin_dir(), strerror(-ret)), ret;
	} else {
		ret = corral_state_load(&h, &s);
		corral_handle_close(&h);
		if (ret)
			return corral_seterr(err, errlen, "read state: %s", strerror(-ret)), ret;
	}
	ret = apply_all(&s, ops, n, where, err, errlen);
	corral_state_free(&s);
	return ret;
}
