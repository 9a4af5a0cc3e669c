// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_syn_cli.c - the "syn" object without the kernel: the grammar of
 * "syn set" and "syn off" (port lists and ranges, rates, bursts, herd
 * modes, windows; errors name the bad word), the store order into a handle
 * whose maps are plain memory (ports, configuration slot flip, dynamic
 * word, herd start and salt), the gate evaluation behind "syn show"
 * (heartbeat freshness as the data plane judges it), the JSON of
 * "syn show", and syn lines in batch files.
 *
 * test_live (root only, else skipped): the CLI against a data plane loaded
 * with the fake clock in a namespace of its own (veth, no traffic): "syn
 * set ... herd on" writes ports, configuration and words that the loaded
 * program honours (SYNs through BPF_PROG_TEST_RUN are deferred at the
 * herd's start, admitted up to the burst at its end), "herd off" and
 * "syn off" take it back, a batch applies its syn line, and "syn show -j"
 * reports the counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include <cmocka.h>

#include "batch.h"
#include "cli.h"
#include "handle.h"
#include "out.h"
#include "state.h"
#include "syn_cmd.h"
#include "words.h"
#include "pkt.h"

#define MS 1000000ull
#define NSEC 1000000000ull

/* split a command line (modified in place) and parse it */
static int parse(const char *line, struct corral_syn_op *op, char *err, size_t errlen)
{
	static char buf[512];
	char *argv[32];
	int argc;

	snprintf(buf, sizeof(buf), "%s", line);
	argc = corral_split_words(buf, argv, 32);
	assert_true(argc > 0);
	return corral_syn_parse(argc, argv, op, err, errlen);
}

static void test_parse_good(void **state)
{
	struct corral_syn_op op;
	char err[256];

	(void)state;
	assert_int_equal(parse("syn set ports 80", &op, err, sizeof(err)), 0);
	assert_false(op.off);
	assert_true(corral_portset_has(&op.ports, 80));
	assert_int_equal(corral_portset_count(&op.ports), 1);
	assert_int_equal(op.rate, 0);          /* no static cap */
	assert_int_equal(op.burst, 0);         /* herd auto: sized by the controller */
	assert_int_equal(op.herd, CORRAL_HERD_AUTO);
	assert_int_equal(op.window_ns, 0);     /* auto */

	assert_int_equal(parse("syn set ports 443,80,8000-8009,8005 rate 2kpps herd off",
			       &op, err, sizeof(err)), 0);
	assert_int_equal(corral_portset_count(&op.ports), 12);
	assert_true(corral_portset_has(&op.ports, 443));
	assert_true(corral_portset_has(&op.ports, 8000));
	assert_true(corral_portset_has(&op.ports, 8009));
	assert_false(corral_portset_has(&op.ports, 8010));
	assert_false(corral_portset_has(&op.ports, 81));
	assert_int_equal(op.rate, 2000);
	assert_int_equal(op.burst, 200);
	assert_int_equal(op.herd, CORRAL_HERD_OFF);

	/* words in any order; explicit burst; window in whole ms */
	assert_int_equal(parse("syn set window 1500ms herd on burst 7 rate 5 ports 1-65535",
			       &op, err, sizeof(err)), 0);
	assert_int_equal(corral_portset_count(&op.ports), 65535);
	assert_int_equal(op.rate, 5);
	assert_int_equal(op.burst, 7);
	assert_int_equal(op.herd, CORRAL_HERD_ON);
	assert_int_equal(op.window_ns, 1500 * MS);

	assert_int_equal(parse("syn set ports 22 window 10 herd auto", &op, err, sizeof(err)), 0);
	assert_int_equal(op.window_ns, 10 * NSEC);                /* bare number: seconds */
	assert_int_equal(parse("syn set ports 22 window auto", &op, err, sizeof(err)), 0);
	assert_int_equal(op.window_ns, 0);
	assert_int_equal(parse("syn set ports 22 rate 1gpps", &op, err, sizeof(err)), 0);
	assert_int_equal(op.rate, CORRAL_SYN_RATE_MAX);
	assert_int_equal(parse("syn set ports 22 herd on window 16777215ms", &op, err,
			       sizeof(err)), 0);

	assert_int_equal(parse("syn off", &op, err, sizeof(err)), 0);
	assert_true(op.off);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "syn set", "syn: missing argument after \"set\"" },
		{ "syn set rate 10", "syn: missing \"ports PORT[,PORT...]\"" },
		{ "syn set ports", "syn: missing argument after \"ports\"" },
		{ "syn set ports 0", "syn: invalid port \"0\"" },
		{ "syn set ports 65536", "syn: invalid port \"65536\"" },
		{ "syn set ports 80,0", "syn: invalid port \"0\" in \"80,0\"" },
		{ "syn set ports 80,,81", "syn: invalid port \"\" in \"80,,81\"" },
		{ "syn set ports 80,", "syn: invalid port \"\" in \"80,\"" },
		{ "syn set ports ,80", "syn: invalid port \"\" in \",80\"" },
		{ "syn set ports 90-80", "syn: invalid port \"90-80\"" },
		{ "syn set ports 0-10", "syn: invalid port \"0-10\"" },
		{ "syn set ports 80;81", "syn: invalid port \"80;81\"" },
		{ "syn set ports +80", "syn: invalid port \"+80\"" },
		{ "syn set ports http", "syn: invalid port \"http\"" },
		{ "syn set ports 80 rate 0", "syn: invalid rate \"0\"" },
		{ "syn set ports 80 rate -5", "syn: invalid rate \"-5\"" },
		{ "syn set ports 80 rate 10xpps", "syn: invalid rate \"10xpps\"" },
		{ "syn set ports 80 rate 2gpps", "syn: invalid rate \"2gpps\"" },
		{ "syn set ports 80 burst 0", "syn: invalid burst \"0\"" },
		{ "syn set ports 80 burst 10k", "syn: invalid burst \"10k\"" },
		{ "syn set ports 80 burst 1000000001", "syn: invalid burst \"1000000001\"" },
		{ "syn set ports 80 herd sometimes", "syn: invalid herd mode \"sometimes\"" },
		{ "syn set ports 80 herd", "syn: missing argument after \"herd\"" },
		{ "syn set ports 80 window 1500us", "syn: invalid window \"1500us\"" },
		{ "syn set ports 80 window 0", "syn: invalid window \"0\"" },
		{ "syn set ports 80 window 16777216ms", "syn: invalid window \"16777216ms\"" },
		{ "syn set ports 80 herd on", "syn: window: herd on needs a DURATION" },
		{ "syn set ports 80 herd on window auto", "syn: window: herd on needs a DURATION" },
		{ "syn set ports 80 rate 5 rate 6", "syn: duplicate \"rate\"" },
		{ "syn set ports 80 ports 81", "syn: duplicate \"ports\"" },
		{ "syn set ports 80 dport 81", "syn: unknown argument \"dport\"" },
		{ "syn off now", "syn: unknown argument \"now\"" },
	};
	struct corral_syn_op op;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].line, &op, err, sizeof(err));

		if (ret != -EINVAL || strcmp(err, bad[i].msg))
			fail_msg("\"%s\": ret %d, message \"%s\" (want -EINVAL, \"%s\")", bad[i].line,
				 ret, err, bad[i].msg);
	}
}

