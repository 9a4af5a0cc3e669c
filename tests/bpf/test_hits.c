// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_hits.c - hit counters per list and limit rule (corral_hits).
 *
 * Policies are written the way the compiler writes them (each entry names
 * the prefix lengths of the rules it applies); the data plane makes a
 * rule's counter entry on its first hit. With the fake clock, every count
 * is exact: packets,
 * bytes, drops and the time of the last hit, for nested deny rules (each
 * source counts to its longest rule), allow rules, a timed deny that
 * expires into the allow around it, a limit rule (drops equal the drop
 * verdicts seen), IPv6, and rules that must count nothing (the default
 * limit, a rule not hit yet).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define T0 (500 * NSEC + 777)

static __u8 frame[256];

static int build4(__u32 src, __u16 sport)
{
	struct pkt_spec s;

	pkt_spec_v4(&s, src, PKT_IP4(10, 77, 0, 2), PKT_UDP, sport, 53);
	s.payload_len = 26;
	return pkt_build(&s, frame, sizeof(frame), NULL);
}

/* n packets from consecutive sources base + 0..n-1 (host part); verdicts counted */
static int send4(struct harness *h, enum h_prog p, __u32 base_host, int n, int *drops,
		 int *len)
{
	int i, r;

	*drops = 0;
	for (i = 0; i < n; i++) {
		*len = build4(__builtin_bswap32(base_host + (__u32)i), 1000 + i);
		r = h_run(h, p, frame, (__u32)*len);
		if (r < 0)
			return r;
		if (r == H_DROP)
			(*drops)++;
	}
	return 0;
}

static void hits(struct harness *h, __u32 kind, int family, const void *addr, int plen,
		 struct corral_hits *v)
{
	int err = h_hits_get(h, kind, family, addr, plen, v);

	if (err)
		TAP_DIAG("hits of rule %u /%d: %s", kind, plen, strerror(-err));
}

