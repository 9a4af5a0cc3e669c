// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_save.c - "corral save" round trip as a property, without the kernel.
 *
 * For each of SAVE_CASES random policies (fixed seed, so a failure is
 * reproducible; SAVE_SEED overrides it): random command lines are parsed and
 * applied to a fresh state as a batch would be (a line the state refuses,
 * such as an allow and a deny of one prefix, is left out), the state is
 * saved, the saved text is parsed and applied to another fresh state, and
 *  - the two states are equal: configuration, SYN gate, shed word, every
 *    prefix and port rule;
 *  - saving the second state gives the same text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch.h"
#include "dev_cmd.h"
#include "save.h"
#include "state.h"
#include "syn_cmd.h"

#define SAVE_CASES 2000

static __u64 rng;

static __u64 next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static unsigned int pick(unsigned int n)
{
	return (unsigned int)(next() % n);
}

/* the policy: state, SYN ports and devices, as a corral would hold them */
struct pol {
	struct corral_state s;
	struct corral_portset ports;
	struct corral_dev_entry devs[4];
	int ndev;
};

static void pol_init(struct pol *p)
{
	memset(p, 0, sizeof(*p));
	corral_state_init(&p->s);
}

/* apply one command line; 0 when applied, else refused (left out) */
static int pol_line(struct pol *p, const char *text)
{
	char buf[8192], *argv[CORRAL_BATCH_MAX_WORDS], err[512];
	struct corral_op op;
	int argc, r;

	snprintf(buf, sizeof(buf), "%s", text);
	argc = corral_split_words(buf, argv, CORRAL_BATCH_MAX_WORDS);
	assert_true(argc >= 0);
	if (!argc)
		return 0;
	if (!strcmp(argv[0], "syn")) {
		struct corral_syn_op so;

		r = corral_syn_parse(argc, argv, &so, err, sizeof(err));
		if (r)
			return r;
		corral_syn_cfg_apply(&p->s.cfg, &so);
		if (so.off)
			memset(&p->ports, 0, sizeof(p->ports));
		else
			p->ports = so.ports;
		return 0;
	}
	if (!strcmp(argv[0], "attach")) {
		struct corral_dev_op d;

		r = corral_dev_parse(argc, argv, false, &d, err, sizeof(err));
		if (r)
			return r;
		for (int i = 0; i < p->ndev; i++)
			if (!strcmp(p->devs[i].dev.ifname, d.ifname))
				return -EEXIST;
		if (p->ndev == 4)
			return -E2BIG;
		snprintf(p->devs[p->ndev].dev.ifname, sizeof(p->devs[0].dev.ifname), "%s", d.ifname);
		p->devs[p->ndev].dev.mode = d.o.mode;
		p->devs[p->ndev].dev.egress = d.o.egress;
		p->devs[p->ndev].ifindex = (__u32)p->ndev + 1;
		p->ndev++;
		return 0;
	}
	r = corral_op_parse(argc, argv, &op, err, sizeof(err));
	if (r)
		return r;
	return corral_state_apply(&p->s, &op, err, sizeof(err));
}

struct text {
	char *buf;
	size_t len, cap;
	struct pol *into;   /* when set, each line is applied to it too */
};

static int collect(void *arg, const char *line)
{
	struct text *t = arg;
	size_t n = strlen(line);

	if (t->len + n + 2 > t->cap) {
		t->cap = (t->len + n + 2) * 2;
		t->buf = realloc(t->buf, t->cap);
		assert_non_null(t->buf);
	}
	memcpy(t->buf + t->len, line, n);
	t->len += n;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = 0;
	if (t->into && line[0] != '#') {
		int r = pol_line(t->into, line);

		if (r)
			fail_msg("saved line refused: \"%s\" (%d)", line, r);
	}
	return 0;
}

static void save(struct pol *p, struct text *t, struct pol *into)
{
	struct corral_save_in in = { &p->s, &p->ports, p->devs, p->ndev };

	memset(t, 0, sizeof(*t));
	t->into = into;
	assert_int_equal(corral_save_emit(&in, collect, t), 0);
}

/* ---- random command lines ---------------------------------------------------- */

