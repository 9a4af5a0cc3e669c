// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_policy.c - rule compilation without the kernel: the merged source
 * policy (nested prefixes, IPv4/IPv6), the port class table, and the
 * in-memory application of configuration commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compile.h"
#include "state.h"
#include "words.h"

static struct corral_prule rule(__u32 kind, const char *pfx, __u8 cls, __u64 rate)
{
	struct corral_prule r;
	struct corral_prefix p;

	memset(&r, 0, sizeof(r));
	assert_int_equal(corral_parse_prefix(pfx, &p), 0);
	r.key.kind = kind;
	corral_prefix_to_lpm(&p, &r.key.pfx);
	r.val.class = cls;
	r.val.limit.pkt_rate = rate;
	r.val.limit.pkt_burst = rate ? rate / 10 : 0;
	return r;
}

static const struct corral_pol_entry *find(const struct corral_pol_entry *e, size_t n,
					   const char *pfx)
{
	struct corral_prefix p;
	struct corral_lpm_key k;
	size_t i;

	assert_int_equal(corral_parse_prefix(pfx, &p), 0);
	corral_prefix_to_lpm(&p, &k);
	for (i = 0; i < n; i++)
		if (e[i].key.prefixlen == k.prefixlen && !memcmp(e[i].key.addr, k.addr, 16))
			return &e[i];
	return NULL;
}

/* emulate the kernel's longest-prefix match over the compiled entries */
static const struct corral_pol_entry *lpm(const struct corral_pol_entry *e, size_t n,
					  const char *addr)
{
	const struct corral_pol_entry *best = NULL;
	struct corral_prefix p;
	struct corral_lpm_key k;
	size_t i;

	assert_int_equal(corral_parse_prefix(addr, &p), 0);
	corral_prefix_to_lpm(&p, &k);
	for (i = 0; i < n; i++)
		if (corral_lpm_contains(&e[i].key, &k) &&
		    (!best || e[i].key.prefixlen > best->key.prefixlen))
			best = &e[i];
	return best;
}

