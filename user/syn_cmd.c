// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syn_cmd.c - the "syn" object: parse, store and show the SYN gate.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "out.h"
#include "state.h"
#include "syn_cmd.h"

#define NS_PER_MS 1000000ull


static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

const char *corral_herd_mode_name(__u8 mode)
{
	switch (mode) {
	case CORRAL_HERD_OFF:
		return "off";
	case CORRAL_HERD_ON:
		return "on";
	case CORRAL_HERD_AUTO:
		return "auto";
	default:
		return "?";
	}
}

/* ---- parse --------------------------------------------------------------------- */

#define E(...) corral_seterr(err, errlen, __VA_ARGS__)

int corral_syn_parse(int argc, char **argv, struct corral_syn_op *op, char *err, size_t errlen)
{
	bool has_ports = false, has_rate = false, has_burst = false, has_herd = false,
	     has_window = false, has_cookies = false;
	char bad[80];
	int i;

	memset(op, 0, sizeof(*op));
	if (err && errlen)
		err[0] = 0;
	if (argc < 2)
		return CORRAL_PARSE_NOT_CONFIG;
	if (is(argv[1], "off")) {
		op->off = true;
		if (argc > 2)
			return E("syn: unknown argument \"%s\"", argv[2]);
		return 0;
	}
	if (!is(argv[1], "set"))
		return CORRAL_PARSE_NOT_CONFIG;
	if (argc < 3)
		return E("syn: missing argument after \"set\"");
	op->herd = CORRAL_HERD_AUTO;
	for (i = 2; i < argc; i++) {
		const char *w = argv[i];
		const char *v;

		if (!is(w, "ports") && !is(w, "rate") && !is(w, "burst") && !is(w, "herd") &&
		    !is(w, "window") && !is(w, "cookies"))
			return E("syn: unknown argument \"%s\"", w);
		if ((is(w, "ports") && has_ports) || (is(w, "rate") && has_rate) ||
		    (is(w, "burst") && has_burst) || (is(w, "herd") && has_herd) ||
		    (is(w, "window") && has_window) || (is(w, "cookies") && has_cookies))
			return E("syn: duplicate \"%s\"", w);
		if (i + 1 >= argc)
			return E("syn: missing argument after \"%s\"", w);
		v = argv[++i];
		if (is(w, "ports")) {
			if (corral_parse_ports(v, &op->ports, bad, sizeof(bad))) {
				if (strcmp(bad, v))
					return E("syn: invalid port \"%s\" in \"%s\"", bad, v);
				return E("syn: invalid port \"%s\"", v);
			}
			has_ports = true;
		} else if (is(w, "rate")) {
			if (corral_parse_rate(v, &op->rate) || op->rate > CORRAL_SYN_RATE_MAX)
				return E("syn: invalid rate \"%s\"", v);
			has_rate = true;
		} else if (is(w, "burst")) {
			if (corral_parse_u64(v, &op->burst) || !op->burst ||
			    op->burst > CORRAL_SYN_BURST_MAX)
				return E("syn: invalid burst \"%s\"", v);
			has_burst = true;
		} else if (is(w, "herd")) {
			if (is(v, "auto"))
				op->herd = CORRAL_HERD_AUTO;
			else if (is(v, "on"))
				op->herd = CORRAL_HERD_ON;
			else if (is(v, "off"))
				op->herd = CORRAL_HERD_OFF;
			else
				return E("syn: invalid herd mode \"%s\"", v);
			has_herd = true;
		} else if (is(w, "cookies")) {
			if (is(v, "on"))
				op->cookies = true;
			else if (!is(v, "off"))
				return E("syn: invalid cookies \"%s\" (on or off)", v);
			has_cookies = true;
		} else {
			if (is(v, "auto")) {
				op->window_ns = 0;
			} else if (corral_parse_duration(v, &op->window_ns) ||
				   op->window_ns % NS_PER_MS ||
				   op->window_ns / NS_PER_MS > CORRAL_SYN_WINDOW_MS_MAX) {
				return E("syn: invalid window \"%s\"", v);
			}
			has_window = true;
		}
	}
	if (!has_ports)
		return E("syn: missing \"ports PORT[,PORT...]\"");
	if (op->herd == CORRAL_HERD_ON && !op->window_ns)
		return E("syn: window: herd on needs a DURATION");
	/* at least 2: with 1 the bucket is full at each admission and the
	 * time between the SYN's due time and the clock tick is lost */
	if (!has_burst)
		op->burst = op->rate / 10 > 2 ? op->rate / 10 : 2;
	/* herd auto without a burst: the controller sizes it from the rate
	 * and the backlog (0 here; the data plane alone uses rate / 10) */
	if (!has_burst && op->herd == CORRAL_HERD_AUTO)
		op->burst = 0;
	return 0;
}