static void test_parse_not_config(void **state)
{
	static const char *const lines[] = { "syn show", "syn list", "syn help", "syn",
					     "syn start" };
	struct corral_syn_op op;
	char err[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(parse(lines[i], &op, err, sizeof(err)), CORRAL_PARSE_NOT_CONFIG);
}

static void test_ports_str(void **state)
{
	struct corral_portset s;
	char buf[64], bad[32];

	(void)state;
	assert_int_equal(corral_parse_ports("8009,80,443,8000-8008,1,65535", &s, bad, sizeof(bad)),
			 0);
	assert_string_equal(corral_ports_str(&s, buf, sizeof(buf)), "1,80,443,8000-8009,65535");
	assert_int_equal(corral_parse_ports("1-65535", &s, bad, sizeof(bad)), 0);
	assert_string_equal(corral_ports_str(&s, buf, sizeof(buf)), "1-65535");
	memset(&s, 0, sizeof(s));
	assert_string_equal(corral_ports_str(&s, buf, sizeof(buf)), "");
	/* odd ports: does not fit, ends in "..." */
	assert_int_equal(corral_parse_ports("1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,37",
					    &s, bad, sizeof(bad)), 0);
	corral_ports_str(&s, buf, 16);
	assert_int_equal(strlen(buf), 15);
	assert_string_equal(buf + 12, "...");
	/* a failed parse leaves an empty set */
	assert_int_equal(corral_parse_ports("80,99999", &s, bad, sizeof(bad)), -EINVAL);
	assert_string_equal(bad, "99999");
	assert_int_equal(corral_portset_count(&s), 0);
}

/* ---- a handle whose maps are plain memory ---------------------------------------------- */

struct fake {
	struct corral_handle h;
	struct corral_ctl ctl;
};

static void fake_open(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->h.ctl = &f->ctl;
	f->h.cfg_stride = (sizeof(struct corral_cfg) + 7) & ~7ul;
	f->h.cfg = calloc(2, f->h.cfg_stride);
	f->h.synports_stride = 8;
	f->h.synports = calloc(65536, 8);
	assert_non_null(f->h.cfg);
	assert_non_null(f->h.synports);
	corral_cfg_defaults(f->h.cfg);
	f->h.cfg->mode = CORRAL_MODE_MONITOR;     /* must survive syn changes */
	memcpy((char *)f->h.cfg + f->h.cfg_stride, f->h.cfg, sizeof(struct corral_cfg));
}

static void fake_close(struct fake *f)
{
	free(f->h.cfg);
	free(f->h.synports);
}

static unsigned int fake_ports(struct fake *f)
{
	unsigned int n = 0, p;

	for (p = 0; p < 65536; p++)
		n += CORRAL_SYNPORT(&f->h, p) != 0;
	return n;
}

static void store(struct fake *f, const char *line, __u64 now, __u64 salt)
{
	struct corral_syn_op op;
	char err[256];

	assert_int_equal(parse(line, &op, err, sizeof(err)), 0);
	if (corral_syn_store(&f->h, &op, now, salt, err, sizeof(err)))
		fail_msg("store \"%s\": %s", line, err);
}

static void test_store(void **state)
{
	const struct corral_cfg *c;
	struct fake f;
	__u64 gen, ctrl_word;

	(void)state;
	fake_open(&f);

	/* herd on: ports, cfg flip, herd start and salt, then the manual word */
	gen = f.ctl.cfg_gen;
	store(&f, "syn set ports 80,443 rate 1kpps herd on window 5s", 123 * NSEC, 0xabcdef);
	c = corral_cfg_live(&f.h);
	assert_int_equal(f.ctl.cfg_gen, gen + 1);
	assert_int_equal(CORRAL_SYNPORT(&f.h, 80), 1);
	assert_int_equal(CORRAL_SYNPORT(&f.h, 443), 1);
	assert_int_equal(fake_ports(&f), 2);
	assert_int_equal(c->syn_on, 1);
	assert_int_equal(c->syn_rate, 1000);
	assert_int_equal(c->syn_burst, 100);
	assert_int_equal(c->syn_herd, CORRAL_HERD_ON);
	assert_int_equal(c->syn_window_ns, 5 * NSEC);
	assert_int_equal(c->mode, CORRAL_MODE_MONITOR);
	assert_int_equal(f.ctl.herd_start_ns, 123 * NSEC);
	assert_int_equal(f.ctl.herd_salt, 0xabcdef);
	assert_int_equal(f.ctl.syn, CORRAL_SYN_PACK(1000, 5000, CORRAL_SYN_ACTIVE | CORRAL_SYN_HERD));
	assert_int_equal(CORRAL_SYN_FLAGS(f.ctl.syn) & CORRAL_SYN_HB, 0);

	/* herd auto: the manual word goes, the ports move */
	store(&f, "syn set ports 22", 124 * NSEC, 1);
	c = corral_cfg_live(&f.h);
	assert_int_equal(f.ctl.syn, 0);
	assert_int_equal(CORRAL_SYNPORT(&f.h, 22), 1);
	assert_int_equal(CORRAL_SYNPORT(&f.h, 80), 0);
	assert_int_equal(fake_ports(&f), 1);
	assert_int_equal(c->syn_herd, CORRAL_HERD_AUTO);
	assert_int_equal(c->syn_rate, 0);
	assert_int_equal(c->syn_window_ns, 0);
	assert_int_equal(f.ctl.herd_start_ns, 123 * NSEC);   /* only herd on starts a herd */

	/* herd auto keeps the controller's word; herd off clears it */
	ctrl_word = CORRAL_SYN_PACK(700, 3000, CORRAL_SYN_ACTIVE | CORRAL_SYN_HB | CORRAL_SYN_HERD);
	f.ctl.syn = ctrl_word;
	store(&f, "syn set ports 22 rate 500 herd auto", 125 * NSEC, 1);
	assert_int_equal(f.ctl.syn, ctrl_word);
	store(&f, "syn set ports 22 rate 500 herd off", 125 * NSEC, 1);
	assert_int_equal(f.ctl.syn, 0);
	assert_int_equal(corral_cfg_live(&f.h)->syn_herd, CORRAL_HERD_OFF);

	/* syn off: gate, herd mode, word and ports cleared; the rest stays */
	f.ctl.syn = ctrl_word;
	store(&f, "syn off", 126 * NSEC, 1);
	c = corral_cfg_live(&f.h);
	assert_int_equal(c->syn_on, 0);
	assert_int_equal(c->syn_herd, CORRAL_HERD_OFF);
	assert_int_equal(f.ctl.syn, 0);
	assert_int_equal(fake_ports(&f), 0);
	assert_int_equal(c->mode, CORRAL_MODE_MONITOR);
	assert_int_equal(c->syn_rate, 500);

	fake_close(&f);
}

static void test_store_no_synports(void **state)
{
	struct corral_syn_op op;
	struct fake f;
	char err[256];

	(void)state;
	fake_open(&f);
	free(f.h.synports);
	f.h.synports = NULL;
	assert_int_equal(parse("syn set ports 80", &op, err, sizeof(err)), 0);
	assert_int_equal(corral_syn_store(&f.h, &op, 1, 1, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "corral_synports"));
	assert_int_equal(corral_cfg_live(&f.h)->syn_on, 0);   /* nothing written */
	fake_close(&f);
}

static void test_eval(void **state)
{
	struct corral_cfg c;
	struct corral_syn_eval e;
	const __u64 now = 100 * NSEC, to = 2 * NSEC;
	__u64 ctrl = CORRAL_SYN_PACK(700, 3000, CORRAL_SYN_ACTIVE | CORRAL_SYN_HB | CORRAL_SYN_HERD);

	(void)state;
	corral_cfg_defaults(&c);
	c.syn_on = 1;
	c.syn_rate = 100;

	corral_syn_eval(&c, 0, 0, now, &e);
	assert_true(e.on);
	assert_false(e.word_active);
	assert_int_equal(e.rate, 100);
	assert_false(e.herd);

	corral_syn_eval(&c, ctrl, now - to, now, &e);       /* exactly the timeout: fresh */
	assert_true(e.word_ctrl && e.word_applied && e.herd);
	assert_int_equal(e.rate, 700);
	assert_int_equal(e.window_ms, 3000);

	corral_syn_eval(&c, ctrl, now - to - 1, now, &e);   /* stale: static rate, no herd */
	assert_true(e.word_active && e.word_ctrl);
	assert_false(e.word_applied);
	assert_false(e.herd);
	assert_int_equal(e.rate, 100);

	corral_syn_eval(&c, ctrl, 0, now, &e);              /* never stamped: stale */
	assert_false(e.word_applied);

	/* a manual word needs no heartbeat */
	corral_syn_eval(&c, CORRAL_SYN_PACK(0, 500, CORRAL_SYN_ACTIVE | CORRAL_SYN_HERD), 0, now, &e);
	assert_true(e.word_applied && e.herd);
	assert_false(e.word_ctrl);
	assert_int_equal(e.rate, 0);

	/* timeout 0: the data plane never calls a word stale */
	c.hb_timeout_ns = 0;
	corral_syn_eval(&c, ctrl, 0, now, &e);
	assert_true(e.word_applied);
}

/* "syn show" -j through the print path, on the fake handle */
static void test_show_json(void **state)
{
	static struct corral_counter st[CORRAL_NSTATS];
	struct json_object *o, *syn, *v, *g;
	struct fake f;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	(void)state;
	fake_open(&f);
	store(&f, "syn set ports 443,80 rate 1kpps burst 50 herd on window 4s", corral_now_ns(), 7);
	memset(st, 0, sizeof(st));
	st[CORRAL_STAT_KEY(2, CORRAL_R_SYN_SEEN)].packets = 10;
	st[CORRAL_STAT_KEY(4, CORRAL_R_SYN_SEEN)].packets = 5;
	st[CORRAL_STAT_KEY(2, CORRAL_R_SYN_ADMIT)].packets = 6;
	st[CORRAL_STAT_KEY(2, CORRAL_R_SYN_DEFER)].packets = 7;
	st[CORRAL_STAT_KEY(4, CORRAL_R_SYN_CAP)].packets = 2;

	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	out_json = true;
	out_set_file(mem);
	out_begin();
	corral_print_syn(&f.h, st);
	out_end();
	out_set_file(NULL);
	out_json = false;
	fclose(mem);

	o = json_tokener_parse(buf);
	if (!o)
		fail_msg("not JSON: %s", buf);
	assert_true(json_object_object_get_ex(o, "schema", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(o, "syn", &syn));
	assert_true(json_object_object_get_ex(syn, "ports", &v));
	assert_int_equal(json_object_array_length(v), 2);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 0)), 80);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 1)), 443);
	assert_true(json_object_object_get_ex(syn, "rate", &v));
	assert_int_equal(json_object_get_int(v), 1000);
	assert_true(json_object_object_get_ex(syn, "burst", &v));
	assert_int_equal(json_object_get_int(v), 50);
	assert_true(json_object_object_get_ex(syn, "herd", &v));
	assert_string_equal(json_object_get_string(v), "on");
	assert_true(json_object_object_get_ex(syn, "window_ms", &v));
	assert_int_equal(json_object_get_int(v), 4000);
	assert_true(json_object_object_get_ex(syn, "dynamic", &g));
	assert_true(json_object_object_get_ex(g, "source", &v));
	assert_string_equal(json_object_get_string(v), "manual");
	assert_true(json_object_object_get_ex(g, "fresh", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(syn, "gate", &g));
	assert_true(json_object_object_get_ex(g, "herd", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(g, "started_ms_ago", &v));
	assert_true(json_object_get_int64(v) >= 0);
	assert_true(json_object_object_get_ex(syn, "counters", &g));
	assert_true(json_object_object_get_ex(g, "syn_seen", &v));
	assert_int_equal(json_object_get_int(v), 15);
	assert_true(json_object_object_get_ex(g, "admitted", &v));
	assert_int_equal(json_object_get_int(v), 6);
	assert_true(json_object_object_get_ex(g, "deferred", &v));
	assert_int_equal(json_object_get_int(v), 7);
	assert_true(json_object_object_get_ex(g, "capped", &v));
	assert_int_equal(json_object_get_int(v), 2);
	json_object_put(o);
	free(buf);
	fake_close(&f);
}

/* ---- batch files ---------------------------------------------------------------------------- */

static FILE *text(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");

	assert_non_null(f);
	return f;
}

static void test_batch(void **state)
{
	static const struct {
		const char *file, *msg;
	} bad[] = {
		{ "mode set monitor\nsyn set ports 80 herd on\n",
		  "b:2: syn: window: herd on needs a DURATION" },
		{ "syn set ports 80\nsyn show\n", "b:2: \"syn show\" is not a configuration command" },
		{ "syn set ports 80,x rate 10\n", "b:1: syn: invalid port \"x\" in \"80,x\"" },
	};
	struct corral_batch *b;
	char err[256];
	size_t i;
	FILE *f;

	(void)state;
	f = text("mode set monitor\nsyn set ports 80 rate 100\nsyn off\nshed off\n");
	assert_int_equal(corral_batch_parse_stream(f, "b", &b, NULL, NULL, err, sizeof(err)), 0);
	fclose(f);
	assert_non_null(b);
	assert_int_equal(b->n, 2);     /* the configuration ops; the syn line is kept apart */
	assert_int_equal(b->ops[0].kind, CORRAL_OP_MODE_SET);
	assert_int_equal(b->ops[1].kind, CORRAL_OP_SHED_OFF);
	corral_batch_free(b);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		f = text(bad[i].file);
		ret = corral_batch_parse_stream(f, "b", &b, NULL, NULL, err, sizeof(err));
		fclose(f);
		assert_int_equal(ret, -EINVAL);
		assert_null(b);
		assert_string_equal(err, bad[i].msg);
	}
}

