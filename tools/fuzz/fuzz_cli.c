// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_cli.c - libFuzzer harness for the configuration command grammar:
 * parse (corral_op_parse), apply to an in-memory state
 * (corral_state_apply) and compile (corral_policy_compile,
 * corral_port_compile). No kernel object is touched.
 *
 * Lines of the "syn" object go to corral_syn_parse.
 *
 * Input: text, one command per line ("limit add 10.0.0.0/8 rate 5kpps").
 * Checks beyond ASan/UBSan:
 *  - every refusal carries a message (the CLI prints it);
 *  - the state holds only rules with zero host bits;
 *  - the compiled source-policy table answers, for probe addresses around
 *    every rule, what a longest-match over the raw rules answers;
 *  - the compiled port table gives each port the class of a narrowest
 *    rule that covers it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "compile.h"
#include "state.h"
#include "syn_cmd.h"

#define MAX_LINES 256

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_cli: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static bool key_contains(const struct corral_lpm_key *k, const __u8 addr[16])
{
	struct corral_lpm_key a = { .prefixlen = 128 };

	memcpy(a.addr, addr, 16);
	return corral_lpm_contains(k, &a);
}

static bool host_bits_zero(const struct corral_lpm_key *k)
{
	return k->prefixlen <= 128 && key_contains(k, k->addr);
}