#undef E

/* ---- store --------------------------------------------------------------------- */

void corral_syn_cfg_apply(struct corral_cfg *c, const struct corral_syn_op *op)
{
	if (op->off) {
		c->syn_on = 0;
		c->syn_herd = CORRAL_HERD_OFF;
		c->syn_cookies = 0;
		return;
	}
	c->syn_on = 1;
	c->syn_rate = op->rate;
	c->syn_burst = op->burst;
	c->syn_herd = op->herd;
	c->syn_window_ns = op->window_ns;
	c->syn_cookies = op->cookies;
}

static void synport_put(struct corral_handle *h, __u32 port, __u8 v)
{
	if (CORRAL_SYNPORT(h, port) != v)
		__atomic_store_n(&CORRAL_SYNPORT(h, port), v, __ATOMIC_RELAXED);
}

int corral_syn_store(struct corral_handle *h, const struct corral_syn_op *op, __u64 now_ns,
		     __u64 salt, char *err, size_t errlen)
{
	struct corral_cfg c;
	__u32 port;
	__u64 w;

	if (!h->synports) {
		corral_seterr(err, errlen, "syn: corral_synports: not pinned (data plane without a SYN gate)");
		return -ENOENT;
	}
	corral_cfg_begin(h, &c);
	corral_syn_cfg_apply(&c, op);
	if (op->off) {
		corral_cfg_commit(h, &c);
		corral_syn_write(h, 0);
		for (port = 0; port < 65536; port++)
			synport_put(h, port, 0);
		return 0;
	}

	/* 1. new ports first: a port is never unprotected during the change */
	for (port = 0; port < 65536; port++)
		if (corral_portset_has(&op->ports, port))
			synport_put(h, port, 1);

	/* 2. configuration: a running controller sees the new herd mode first */
	corral_cfg_commit(h, &c);

	/* 3. dynamic word */
	switch (op->herd) {
	case CORRAL_HERD_ON:
		__atomic_store_n(&h->ctl->herd_start_ns, now_ns, __ATOMIC_RELEASE);
		__atomic_store_n(&h->ctl->herd_salt, salt, __ATOMIC_RELEASE);
		__atomic_store_n(&h->ctl->syn_burst, 0, __ATOMIC_RELEASE);   /* cfg's burst */
		corral_syn_write(h, CORRAL_SYN_PACK(op->rate, op->window_ns / NS_PER_MS,
						    CORRAL_SYN_ACTIVE | CORRAL_SYN_HERD));
		break;
	case CORRAL_HERD_OFF:
		corral_syn_write(h, 0);
		break;
	default:
		/* the controller's word stays; a manual one goes */
		w = corral_syn_read(h);
		while (w && !(CORRAL_SYN_FLAGS(w) & CORRAL_SYN_HB) &&
		       !__atomic_compare_exchange_n(&h->ctl->syn, &w, 0, false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE))
			;
		break;
	}

	/* 4. stale ports */
	for (port = 0; port < 65536; port++)
		if (!corral_portset_has(&op->ports, port))
			synport_put(h, port, 0);
	return 0;
}