/* ---- live: the CLI against a loaded data plane ------------------------------------------ */

static char ns[32], pins[64], dev[16];
static int home_ns = -1;

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* corral_main() on a command line; output to out (NULL: /dev/null) */
static int cli_to(FILE *out, const char *fmt, ...)
{
	static char buf[512];
	char *argv[40];
	int argc = 0, o, e, null, ret;
	va_list ap;
	char *p;

	va_start(ap, fmt);
	memcpy(buf, "corral ", 7);
	vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	for (p = strtok(buf, " "); p && argc < 39; p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	o = dup(1);
	e = dup(2);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	dup2(null, 2);
	if (out)
		out_set_file(out);
	ret = corral_main(argc, argv);
	out_set_file(NULL);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	close(null);
	return ret;
}

#define cli(...) cli_to(NULL, __VA_ARGS__)

static int live_setup(void **state)
{
	char path[64];
	int fd;

	(void)state;
	if (geteuid() != 0)
		return 0;
	snprintf(ns, sizeof(ns), "csy_u%d", (int)getpid());
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/csy_u%d", (int)getpid());
	snprintf(dev, sizeof(dev), "csy%da", (int)getpid() % 100000);
	if (sh("ip netns add %s", ns) ||
	    sh("ip -n %s link add %s type veth peer name csy%db", ns, dev, (int)getpid() % 100000) ||
	    sh("ip -n %s link set %s up", ns, dev))
		return -1;
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		return -1;
	close(fd);
	setenv("CORRAL_PIN_DIR", pins, 1);
	return 0;
}

static int live_teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	cli("detach dev %s", dev);
	sh("rm -rf %s", pins);
	sh("rm -f /run/corral/lock_sys_fs_bpf_%s", ns);
	if (home_ns >= 0) {
		setns(home_ns, CLONE_NEWNET);
		close(home_ns);
	}
	sh("ip netns del %s 2>/dev/null", ns);
	unsetenv("CORRAL_PIN_DIR");
	return 0;
}