static void rand_prefix(char *buf, size_t len)
{
	if (pick(3)) {
		__u32 plen = pick(33), a = (__u32)next();

		/* a few networks only, so rules meet and conflict */
		a = (10u << 24) | (pick(4) << 16) | (a & 0xffff);
		a = plen ? a & ~((plen == 32 ? 0u : 0xffffffffu >> plen)) : 0;
		snprintf(buf, len, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
			 a & 255, plen);
	} else {
		unsigned int plen = pick(65);
		__u16 w[4] = { 0xfd77, (__u16)pick(3), (__u16)next(), (__u16)next() };
		__u64 v = ((__u64)w[0] << 48) | ((__u64)w[1] << 32) | ((__u64)w[2] << 16) | w[3];

		v = plen ? v & ~(plen == 64 ? 0ull : ~0ull >> plen) : 0;
		snprintf(buf, len, "%llx:%llx:%llx:%llx::/%u", (unsigned long long)(v >> 48),
			 (unsigned long long)(v >> 32) & 0xffff, (unsigned long long)(v >> 16) & 0xffff,
			 (unsigned long long)v & 0xffff, plen);
	}
}

static void rand_limit(char *buf, size_t len)
{
	static const char *const rate[] = { "1", "100pps", "7kpps", "2mpps", "999" };
	static const char *const bytes[] = { "8bit", "800kbit", "10mbit", "1gbit", "12345bit" };
	static const char *const size[] = { "1", "1500b", "64kb", "1mb", "3000" };
	size_t n = 0;
	unsigned int k = pick(3);   /* 0: packets, 1: bytes, 2: both */

	buf[0] = 0;
	if (k != 1) {
		n += (size_t)snprintf(buf + n, len - n, " rate %s", rate[pick(5)]);
		if (pick(2))
			n += (size_t)snprintf(buf + n, len - n, " burst %u", 1 + pick(5000));
	}
	if (k != 0) {
		n += (size_t)snprintf(buf + n, len - n, " bytes %s", bytes[pick(5)]);
		if (pick(2))
			snprintf(buf + n, len - n, " bburst %s", size[pick(5)]);
	}
}

static void rand_ports(char *buf, size_t len)
{
	size_t n = 0;
	unsigned int k = 1 + pick(4);

	for (unsigned int i = 0; i < k; i++) {
		unsigned int lo = 1 + pick(65535);

		if (pick(3))
			n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "," : "", lo);
		else
			n += (size_t)snprintf(buf + n, len - n, "%s%u-%u", i ? "," : "", lo,
					      lo + pick(65536 - lo));
	}
}

static void rand_line(char *buf, size_t len)
{
	static const char *const proto[] = { "tcp", "udp", "icmp", "icmpv6", "sctp", "any" };
	static const char *const dur[] = { "1s", "250ms", "1500us", "7", "90s", "1m" };
	static const char *const modes[] = { "xdp", "xdp-generic", "tc" };
	char p[64], l[160];

	switch (pick(17)) {
	case 0:
		snprintf(buf, len, "mode set %s malformed %s", pick(2) ? "enforce" : "monitor",
			 pick(2) ? "pass" : "drop");
		break;
	case 1:
		snprintf(buf, len, "aggregate set v4 %u v6 %u class %s", 1 + pick(32), 1 + pick(128),
			 pick(2) ? "on" : "off");
		break;
	case 2:
		rand_limit(l, sizeof(l));
		snprintf(buf, len, "limit add %s%s", pick(4) ? "default" : "egress", l);
		break;
	case 3:
	case 4:
		rand_prefix(p, sizeof(p));
		rand_limit(l, sizeof(l));
		snprintf(buf, len, "limit add %s%s", p, l);
		break;
	case 5: {
		const char *pr = proto[pick(6)];

		if (pick(2) && strcmp(pr, "icmp") && strcmp(pr, "icmpv6"))
			rand_ports(p, sizeof(p)), snprintf(buf, len, "class add %u proto %s dport %s",
							    pick(8), pr, strchr(p, ',') ? "80" : p);
		else
			snprintf(buf, len, "class add %u proto %s", pick(8), pr);
		break;
	}
	case 6:
		rand_prefix(p, sizeof(p));
		snprintf(buf, len, "class add %u src %s", pick(8), p);
		break;
	case 7:
		snprintf(buf, len, "class add %u dscp %u", pick(8), pick(64));
		break;
	case 8:
		snprintf(buf, len, "class default %u", pick(8));
		break;
	case 9:
	case 10:
		rand_prefix(p, sizeof(p));
		snprintf(buf, len, "%s add %s", pick(2) ? "allow" : "deny", p);
		break;
	case 11:
		if (pick(4))
			snprintf(buf, len, "shed set %u.%u scope %s", pick(8), pick(10000),
				 pick(2) ? "new" : "all");
		else
			snprintf(buf, len, "shed off");
		break;
	case 12:
		snprintf(buf, len, "shed tune epoch %s timeout %s", dur[pick(6)], dur[pick(6)]);
		break;
	case 15:
		snprintf(buf, len, "class set %u action %s", pick(8), pick(3) ? "reject" : "drop");
		break;
	case 16:
		if (pick(2))
			snprintf(buf, len, "class reply rate %upps burst %u", 1 + pick(5000),
				 1 + pick(500));
		else
			snprintf(buf, len, "class reply rate %upps", 1 + pick(5000));
		break;
	case 13: {
		static const char *const herd[] = { "auto", "off", "on" };
		unsigned int h = pick(3);

		if (!pick(5)) {
			snprintf(buf, len, "syn off");
			break;
		}
		rand_ports(p, sizeof(p));
		snprintf(buf, len, "syn set ports %s%s herd %s window %s%s", p,
			 pick(2) ? " rate 2kpps" : "", herd[h],
			 h == 2 || pick(2) ? dur[pick(5)] : "auto",
			 pick(3) ? "" : pick(2) ? " cookies on" : " cookies off");
		break;
	}
	default:
		snprintf(buf, len, "attach dev cev%u mode %s%s", pick(6), modes[pick(3)],
			 pick(3) ? "" : " egress");
		break;
	}
}

