// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * save.c - emit the configuration as batch lines (see save.h). Every value
 * is written in a unit that parses back to the same stored number: rates in
 * pps, byte rates in bit (stored bytes/s x 8), sizes in bytes, durations in
 * the largest unit that divides them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "save.h"
#include "syn_cmd.h"

struct emit {
	corral_line_fn fn;
	void *arg;
	int ret;
};

static void line(struct emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct emit *e, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	if (e->ret)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e->ret = e->fn(e->arg, buf);
}

static const char *dur(__u64 ns, char *buf, size_t len)
{
	if (ns % 1000000000ull == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
	else if (ns % 1000000ull == 0)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
	else if (ns % 1000ull == 0)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ull));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

/* " rate Npps burst N bytes Nbit bburst N" for a set limit */
static const char *limit_words(const struct corral_limit *l, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	if (l->pkt_rate)
		n += (size_t)snprintf(buf + n, len - n, " rate %llupps burst %llu",
				      (unsigned long long)l->pkt_rate,
				      (unsigned long long)l->pkt_burst);
	if (l->byte_rate && n < len)
		snprintf(buf + n, len - n, " bytes %llubit bburst %llu",
			 (unsigned long long)l->byte_rate * 8, (unsigned long long)l->byte_burst);
	return buf;
}

static bool limit_set(const struct corral_limit *l)
{
	return l->pkt_rate || l->byte_rate;
}