static void test_compile_nested(void **state)
{
	struct corral_prule r[] = {
		rule(CORRAL_RULE_DENY, "10.0.0.0/8", 0, 0),
		rule(CORRAL_RULE_ALLOW, "10.1.0.0/16", 0, 0),
		rule(CORRAL_RULE_CLASS, "10.0.0.0/8", 6, 0),
		rule(CORRAL_RULE_CLASS, "10.1.2.0/24", 2, 0),
		rule(CORRAL_RULE_LIMIT, "10.1.0.0/16", 0, 500),
		rule(CORRAL_RULE_LIMIT, "10.1.2.128/25", 0, 50),
		rule(CORRAL_RULE_DENY, "10.1.2.200/32", 0, 0),
	};
	struct corral_pol_entry *e;
	const struct corral_pol_entry *x;
	size_t n;

	assert_int_equal(corral_policy_compile(r, sizeof(r) / sizeof(r[0]), &e, &n), 0);
	/* distinct prefixes: /8 /16 /24 /25 /32 */
	assert_int_equal(n, 5);

	x = find(e, n, "10.0.0.0/8");
	assert_non_null(x);
	assert_int_equal(x->val.flags, CORRAL_POL_LIST | CORRAL_POL_CLASS);
	assert_int_equal(x->val.list, CORRAL_LIST_DENY);
	assert_int_equal(x->val.class, 6);

	x = find(e, n, "10.1.0.0/16");
	assert_non_null(x);
	assert_int_equal(x->val.flags, CORRAL_POL_LIST | CORRAL_POL_CLASS | CORRAL_POL_LIMIT);
	assert_int_equal(x->val.list, CORRAL_LIST_ALLOW);
	assert_int_equal(x->val.class, 6);            /* inherited from /8 */
	assert_int_equal(x->val.limit.pkt_rate, 500);

	x = find(e, n, "10.1.2.0/24");
	assert_non_null(x);
	assert_int_equal(x->val.list, CORRAL_LIST_ALLOW); /* from /16 */
	assert_int_equal(x->val.class, 2);
	assert_int_equal(x->val.limit.pkt_rate, 500);

	x = find(e, n, "10.1.2.128/25");
	assert_non_null(x);
	assert_int_equal(x->val.class, 2);
	assert_int_equal(x->val.limit.pkt_rate, 50);
	assert_int_equal(x->val.list, CORRAL_LIST_ALLOW);

	x = find(e, n, "10.1.2.200/32");
	assert_non_null(x);
	assert_int_equal(x->val.list, CORRAL_LIST_DENY);  /* the longest list rule */
	assert_int_equal(x->val.class, 2);
	assert_int_equal(x->val.limit.pkt_rate, 50);

	/* each entry names the rules it applies, for their hit counters */
	x = find(e, n, "10.0.0.0/8");
	assert_int_equal(x->val.list_len, 96 + 8);
	x = find(e, n, "10.1.2.0/24");
	assert_int_equal(x->val.list_len, 96 + 16);     /* the allow /16 */
	assert_int_equal(x->val.limit_len, 96 + 16);    /* the limit /16 */
	x = find(e, n, "10.1.2.200/32");
	assert_int_equal(x->val.list_len, 96 + 32);
	assert_int_equal(x->val.limit_len, 96 + 25);
	assert_int_equal(x->val.after_len, 0);          /* no timed rule */

	/* LPM on sources answers all three */
	x = lpm(e, n, "10.9.9.9");
	assert_int_equal(x->val.list, CORRAL_LIST_DENY);
	assert_int_equal(x->val.class, 6);
	assert_false(x->val.flags & CORRAL_POL_LIMIT);
	x = lpm(e, n, "10.1.3.1");
	assert_int_equal(x->val.list, CORRAL_LIST_ALLOW);
	assert_int_equal(x->val.limit.pkt_rate, 500);
	x = lpm(e, n, "10.1.2.1");
	assert_int_equal(x->val.class, 2);
	assert_int_equal(x->val.limit.pkt_rate, 500);
	x = lpm(e, n, "10.1.2.130");
	assert_int_equal(x->val.limit.pkt_rate, 50);
	assert_null(lpm(e, n, "11.0.0.1"));
	free(e);
}

/* a timed list rule names the rule that applies after it, and its length */
static void test_compile_timed_after(void **state)
{
	struct corral_prule r[] = {
		rule(CORRAL_RULE_ALLOW, "10.0.0.0/8", 0, 0),
		rule(CORRAL_RULE_DENY, "10.1.0.0/16", 0, 0),
		rule(CORRAL_RULE_LIMIT, "10.0.0.0/8", 0, 100),
	};
	struct corral_pol_entry *e;
	const struct corral_pol_entry *x;
	size_t n;

	(void)state;
	r[1].val.expires_ns = 5000000000ull;
	assert_int_equal(corral_policy_compile(r, sizeof(r) / sizeof(r[0]), &e, &n), 0);
	x = find(e, n, "10.1.0.0/16");
	assert_non_null(x);
	assert_int_equal(x->val.list, CORRAL_LIST_DENY);
	assert_int_equal(x->val.list_len, 96 + 16);
	assert_int_equal(x->val.list_after, CORRAL_LIST_ALLOW);
	assert_int_equal(x->val.after_len, 96 + 8);
	assert_int_equal(x->val.limit_len, 96 + 8);
	free(e);
}

