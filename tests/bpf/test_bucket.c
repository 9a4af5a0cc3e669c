// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_bucket.c - per-source token buckets with the fake clock.
 *
 * GCRA contract (bpf/bucket.h): at a frozen clock exactly `burst` packets
 * pass; after dt, exactly floor(dt / cost) more (cost = 1e9 / rate ns,
 * the remainder carried over), never more than `burst` after an idle
 * period. Byte buckets likewise with cost = len * 1e9 / byte_rate. A byte
 * refusal gives the packet token back. Sources aggregate to the configured
 * prefix; key_class splits a source by class; a prefix limit overrides
 * the default.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define MSEC 1000000ULL
#define T0 (100 * NSEC)

struct frame {
	__u8 b[PKT_BUF_MAX];
	int len;
};

/* a UDP frame from src4 of exactly len bytes (len >= 42) */
static void frame4(struct frame *f, __u32 src, __u16 dport, int len)
{
	struct pkt_spec s;

	pkt_spec_v4(&s, src, PKT_IP4(10, 77, 0, 2), PKT_UDP, 40000, dport);
	s.payload_len = len - 42;
	f->len = pkt_build(&s, f->b, sizeof(f->b), NULL);
}

static void frame4_tcp(struct frame *f, __u32 src, __u16 dport)
{
	struct pkt_spec s;

	pkt_spec_v4(&s, src, PKT_IP4(10, 77, 0, 2), PKT_TCP, 40000, dport);
	s.payload_len = 10;
	f->len = pkt_build(&s, f->b, sizeof(f->b), NULL);
}

static void frame6(struct frame *f, const __u8 src[16])
{
	struct pkt_spec s;
	__u8 dst[16];

	pkt_ip6(dst, 0xfd77, 0, 1, 0, 0, 0, 0, 2);
	pkt_spec_v6(&s, src, dst, PKT_UDP, 40000, 53);
	s.payload_len = 10;
	f->len = pkt_build(&s, f->b, sizeof(f->b), NULL);
}

/* send n copies; returns passes, or -1 on a run error */
static long send_n(struct harness *h, enum h_prog p, const struct frame *f, long n)
{
	long pass = 0, i;

	for (i = 0; i < n; i++) {
		int v = h_run(h, p, f->b, f->len);

		if (v < 0)
			return -1;
		pass += v == H_PASS;
	}
	return pass;
}

static void reset(struct harness *h)
{
	if (h_reset(h))
		TAP_CHECK(0, "reset maps");
	h_set_now(h, T0);
}

/*
 * Packet buckets: rate, burst and a list of clock steps. Passes after the
 * cumulative time D are burst + floor(D / cost) while the bucket never
 * fills; each step drains the bucket (sends burst + 5).
 */
static void pkt_case(struct harness *h, enum h_prog p, __u64 rate, __u64 burst,
		     const __u64 *steps, int nsteps)
{
	__u64 cost = NSEC / rate, D = 0, prev = 0;
	struct h_stats before, after;
	struct frame f;
	long got, want, total = 0;
	int i, ok = 1;
	char why[256] = "";
	int m = 0;

	reset(h);
	h_set_default_limit(h, rate, burst, 0, 0);
	frame4(&f, PKT_IP4(10, 78, 0, 1), 53, 60);
	h_stats_read(h, &before);
	got = send_n(h, p, &f, burst + 5);
	total += got;
	TAP_EQ("pkt bucket: passes at t0 = burst", got, burst);
	for (i = 0; i < nsteps; i++) {
		__u64 k;

		D += steps[i];
		k = D / cost;
		want = (long)(k - prev);
		if (want > (long)burst)
			want = burst;
		prev = k;
		h_set_now(h, T0 + D);
		got = send_n(h, p, &f, burst + 5);
		total += got;
		if (got != want) {
			ok = 0;
			m += snprintf(why + m, sizeof(why) - m, " [dt %llu ns: %ld want %ld]",
				      (unsigned long long)steps[i], got, want);
		}
	}
	h_stats_read(h, &after);
	TAP_CHECK(ok, "[%s] rate %llu/s burst %llu: after each of %d clock steps exactly "
		  "floor(D/cost) more pass%s", h_prog_name(p), (unsigned long long)rate,
		  (unsigned long long)burst, nsteps, why);
	TAP_CHECK(h_pkts(&after, &before, 4, CORRAL_R_PASS) == (__u64)total &&
		  h_pkts(&after, &before, 4, CORRAL_R_RATE) ==
		  (__u64)(burst + 5) * (nsteps + 1) - total,
		  "[%s] rate %llu/s: counters pass %llu rate %llu match the verdicts (%ld passed)",
		  h_prog_name(p), (unsigned long long)rate,
		  (unsigned long long)h_pkts(&after, &before, 4, CORRAL_R_PASS),
		  (unsigned long long)h_pkts(&after, &before, 4, CORRAL_R_RATE), total);
}