/* the program behind the pinned XDP link */
static int live_prog_fd(void)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[128];
	int lfd, pfd;

	snprintf(path, sizeof(path), "%s/link_%s", pins, dev);
	lfd = bpf_obj_get(path);
	assert_true(lfd >= 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(lfd, &info, &len), 0);
	close(lfd);
	pfd = bpf_prog_get_fd_by_id(info.prog_id);
	assert_true(pfd >= 0);
	return pfd;
}

/* XDP verdict of a SYN from 10.78.0.i to dport at fake time t */
static int live_syn(struct corral_handle *h, int pfd, int i, __u16 dport, __u64 t)
{
	__u8 buf[128];
	struct pkt_spec s;
	int len;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	pkt_spec_v4(&s, PKT_IP4(10, 78, 0, i), PKT_IP4(10, 77, 0, 2), PKT_TCP, 41000, dport);
	s.tcp_flags = PKT_SYN;
	len = pkt_build(&s, buf, sizeof(buf), NULL);
	assert_true(len > 0);
	__atomic_store_n(&h->ctl->fake_now_ns, t, __ATOMIC_RELEASE);
	o.data_in = buf;
	o.data_size_in = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(pfd, &o), 0);
	return (int)o.retval;
}

static struct json_object *live_show(void)
{
	struct json_object *j, *syn;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	assert_non_null(mem);
	assert_int_equal(cli_to(mem, "-j syn show"), 0);
	fclose(mem);
	j = json_tokener_parse(buf);
	free(buf);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "syn", &syn));
	json_object_get(syn);
	json_object_put(j);
	return syn;
}