static int prule_cmp(const void *pa, const void *pb)
{
	const struct corral_prule *a = pa, *b = pb;

	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static void prefix_rules(struct emit *e, const struct corral_prule *pr, size_t n, __u32 kind,
			 __u64 now)
{
	char p[CORRAL_PREFIX_STRLEN], l[160], t[48];

	for (size_t i = 0; i < n; i++) {
		__u64 x = pr[i].val.expires_ns;

		if (pr[i].key.kind != kind)
			continue;
		corral_lpm_str(&pr[i].key.pfx, p, sizeof(p));
		/* a timed entry keeps the time it has left, rounded up to 1 s */
		t[0] = 0;
		if (x && (kind == CORRAL_RULE_ALLOW || kind == CORRAL_RULE_DENY))
			snprintf(t, sizeof(t), " timeout %llus",
				 (unsigned long long)((x > now ? x - now : 0) + 999999999ull) /
					 1000000000ull);
		switch (kind) {
		case CORRAL_RULE_LIMIT:
			line(e, "limit add %s%s", p, limit_words(&pr[i].val.limit, l, sizeof(l)));
			break;
		case CORRAL_RULE_CLASS:
			line(e, "class add %u src %s", pr[i].val.class, p);
			break;
		case CORRAL_RULE_ALLOW:
			line(e, "allow add %s%s", p, t);
			break;
		case CORRAL_RULE_DENY:
			line(e, "deny add %s%s", p, t);
			break;
		}
	}
}

static void syn_line(struct emit *e, const struct corral_cfg *c, const struct corral_portset *ports)
{
	static char pbuf[65536 * 7];
	char rate[48] = "", burst[40] = "", win[32];

	if (!c->syn_on) {
		line(e, "syn off");
		return;
	}
	corral_ports_str(ports, pbuf, sizeof(pbuf));
	if (!pbuf[0]) {
		/* on with no port: gates nothing; "syn set" needs a port */
		line(e, "# syn gate on with no protected port");
		return;
	}
	if (c->syn_rate)
		snprintf(rate, sizeof(rate), " rate %llupps", (unsigned long long)c->syn_rate);
	if (c->syn_burst)
		snprintf(burst, sizeof(burst), " burst %llu", (unsigned long long)c->syn_burst);
	line(e, "syn set ports %s%s%s herd %s window %s%s", pbuf, rate, burst,
	     corral_herd_mode_name(c->syn_herd),
	     c->syn_window_ns ? dur(c->syn_window_ns, win, sizeof(win)) : "auto",
	     c->syn_cookies ? " cookies on" : "");
}

int corral_save_emit(const struct corral_save_in *in, corral_line_fn fn, void *arg)
{
	const struct corral_state *s = in->s;
	const struct corral_cfg *c = &s->cfg;
	struct corral_portset none = { 0 };
	struct emit e = { fn, arg, 0 };
	struct corral_prule *pr = NULL;
	struct corral_ptrule *pt = NULL;
	char l[160], d1[32], d2[32], lvl[16];
	__u32 w;
	int i;

	if (s->npr && !(pr = malloc(s->npr * sizeof(*pr))))
		return -ENOMEM;
	if (s->npt && !(pt = malloc(s->npt * sizeof(*pt)))) {
		free(pr);
		return -ENOMEM;
	}
	if (pr) {
		memcpy(pr, s->pr, s->npr * sizeof(*pr));
		qsort(pr, s->npr, sizeof(*pr), prule_cmp);
	}
	if (pt) {
		memcpy(pt, s->pt, s->npt * sizeof(*pt));
		qsort(pt, s->npt, sizeof(*pt), corral_ptrule_cmp);
	}

	/* devices, in the registry's name order */
	for (int pass = 0; pass < in->ndev; pass++) {
		const struct corral_dev_entry *best = NULL;

		for (i = 0; i < in->ndev; i++) {
			int k = 0;

			/* the pass-th smallest name: count the names below it */
			for (int j = 0; j < in->ndev; j++)
				k += strcmp(in->devs[j].dev.ifname, in->devs[i].dev.ifname) < 0;
			if (k == pass)
				best = &in->devs[i];
		}
		if (best)
			line(&e, "attach dev %s mode %s%s", best->dev.ifname,
			     corral_attach_mode_name(best->dev.mode), best->dev.egress ? " egress" : "");
	}

	line(&e, "mode set %s malformed %s", c->mode == CORRAL_MODE_MONITOR ? "monitor" : "enforce",
	     c->malformed_pass ? "pass" : "drop");
	line(&e, "aggregate set v4 %u v6 %u class %s", c->v4_prefix, c->v6_prefix,
	     c->key_class ? "on" : "off");

	line(&e, "class default %u", c->default_class);
	for (size_t k = 0; k < s->npt; k++) {
		const struct corral_ptrule *r = &pt[k];

		if (r->key.port_lo == 0 && r->key.port_hi == 65535)
			line(&e, "class add %u proto %s", r->cls, corral_proto_name(r->key.proto_idx));
		else if (r->key.port_lo == r->key.port_hi)
			line(&e, "class add %u proto %s dport %u", r->cls,
			     corral_proto_name(r->key.proto_idx), r->key.port_lo);
		else
			line(&e, "class add %u proto %s dport %u-%u", r->cls,
			     corral_proto_name(r->key.proto_idx), r->key.port_lo, r->key.port_hi);
	}
	prefix_rules(&e, pr, s->npr, CORRAL_RULE_CLASS, s->now_ns);
	for (i = 0; i < 64; i++)
		if (c->dscp_class[i] != CORRAL_CLASS_ANY)
			line(&e, "class add %u dscp %d", c->dscp_class[i], i);

	for (i = 0; i < CORRAL_NCLASS; i++)
		if (c->class_action[i] == CORRAL_ACTION_REJECT)
			line(&e, "class set %d action reject", i);
	if (c->reply_rate != CORRAL_REPLY_RATE_DEFAULT || c->reply_burst != CORRAL_REPLY_BURST_DEFAULT)
		line(&e, "class reply rate %llupps burst %llu", (unsigned long long)c->reply_rate,
		     (unsigned long long)c->reply_burst);

	if (limit_set(&c->dflt))
		line(&e, "limit add default%s", limit_words(&c->dflt, l, sizeof(l)));
	if (c->egress_buckets && limit_set(&c->egress))
		line(&e, "limit add egress%s", limit_words(&c->egress, l, sizeof(l)));
	prefix_rules(&e, pr, s->npr, CORRAL_RULE_LIMIT, s->now_ns);
	prefix_rules(&e, pr, s->npr, CORRAL_RULE_ALLOW, s->now_ns);
	prefix_rules(&e, pr, s->npr, CORRAL_RULE_DENY, s->now_ns);

	line(&e, "shed tune epoch %s timeout %s", dur(c->epoch_ns, d1, sizeof(d1)),
	     dur(c->hb_timeout_ns, d2, sizeof(d2)));
	w = CORRAL_SHED_FLAGS(s->shed);
	corral_level_str(CORRAL_SHED_LEVEL(s->shed), CORRAL_SHED_FRAC(s->shed), lvl, sizeof(lvl));
	if (!(w & CORRAL_SHED_ON))
		line(&e, "shed off");
	else if (w & CORRAL_SHED_HB)
		line(&e, "# shed %s is the controller's (corral run): not saved", lvl);
	else
		line(&e, "shed set %s scope %s", lvl,
		     CORRAL_SHED_SCOPE(s->shed) == CORRAL_SCOPE_ALL ? "all" : "new");

	syn_line(&e, c, in->synports ? in->synports : &none);
	free(pr);
	free(pt);
	return e.ret;
}

void corral_synports_read(const struct corral_handle *h, struct corral_portset *ports)
{
	memset(ports, 0, sizeof(*ports));
	if (!h->synports)
		return;
	for (__u32 port = 0; port < 65536; port++)
		if (__atomic_load_n(&CORRAL_SYNPORT(h, port), __ATOMIC_RELAXED))
			corral_portset_add(ports, port);
}

int corral_flush(char *err, size_t errlen)
{
	struct corral_syn_op off = { .off = true };
	struct corral_state old, s;
	struct corral_handle h;
	int ret;

	ret = corral_handle_open(&h);
	if (ret == -ENOENT)
		return corral_seterr(err, errlen, "not loaded (attach a device first)"), ret;
	if (ret)
		return corral_seterr(err, errlen, "%s: open: %s", corral_pin_dir(), strerror(-ret)), ret;
	ret = corral_lock(&h);
	if (ret) {
		corral_seterr(err, errlen, "lock: %s", strerror(-ret));
		goto out;
	}
	ret = corral_state_load(&h, &old);
	if (ret) {
		corral_seterr(err, errlen, "read state: %s", strerror(-ret));
		goto out;
	}
	/* every setting back to its default; the shed hash key is not a setting */
	corral_state_init(&s);
	s.cfg.salt = old.cfg.salt;
	s.shed = 0;
	s.shed_dirty = true;
	corral_state_free(&old);
	ret = corral_state_store(&h, &s, err, errlen);
	corral_state_free(&s);
	if (!ret && h.synports)
		ret = corral_syn_store(&h, &off, 0, 0, err, errlen);
out:
	corral_handle_close(&h);
	return ret;
}