static void test_pkt_buckets(struct harness *h, enum h_prog p)
{
	const __u64 s100[] = { 10 * MSEC, 50 * MSEC, 35 * MSEC, 5 * MSEC, 5 * MSEC, 99 * MSEC };
	const __u64 s1000[] = { 1 * MSEC, 20 * MSEC, 49 * MSEC, MSEC / 2, MSEC / 2 };
	const __u64 s7[] = { NSEC, NSEC / 2, NSEC / 2, 300 * MSEC };
	const __u64 s3[] = { NSEC, 200 * MSEC, 200 * MSEC };
	const __u64 s1[] = { NSEC - 1, 1, 3 * NSEC / 2 };
	const __u64 idle[] = { 10 * NSEC, 1 * MSEC };

	pkt_case(h, p, 100, 10, s100, 6);
	pkt_case(h, p, 1000, 50, s1000, 5);
	pkt_case(h, p, 7, 10, s7, 4);         /* cost 142857142 ns: not a divisor of 1 s */
	pkt_case(h, p, 3, 3, s3, 3);
	pkt_case(h, p, 1, 1, s1, 3);
	/* an idle bucket refills to burst, no more */
	pkt_case(h, p, 100, 20, idle, 2);
}

/* byte buckets: rate 1e6 B/s (1000 ns per byte), burst in bytes */
static void byte_case(struct harness *h, enum h_prog p, __u64 byte_rate, __u64 byte_burst,
		      int len, __u64 dt)
{
	__u64 cost = (__u64)len * NSEC / byte_rate, limit = byte_burst * NSEC / byte_rate;
	struct frame f;
	long got, n0, want;

	reset(h);
	h_set_default_limit(h, 0, 0, byte_rate, byte_burst);
	frame4(&f, PKT_IP4(10, 78, 0, 1), 53, len);
	if (f.len != len) {
		TAP_CHECK(0, "byte bucket: build a %d-byte frame", len);
		return;
	}
	n0 = limit / cost;
	got = send_n(h, p, &f, n0 + 5);
	TAP_CHECK(got == n0, "[%s] byte bucket %llu B/s burst %llu B, %d-byte frames: %ld pass at t0,"
		  " want floor(burst/len) = %ld", h_prog_name(p), (unsigned long long)byte_rate,
		  (unsigned long long)byte_burst, len, got, n0);
	/* the unused part of the burst carries over */
	want = (limit - n0 * cost + dt) / cost;
	if (want > n0)
		want = n0;
	h_set_now(h, T0 + dt);
	got = send_n(h, p, &f, n0 + 5);
	TAP_CHECK(got == want, "[%s] byte bucket %llu B/s, %d-byte frames: after %llu ns %ld more"
		  " pass, want %ld", h_prog_name(p), (unsigned long long)byte_rate, len,
		  (unsigned long long)dt, got, want);
}

static void test_byte_buckets(struct harness *h, enum h_prog p)
{
	byte_case(h, p, 1000000, 1000, 100, 500 * 1000);     /* 10 at t0, 5 after 500 us */
	byte_case(h, p, 1000000, 1000, 250, 750 * 1000);     /* 4, then 3 */
	byte_case(h, p, 1000000, 1000, 64, 300 * 1000);      /* 15 (40 B left), then 5 */
	byte_case(h, p, 125000, 15000, 1500, 24 * MSEC);     /* 1 Mbit/s: 10, then 2 */
	byte_case(h, p, 1000000, 3000, 1000, 10 * NSEC);     /* idle: refill to burst only */
}

/* packet and byte bucket together */
static void test_combined(struct harness *h, enum h_prog p)
{
	struct frame f;
	long got;

	/* pkt 10/s burst 5; bytes 1e6 B/s burst 300: three 100-byte frames */
	reset(h);
	h_set_default_limit(h, 10, 5, 1000000, 300);
	frame4(&f, PKT_IP4(10, 78, 0, 1), 53, 100);
	got = send_n(h, p, &f, 10);
	TAP_EQ("combined: the byte bucket admits 3 of 10", got, 3);
	/* lift the byte limit: 2 packet tokens remain if the refusals refunded theirs */
	h_set_default_limit(h, 10, 5, 0, 0);
	got = send_n(h, p, &f, 10);
	TAP_CHECK(got == 2, "[%s] combined: a byte refusal refunds the packet token (%ld pass"
		  " after lifting the byte limit, want 5 - 3 = 2)", h_prog_name(p), got);

	/* a packet refusal does not charge the byte bucket */
	reset(h);
	h_set_default_limit(h, 10, 2, 1000000, 1000);
	got = send_n(h, p, &f, 5);
	TAP_EQ("combined: the packet bucket admits 2 of 5", got, 2);
	h_set_default_limit(h, 0, 0, 1000000, 1000);
	got = send_n(h, p, &f, 20);
	TAP_CHECK(got == 8, "[%s] combined: packet refusals did not charge bytes (%ld pass, want"
		  " (1000 - 200) / 100 = 8)", h_prog_name(p), got);
}