static __u64 jget(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, a, &v));
	if (b)
		assert_true(json_object_object_get_ex(v, b, &v));
	return (__u64)json_object_get_int64(v);
}

static void test_live(void **state)
{
	struct corral_handle h;
	struct json_object *syn;
	const struct corral_cfg *c;
	__u64 t0, t1, start;
	char path[128];
	int pfd, i, drops = 0, pass = 0;
	FILE *f;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(cli("attach dev %s mode xdp-generic clock fake sources 4096", dev), 0);
	assert_int_equal(cli("syn set ports 80 herd on"), CORRAL_EXIT_USAGE);

	t0 = corral_now_ns();
	assert_int_equal(cli("syn set ports 80,443 rate 100 burst 3 herd on window 5s"), 0);
	t1 = corral_now_ns();
	assert_int_equal(corral_handle_open(&h), 0);
	assert_non_null(h.synports);
	c = corral_cfg_live(&h);
	assert_int_equal(c->syn_on, 1);
	assert_int_equal(c->syn_rate, 100);
	assert_int_equal(c->syn_burst, 3);
	assert_int_equal(c->syn_herd, CORRAL_HERD_ON);
	assert_int_equal(c->syn_window_ns, 5 * NSEC);
	assert_int_equal(CORRAL_SYNPORT(&h, 80), 1);
	assert_int_equal(CORRAL_SYNPORT(&h, 443), 1);
	assert_int_equal(CORRAL_SYNPORT(&h, 81), 0);
	assert_int_equal(corral_syn_read(&h),
			 CORRAL_SYN_PACK(100, 5000, CORRAL_SYN_ACTIVE | CORRAL_SYN_HERD));
	start = h.ctl->herd_start_ns;
	assert_true(start >= t0 && start <= t1);

	/* the loaded program: deferred at the herd's start, the burst at its end */
	pfd = live_prog_fd();
	for (i = 1; i <= 10; i++)
		drops += live_syn(&h, pfd, i, 80, start) == XDP_DROP;
	assert_true(drops >= 9);
	for (i = 1; i <= 10; i++)
		pass += live_syn(&h, pfd, i, 443, start + 5 * NSEC) == XDP_PASS;
	assert_int_equal(pass, 3);
	assert_int_equal(live_syn(&h, pfd, 1, 81, start), XDP_PASS);   /* not protected */
	syn = live_show();
	assert_int_equal(jget(syn, "counters", "syn_seen"), 20);
	assert_int_equal(jget(syn, "counters", "deferred"), drops);
	/* a source whose offset falls in the window's first ms is admitted at
	 * the start and takes a token then; the bucket is full again 5 s on */
	assert_int_equal(jget(syn, "counters", "admitted"), 3 + (10 - drops));
	assert_int_equal(jget(syn, "counters", "capped"), 7);
	assert_int_equal(jget(syn, "gate", "window_ms"), 5000);
	json_object_put(syn);

	/* herd off: the word goes, the ports move; nothing deferred any more */
	assert_int_equal(cli("syn set ports 22 herd off"), 0);
	assert_int_equal(corral_syn_read(&h), 0);
	assert_int_equal(CORRAL_SYNPORT(&h, 80), 0);
	assert_int_equal(CORRAL_SYNPORT(&h, 22), 1);
	for (i = 1, pass = 0; i <= 10; i++)
		pass += live_syn(&h, pfd, i, 22, start) == XDP_PASS;
	assert_int_equal(pass, 10);

	/* a batch applies its syn line after the other commands */
	snprintf(path, sizeof(path), "/tmp/%s.conf", ns);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("mode set monitor\nsyn set ports 8080 rate 5 herd auto\n", f);
	fclose(f);
	assert_int_equal(cli("-f %s", path), 0);
	unlink(path);
	c = corral_cfg_live(&h);
	assert_int_equal(c->mode, CORRAL_MODE_MONITOR);
	assert_int_equal(c->syn_rate, 5);
	assert_int_equal(c->syn_herd, CORRAL_HERD_AUTO);
	assert_int_equal(CORRAL_SYNPORT(&h, 8080), 1);
	assert_int_equal(CORRAL_SYNPORT(&h, 22), 0);

	/* syn off */
	assert_int_equal(cli("syn off"), 0);
	c = corral_cfg_live(&h);
	assert_int_equal(c->syn_on, 0);
	assert_int_equal(CORRAL_SYNPORT(&h, 8080), 0);
	syn = live_show();
	assert_int_equal(jget(syn, "gate", "on"), 0);
	json_object_put(syn);

	close(pfd);
	corral_handle_close(&h);
	assert_int_equal(cli("detach dev %s", dev), 0);
	assert_int_not_equal(access(pins, F_OK), 0);
}