/* ---- comparison ----------------------------------------------------------------- */

/* field by field: the rule arrays grow by realloc, so padding is not set */
static int prule_cmp(const void *pa, const void *pb)
{
	const struct corral_prule *a = pa, *b = pb;
	int r = memcmp(&a->key, &b->key, sizeof(a->key));

	return r ? r : memcmp(&a->val, &b->val, sizeof(a->val));
}

static int ptrule_cmp(const void *pa, const void *pb)
{
	const struct corral_ptrule *a = pa, *b = pb;
	int r = memcmp(&a->key, &b->key, sizeof(a->key));

	return r ? r : (int)a->cls - (int)b->cls;
}

static bool rules_equal(const void *a, const void *b, size_t n, size_t sz,
			int (*cmp)(const void *, const void *))
{
	for (size_t i = 0; i < n; i++)
		if (cmp((const char *)a + i * sz, (const char *)b + i * sz))
			return false;
	return true;
}

static void assert_same(struct pol *a, struct pol *b, const char *saved)
{
	struct corral_cfg ca = a->s.cfg, cb = b->s.cfg;

	if (!ca.syn_on) {
		/* "syn off" keeps the last rate/burst/window in cfg; they gate nothing */
		ca.syn_rate = cb.syn_rate = ca.syn_burst = cb.syn_burst = 0;
		ca.syn_window_ns = cb.syn_window_ns = 0;
	}
	if (memcmp(&ca, &cb, sizeof(ca)))
		fail_msg("configuration differs after the round trip of:\n%s", saved);
	if (memcmp(&a->ports, &b->ports, sizeof(a->ports)))
		fail_msg("SYN ports differ after the round trip of:\n%s", saved);
	/* a saved shed word is the manual one; the flags and level must survive */
	if (a->s.shed != b->s.shed && (a->s.shed || b->s.shed))
		fail_msg("shed word %llx != %llx:\n%s", (unsigned long long)a->s.shed,
			 (unsigned long long)b->s.shed, saved);
	assert_int_equal(a->s.npr, b->s.npr);
	assert_int_equal(a->s.npt, b->s.npt);
	if (a->s.npr) {
		qsort(a->s.pr, a->s.npr, sizeof(*a->s.pr), prule_cmp);
		qsort(b->s.pr, b->s.npr, sizeof(*b->s.pr), prule_cmp);
		if (!rules_equal(a->s.pr, b->s.pr, a->s.npr, sizeof(*a->s.pr), prule_cmp))
			fail_msg("prefix rules differ after the round trip of:\n%s", saved);
	}
	if (a->s.npt) {
		qsort(a->s.pt, a->s.npt, sizeof(*a->s.pt), ptrule_cmp);
		qsort(b->s.pt, b->s.npt, sizeof(*b->s.pt), ptrule_cmp);
		if (!rules_equal(a->s.pt, b->s.pt, a->s.npt, sizeof(*a->s.pt), ptrule_cmp))
			fail_msg("port rules differ after the round trip of:\n%s", saved);
	}
	assert_int_equal(a->ndev, b->ndev);
}