/* expected answer of the policy table for one address, from raw rules */
static void expect_policy(const struct corral_state *s, const __u8 addr[16], struct corral_policy *p)
{
	static const __u8 v4_space[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	/* IPv4 sources (::ffff:0:0/96) are matched by IPv4 rules only */
	int v4 = !memcmp(addr, v4_space, sizeof(v4_space));
	int best_list = -1, best_cls = -1, best_lim = -1;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->class = CORRAL_CLASS_ANY;
	for (i = 0; i < s->npr; i++) {
		const struct corral_prule *r = &s->pr[i];
		int len = (int)r->key.pfx.prefixlen;

		if (!key_contains(&r->key.pfx, addr) || (v4 && len < 96))
			continue;
		switch (r->key.kind) {
		case CORRAL_RULE_ALLOW:
		case CORRAL_RULE_DENY:
			if (len > best_list || (len == best_list && r->key.kind == CORRAL_RULE_DENY)) {
				best_list = len;
				p->flags |= CORRAL_POL_LIST;
				p->list = r->key.kind == CORRAL_RULE_ALLOW ? CORRAL_LIST_ALLOW
									   : CORRAL_LIST_DENY;
			}
			break;
		case CORRAL_RULE_CLASS:
			if (len > best_cls) {
				best_cls = len;
				p->flags |= CORRAL_POL_CLASS;
				p->class = r->val.class;
			}
			break;
		case CORRAL_RULE_LIMIT:
			if (len > best_lim) {
				best_lim = len;
				p->flags |= CORRAL_POL_LIMIT;
				p->limit = r->val.limit;
			}
			break;
		}
	}
}

/* what a longest-prefix match on the compiled table returns */
static void lookup_policy(const struct corral_pol_entry *t, size_t n, const __u8 addr[16],
			  struct corral_policy *p)
{
	int best = -1;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->class = CORRAL_CLASS_ANY;
	for (i = 0; i < n; i++) {
		if ((int)t[i].key.prefixlen > best && key_contains(&t[i].key, addr)) {
			best = (int)t[i].key.prefixlen;
			*p = t[i].val;
		}
	}
}

static void check_probe(const struct corral_state *s, const struct corral_pol_entry *t, size_t n,
			const __u8 addr[16])
{
	struct corral_policy e, a;

	expect_policy(s, addr, &e);
	lookup_policy(t, n, addr, &a);
	CHECK(e.flags == a.flags, "flags %#x, compiled %#x", e.flags, a.flags);
	if (e.flags & CORRAL_POL_LIST)
		CHECK(e.list == a.list, "list %u, compiled %u", e.list, a.list);
	if (e.flags & CORRAL_POL_CLASS)
		CHECK(e.class == a.class, "class %u, compiled %u", e.class, a.class);
	if (e.flags & CORRAL_POL_LIMIT)
		CHECK(!memcmp(&e.limit, &a.limit, sizeof(e.limit)), "limit differs");
}

static void check_policy(const struct corral_state *s)
{
	struct corral_pol_entry *t = NULL;
	size_t n = 0, i;
	int ret;

	for (i = 0; i < s->npr; i++)
		CHECK(host_bits_zero(&s->pr[i].key.pfx), "rule %zu has host bits", i);
	ret = corral_policy_compile(s->pr, s->npr, &t, &n);
	CHECK(!ret, "compile: %d", ret);
	/* one entry per distinct prefix, and at most one rule-less barrier at
	 * ::ffff:0:0/96 when an IPv6 rule covers the IPv4 space */
	CHECK(n <= s->npr + 1, "%zu entries from %zu rules", n, s->npr);
	if (n == s->npr + 1) {
		size_t bare = 0;

		for (i = 0; i < n; i++)
			bare += t[i].key.prefixlen == 96 && !t[i].val.flags;
		CHECK(bare == 1, "%zu entries from %zu rules without one barrier", n, s->npr);
	}
	/* probes: each rule's address, its first host bit set, its last bit flipped */
	for (i = 0; i < s->npr; i++) {
		const struct corral_lpm_key *k = &s->pr[i].key.pfx;
		__u8 a[16];

		memcpy(a, k->addr, 16);
		check_probe(s, t, n, a);
		if (k->prefixlen < 128) {
			a[k->prefixlen / 8] |= (__u8)(0x80 >> (k->prefixlen % 8));
			check_probe(s, t, n, a);
		}
		if (k->prefixlen > 0) {
			__u32 b = k->prefixlen - 1;

			memcpy(a, k->addr, 16);
			a[b / 8] ^= (__u8)(0x80 >> (b % 8));
			check_probe(s, t, n, a);
		}
	}
	free(t);
}

static void check_ports(const struct corral_state *s)
{
	static __u8 table[CORRAL_PORT_TABLE_SIZE];
	size_t i, j;
	int ret = corral_port_compile(s->pt, s->npt, table);

	CHECK(!ret, "port compile: %d", ret);
	for (i = 0; i < s->npt; i++) {
		const struct corral_port_rule_key *k = &s->pt[i].key;
		long probes[4] = { k->port_lo, k->port_hi, (long)k->port_lo - 1, (long)k->port_hi + 1 };

		CHECK(k->proto_idx < CORRAL_NPROTO && k->port_lo <= k->port_hi, "bad rule %zu", i);
		for (int p = 0; p < 4; p++) {
			long port = probes[p];
			__u32 best = ~0u;
			bool ok = false, any = false;

			if (port < 0 || port > 65535)
				continue;
			/* narrowest width among rules covering the port */
			for (j = 0; j < s->npt; j++) {
				const struct corral_port_rule_key *q = &s->pt[j].key;
				__u32 w = (__u32)q->port_hi - q->port_lo;

				if (q->proto_idx == k->proto_idx && q->port_lo <= port &&
				    port <= q->port_hi && w < best)
					best = w;
			}
			for (j = 0; j < s->npt; j++) {
				const struct corral_port_rule_key *q = &s->pt[j].key;

				if (q->proto_idx != k->proto_idx || q->port_lo > port || port > q->port_hi)
					continue;
				any = true;
				if ((__u32)q->port_hi - q->port_lo == best &&
				    table[(size_t)k->proto_idx * 65536 + (size_t)port] == s->pt[j].cls)
					ok = true;
			}
			if (!any)
				ok = table[(size_t)k->proto_idx * 65536 + (size_t)port] == CORRAL_CLASS_ANY;
			CHECK(ok, "proto %u port %ld: class %u is not a narrowest rule's",
			      k->proto_idx, port, table[(size_t)k->proto_idx * 65536 + (size_t)port]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct corral_state s;
	char *buf, *line, *save = NULL, *argv[CORRAL_BATCH_MAX_WORDS], err[512];
	int nlines = 0;

	buf = malloc(len + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, len);
	buf[len] = 0;
	corral_state_init(&s);
	for (line = strtok_r(buf, "\n", &save); line && nlines < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save), nlines++) {
		struct corral_op op;
		int argc = corral_split_words(line, argv, CORRAL_BATCH_MAX_WORDS), ret;

		if (argc <= 0)
			continue;
		if (!strcmp(argv[0], "syn")) {
			struct corral_syn_op sop;

			memset(err, 0x55, sizeof(err));
			ret = corral_syn_parse(argc, argv, &sop, err, sizeof(err));
			if (ret < 0)
				CHECK(memchr(err, 0, sizeof(err)) && err[0], "syn refusal without a message");
			else if (ret == 0 && !sop.off)
				/* burst 0: herd auto, sized by the controller */
				CHECK((sop.burst >= 1 || sop.herd == CORRAL_HERD_AUTO) &&
				      sop.burst <= CORRAL_SYN_BURST_MAX &&
				      sop.rate <= CORRAL_SYN_RATE_MAX &&
				      sop.window_ns / 1000000 <= CORRAL_SYN_WINDOW_MS_MAX &&
				      corral_portset_count(&sop.ports) > 0,
				      "syn op out of bounds");
			continue;
		}
		memset(err, 0x55, sizeof(err));
		ret = corral_op_parse(argc, argv, &op, err, sizeof(err));
		if (ret == CORRAL_PARSE_NOT_CONFIG)
			continue;
		if (ret) {
			CHECK(ret < 0, "parse returned %d", ret);
			CHECK(memchr(err, 0, sizeof(err)) && err[0], "refusal without a message");
			continue;
		}
		memset(err, 0x55, sizeof(err));
		ret = corral_state_apply(&s, &op, err, sizeof(err));
		if (ret) {
			CHECK(ret < 0, "apply returned %d", ret);
			CHECK(memchr(err, 0, sizeof(err)) && err[0], "apply refusal without a message");
		}
	}
	CHECK(s.cfg.default_class < CORRAL_NCLASS, "default class %u", s.cfg.default_class);
	CHECK(s.cfg.v4_prefix <= 32 && s.cfg.v6_prefix <= 128, "aggregate %u/%u",
	      s.cfg.v4_prefix, s.cfg.v6_prefix);
	check_policy(&s);
	check_ports(&s);
	(void)corral_state_tables(&s);
	corral_state_free(&s);
	free(buf);
	return 0;
}
