// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * model.c - reference model of the corral ingress policy (see model.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "model.h"

#define NSEC 1000000000ULL

/* ---- a small hash table: fixed-size keys, two 64-bit values ------------- */
#define KV_KEY_MAX 48

struct kv_slot {
	__u8 used;
	__u8 key[KV_KEY_MAX];
	__u64 v[2];
};

struct model_kv {
	size_t ksz, cap, n;
	struct kv_slot *slot;
};

static struct model_kv *kv_new(size_t ksz)
{
	struct model_kv *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ksz = ksz;
	t->cap = 256;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	if (!t->slot) {
		free(t);
		return NULL;
	}
	return t;
}

static void kv_free(struct model_kv *t)
{
	if (!t)
		return;
	free(t->slot);
	free(t);
}

static void kv_clear(struct model_kv *t)
{
	memset(t->slot, 0, t->cap * sizeof(*t->slot));
	t->n = 0;
}

static __u64 kv_hash(const __u8 *k, size_t n)
{
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct kv_slot *kv_find(struct model_kv *t, const void *key)
{
	size_t i = kv_hash(key, t->ksz) & (t->cap - 1);

	while (t->slot[i].used) {
		if (!memcmp(t->slot[i].key, key, t->ksz))
			return &t->slot[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

static int kv_grow(struct model_kv *t)
{
	struct kv_slot *old = t->slot;
	size_t oc = t->cap, i;

	t->slot = calloc(oc * 2, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		return -ENOMEM;
	}
	t->cap = oc * 2;
	for (i = 0; i < oc; i++) {
		size_t j;

		if (!old[i].used)
			continue;
		j = kv_hash(old[i].key, t->ksz) & (t->cap - 1);
		while (t->slot[j].used)
			j = (j + 1) & (t->cap - 1);
		t->slot[j] = old[i];
	}
	free(old);
	return 0;
}

/* find or insert (values zero); *created tells which */
static struct kv_slot *kv_get(struct model_kv *t, const void *key, int *created)
{
	struct kv_slot *s = kv_find(t, key);
	size_t i;

	*created = 0;
	if (s)
		return s;
	if ((t->n + 1) * 2 > t->cap && kv_grow(t))
		return NULL;
	i = kv_hash(key, t->ksz) & (t->cap - 1);
	while (t->slot[i].used)
		i = (i + 1) & (t->cap - 1);
	s = &t->slot[i];
	s->used = 1;
	memcpy(s->key, key, t->ksz);
	s->v[0] = s->v[1] = 0;
	t->n++;
	*created = 1;
	return s;
}

/* ---- oracle and model lifetime ----------------------------------------- */
/* the source key as the model sees it */
struct mkey {
	__u8 addr[16];
	__u8 family;
	__u8 cls;
	__u8 pad[6];
};

struct shed_okey {
	struct mkey k;
	__u64 salt;
};

/* the places u in [0, CORRAL_FRAC_ONE) a source may still have, one bit each */
#define UWORDS ((CORRAL_FRAC_ONE + 63) / 64)
struct ubits {
	__u64 w[UWORDS];
};

struct herd_okey {
	struct mkey k;
	__u64 salt;
};

int model_oracle_init(struct model_oracle *o)
{
	memset(o, 0, sizeof(*o));
	o->shed = kv_new(sizeof(struct shed_okey));
	o->herd = kv_new(sizeof(struct herd_okey));
	if (!o->shed || !o->herd) {
		model_oracle_free(o);
		return -ENOMEM;
	}
	return 0;
}

void model_oracle_reset(struct model_oracle *o)
{
	kv_clear(o->shed);
	kv_clear(o->herd);
	o->shed_nu = 0;
}

void model_oracle_free(struct model_oracle *o)
{
	kv_free(o->shed);
	kv_free(o->herd);
	free(o->shed_u);
	o->shed = o->herd = NULL;
	o->shed_u = NULL;
	o->shed_nu = o->shed_cu = 0;
}

int model_init(struct model *m, struct model_oracle *o)
{
	memset(m, 0, sizeof(*m));
	m->oracle = o;
	m->buckets = kv_new(sizeof(struct mkey));
	return m->buckets ? 0 : -ENOMEM;
}

void model_reset(struct model *m)
{
	kv_clear(m->buckets);
	m->syn_tat = 0;
}

void model_free(struct model *m)
{
	kv_free(m->buckets);
	m->buckets = NULL;
}

/* ---- parse ------------------------------------------------------------- */
static __u16 be16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static int malformed(struct model_pkt *p, const char *why)
{
	p->why = why;
	p->result = MODEL_P_MALFORMED;
	return p->result;
}

static int parse_l4(const __u8 *b, __u32 len, __u32 off, struct model_pkt *p)
{
	switch (p->l4proto) {
	case 6: {
		__u32 doff;

		if (off + 20 > len)
			return malformed(p, "tcp header truncated");
		doff = b[off + 12] >> 4;
		if (doff < 5)
			return malformed(p, "tcp data offset < 5");
		if (off + doff * 4 > len)
			return malformed(p, "tcp options truncated");
		p->sport = be16(b + off);
		p->dport = be16(b + off + 2);
		p->tcp_flags = b[off + 13];
		p->has_ports = 1;
		break;
	}
	case 17:
		if (off + 8 > len)
			return malformed(p, "udp header truncated");
		p->sport = be16(b + off);
		p->dport = be16(b + off + 2);
		p->has_ports = 1;
		break;
	case 1:
	case 58:
		if (off + MODEL_ICMP_HLEN > len)
			return malformed(p, "icmp header truncated");
		break;
	default:
		break;
	}
	p->result = MODEL_P_IP;
	return p->result;
}

static int parse_v4(const __u8 *b, __u32 len, __u32 off, struct model_pkt *p)
{
	__u32 hlen, tot;

	if (off + 20 > len)
		return malformed(p, "ipv4 header truncated");
	if ((b[off] >> 4) != 4)
		return malformed(p, "ipv4 version");
	hlen = (b[off] & 0xf) * 4;
	if (hlen < 20)
		return malformed(p, "ipv4 ihl < 5");
	if (off + hlen > len)
		return malformed(p, "ipv4 options truncated");
	tot = be16(b + off + 2);
	if (tot < hlen)
		return malformed(p, "ipv4 total length < header");
	if (off + tot > len)
		return malformed(p, "ipv4 total length past the frame");
	p->family = 4;
	p->dscp = b[off + 1] >> 2;
	p->l4proto = b[off + 9];
	memcpy(p->src, b + off + 12, 4);
	if (be16(b + off + 6) & 0x1fff) {
		p->frag = 1;
		p->result = MODEL_P_IP;
		return p->result;
	}
	return parse_l4(b, len, off + hlen, p);
}

static int is_v6_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44;
}

static int parse_v6(const __u8 *b, __u32 len, __u32 off, struct model_pkt *p)
{
	__u8 next;

	if (off + 40 > len)
		return malformed(p, "ipv6 header truncated");
	if ((b[off] >> 4) != 6)
		return malformed(p, "ipv6 version");
	if (off + 40 + be16(b + off + 4) > len)
		return malformed(p, "ipv6 payload length past the frame");
	p->family = 6;
	/* traffic class: low nibble of byte 0, high nibble of byte 1 */
	p->dscp = (__u8)(((b[off] & 0xf) << 4) | (b[off + 1] >> 4)) >> 2;
	memcpy(p->src, b + off + 8, 16);
	{
		static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (!memcmp(b + off + 8, mapped, sizeof(mapped)))
			return malformed(p, "ipv6 source is ipv4-mapped");
	}
	next = b[off + 6];
	off += 40;

	while (is_v6_ext(next)) {
		__u32 elen;

		if (p->next == CORRAL_MAX_V6_EXT)
			return malformed(p, "too many ipv6 extension headers");
		p->next++;
		if (next == 44) {
			if (off + 8 > len)
				return malformed(p, "ipv6 fragment header truncated");
			next = b[off];
			if (be16(b + off + 2) & 0xfff8) {
				p->l4proto = next;
				p->frag = 1;
				p->result = MODEL_P_IP;
				return p->result;
			}
			off += 8;
			continue;
		}
		if (off + 2 > len)
			return malformed(p, "ipv6 extension header truncated");
		if (next == 51)
			elen = (b[off + 1] + 2) * 4;
		else
			elen = (b[off + 1] + 1) * 8;
		if (off + elen > len)
			return malformed(p, "ipv6 extension header truncated");
		next = b[off];
		off += elen;
	}
	p->l4proto = next;
	if (next == 59) {     /* no next header */
		p->result = MODEL_P_IP;
		return p->result;
	}
	return parse_l4(b, len, off, p);
}

void model_parse(const __u8 *b, __u32 len, struct model_pkt *p)
{
	__u32 off = 14;
	__u16 proto;

	memset(p, 0, sizeof(*p));
	if (len < 14) {
		malformed(p, "ethernet header truncated");
		return;
	}
	proto = be16(b + 12);
	while (proto == 0x8100 || proto == 0x88A8) {
		if (p->nvlan == CORRAL_MAX_VLAN) {
			malformed(p, "too many vlan tags");
			return;
		}
		if (off + 4 > len) {
			malformed(p, "vlan tag truncated");
			return;
		}
		proto = be16(b + off + 2);
		off += 4;
		p->nvlan++;
	}
	if (proto == 0x0800)
		parse_v4(b, len, off, p);
	else if (proto == 0x86DD)
		parse_v6(b, len, off, p);
	else
		p->result = MODEL_P_NONIP;
}

/* ---- rules ------------------------------------------------------------- */
static int bits_match(const __u8 *a, const __u8 *b, int bits)
{
	int i;

	for (i = 0; i < bits / 8; i++)
		if (a[i] != b[i])
			return 0;
	if (bits % 8) {
		__u8 m = (__u8)(0xff << (8 - bits % 8));

		if ((a[i] & m) != (b[i] & m))
			return 0;
	}
	return 1;
}

int model_prefix_contains(const struct model_prefix *outer, const struct model_prefix *inner)
{
	return outer->family == inner->family && outer->plen <= inner->plen &&
	       bits_match(outer->addr, inner->addr, outer->plen);
}

const struct model_rule *model_longest(const struct model_policy *pol, int kind, int family,
				       const __u8 *addr)
{
	const struct model_rule *best = NULL;
	int i;

	for (i = 0; i < pol->nrules; i++) {
		const struct model_rule *r = &pol->rules[i];

		if (r->kind != kind || r->pfx.family != family)
			continue;
		if (!bits_match(r->pfx.addr, addr, r->pfx.plen))
			continue;
		if (!best || r->pfx.plen > best->pfx.plen)
			best = r;
	}
	return best;
}

__u8 model_port_class(const struct model_policy *pol, int proto_idx, __u16 port)
{
	const struct model_port_rule *best = NULL;
	int i;

	for (i = 0; i < pol->nports; i++) {
		const struct model_port_rule *r = &pol->ports[i];

		if (r->proto_idx != proto_idx || port < r->lo || port > r->hi)
			continue;
		if (!best || r->hi - r->lo <= best->hi - best->lo)
			best = r;
	}
	return best ? best->cls : CORRAL_CLASS_ANY;
}

static const struct model_rule *list_rule(const struct model_policy *pol, const struct model_pkt *p)
{
	const struct model_rule *a = model_longest(pol, CORRAL_RULE_ALLOW, p->family, p->src);
	const struct model_rule *d = model_longest(pol, CORRAL_RULE_DENY, p->family, p->src);

	if (!a)
		return d;
	if (!d)
		return a;
	return d->pfx.plen >= a->pfx.plen ? d : a;
}

static int proto_idx(__u8 l4proto)
{
	switch (l4proto) {
	case 6:
		return CORRAL_PI_TCP;
	case 17:
		return CORRAL_PI_UDP;
	case 1:
		return CORRAL_PI_ICMP;
	case 58:
		return CORRAL_PI_ICMPV6;
	}
	return -1;
}

static __u8 classify(const struct model_policy *pol, const struct model_pkt *p)
{
	const struct model_rule *r = model_longest(pol, CORRAL_RULE_CLASS, p->family, p->src);
	int pi;

	if (r)
		return r->cls;
	pi = proto_idx(p->l4proto);
	if (!p->frag && pi >= 0) {
		/* protocols without ports look up port 0 */
		__u8 c = model_port_class(pol, pi, p->has_ports ? p->dport : 0);

		if (c != CORRAL_CLASS_ANY)
			return c;
	}
	if (pol->cfg.dscp_class[p->dscp & 63] != CORRAL_CLASS_ANY)
		return pol->cfg.dscp_class[p->dscp & 63];
	return pol->cfg.default_class;
}

static void make_key(const struct model_policy *pol, const struct model_pkt *p, __u8 cls,
		     struct mkey *k)
{
	int bits = p->family == 4 ? pol->cfg.v4_prefix : pol->cfg.v6_prefix;
	int n = p->family == 4 ? 4 : 16, i;

	memset(k, 0, sizeof(*k));
	if (bits > n * 8)
		bits = n * 8;
	for (i = 0; i < n; i++) {
		int keep = bits - i * 8;

		if (keep >= 8)
			k->addr[i] = p->src[i];
		else if (keep > 0)
			k->addr[i] = p->src[i] & (__u8)(0xff << (8 - keep));
	}
	k->family = p->family;
	k->cls = pol->cfg.key_class ? cls : CORRAL_CLASS_ANY;
}

/* ---- time-dependent stages ----------------------------------------------- */
static int hb_fresh(const struct model_policy *pol, const struct corral_ctl *ctl)
{
	__u64 now = ctl->fake_now_ns, hb = ctl->heartbeat_ns;

	/* stale once the heartbeat is older than the timeout */
	return now <= hb || now - hb <= pol->cfg.hb_timeout_ns;
}

/* GCRA: conforms when max(tat, now) + cost - now <= limit */
static int gcra(__u64 *tat, __u64 now, __u64 cost, __u64 limit)
{
	__u64 next = (*tat > now ? *tat : now) + cost;

	if (next - now > limit)
		return 0;
	*tat = next;
	return 1;
}

static int hint_has(const struct model_hint *h, __u32 row, __u32 reason)
{
	return h && h->stats && h->stats[CORRAL_STAT_KEY(row, reason)].packets;
}

/* the bits of word j of a ubits that lie in [lo, hi), 0 <= lo <= hi <= ONE */
static __u64 range_bits(unsigned j, unsigned lo, unsigned hi)
{
	unsigned b0 = j * 64, b1 = b0 + 64, a, z;

	if (hi <= b0 || lo >= b1 || lo >= hi)
		return 0;
	a = lo > b0 ? lo - b0 : 0;
	z = hi < b1 ? hi - b0 : 64;
	return (z == 64 ? ~0ULL : (1ULL << z) - 1) & ~((1ULL << a) - 1);
}

/* the shed window: the places v with (v - off) mod ONE < frac */
static __u64 window_bits(unsigned j, unsigned off, unsigned frac)
{
	unsigned end = off + frac;

	if (end <= CORRAL_FRAC_ONE)
		return range_bits(j, off, end);
	return range_bits(j, off, CORRAL_FRAC_ONE) | range_bits(j, 0, end - CORRAL_FRAC_ONE);
}

/* 1: shed, 0: not, -ENOMEM */
static int shed_decide(struct model *m, const struct model_policy *pol,
		       const struct corral_ctl *ctl, const struct model_pkt *p, __u8 cls,
		       const struct mkey *k, const struct model_hint *hint, struct model_out *out)
{
	__u64 w = ctl->shed;
	__u32 level = CORRAL_SHED_LEVEL(w), frac = CORRAL_SHED_FRAC(w);
	struct shed_okey ok;
	struct kv_slot *s;
	int created, want;

	if (!(CORRAL_SHED_FLAGS(w) & CORRAL_SHED_ON) || cls == 0)
		return 0;
	if ((CORRAL_SHED_FLAGS(w) & CORRAL_SHED_HB) && !hb_fresh(pol, ctl))
		return 0;
	if (CORRAL_SHED_SCOPE(w) == CORRAL_SCOPE_NEW && p->l4proto == 6) {
		/* only a TCP SYN without ACK is new; a non-first fragment is not known to be */
		if (p->frag || !p->has_ports ||
		    (p->tcp_flags & (MODEL_TCP_SYN | MODEL_TCP_ACK)) != MODEL_TCP_SYN)
			return 0;
	}
	if (cls < level)
		return 0;
	if (cls > level)
		return 1;
	if (frac == 0)
		return 0;
	if (frac >= CORRAL_FRAC_ONE)
		return 1;

	memset(&ok, 0, sizeof(ok));
	ok.k = *k;
	ok.salt = pol->cfg.salt;
	s = kv_get(m->oracle->shed, &ok, &created);
	if (!s)
		return -ENOMEM;
	if (created) {
		struct model_oracle *o = m->oracle;

		if (o->shed_nu == o->shed_cu) {
			size_t n = o->shed_cu ? 2 * o->shed_cu : 1024;
			void *nu = realloc(o->shed_u, n * sizeof(struct ubits));

			if (!nu)
				return -ENOMEM;
			o->shed_u = nu;
			o->shed_cu = n;
		}
		struct ubits *b = (struct ubits *)o->shed_u + o->shed_nu;

		for (unsigned j = 0; j < UWORDS; j++)
			b->w[j] = range_bits(j, 0, CORRAL_FRAC_ONE);
		s->v[0] = o->shed_nu++;
	}
	{
		struct ubits *b = (struct ubits *)m->oracle->shed_u + s->v[0];
		__u64 e = pol->cfg.epoch_ns;
		unsigned off = e ? (unsigned)((ctl->fake_now_ns % e) * CORRAL_FRAC_ONE / e) : 0;
		unsigned in = 0, outn = 0;
		int h = hint_has(hint, cls, CORRAL_R_SHED);

		for (unsigned j = 0; j < UWORDS; j++) {
			__u64 wb = window_bits(j, off, frac);

			in += (unsigned)__builtin_popcountll(b->w[j] & wb);
			outn += (unsigned)__builtin_popcountll(b->w[j] & ~wb);
		}
		if (in && !outn) {
			want = 1;
		} else if (!in && outn) {
			want = 0;
		} else {
			/* open: the data plane's answer places u; count it for the
			 * statistical check, with the probability the places left give */
			double pr = in + outn ? (double)in / (in + outn) : frac / (double)CORRAL_FRAC_ONE;

			want = h;
			m->oracle->frac_decisions++;
			m->oracle->frac_shed += want;
			m->oracle->frac_expect += pr;
			m->oracle->frac_var += pr * (1.0 - pr);
			for (unsigned j = 0; j < UWORDS && in + outn; j++) {
				__u64 wb = window_bits(j, off, frac);

				b->w[j] &= want ? wb : ~wb;
			}
		}
		if (hint && hint->stats && h != want) {
			m->oracle->conflicts++;
			out->note = want ? "source not shed although its place is inside the shed window"
					 : "source shed although its place is outside the shed window";
		}
	}
	return want;
}

/*
 * herd mode: 1 deferred, 0 not. The offset is floor(window_ms * u) ms for a
 * fixed u in [0, 1) per (source key, herd salt), whatever the window. A SYN
 * at t = now - start is deferred iff u >= m / window_ms with
 * m = floor(t / 1 ms) + 1. The model learns u as an interval [lo, hi) of
 * fractions (num << 32 | den) and holds every later decision to it.
 */
static int frac_le(__u64 a, __u64 b)    /* a <= b */
{
	return (a >> 32) * (b & 0xffffffff) <= (b >> 32) * (a & 0xffffffff);
}

static int herd_defer(struct model *m, const struct corral_ctl *ctl, const struct mkey *k,
		      __u64 window_ms, const struct model_hint *hint, __u32 cls,
		      struct model_out *out)
{
	__u64 now = ctl->fake_now_ns, start = ctl->herd_start_ns, q, ms;
	struct herd_okey ok;
	struct kv_slot *s;
	int created, d, h;

	if (now < start)
		return 1;               /* every offset lies ahead */
	ms = (now - start) / 1000000ULL + 1;
	if (ms >= window_ms)
		return 0;               /* every offset has come */
	memset(&ok, 0, sizeof(ok));
	ok.k = *k;
	ok.salt = ctl->herd_salt;
	s = kv_get(m->oracle->herd, &ok, &created);
	if (!s)
		return -ENOMEM;
	if (created) {
		s->v[0] = 0ULL << 32 | 1;   /* u >= 0 */
		s->v[1] = 1ULL << 32 | 1;   /* u < 1 */
		m->oracle->herd_learned++;
	}
	q = ms << 32 | window_ms;
	h = hint_has(hint, cls, CORRAL_R_SYN_DEFER);
	if (frac_le(q, s->v[0]))
		d = 1;
	else if (frac_le(s->v[1], q))
		d = 0;
	else
		d = h;
	if (hint && hint->stats && h != d && !out->note) {
		m->oracle->conflicts++;
		out->note = d ? "herd offset: source admitted before its place in the window"
			      : "herd offset: source deferred after its place in the window had come";
	}
	if (d) {
		if (!frac_le(q, s->v[0]))
			s->v[0] = q;
		m->oracle->herd_defer++;
	} else if (!frac_le(s->v[1], q)) {
		s->v[1] = q;
	}
	return d;
}

/* ---- the pipeline ---------------------------------------------------------- */
static void count(struct model_out *o, __u32 row, __u32 reason, __u32 len)
{
	o->stats[CORRAL_STAT_KEY(row, reason)].packets++;
	o->stats[CORRAL_STAT_KEY(row, reason)].bytes += len;
}

static void finish(struct model_out *o, const struct model_policy *pol, __u32 row,
		   __u32 reason, int drop, __u32 len)
{
	o->row = row;
	o->reason = reason;
	count(o, row, reason, len);
	o->verdict = CORRAL_V_PASS;
	if (!drop)
		return;
	if (pol->cfg.mode == CORRAL_MODE_MONITOR)
		count(o, row, CORRAL_R_WOULD_DROP, len);
	else
		o->verdict = CORRAL_V_DROP;
}

static int syn_port(const struct model_policy *pol, __u16 port)
{
	int i;

	for (i = 0; i < pol->nsynports; i++)
		if (pol->synports[i] == port)
			return 1;
	return 0;
}

int model_eval(struct model *m, const struct model_policy *pol, const struct corral_ctl *ctl,
	       const __u8 *pkt, __u32 len, const struct model_hint *hint,
	       struct model_out *out)
{
	const struct corral_cfg *cfg = &pol->cfg;
	const struct corral_limit *lim;
	const struct model_rule *r;
	struct model_pkt *p = &out->pkt;
	__u64 now = ctl->fake_now_ns;
	struct mkey k;
	__u8 cls;
	int d;

	memset(out, 0, sizeof(*out));
	out->cls = CORRAL_ROW_NONE;
	model_parse(pkt, len, p);
	if (p->result == MODEL_P_NONIP) {
		finish(out, pol, CORRAL_ROW_NONE, CORRAL_R_NONIP, 0, len);
		return 0;
	}
	if (p->result == MODEL_P_MALFORMED) {
		finish(out, pol, CORRAL_ROW_NONE, CORRAL_R_MALFORMED, !cfg->malformed_pass, len);
		return 0;
	}

	/* lists */
	r = list_rule(pol, p);
	if (r && r->kind == CORRAL_RULE_DENY) {
		finish(out, pol, CORRAL_ROW_NONE, CORRAL_R_DENY, 1, len);
		return 0;
	}
	if (r && r->kind == CORRAL_RULE_ALLOW) {
		out->cls = 0;
		finish(out, pol, 0, CORRAL_R_ALLOW, 0, len);
		return 0;
	}

	/* classify */
	cls = classify(pol, p);
	out->cls = cls;
	make_key(pol, p, cls, &k);

	/* shed */
	d = shed_decide(m, pol, ctl, p, cls, &k, hint, out);
	if (d < 0)
		return d;
	if (d) {
		finish(out, pol, cls, CORRAL_R_SHED, 1, len);
		return 0;
	}

	/* SYN gate */
	if (cfg->syn_on && p->l4proto == 6 && p->has_ports &&
	    (p->tcp_flags & (MODEL_TCP_SYN | MODEL_TCP_ACK)) == MODEL_TCP_SYN &&
	    syn_port(pol, p->dport)) {
		__u64 w = ctl->syn, rate = cfg->syn_rate, burst = cfg->syn_burst;
		__u32 fl = CORRAL_SYN_FLAGS(w);

		count(out, cls, CORRAL_R_SYN_SEEN, len);
		if ((fl & CORRAL_SYN_ACTIVE) && (!(fl & CORRAL_SYN_HB) || hb_fresh(pol, ctl))) {
			rate = CORRAL_SYN_RATE(w);
			if (ctl->syn_burst)
				burst = ctl->syn_burst;
			if (fl & CORRAL_SYN_HERD) {
				d = herd_defer(m, ctl, &k, CORRAL_SYN_WINDOW_MS(w), hint, cls, out);
				if (d < 0)
					return d;
				if (d) {
					finish(out, pol, cls, CORRAL_R_SYN_DEFER, 1, len);
					return 0;
				}
			}
		}
		if (rate) {
			__u64 cost = NSEC / rate;

			if (!burst)
				burst = rate / 10 > 2 ? rate / 10 : 2;
			if (!gcra(&m->syn_tat, now, cost, burst * cost)) {
				finish(out, pol, cls, CORRAL_R_SYN_CAP, 1, len);
				return 0;
			}
		}
		count(out, cls, CORRAL_R_SYN_ADMIT, len);
	}

	/* per-source buckets */
	r = model_longest(pol, CORRAL_RULE_LIMIT, p->family, p->src);
	lim = r ? &r->lim : &cfg->dflt;
	if (lim->pkt_rate || lim->byte_rate) {
		int created;
		struct kv_slot *s = kv_get(m->buckets, &k, &created);
		__u64 pcost = 0;

		if (!s)
			return -ENOMEM;
		if (created)
			out->stats[CORRAL_GSTAT_KEY(CORRAL_G_SRC_NEW)].packets++;
		if (lim->pkt_rate) {
			pcost = NSEC / lim->pkt_rate;
			if (!gcra(&s->v[0], now, pcost, lim->pkt_burst * pcost)) {
				finish(out, pol, cls, CORRAL_R_RATE, 1, len);
				return 0;
			}
		}
		if (lim->byte_rate) {
			__u64 cost = (__u64)len * NSEC / lim->byte_rate;
			__u64 limit = lim->byte_burst * NSEC / lim->byte_rate;

			if (!gcra(&s->v[1], now, cost, limit)) {
				s->v[0] -= pcost;   /* the packet token goes back */
				finish(out, pol, cls, CORRAL_R_RATE, 1, len);
				return 0;
			}
		}
	}
	finish(out, pol, cls, CORRAL_R_PASS, 0, len);
	return 0;
}

/* ---- printing ------------------------------------------------------------------ */
const char *model_reason_name(int reason)
{
	static const char *const n[CORRAL_NREASON] = {
		"pass", "allow", "nonip", "rate", "shed", "deny", "malformed",
		"would-drop", "syn-seen", "syn-admit", "syn-defer", "syn-cap",
	};

	return reason >= 0 && reason < CORRAL_NREASON ? n[reason] : "?";
}

static void pfx_str(const struct model_prefix *p, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, n, "%s/%u", a, p->plen);
}

static void limit_print(const struct corral_limit *l, const char *pfx, const char *what)
{
	printf("%s%s pkt %llu/s burst %llu, bytes %llu/s burst %llu\n", pfx, what,
	       (unsigned long long)l->pkt_rate, (unsigned long long)l->pkt_burst,
	       (unsigned long long)l->byte_rate, (unsigned long long)l->byte_burst);
}

void model_policy_print(const struct model_policy *pol, const char *pfx)
{
	static const char *const pn[] = { "tcp", "udp", "icmp", "icmpv6" };
	const struct corral_cfg *c = &pol->cfg;
	char b[80];
	int i;

	printf("%smode %s malformed %s v4 /%u v6 /%u key_class %u default class %u\n", pfx,
	       c->mode == CORRAL_MODE_MONITOR ? "monitor" : "enforce",
	       c->malformed_pass ? "pass" : "drop", c->v4_prefix, c->v6_prefix, c->key_class,
	       c->default_class);
	printf("%ssalt %#llx epoch %llu ns heartbeat timeout %llu ns\n", pfx,
	       (unsigned long long)c->salt, (unsigned long long)c->epoch_ns,
	       (unsigned long long)c->hb_timeout_ns);
	limit_print(&c->dflt, pfx, "default limit");
	for (i = 0; i < 64; i++)
		if (c->dscp_class[i] != CORRAL_CLASS_ANY)
			printf("%sdscp %d class %u\n", pfx, i, c->dscp_class[i]);
	for (i = 0; i < pol->nrules; i++) {
		const struct model_rule *r = &pol->rules[i];

		pfx_str(&r->pfx, b, sizeof(b));
		switch (r->kind) {
		case CORRAL_RULE_ALLOW:
			printf("%sallow %s\n", pfx, b);
			break;
		case CORRAL_RULE_DENY:
			printf("%sdeny %s\n", pfx, b);
			break;
		case CORRAL_RULE_CLASS:
			printf("%sclass %s -> %u\n", pfx, b, r->cls);
			break;
		case CORRAL_RULE_LIMIT: {
			char w[100];

			snprintf(w, sizeof(w), "limit %s:", b);
			limit_print(&r->lim, pfx, w);
			break;
		}
		}
	}
	for (i = 0; i < pol->nports; i++)
		printf("%sport %s %u-%u -> class %u\n", pfx, pn[pol->ports[i].proto_idx & 3],
		       pol->ports[i].lo, pol->ports[i].hi, pol->ports[i].cls);
	printf("%ssyn %s rate %llu burst %llu ports", pfx, c->syn_on ? "on" : "off",
	       (unsigned long long)c->syn_rate, (unsigned long long)c->syn_burst);
	for (i = 0; i < pol->nsynports; i++)
		printf(" %u", pol->synports[i]);
	printf("\n");
}