static void test_compile_families(void **state)
{
	struct corral_prule r[] = {
		rule(CORRAL_RULE_CLASS, "fd77::/16", 1, 0),
		rule(CORRAL_RULE_LIMIT, "fd77:1::/32", 0, 100),
		rule(CORRAL_RULE_CLASS, "10.0.0.0/8", 3, 0),
		rule(CORRAL_RULE_CLASS, "0.0.0.0/0", 5, 0),
	};
	const struct corral_pol_entry *x;
	struct corral_pol_entry *e;
	size_t n;

	assert_int_equal(corral_policy_compile(r, 4, &e, &n), 0);
	assert_int_equal(n, 4);
	x = find(e, n, "fd77:1::/32");
	assert_non_null(x);
	assert_int_equal(x->val.class, 1);
	assert_int_equal(x->val.limit.pkt_rate, 100);
	/* IPv4 rules never reach IPv6 prefixes and the reverse */
	x = find(e, n, "10.0.0.0/8");
	assert_int_equal(x->val.flags, CORRAL_POL_CLASS);
	assert_int_equal(x->val.class, 3);
	x = lpm(e, n, "fd78::1");
	assert_null(x);
	x = lpm(e, n, "192.0.2.1");
	assert_int_equal(x->val.class, 5);
	free(e);
}

/* an IPv6 rule covering ::ffff:0:0/96 must not become the match of IPv4 sources */
static void test_compile_v6_covering_v4_space(void **state)
{
	struct corral_prule r[] = {
		rule(CORRAL_RULE_DENY, "::/0", 0, 0),
		rule(CORRAL_RULE_LIMIT, "::/64", 0, 50),
		rule(CORRAL_RULE_ALLOW, "10.0.0.0/8", 0, 0),
		rule(CORRAL_RULE_CLASS, "10.1.0.0/16", 2, 0),
	};
	const struct corral_pol_entry *x;
	struct corral_pol_entry *e;
	size_t n;

	assert_int_equal(corral_policy_compile(r, 4, &e, &n), 0);
	assert_int_equal(n, 5);          /* four rules and the ::ffff:0:0/96 barrier */
	/* IPv4 outside every IPv4 rule: the barrier, no list, no limit */
	x = lpm(e, n, "192.0.2.1");
	assert_non_null(x);
	assert_int_equal(x->key.prefixlen, 96);
	assert_int_equal(x->val.flags, 0);
	/* IPv4 rules merge only IPv4 rules: allow + class, not the IPv6 deny/limit */
	x = lpm(e, n, "10.1.2.3");
	assert_int_equal(x->val.flags, CORRAL_POL_LIST | CORRAL_POL_CLASS);
	assert_int_equal(x->val.list, CORRAL_LIST_ALLOW);
	assert_int_equal(x->val.class, 2);
	/* IPv6 sources still get the IPv6 rules */
	x = lpm(e, n, "fd77::1");
	assert_int_equal(x->val.flags, CORRAL_POL_LIST);
	assert_int_equal(x->val.list, CORRAL_LIST_DENY);
	x = lpm(e, n, "::1");
	assert_int_equal(x->val.flags, CORRAL_POL_LIST | CORRAL_POL_LIMIT);
	assert_int_equal(x->val.limit.pkt_rate, 50);
	free(e);
}

static void test_compile_unset(void **state)
{
	struct corral_prule r[] = { rule(CORRAL_RULE_LIMIT, "10.0.0.0/8", 0, 10) };
	struct corral_pol_entry *e;
	size_t n;

	assert_int_equal(corral_policy_compile(r, 1, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].val.flags, CORRAL_POL_LIMIT);
	assert_int_equal(e[0].val.class, CORRAL_CLASS_ANY);
	assert_int_equal(e[0].val.list, CORRAL_LIST_NONE);
	free(e);
	assert_int_equal(corral_policy_compile(NULL, 0, &e, &n), 0);
	assert_int_equal(n, 0);
}

static struct corral_ptrule prule_port(__u8 pi, __u16 lo, __u16 hi, __u8 cls)
{
	struct corral_ptrule r;

	memset(&r, 0, sizeof(r));
	r.key.proto_idx = pi;
	r.key.port_lo = lo;
	r.key.port_hi = hi;
	r.cls = cls;
	return r;
}