/* sources in one aggregation prefix share a bucket */
static void test_aggregate(struct harness *h, enum h_prog p)
{
	struct corral_cfg c;
	struct frame a, b, other;
	__u8 s6a[16], s6b[16], s6c[16];
	long pa = 0, pb = 0, i;
	long n;

	reset(h);
	h_cfg_get(h, &c);
	c.v4_prefix = 24;
	c.dflt.pkt_rate = 1;
	c.dflt.pkt_burst = 10;
	h_cfg_set(h, &c);
	frame4(&a, PKT_IP4(10, 78, 1, 5), 53, 60);
	frame4(&b, PKT_IP4(10, 78, 1, 200), 53, 60);
	frame4(&other, PKT_IP4(10, 78, 2, 5), 53, 60);
	for (i = 0; i < 10; i++) {
		pa += send_n(h, p, &a, 1);
		pb += send_n(h, p, &b, 1);
	}
	TAP_CHECK(pa + pb == 10 && pa == 5 && pb == 5,
		  "[%s] v4 /24: 10.78.1.5 and 10.78.1.200 share burst 10 (%ld + %ld pass)",
		  h_prog_name(p), pa, pb);
	n = send_n(h, p, &other, 15);
	TAP_CHECK(n == 10, "[%s] v4 /24: 10.78.2.5 has its own bucket (%ld pass)", h_prog_name(p), n);
	n = h_buckets_count(h);
	TAP_EQ("v4 /24: two buckets tracked", n, 2);

	/* IPv6 default /64 */
	reset(h);
	h_set_default_limit(h, 1, 10, 0, 0);
	pkt_ip6(s6a, 0xfd77, 0x78, 0, 1, 0, 0, 0, 5);
	pkt_ip6(s6b, 0xfd77, 0x78, 0, 1, 0xffff, 0x1234, 0, 9);
	pkt_ip6(s6c, 0xfd77, 0x78, 0, 2, 0, 0, 0, 5);
	frame6(&a, s6a);
	frame6(&b, s6b);
	frame6(&other, s6c);
	pa = pb = 0;
	for (i = 0; i < 10; i++) {
		pa += send_n(h, p, &a, 1);
		pb += send_n(h, p, &b, 1);
	}
	TAP_CHECK(pa + pb == 10, "[%s] v6 /64: two hosts in fd77:78:0:1::/64 share burst 10 "
		  "(%ld + %ld pass)", h_prog_name(p), pa, pb);
	n = send_n(h, p, &other, 15);
	TAP_CHECK(n == 10, "[%s] v6 /64: fd77:78:0:2::5 has its own bucket (%ld pass)",
		  h_prog_name(p), n);

	/* IPv6 /48 puts all three in one bucket */
	reset(h);
	h_cfg_get(h, &c);
	c.v6_prefix = 48;
	c.dflt.pkt_rate = 1;
	c.dflt.pkt_burst = 10;
	h_cfg_set(h, &c);
	n = send_n(h, p, &a, 4) + send_n(h, p, &b, 4) + send_n(h, p, &other, 4) +
	    send_n(h, p, &a, 4);
	TAP_CHECK(n == 10, "[%s] v6 /48: three /64s share one bucket (%ld pass)", h_prog_name(p), n);
	n = h_buckets_count(h);
	TAP_EQ("v6 /48: one bucket tracked", n, 1);
}