int corral_syn_commit(const struct corral_syn_op *op, const char *where, char *err,
		      size_t errlen)
{
	struct corral_handle h;
	char msg[512];
	__u64 salt = 0;
	ssize_t n;
	int ret;

	if (!op->off && op->herd == CORRAL_HERD_ON) {
		do {
			n = getrandom(&salt, sizeof(salt), 0);
		} while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(salt)) {
			ret = n < 0 ? -errno : -EIO;
			corral_seterr(err, errlen, "%s%ssyn: herd salt: getrandom: %s", where ? where : "",
			       where ? ": " : "", strerror(-ret));
			return ret;
		}
	}
	ret = corral_handle_open(&h);
	if (ret == -ENOENT) {
		corral_seterr(err, errlen, "not loaded (attach a device first)");
		return ret;
	}
	if (ret) {
		corral_seterr(err, errlen, "%s: open: %s", corral_pin_dir(), strerror(-ret));
		return ret;
	}
	ret = corral_lock(&h);
	if (ret) {
		corral_seterr(err, errlen, "lock: %s", strerror(-ret));
		goto close;
	}
	msg[0] = 0;
	ret = corral_syn_store(&h, op, corral_now_ns(), salt, msg, sizeof(msg));
	if (ret)
		corral_seterr(err, errlen, "%s%s%s", where ? where : "", where ? ": " : "", msg);
close:
	corral_handle_close(&h);
	return ret;
}

/* ---- show ---------------------------------------------------------------------- */

void corral_syn_eval(const struct corral_cfg *c, __u64 word, __u64 hb_ns, __u64 now_ns,
		     struct corral_syn_eval *e)
{
	__u32 flags = CORRAL_SYN_FLAGS(word);
	bool fresh = !c->hb_timeout_ns || now_ns <= hb_ns || now_ns - hb_ns <= c->hb_timeout_ns;

	memset(e, 0, sizeof(*e));
	e->on = c->syn_on;
	e->word_active = flags & CORRAL_SYN_ACTIVE;
	e->word_ctrl = e->word_active && (flags & CORRAL_SYN_HB);
	e->word_applied = e->word_active && (!(flags & CORRAL_SYN_HB) || fresh);
	e->rate = c->syn_rate;
	if (e->word_applied) {
		e->rate = CORRAL_SYN_RATE(word);
		e->herd = flags & CORRAL_SYN_HERD;
		if (e->herd)
			e->window_ms = CORRAL_SYN_WINDOW_MS(word);
	}
}

static void print_rate(const char *key, const char *text_fmt, __u64 rate)
{
	char b[32];

	if (rate) {
		print_u64(PRINT_JSON, key, NULL, rate);
		print_string(PRINT_TEXT, NULL, text_fmt, corral_rate_str(rate, b, sizeof(b)));
	} else {
		print_null(PRINT_JSON, key, NULL);
		print_string(PRINT_TEXT, NULL, text_fmt, "none");
	}
}