static void test_port_compile(void **state)
{
	struct corral_ptrule r[] = {
		prule_port(CORRAL_PI_TCP, 80, 80, 1),            /* narrow inside wide */
		prule_port(CORRAL_PI_TCP, 0, 65535, 6),
		prule_port(CORRAL_PI_TCP, 8000, 8100, 3),
		prule_port(CORRAL_PI_UDP, 53, 53, 0),
		prule_port(CORRAL_PI_ICMP, 0, 65535, 2),
	};
	__u8 *t = malloc(CORRAL_PORT_TABLE_SIZE);

	assert_non_null(t);
	assert_int_equal(corral_port_compile(r, 5, t), 0);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 80], 1);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 81], 6);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 8000], 3);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 8100], 3);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 8101], 6);
	assert_int_equal(t[CORRAL_PI_UDP * 65536 + 53], 0);
	assert_int_equal(t[CORRAL_PI_UDP * 65536 + 54], CORRAL_CLASS_ANY);
	assert_int_equal(t[CORRAL_PI_ICMP * 65536 + 0], 2);
	assert_int_equal(t[CORRAL_PI_ICMP * 65536 + 65535], 2);
	assert_int_equal(t[CORRAL_PI_ICMPV6 * 65536 + 0], CORRAL_CLASS_ANY);
	assert_int_equal(corral_port_compile(NULL, 0, t), 0);
	assert_int_equal(t[CORRAL_PI_TCP * 65536 + 80], CORRAL_CLASS_ANY);
	free(t);
}

/* parse a command line into an op, as the CLI and batches do */
static int parse(struct corral_op *op, char *err, size_t len, const char *line)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;
	char *p;

	snprintf(buf, sizeof(buf), "%s", line);
	for (p = strtok(buf, " "); p && argc < 32; p = strtok(NULL, " "))
		argv[argc++] = p;
	return corral_op_parse(argc, argv, op, err, len);
}

static int run(struct corral_state *s, const char *line)
{
	struct corral_op op;
	char err[256];
	int ret = parse(&op, err, sizeof(err), line);

	assert_int_equal(ret, 0);
	return corral_state_apply(s, &op, err, sizeof(err));
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "limit add 300.1.1.1/33 rate 10", "limit: invalid prefix \"300.1.1.1/33\"" },
		{ "limit add 10.0.0.1/24 rate 10",
		  "limit: invalid prefix \"10.0.0.1/24\": host bits set" },
		{ "limit add default", "limit: \"default\" needs rate or bytes" },
		{ "limit add default rate 10x", "limit: invalid rate \"10x\"" },
		{ "limit add default rate", "limit: missing argument after \"rate\"" },
		{ "limit add default rate 10 rate 20", "limit: duplicate \"rate\"" },
		{ "limit add default burst 10", "limit: \"default\" needs rate or bytes" },
		{ "limit add default bytes 1mbit burst 5", "limit: burst needs rate" },
		{ "limit add default rate 5 speed 3", "limit: unknown argument \"speed\"" },
		{ "limit del default rate 5", "limit: unknown argument \"rate\"" },
		{ "class add 8 proto tcp", "class: invalid class \"8\"" },
		{ "class add 1 proto sctp", "class: invalid protocol \"sctp\"" },
		{ "class add 1 proto icmp dport 3", "class: proto icmp takes no dport" },
		{ "class add 1 proto tcp dport 90-80", "class: invalid port \"90-80\"" },
		{ "class add 1 dscp 64", "class: invalid dscp \"64\"" },
		{ "class add 1 src 10.0.0.0/8 extra", "class: unknown argument \"extra\"" },
		{ "class default x", "class: invalid class \"x\"" },
		{ "allow add fd77::1/16", "allow: invalid prefix \"fd77::1/16\": host bits set" },
		{ "deny add", "deny: missing argument after \"add\"" },
		{ "shed set 8", "shed: invalid level \"8\"" },
		{ "shed set 5.5 scope some", "shed: invalid scope \"some\"" },
		{ "shed tune epoch 0s", "shed: invalid duration \"0s\"" },
		{ "mode set fast", "mode: invalid mode \"fast\"" },
		{ "aggregate set v4 33", "aggregate: invalid IPv4 prefix length \"33\"" },
		{ "aggregate set v6 0", "aggregate: invalid IPv6 prefix length \"0\"" },
		{ "aggregate set", "aggregate: missing argument after \"set\"" },
	};
	struct corral_op op;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(&op, err, sizeof(err), bad[i].line);

		if (ret != -EINVAL || strcmp(err, bad[i].msg))
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"", bad[i].line, ret, err,
				 bad[i].msg);
	}
	assert_int_equal(parse(&op, err, sizeof(err), "limit show"), CORRAL_PARSE_NOT_CONFIG);
	assert_int_equal(parse(&op, err, sizeof(err), "status"), CORRAL_PARSE_NOT_CONFIG);
}