/* XDP verdict of a UDP datagram from src at fake time t */
static int live_udp(struct corral_handle *h, int pfd, __u32 src, __u64 t)
{
	__u8 buf[128];
	struct pkt_spec s;
	int len;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	pkt_spec_v4(&s, src, PKT_IP4(10, 77, 0, 2), PKT_UDP, 41000, 9);
	len = pkt_build(&s, buf, sizeof(buf), NULL);
	assert_true(len > 0);
	__atomic_store_n(&h->ctl->fake_now_ns, t, __ATOMIC_RELEASE);
	o.data_in = buf;
	o.data_size_in = (__u32)len;
	assert_int_equal(bpf_prog_test_run_opts(pfd, &o), 0);
	return (int)o.retval;
}

static size_t map_count(int fd)
{
	struct corral_prefix_rule_key k, n;
	size_t c = 0;
	void *cur = NULL;

	while (!bpf_map_get_next_key(fd, cur, &n)) {
		k = n;
		cur = &k;
		c++;
	}
	return c;
}

/*
 * deny/allow ... timeout: exact on the fake clock. The data plane stops
 * applying an entry when it expires (a nested one falls back to the list
 * around it); the next write removes it from the maps.
 */
static void test_live_timeout(void **state)
{
	const __u64 T = 1000 * NSEC;
	struct json_object *j, *exp, *v;
	struct corral_handle h;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int pfd;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(cli("attach dev %s mode xdp-generic clock fake sources 4096", dev), 0);
	assert_int_equal(corral_handle_open(&h), 0);
	__atomic_store_n(&h.ctl->fake_now_ns, T, __ATOMIC_RELEASE);
	assert_int_equal(cli("allow add 10.9.0.0/16"), 0);
	assert_int_equal(cli("deny add 10.9.9.0/24 timeout 5s"), 0);
	assert_int_equal(cli("deny add 10.8.0.1 timeout 2s"), 0);
	assert_int_equal(cli("deny add 10.7.0.0/16 timeout 0"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("deny add 10.7.0.0/16 timeout 2y"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("deny del 10.8.0.1 timeout 2s"), CORRAL_EXIT_USAGE);
	assert_int_equal(corral_cfg_live(&h)->list_expiry_ns, T + 2 * NSEC);
	assert_int_equal(map_count(h.prules_fd), 3);

	pfd = live_prog_fd();
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 9, 9, 1), T), XDP_DROP);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 9, 1, 1), T), XDP_PASS);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 8, 0, 1), T + 2 * NSEC - 1), XDP_DROP);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 8, 0, 1), T + 2 * NSEC), XDP_PASS);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 9, 9, 1), T + 5 * NSEC - 1), XDP_DROP);

	/* show at T+3s: the expired one is gone, the other has 2 s left */
	__atomic_store_n(&h.ctl->fake_now_ns, T + 3 * NSEC, __ATOMIC_RELEASE);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	assert_int_equal(cli_to(mem, "-j deny show"), 0);
	fclose(mem);
	j = json_tokener_parse(buf);
	free(buf);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "deny", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "10.9.9.0/24");
	assert_true(json_object_object_get_ex(j, "expires_ms", &exp));
	assert_true(json_object_object_get_ex(exp, "10.9.9.0/24", &v));
	assert_int_equal(json_object_get_int64(v), 2000);
	json_object_put(j);

	/* nested in the allow: once expired it is allowed again, before any write */
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 9, 9, 1), T + 5 * NSEC), XDP_PASS);
	/* the next write removes both from the maps */
	assert_int_equal(cli("limit add default rate 1kpps"), 0);
	assert_int_equal(map_count(h.prules_fd), 1);
	assert_int_equal(corral_cfg_live(&h)->list_expiry_ns, 0);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 9, 9, 1), T + 5 * NSEC), XDP_PASS);
	assert_int_equal(live_udp(&h, pfd, PKT_IP4(10, 8, 0, 1), T + 5 * NSEC), XDP_PASS);

	close(pfd);
	corral_handle_close(&h);
	assert_int_equal(cli("detach dev %s", dev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_not_config),
		cmocka_unit_test(test_ports_str),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_no_synports),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_show_json),
		cmocka_unit_test(test_batch),
		cmocka_unit_test_setup_teardown(test_live, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_live_timeout, live_setup, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