static void run(struct harness *h, enum h_prog p)
{
	const char *pn = h_prog_name(p);
	__u32 d16 = PKT_IP4(10, 78, 0, 0), d24 = PKT_IP4(10, 78, 9, 0);
	__u32 a24 = PKT_IP4(10, 77, 5, 0), t24 = PKT_IP4(10, 79, 1, 0), a16 = PKT_IP4(10, 79, 0, 0);
	__u32 l17 = PKT_IP4(10, 79, 128, 0), none24 = PKT_IP4(10, 78, 200, 0);
	__u8 v6[16] = { 0xfd, 0x77, 0x00, 0x78 };
	struct corral_limit lim = { .pkt_rate = 1, .pkt_burst = 4 };
	struct corral_policy tp = {
		.flags = CORRAL_POL_LIST, .list = CORRAL_LIST_DENY, .list_len = 96 + 24,
		.list_after = CORRAL_LIST_ALLOW, .after_len = 96 + 16,
		.list_expires_ns = T0 + 5 * NSEC,
	};
	struct corral_hits v;
	int drops, len, err, i;
	long entries;

	err = h_reset(h);
	if (err) {
		TAP_CHECK(0, "[%s] reset: %s", pn, strerror(-err));
		return;
	}
	h_set_now(h, T0);
	err = h_policy_deny(h, 4, &d16, 16) ?: h_policy_deny(h, 4, &d24, 24) ?:
	      h_policy_allow(h, 4, &a24, 24) ?: h_policy_allow(h, 4, &a16, 16) ?:
	      h_policy_set(h, 4, &t24, 24, &tp) ?: h_policy_limit(h, 4, &l17, 17, &lim) ?:
	      h_policy_deny(h, 4, &none24, 24) ?: h_policy_deny(h, 6, v6, 32);
	if (err) {
		TAP_CHECK(0, "[%s] write the policy: %s", pn, strerror(-err));
		return;
	}
	/* a default limit is no rule: its packets count nowhere */
	h_set_default_limit(h, 1000000, 1000000, 0, 0);

	/* nested deny rules: each source counts to its longest rule */
	err = send4(h, p, 0x0a4e0901, 30, &drops, &len);   /* 10.78.9.1.. in the /24 */
	TAP_CHECK(!err && drops == 30, "[%s] 30 packets to the deny /24 dropped (%d)", pn, drops);
	hits(h, CORRAL_RULE_DENY, 4, &d24, 24, &v);
	TAP_CHECK(v.packets == 30 && v.dropped == 30 && v.bytes == 30ull * len && v.last_ns == T0,
		  "[%s] deny 10.78.9.0/24: packets %llu dropped %llu bytes %llu (want 30 30 %d)", pn,
		  (unsigned long long)v.packets, (unsigned long long)v.dropped,
		  (unsigned long long)v.bytes, 30 * len);
	h_set_now(h, T0 + 7);
	err = send4(h, p, 0x0a4e0101, 20, &drops, &len);   /* 10.78.1.1.. only in the /16 */
	hits(h, CORRAL_RULE_DENY, 4, &d16, 16, &v);
	TAP_CHECK(!err && v.packets == 20 && v.dropped == 20 && v.last_ns == T0 + 7,
		  "[%s] deny 10.78.0.0/16: packets %llu dropped %llu, last hit at the clock", pn,
		  (unsigned long long)v.packets, (unsigned long long)v.dropped);
	hits(h, CORRAL_RULE_DENY, 4, &d24, 24, &v);
	TAP_EQ("deny /24 untouched by /16 sources", v.packets, 30);

	/* allow */
	err = send4(h, p, 0x0a4d0501, 15, &drops, &len);   /* 10.77.5.1.. */
	hits(h, CORRAL_RULE_ALLOW, 4, &a24, 24, &v);
	TAP_CHECK(!err && drops == 0 && v.packets == 15 && v.dropped == 0 &&
		  v.bytes == 15ull * len,
		  "[%s] allow 10.77.5.0/24: packets %llu dropped %llu", pn,
		  (unsigned long long)v.packets, (unsigned long long)v.dropped);

	/* a timed deny counts to itself, then to the allow around it */
	err = send4(h, p, 0x0a4f0101, 10, &drops, &len);   /* 10.79.1.1.. */
	TAP_EQ("timed deny drops before it expires", drops, 10);
	h_set_now(h, T0 + 5 * NSEC);
	err = err ?: send4(h, p, 0x0a4f0101, 12, &drops, &len);
	TAP_EQ("timed deny: nothing dropped once expired", drops, 0);
	hits(h, CORRAL_RULE_DENY, 4, &t24, 24, &v);
	TAP_CHECK(!err && v.packets == 10 && v.dropped == 10,
		  "[%s] timed deny 10.79.1.0/24: packets %llu (want 10)", pn,
		  (unsigned long long)v.packets);
	hits(h, CORRAL_RULE_ALLOW, 4, &a16, 16, &v);
	TAP_CHECK(v.packets == 12 && v.dropped == 0 && v.last_ns == T0 + 5 * NSEC,
		  "[%s] after expiry allow 10.79.0.0/16: packets %llu (want 12)", pn,
		  (unsigned long long)v.packets);

	/* a limit rule: every packet it polices, drops as seen */
	h_set_now(h, T0 + 6 * NSEC);
	for (i = 0, drops = 0; i < 25; i++) {
		int r;

		len = build4(PKT_IP4(10, 79, 200, 9), 2000);
		r = h_run(h, p, frame, (__u32)len);
		drops += r == H_DROP;
	}
	hits(h, CORRAL_RULE_LIMIT, 4, &l17, 17, &v);
	TAP_CHECK(v.packets == 25 && v.dropped == (__u64)drops && drops > 0 && drops < 25 &&
		  v.bytes == 25ull * len,
		  "[%s] limit 10.79.128.0/17: packets %llu dropped %llu = drop verdicts %d", pn,
		  (unsigned long long)v.packets, (unsigned long long)v.dropped, drops);

	/* IPv6 */
	{
		struct pkt_spec s;
		__u8 src[16] = { 0xfd, 0x77, 0x00, 0x78, 0, 1 }, dst[16] = { 0xfd, 0x77, 0, 0, [15] = 2 };

		for (i = 0, drops = 0; i < 7; i++) {
			src[15] = (__u8)i;
			pkt_spec_v6(&s, src, dst, PKT_UDP, 3000, 53);
			len = pkt_build(&s, frame, sizeof(frame), NULL);
			drops += h_run(h, p, frame, (__u32)len) == H_DROP;
		}
		hits(h, CORRAL_RULE_DENY, 6, v6, 32, &v);
		TAP_CHECK(drops == 7 && v.packets == 7 && v.dropped == 7 && v.bytes == 7ull * len,
			  "[%s] deny fd77:78::/32: packets %llu dropped %llu", pn,
			  (unsigned long long)v.packets, (unsigned long long)v.dropped);
	}

	/* the first hit made each entry: one per rule hit, none for the
	 * default limit or for a rule not hit */
	entries = h_hits_count(h);
	TAP_CHECK(entries == 7, "[%s] %ld counter entries, one per rule hit (want 7)", pn, entries);
	err = send4(h, p, 0x0a4d6401, 5, &drops, &len);    /* 10.77.100.1..: no rule */
	TAP_CHECK(!err && drops == 0 && h_hits_count(h) == entries,
		  "[%s] sources under the default limit make no entry (%ld)", pn, h_hits_count(h));
	TAP_CHECK(h_hits_get(h, CORRAL_RULE_DENY, 4, &none24, 24, &v) == -ENOENT,
		  "[%s] a rule not hit has no entry", pn);
	err = send4(h, p, 0x0a4ec801, 5, &drops, &len);    /* 10.78.200.1.. */
	hits(h, CORRAL_RULE_DENY, 4, &none24, 24, &v);
	TAP_CHECK(!err && drops == 5 && v.packets == 5 && v.dropped == 5 &&
		  h_hits_count(h) == entries + 1,
		  "[%s] its first hits make it: packets %llu dropped %llu", pn,
		  (unsigned long long)v.packets, (unsigned long long)v.dropped);
}

int main(void)
{
	enum h_prog progs[] = { H_XDP, H_TC_IN };
	struct harness h;
	unsigned int p;
	int err = h_open(&h, NULL);

	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	for (p = 0; p < 2; p++)
		run(&h, progs[p]);
	h_close(&h);
	return tap_done();
}