static void test_parse_values(void **state)
{
	struct corral_op op;
	char err[256];

	assert_int_equal(parse(&op, err, sizeof(err), "limit add default rate 1000pps"), 0);
	assert_int_equal(op.limit.lim.pkt_rate, 1000);
	assert_int_equal(op.limit.lim.pkt_burst, 100);      /* rate / 10 */
	assert_int_equal(op.limit.lim.byte_rate, 0);
	assert_int_equal(parse(&op, err, sizeof(err), "limit add default rate 5"), 0);
	assert_int_equal(op.limit.lim.pkt_burst, 1);        /* at least 1 */
	assert_int_equal(parse(&op, err, sizeof(err), "limit add 10.0.0.0/8 bytes 800kbit"), 0);
	assert_int_equal(op.limit.target, CORRAL_LT_PREFIX);
	assert_int_equal(op.limit.lim.byte_rate, 100000);
	assert_int_equal(op.limit.lim.byte_burst, 10000);
	assert_int_equal(parse(&op, err, sizeof(err), "limit add default bytes 80kbit"), 0);
	assert_int_equal(op.limit.lim.byte_burst, 1514);    /* at least 1514 */
	assert_int_equal(parse(&op, err, sizeof(err),
			       "limit add default rate 2mpps burst 64 bytes 1gbit bburst 64kb"), 0);
	assert_int_equal(op.limit.lim.pkt_rate, 2000000);
	assert_int_equal(op.limit.lim.pkt_burst, 64);
	assert_int_equal(op.limit.lim.byte_rate, 125000000);
	assert_int_equal(op.limit.lim.byte_burst, 65536);

	assert_int_equal(parse(&op, err, sizeof(err), "shed set 5.25"), 0);
	assert_int_equal(op.shed.word, CORRAL_SHED_PACK(5, 2500, CORRAL_SCOPE_NEW, CORRAL_SHED_ON));
	assert_int_equal(parse(&op, err, sizeof(err), "shed set 6 scope all"), 0);
	assert_int_equal(op.shed.word, CORRAL_SHED_PACK(6, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	assert_false(CORRAL_SHED_FLAGS(op.shed.word) & CORRAL_SHED_HB);
	assert_int_equal(parse(&op, err, sizeof(err), "class add 3 proto udp"), 0);
	assert_int_equal(op.cls.lo, 0);
	assert_int_equal(op.cls.hi, 65535);
}

static void test_apply(void **state)
{
	struct corral_state s;
	struct corral_op op;
	char err[256];

	corral_state_init(&s);
	assert_int_equal(s.cfg.default_class, 4);
	assert_int_equal(s.cfg.v4_prefix, 32);
	assert_int_equal(s.cfg.v6_prefix, 64);
	assert_int_equal(corral_state_tables(&s), 0);

	assert_int_equal(run(&s, "allow add 10.0.0.0/8"), 0);
	/* the same prefix in both lists is refused, with the reason */
	assert_int_equal(parse(&op, err, sizeof(err), "deny add 10.0.0.0/8"), 0);
	assert_int_equal(corral_state_apply(&s, &op, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "deny: 10.0.0.0/8 is in the allow list");
	assert_int_equal(run(&s, "deny add 10.1.0.0/16"), 0);
	assert_int_equal(run(&s, "allow add 10.0.0.0/8"), 0);   /* idempotent */
	assert_int_equal(s.npr, 2);
	assert_int_equal(corral_state_tables(&s), CORRAL_TBL_PREFIX);

	assert_int_equal(parse(&op, err, sizeof(err), "allow del 10.2.0.0/16"), 0);
	assert_int_equal(corral_state_apply(&s, &op, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "allow: 10.2.0.0/16 is not in the allow list");

	assert_int_equal(run(&s, "class add 1 proto tcp dport 22"), 0);
	assert_int_equal(run(&s, "class add 2 proto tcp dport 22"), 0);  /* replaces */
	assert_int_equal(s.npt, 1);
	assert_int_equal(s.pt[0].cls, 2);
	assert_int_equal(parse(&op, err, sizeof(err), "class del 1 proto tcp dport 22"), 0);
	assert_int_not_equal(corral_state_apply(&s, &op, err, sizeof(err)), 0);
	assert_int_equal(run(&s, "class del 2 proto tcp dport 22"), 0);
	assert_int_equal(s.npt, 0);

	assert_int_equal(run(&s, "class add 0 dscp 46"), 0);
	assert_int_equal(s.cfg.dscp_class[46], 0);
	assert_int_equal(corral_state_tables(&s), CORRAL_TBL_PREFIX | CORRAL_TBL_DSCP);
	assert_int_equal(run(&s, "class del 0 dscp 46"), 0);
	assert_int_equal(s.cfg.dscp_class[46], CORRAL_CLASS_ANY);

	assert_int_equal(run(&s, "limit add default rate 10kpps"), 0);
	assert_int_equal(s.cfg.dflt.pkt_rate, 10000);
	assert_int_equal(run(&s, "limit del default"), 0);
	assert_int_equal(s.cfg.dflt.pkt_rate, 0);
	assert_int_equal(run(&s, "limit add egress rate 10kpps"), 0);
	assert_int_equal(s.cfg.egress_buckets, 1);
	assert_int_equal(run(&s, "limit del egress"), 0);
	assert_int_equal(s.cfg.egress_buckets, 0);
	assert_int_equal(parse(&op, err, sizeof(err), "limit del 10.0.0.0/8"), 0);
	assert_int_not_equal(corral_state_apply(&s, &op, err, sizeof(err)), 0);
	assert_string_equal(err, "limit: no limit for 10.0.0.0/8");

	assert_int_equal(run(&s, "mode set monitor malformed pass"), 0);
	assert_int_equal(s.cfg.mode, CORRAL_MODE_MONITOR);
	assert_int_equal(s.cfg.malformed_pass, 1);
	assert_int_equal(run(&s, "aggregate set v4 24 class on"), 0);
	assert_int_equal(s.cfg.v4_prefix, 24);
	assert_int_equal(s.cfg.v6_prefix, 64);
	assert_int_equal(s.cfg.key_class, 1);
	assert_int_equal(run(&s, "class default 7"), 0);
	assert_int_equal(s.cfg.default_class, 7);
	assert_int_equal(run(&s, "shed tune epoch 5s timeout 500ms"), 0);
	assert_int_equal(s.cfg.epoch_ns, 5000000000ull);
	assert_int_equal(s.cfg.hb_timeout_ns, 500000000ull);
	assert_int_equal(run(&s, "shed set 3.5"), 0);
	assert_true(s.shed_dirty);
	assert_int_equal(CORRAL_SHED_LEVEL(s.shed), 3);
	assert_int_equal(run(&s, "shed off"), 0);
	assert_int_equal(s.shed, 0);
	corral_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_nested),
		cmocka_unit_test(test_compile_timed_after),
		cmocka_unit_test(test_compile_families),
		cmocka_unit_test(test_compile_v6_covering_v4_space),
		cmocka_unit_test(test_compile_unset),
		cmocka_unit_test(test_port_compile),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