void corral_print_syn(const struct corral_handle *h, const struct corral_counter *stats)
{
	static const struct {
		const char *key;
		unsigned int reason;
	} ctr[] = {
		{ "syn_seen", CORRAL_R_SYN_SEEN },
		{ "admitted", CORRAL_R_SYN_ADMIT },
		{ "deferred", CORRAL_R_SYN_DEFER },
		{ "capped", CORRAL_R_SYN_CAP },
		{ "cookies_sent", CORRAL_R_SYN_COOKIE },
	};
	const struct corral_cfg *c = corral_cfg_live(h);
	__u64 word = corral_syn_read(h);
	__u64 hb = __atomic_load_n(&h->ctl->heartbeat_ns, __ATOMIC_ACQUIRE);
	__u64 start = __atomic_load_n(&h->ctl->herd_start_ns, __ATOMIC_ACQUIRE);
	__u64 now = corral_now_ns();
	struct corral_portset ports = { 0 };
	struct corral_syn_eval e;
	static char pbuf[4096];
	__u32 port;
	size_t i;

	corral_syn_eval(c, word, hb, now, &e);
	if (h->synports)
		for (port = 0; port < 65536; port++)
			if (__atomic_load_n(&CORRAL_SYNPORT(h, port), __ATOMIC_RELAXED))
				corral_portset_add(&ports, port);

	out_open_object("syn");
	/* configuration */
	print_bool(PRINT_JSON, "on", NULL, e.on);
	print_text("syn %s", e.on ? "on" : "off");
	corral_ports_str(&ports, pbuf, sizeof(pbuf));
	print_string(PRINT_TEXT, NULL, " ports %s", pbuf[0] ? pbuf : "none");
	out_open_array("ports");
	for (port = 0; port < 65536; port++)
		if (corral_portset_has(&ports, port))
			print_u64(PRINT_JSON, NULL, NULL, port);
	out_close_array();
	print_rate("rate", " rate %s", c->syn_rate);
	if (c->syn_burst) {
		print_u64(PRINT_ANY, "burst", " burst %llu", c->syn_burst);
	} else {
		print_null(PRINT_JSON, "burst", NULL);
		print_text(" burst auto");
	}
	print_string(PRINT_ANY, "herd", " herd %s", corral_herd_mode_name(c->syn_herd));
	if (c->syn_window_ns) {
		print_u64(PRINT_ANY, "window_ms", " window %llu ms", c->syn_window_ns / NS_PER_MS);
	} else {
		print_null(PRINT_JSON, "window_ms", NULL);
		print_text(" window auto");
	}
	print_string(PRINT_ANY, "cookies", " cookies %s", c->syn_cookies ? "on" : "off");
	print_nl();

	/* the dynamic word */
	out_open_object("dynamic");
	print_u64(PRINT_JSON, "word", NULL, word);
	print_bool(PRINT_JSON, "active", NULL, e.word_active);
	print_text("dynamic ");
	if (!e.word_active) {
		print_null(PRINT_JSON, "source", NULL);
		print_text("none");
	} else {
		print_string(PRINT_ANY, "source", "%s", e.word_ctrl ? "controller" : "manual");
		print_rate("rate", " rate %s", CORRAL_SYN_RATE(word));
		print_bool(PRINT_JSON, "herd", NULL, CORRAL_SYN_FLAGS(word) & CORRAL_SYN_HERD);
		if (CORRAL_SYN_FLAGS(word) & CORRAL_SYN_HERD)
			print_u64(PRINT_ANY, "window_ms", " herd window %llu ms",
				  CORRAL_SYN_WINDOW_MS(word));
		if (e.word_ctrl && !e.word_applied)
			print_text(" (stale heartbeat: not applied)");
	}
	print_bool(PRINT_JSON, "fresh", NULL, e.word_applied);
	out_close_object();
	if (hb && now >= hb)
		print_u64(PRINT_ANY, "heartbeat_age_ms", ", heartbeat %llu ms ago",
			  (now - hb) / NS_PER_MS);
	else
		print_null(PRINT_ANY, "heartbeat_age_ms", ", heartbeat never");
	print_nl();

	/* what the gate does now */
	out_open_object("gate");
	print_bool(PRINT_JSON, "on", NULL, e.on);
	print_text("gate %s", e.on ? "on" : "off");
	print_rate("rate", " rate %s", e.on ? e.rate : 0);
	print_bool(PRINT_JSON, "herd", NULL, e.on && e.herd);
	if (e.on && e.herd) {
		print_u64(PRINT_ANY, "window_ms", " herd active window %llu ms", e.window_ms);
		if (now >= start)
			print_u64(PRINT_ANY, "started_ms_ago", " started %llu ms ago",
				  (now - start) / NS_PER_MS);
		else {
			print_s64(PRINT_JSON, "started_ms_ago", NULL,
				  -(long long)((start - now) / NS_PER_MS));
			print_text(" starts in %llu ms", (unsigned long long)((start - now) / NS_PER_MS));
		}
	} else {
		print_text(" herd inactive");
	}
	out_close_object();
	print_nl();

	if (stats) {
		out_open_object("counters");
		print_text("counters");
		for (i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
			__u64 sum = 0;
			unsigned int row;

			for (row = 0; row < CORRAL_NROWS; row++)
				sum += stats[CORRAL_STAT_KEY(row, ctr[i].reason)].packets;
			print_string(PRINT_TEXT, NULL, " %s", ctr[i].key);
			print_u64(PRINT_ANY, ctr[i].key, " %llu", sum);
		}
		out_close_object();
		print_nl();
	}
	out_close_object();
}