/* key_class = 1: one source, one bucket per class */
static void test_key_class(struct harness *h, enum h_prog p)
{
	struct h_stats before, after;
	struct corral_cfg c;
	struct frame f80, f443;
	__u32 src = PKT_IP4(10, 78, 3, 3);
	long n;
	int kc;

	for (kc = 0; kc <= 1; kc++) {
		reset(h);
		h_cfg_get(h, &c);
		c.key_class = kc;
		c.dflt.pkt_rate = 1;
		c.dflt.pkt_burst = 5;
		h_cfg_set(h, &c);
		h_port_set(h, CORRAL_PI_TCP, 80, 80, 2);
		h_port_set(h, CORRAL_PI_TCP, 443, 443, 3);
		frame4_tcp(&f80, src, 80);
		frame4_tcp(&f443, src, 443);
		h_stats_read(h, &before);
		n = send_n(h, p, &f80, 10) + send_n(h, p, &f443, 10);
		h_stats_read(h, &after);
		if (kc)
			TAP_CHECK(n == 10 && h_pkts(&after, &before, 2, CORRAL_R_PASS) == 5 &&
				  h_pkts(&after, &before, 3, CORRAL_R_PASS) == 5,
				  "[%s] key_class=1: classes 2 and 3 of one source get a burst each "
				  "(%ld pass; class 2 %llu, class 3 %llu)", h_prog_name(p), n,
				  (unsigned long long)h_pkts(&after, &before, 2, CORRAL_R_PASS),
				  (unsigned long long)h_pkts(&after, &before, 3, CORRAL_R_PASS));
		else
			TAP_CHECK(n == 5 && h_pkts(&after, &before, 3, CORRAL_R_RATE) == 10,
				  "[%s] key_class=0: classes 2 and 3 of one source share the bucket "
				  "(%ld pass, class 3 rate drops %llu)", h_prog_name(p), n,
				  (unsigned long long)h_pkts(&after, &before, 3, CORRAL_R_RATE));
	}
}

/* a prefix limit overrides the default; the longest prefix wins */
static void test_prefix_limit(struct harness *h, enum h_prog p)
{
	struct corral_limit l24 = { .pkt_rate = 1, .pkt_burst = 3 };
	struct corral_limit l28 = { .pkt_rate = 1, .pkt_burst = 6 };
	struct corral_limit l6 = { .pkt_rate = 1, .pkt_burst = 2 };
	struct corral_limit none = { 0 };
	__u32 p24 = PKT_IP4(10, 78, 5, 0), p28 = PKT_IP4(10, 78, 5, 16);
	__u32 p_free = PKT_IP4(10, 78, 6, 0);
	__u8 p6[16], s6[16];
	struct frame f;
	long n;
	int err = 0;

	reset(h);
	h_set_default_limit(h, 1, 10, 0, 0);
	err = err ?: h_policy_limit(h, 4, &p24, 24, &l24);
	err = err ?: h_policy_limit(h, 4, &p28, 28, &l28);
	err = err ?: h_policy_limit(h, 4, &p_free, 24, &none);
	pkt_ip6(p6, 0xfd77, 0x78, 0x55, 0, 0, 0, 0, 0);
	err = err ?: h_policy_limit(h, 6, p6, 48, &l6);
	if (err) {
		TAP_CHECK(0, "prefix limits: write policy: %s", strerror(-err));
		return;
	}
	frame4(&f, PKT_IP4(10, 78, 5, 1), 53, 60);
	n = send_n(h, p, &f, 20);
	TAP_CHECK(n == 3, "[%s] prefix limit 10.78.5.0/24 burst 3 overrides default 10 (%ld pass)",
		  h_prog_name(p), n);
	frame4(&f, PKT_IP4(10, 78, 5, 20), 53, 60);
	n = send_n(h, p, &f, 20);
	TAP_CHECK(n == 6, "[%s] longer prefix 10.78.5.16/28 burst 6 wins (%ld pass)",
		  h_prog_name(p), n);
	frame4(&f, PKT_IP4(10, 78, 7, 1), 53, 60);
	n = send_n(h, p, &f, 20);
	TAP_CHECK(n == 10, "[%s] outside the prefixes: the default burst 10 (%ld pass)",
		  h_prog_name(p), n);
	frame4(&f, PKT_IP4(10, 78, 6, 1), 53, 60);
	n = send_n(h, p, &f, 40);
	TAP_CHECK(n == 40, "[%s] a zero prefix limit means no limit (%ld of 40 pass)",
		  h_prog_name(p), n);
	pkt_ip6(s6, 0xfd77, 0x78, 0x55, 9, 0, 0, 0, 1);
	frame6(&f, s6);
	n = send_n(h, p, &f, 20);
	TAP_CHECK(n == 2, "[%s] v6 prefix limit fd77:78:55::/48 burst 2 (%ld pass)",
		  h_prog_name(p), n);
}

int main(void)
{
	enum h_prog progs[] = { H_XDP, H_TC_IN };
	struct harness h;
	unsigned int i;
	int err;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	for (i = 0; i < 2; i++) {
		TAP_DIAG("%s", h_prog_name(progs[i]));
		test_pkt_buckets(&h, progs[i]);
		test_byte_buckets(&h, progs[i]);
		test_combined(&h, progs[i]);
		test_aggregate(&h, progs[i]);
		test_key_class(&h, progs[i]);
		test_prefix_limit(&h, progs[i]);
	}
	h_close(&h);
	return tap_done();
}