static void test_round_trip_property(void **state)
{
	static struct pol a, b, c;
	const char *seed = getenv("SAVE_SEED");
	unsigned long lines = 0, refused = 0, saved_lines = 0;

	rng = seed ? strtoull(seed, NULL, 0) : 0x5eed0c0442a1ull;
	if (!rng)
		rng = 1;
	for (int n = 0; n < SAVE_CASES; n++) {
		struct text t1, t2;
		char line[512];
		unsigned int k = pick(40);

		pol_init(&a);
		for (unsigned int i = 0; i < k; i++) {
			rand_line(line, sizeof(line));
			lines++;
			refused += pol_line(&a, line) != 0;
		}
		pol_init(&b);
		save(&a, &t1, &b);
		assert_same(&a, &b, t1.buf);
		pol_init(&c);
		save(&b, &t2, &c);
		if (strcmp(t1.buf, t2.buf))
			fail_msg("saving the restored state gives other text:\n%s\n---\n%s", t1.buf,
				 t2.buf);
		for (const char *q = t1.buf; *q; q++)
			saved_lines += *q == '\n';
		free(t1.buf);
		free(t2.buf);
		corral_state_free(&a.s);
		corral_state_free(&b.s);
		corral_state_free(&c.s);
	}
	print_message("save round trip: %d random policies, %lu command lines (%lu refused by the "
		      "state), %lu saved lines, all equal after restore\n",
		      SAVE_CASES, lines, refused, saved_lines);
}

/* the canonical text of one known policy */
static void test_save_text(void **state)
{
	static struct pol a;
	static const char *const in[] = {
		"attach dev eth1 mode tc egress",
		"attach dev eth0 mode xdp",
		"limit add default rate 1kpps burst 200",
		"limit add 10.0.0.0/8 bytes 80mbit",
		"class add 0 proto tcp dport 22",
		"class add 6 src 198.51.100.0/24",
		"deny add fd77:1::/32",
		"deny add 192.0.2.1 timeout 90s",
		"allow add 198.51.100.7 timeout 1500ms",
		"shed set 5.25",
		"syn set ports 443,8000-8009 rate 2kpps herd on window 5s",
	};
	static const char want[] =
		"attach dev eth0 mode xdp\n"
		"attach dev eth1 mode tc egress\n"
		"mode set enforce malformed drop\n"
		"aggregate set v4 32 v6 64 class off\n"
		"class default 4\n"
		"class add 0 proto tcp dport 22\n"
		"class add 6 src 198.51.100.0/24\n"
		"limit add default rate 1000pps burst 200\n"
		"limit add 10.0.0.0/8 bytes 80000000bit bburst 1000000\n"
		"allow add 198.51.100.7/32 timeout 2s\n"
		"deny add fd77:1::/32\n"
		"deny add 192.0.2.1/32 timeout 90s\n"
		"shed tune epoch 60s timeout 2s\n"
		"shed set 5.25 scope new\n"
		"syn set ports 443,8000-8009 rate 2000pps burst 200 herd on window 5s\n";
	struct text t;

	pol_init(&a);
	a.s.now_ns = 1000000000000ull;   /* the clock timeouts count from */
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(pol_line(&a, in[i]), 0);
	save(&a, &t, NULL);
	assert_string_equal(t.buf, want);
	free(t.buf);
	corral_state_free(&a.s);
}

/*
 * test_save --emit N DIR: write N random policies as saved text (DIR/pI),
 * without devices, for the round trip through the kernel's maps
 * (tests/e2e/save.bats).
 */
static int emit_files(int n, const char *dir)
{
	static struct pol a;

	rng = 0x5eed0c0442a1ull;
	for (int f = 0; f < n; f++) {
		char path[512], line[512];
		struct text t;
		unsigned int k = 5 + pick(40);
		FILE *o;

		pol_init(&a);
		for (unsigned int i = 0; i < k; i++) {
			rand_line(line, sizeof(line));
			if (strncmp(line, "attach", 6))
				pol_line(&a, line);
		}
		save(&a, &t, NULL);
		snprintf(path, sizeof(path), "%s/p%d", dir, f);
		o = fopen(path, "w");
		if (!o || fputs(t.buf, o) < 0 || fclose(o)) {
			perror(path);
			return 1;
		}
		free(t.buf);
		corral_state_free(&a.s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--emit"))
		return emit_files(atoi(argv[2]), argv[3]);
	{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_text),
		cmocka_unit_test(test_round_trip_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
	}
}
