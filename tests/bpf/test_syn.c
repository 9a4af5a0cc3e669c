// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_syn.c - the SYN gate of protected ports (bpf/syn.h), with the fake
 * clock.
 *
 * Herd mode: each source key's admission offset lies inside the window
 * and the offsets of 10,000 sources are spread evenly (chi-square over 20
 * bins); a SYN before herd_start + offset is deferred and from then on
 * the source passes; resizing the window keeps each source's relative
 * place; a new salt deals new offsets. The global bucket admits exactly
 * burst at a frozen clock and then one SYN per 1/rate. Only TCP SYN
 * without ACK to a protected port meets the gate. A controller word
 * (CORRAL_SYN_HB) is ignored once the heartbeat is stale and the static
 * rate applies, without herd mode. Monitor mode counts deferred and
 * capped SYNs as would-drops and passes them.
 *
 * Offsets are measured from outside: the smallest whole millisecond after
 * herd_start at which a source's SYN is admitted (binary search, then the
 * nanosecond before it is checked to be deferred).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "corral.skel.h"
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define MSEC 1000000ULL
#define T0 (1000 * NSEC)
#define NSRC 10000
#define NBIN 20
#define PORT 80
#define SALT1 0x5eed0001c0ffee11ULL
#define SALT2 0x0badcafe12345678ULL

struct frame {
	__u8 b[128];
	int len;
};

static struct frame syn4[NSRC], syn6[NSRC];
static __u32 off1[NSRC], off2[NSRC], off6[NSRC];
static int synports_fd, synbkt_fd;

/* ---- packets ----------------------------------------------------------------- */

/* source i: 10.78.(i >> 8).(i & 255) or fd77:78:i::1 -> the lab host */
static void frame_tcp(struct frame *f, int family, int i, __u16 dport, __u8 flags, __u8 proto)
{
	struct pkt_spec s;
	__u8 src[16], dst[16];

	if (family == 4) {
		pkt_spec_v4(&s, PKT_IP4(10, 78, (i >> 8) & 255, i & 255), PKT_IP4(10, 77, 0, 2),
			    proto, 40000 + (i & 1023), dport);
	} else {
		pkt_ip6(src, 0xfd77, 0x78, (__u16)i, 0, 0, 0, 0, 1);
		pkt_ip6(dst, 0xfd77, 0, 1, 0, 0, 0, 0, 2);
		pkt_spec_v6(&s, src, dst, proto, 40000 + (i & 1023), dport);
	}
	s.tcp_flags = flags;
	f->len = pkt_build(&s, f->b, sizeof(f->b), NULL);
}

static void build_frames(void)
{
	int i;

	for (i = 0; i < NSRC; i++) {
		frame_tcp(&syn4[i], 4, i, PORT, PKT_SYN, PKT_TCP);
		frame_tcp(&syn6[i], 6, i, PORT, PKT_SYN, PKT_TCP);
	}
}

/* ---- gate setup ----------------------------------------------------------------- */

static int synport(__u32 port, __u8 on)
{
	return bpf_map_update_elem(synports_fd, &port, &on, BPF_ANY) ? -errno : 0;
}

static int bucket_reset(void)
{
	struct corral_bucket z = { 0 };
	__u32 k = 0;

	return bpf_map_update_elem(synbkt_fd, &k, &z, BPF_ANY) ? -errno : 0;
}

static void set_word(struct harness *h, __u64 w)
{
	__atomic_store_n(&h->ctl->syn, w, __ATOMIC_RELEASE);
}

static void set_herd(struct harness *h, __u64 start, __u64 salt, __u32 rate, __u32 window_ms,
		     __u32 extra_flags)
{
	__atomic_store_n(&h->ctl->herd_start_ns, start, __ATOMIC_RELEASE);
	__atomic_store_n(&h->ctl->herd_salt, salt, __ATOMIC_RELEASE);
	set_word(h, CORRAL_SYN_PACK(rate, window_ms,
				    CORRAL_SYN_ACTIVE | CORRAL_SYN_HERD | extra_flags));
}

static void set_cfg(struct harness *h, int on, __u64 rate, __u64 burst, __u8 mode)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	c.syn_on = (__u8)on;
	c.syn_rate = rate;
	c.syn_burst = burst;
	c.mode = mode;
	h_cfg_set(h, &c);
}

/* default config, gate on for PORT only, no cap, no dynamic word, fresh bucket */
static int gate_reset(struct harness *h)
{
	int err = h_reset(h);

	if (!err)
		err = synport(PORT, 1);
	if (!err)
		err = bucket_reset();
	__atomic_store_n(&h->ctl->herd_start_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&h->ctl->herd_salt, 0, __ATOMIC_RELEASE);
	set_cfg(h, 1, 0, 0, CORRAL_MODE_ENFORCE);
	return err;
}

/* verdict of f at time t */
static int run_at(struct harness *h, enum h_prog p, const struct frame *f, __u64 t)
{
	h_set_now(h, t);
	return h_run(h, p, f->b, f->len);
}

/*
 * Offset in ms of a source: the smallest m in [0, window] with an admitted
 * SYN at start + m ms, and deferred at start + m ms - 1 ns. -1 on a run
 * error, -2 when not admitted at start + window, -3 when the step is not
 * sharp.
 */
static long find_offset(struct harness *h, enum h_prog p, const struct frame *f, __u64 start,
			__u32 window_ms)
{
	__u32 lo = 0, hi = window_ms;
	int v;

	v = run_at(h, p, f, start + (__u64)window_ms * MSEC);
	if (v < 0)
		return -1;
	if (v != H_PASS)
		return -2;
	while (lo < hi) {
		__u32 mid = lo + (hi - lo) / 2;

		v = run_at(h, p, f, start + (__u64)mid * MSEC);
		if (v < 0)
			return -1;
		if (v == H_PASS)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo > 0) {
		v = run_at(h, p, f, start + (__u64)lo * MSEC - 1);
		if (v != H_DROP)
			return v < 0 ? -1 : -3;
	}
	return lo;
}

/* offsets of n sources; returns the number that failed (first error in *why) */
static int find_offsets(struct harness *h, enum h_prog p, const struct frame *f, int n,
			__u64 start, __u32 window_ms, __u32 *off, long *why)
{
	int i, bad = 0;

	*why = 0;
	for (i = 0; i < n; i++) {
		long o = find_offset(h, p, &f[i], start, window_ms);

		if (o < 0) {
			if (!bad)
				*why = o;
			bad++;
			off[i] = 0;
			continue;
		}
		off[i] = (__u32)o;
	}
	return bad;
}

/* chi-square of the offsets over NBIN equal bins of the window; max/mean in *mm */
static double spread(const __u32 *off, int n, __u32 window_ms, double *mm)
{
	double exp = (double)n / NBIN, chi = 0;
	int bin[NBIN] = { 0 }, i, max = 0;

	for (i = 0; i < n; i++) {
		int b = (int)((__u64)off[i] * NBIN / window_ms);

		bin[b < NBIN ? b : NBIN - 1]++;
	}
	for (i = 0; i < NBIN; i++) {
		chi += (bin[i] - exp) * (bin[i] - exp) / exp;
		if (bin[i] > max)
			max = bin[i];
	}
	*mm = max / exp;
	return chi;
}

/* chi-square critical value, 19 degrees of freedom, p = 0.001 */
#define CHI2_19_P001 43.82

/* ---- herd offsets ------------------------------------------------------------------ */

static void test_offsets(struct harness *h, int family, __u32 *off)
{
	const char *fam = family == 4 ? "v4" : "v6";
	const struct frame *f = family == 4 ? syn4 : syn6;
	const __u32 W = 20000;
	const __u64 start = T0 + 7 * NSEC;
	struct h_stats before, after;
	__u32 max = 0;
	double chi, mm;
	long why;
	int bad, i, zero = 0;
	__u64 seen, adm, def;

	gate_reset(h);
	set_herd(h, start, SALT1, 0, W, 0);
	h_stats_read(h, &before);
	bad = find_offsets(h, H_XDP, f, NSRC, start, W, off, &why);
	h_stats_read(h, &after);
	TAP_CHECK(bad == 0, "%s herd: every one of %d sources has a sharp admission time "
		  "(deferred 1 ns before it, admitted from it) inside the %u ms window "
		  "(%d failed, first error %ld)", fam, NSRC, W, bad, why);
	for (i = 0; i < NSRC; i++) {
		if (off[i] > max)
			max = off[i];
		zero += off[i] == 0;
	}
	TAP_CHECK(max < W, "%s herd: offsets fall inside the window (max %u ms < %u ms)", fam,
		  max, W);
	chi = spread(off, NSRC, W, &mm);
	TAP_CHECK(chi < CHI2_19_P001 && mm < 1.15,
		  "%s herd: offsets spread evenly over %d bins (chi-square %.1f < %.1f, "
		  "max/mean %.3f < 1.15)", fam, NBIN, chi, CHI2_19_P001, mm);
	TAP_CHECK(zero < NSRC / 100, "%s herd: only %d sources admitted at the herd's start "
		  "(want about n/window = %u)", fam, zero, NSRC / W + 1);

	seen = h_pkts(&after, &before, 4, CORRAL_R_SYN_SEEN);
	adm = h_pkts(&after, &before, 4, CORRAL_R_SYN_ADMIT);
	def = h_pkts(&after, &before, 4, CORRAL_R_SYN_DEFER);
	TAP_CHECK(seen > 0 && seen == adm + def &&
		  h_pkts(&after, &before, 4, CORRAL_R_PASS) == adm &&
		  h_pkts(&after, &before, 4, CORRAL_R_SYN_CAP) == 0,
		  "%s herd: class-4 counters add up (syn_seen %llu = admitted %llu + deferred "
		  "%llu, pass = admitted, no cap)", fam, (unsigned long long)seen,
		  (unsigned long long)adm, (unsigned long long)def);
}

static __u64 rnd64(unsigned int *seed)
{
	return ((__u64)rand_r(seed) << 33) ^ ((__u64)rand_r(seed) << 11) ^ (__u64)rand_r(seed);
}

/* random probes: deferred before the offset, admitted after, through corral_tc_in too */
static void test_step(struct harness *h)
{
	const __u32 W = 20000;
	const __u64 start = T0 + 7 * NSEC;
	int i, wrong_before = 0, wrong_after = 0, wrong_late = 0, probes = 0;
	unsigned int seed = 12345;

	gate_reset(h);
	set_herd(h, start, SALT1, 0, W, 0);
	for (i = 0; i < NSRC; i++) {
		__u64 o = off1[i] * MSEC;
		enum h_prog p = i & 1 ? H_TC_IN : H_XDP;

		if (o > 0) {
			__u64 t = start + rnd64(&seed) % o;

			wrong_before += run_at(h, p, &syn4[i], t) != H_DROP;
			probes++;
		}
		wrong_after += run_at(h, p, &syn4[i],
				      start + o + rnd64(&seed) % (W * MSEC - o + 1)) != H_PASS;
		wrong_late += run_at(h, p, &syn4[i], start + (3600 + i) * NSEC) != H_PASS;
	}
	TAP_CHECK(wrong_before == 0, "herd: a SYN at a random time before its source's offset "
		  "is deferred (%d of %d probes wrong; xdp and tc_in)", wrong_before, probes);
	TAP_CHECK(wrong_after == 0 && wrong_late == 0,
		  "herd: admitted sources keep passing, at a random time after the offset and "
		  "long after the window (%d + %d of %d wrong)", wrong_after, wrong_late, NSRC);
}

/*
 * Sweep the clock in 100 ms steps; every deferred source retries at each
 * step. Each is admitted at the first step at or after its offset, and
 * admissions per step follow the window (a herd drains evenly).
 */
static void test_sweep(struct harness *h)
{
	enum { N = 3000, STEP_MS = 100, W = 20000 };
	const __u64 start = T0 + 7 * NSEC;
	static __u8 done[N];
	int per_step[W / STEP_MS + 1] = { 0 };
	int k, i, wrong = 0, admitted = 0, max = 0;

	gate_reset(h);
	set_herd(h, start, SALT1, 0, W, 0);
	memset(done, 0, sizeof(done));
	for (k = 0; k <= (int)(W / STEP_MS); k++) {
		__u64 t = start + (__u64)k * STEP_MS * MSEC;

		for (i = 0; i < N; i++) {
			int v;

			if (done[i])
				continue;
			v = run_at(h, H_XDP, &syn4[i], t);
			if (v != H_PASS)
				continue;
			done[i] = 1;
			admitted++;
			per_step[k]++;
			/* first step at or after the offset */
			if (k != (int)((off1[i] + STEP_MS - 1) / STEP_MS))
				wrong++;
		}
	}
	for (k = 1; k <= (int)(W / STEP_MS); k++)
		if (per_step[k] > max)
			max = per_step[k];
	TAP_CHECK(admitted == N && wrong == 0,
		  "herd sweep: every deferred source is admitted at the first 100 ms step past its "
		  "offset (%d of %d admitted, %d at the wrong step)", admitted, N, wrong);
	TAP_CHECK(max <= 2.5 * N * STEP_MS / W,
		  "herd sweep: at most %d admissions per 100 ms step (want <= 2.5 x %d: no wave)",
		  max, N * STEP_MS / W);
}

/* the controller resizes the window: each source keeps its relative place */
static void test_resize(struct harness *h)
{
	const __u32 W = 20000;
	const __u64 start = T0 + 7 * NSEC;
	int bad, i, wrong = 0;
	long why;

	gate_reset(h);
	set_herd(h, start, SALT1, 0, 2 * W, 0);
	bad = find_offsets(h, H_XDP, syn4, NSRC, start, 2 * W, off2, &why);
	for (i = 0; i < NSRC; i++)
		wrong += off2[i] != 2 * off1[i] && off2[i] != 2 * off1[i] + 1;
	TAP_CHECK(bad == 0 && wrong == 0,
		  "herd: doubling the window doubles every offset (2x or 2x+1 ms; %d wrong, "
		  "%d failed)", wrong, bad);
}

/* a new herd (new salt) deals new offsets; a later start shifts them */
static void test_salt(struct harness *h)
{
	const __u32 W = 20000;
	const __u64 start = T0 + 7 * NSEC;
	int bad, i, same = 0, shifted = 0;
	long why;

	gate_reset(h);
	set_herd(h, start, SALT2, 0, W, 0);
	bad = find_offsets(h, H_XDP, syn4, NSRC, start, W, off2, &why);
	for (i = 0; i < NSRC; i++)
		same += off1[i] * NBIN / W == off2[i] * NBIN / W;
	TAP_CHECK(bad == 0 && same < 2 * NSRC / NBIN,
		  "herd: a new salt deals new offsets (%d of %d sources in the same 1/%d of the "
		  "window, want about %d)", same, NSRC, NBIN, NSRC / NBIN);

	set_herd(h, start + 60 * NSEC, SALT1, 0, W, 0);
	for (i = 0; i < 1000; i++) {
		__u64 o = start + 60 * NSEC + off1[i] * MSEC;

		shifted += (off1[i] == 0 || run_at(h, H_XDP, &syn4[i], o - 1) == H_DROP) &&
			   run_at(h, H_XDP, &syn4[i], o) == H_PASS;
	}
	TAP_CHECK(shifted == 1000, "herd: offsets count from herd_start_ns (%d of 1000 sources "
		  "admitted exactly at the new start + their offset)", shifted);
}

/* the gate keys on the aggregated source: one offset per /24 or /64 */
static void test_aggregate(struct harness *h)
{
	const __u32 W = 20000;
	const __u64 start = T0 + 7 * NSEC;
	struct frame a, b;
	struct corral_cfg c;
	long oa, ob;
	int agree = 0, differ = 0, i;

	gate_reset(h);
	h_cfg_get(h, &c);
	c.v4_prefix = 24;
	h_cfg_set(h, &c);
	set_herd(h, start, SALT1, 0, W, 0);
	for (i = 0; i < 50; i++) {
		/* 10.78.i.1 and 10.78.i.200 share a /24 */
		frame_tcp(&a, 4, (i << 8) | 1, PORT, PKT_SYN, PKT_TCP);
		frame_tcp(&b, 4, (i << 8) | 200, PORT, PKT_SYN, PKT_TCP);
		oa = find_offset(h, H_XDP, &a, start, W);
		ob = find_offset(h, H_XDP, &b, start, W);
		agree += oa >= 0 && oa == ob;
	}
	TAP_CHECK(agree == 50, "herd, aggregate v4 /24: two hosts of a /24 share one offset "
		  "(%d of 50 prefixes)", agree);

	/* v6 /64 (default): fd77:78:i::1 and fd77:78:i::2 share; v4 /32 differ */
	gate_reset(h);
	set_herd(h, start, SALT1, 0, W, 0);
	agree = 0;
	for (i = 0; i < 50; i++) {
		struct pkt_spec s;
		__u8 src[16], dst[16];

		pkt_ip6(src, 0xfd77, 0x78, (__u16)i, 0, 0, 0, 0xbeef, 2);
		pkt_ip6(dst, 0xfd77, 0, 1, 0, 0, 0, 0, 2);
		pkt_spec_v6(&s, src, dst, PKT_TCP, 50000, PORT);
		s.tcp_flags = PKT_SYN;
		b.len = pkt_build(&s, b.b, sizeof(b.b), NULL);
		ob = find_offset(h, H_XDP, &b, start, W);
		agree += ob >= 0 && (__u32)ob == off6[i];
		oa = find_offset(h, H_XDP, &syn4[2 * i + 1], start, W);
		differ += oa >= 0 && (__u32)oa == off1[2 * i + 1] && off1[2 * i + 1] != off1[2 * i];
	}
	TAP_CHECK(agree == 50, "herd, aggregate v6 /64: two hosts of a /64 share one offset "
		  "(%d of 50)", agree);
	TAP_CHECK(differ >= 45, "herd, aggregate v4 /32: neighbours 10.78.0.2k and .2k+1 get "
		  "their own offsets (%d of 50 differ)", differ);
}

/* ---- the bucket ------------------------------------------------------------------------ */

/* n SYNs from distinct sources (from *next on) at time t; admitted count */
static int burst_at(struct harness *h, enum h_prog p, int n, __u64 t, int *next)
{
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		ok += run_at(h, p, &syn4[*next % NSRC], t) == H_PASS;
		(*next)++;
	}
	return ok;
}

/* burst at a frozen clock, then each 1 ms step for steps ms; admitted after the burst */
static int steps_after(struct harness *h, enum h_prog p, __u64 t0, int steps, int per_step,
		       int *next)
{
	int k, ok = 0;

	for (k = 1; k <= steps; k++)
		ok += burst_at(h, p, per_step, t0 + (__u64)k * MSEC, next);
	return ok;
}

static void test_bucket(struct harness *h)
{
	struct h_stats before, after;
	int next = 0, a, b;

	/* static cap: rate 100/s (10 ms a SYN), burst 10 */
	gate_reset(h);
	set_cfg(h, 1, 100, 10, CORRAL_MODE_ENFORCE);
	h_stats_read(h, &before);
	a = burst_at(h, H_XDP, 50, T0, &next);
	h_stats_read(h, &after);
	TAP_CHECK(a == 10, "bucket rate 100 burst 10: %d of 50 SYNs at a frozen clock admitted "
		  "(want exactly 10)", a);
	TAP_CHECK(h_pkts(&after, &before, 4, CORRAL_R_SYN_ADMIT) == 10 &&
		  h_pkts(&after, &before, 4, CORRAL_R_SYN_CAP) == 40 &&
		  h_pkts(&after, &before, 4, CORRAL_R_SYN_SEEN) == 50,
		  "bucket: counters admitted %llu capped %llu seen %llu (want 10, 40, 50)",
		  (unsigned long long)h_pkts(&after, &before, 4, CORRAL_R_SYN_ADMIT),
		  (unsigned long long)h_pkts(&after, &before, 4, CORRAL_R_SYN_CAP),
		  (unsigned long long)h_pkts(&after, &before, 4, CORRAL_R_SYN_SEEN));
	b = steps_after(h, H_TC_IN, T0, 1000, 3, &next);
	TAP_CHECK(b == 100, "bucket rate 100: then %d admitted over 1 s of 1 ms steps with 3 "
		  "SYNs each (want exactly rate x dt = 100; corral_tc_in)", b);
	a = burst_at(h, H_XDP, 50, T0 + 1000 * MSEC + 10 * NSEC, &next);
	TAP_CHECK(a == 10, "bucket: after 10 s idle only the burst again (%d, want 10)", a);

	/*
	 * uneven rate: 3/s costs 333333333 ns a SYN; while the bucket is not
	 * full the sub-millisecond remainder is carried, so 1 ms probes see
	 * exactly 9 more in 3 s
	 */
	gate_reset(h);
	set_cfg(h, 1, 3, 3, CORRAL_MODE_ENFORCE);
	a = burst_at(h, H_XDP, 5, T0, &next);
	b = steps_after(h, H_XDP, T0, 3000, 1, &next);
	TAP_CHECK(a == 3 && b == 9, "bucket rate 3 burst 3: %d at t0 then %d over 3 s "
		  "(want 3 and 9)", a, b);

	/*
	 * burst >= 2 keeps the rate exact under a coarse clock: rate 30 (33.3 ms
	 * a SYN) probed every 4 ms (a 250 Hz tick) for 3 s. With burst 1 the
	 * bucket is full at every admission and the wait past each tick is lost.
	 */
	gate_reset(h);
	set_cfg(h, 1, 30, 2, CORRAL_MODE_ENFORCE);
	a = burst_at(h, H_XDP, 5, T0, &next);
	b = 0;
	{
		int k;

		for (k = 1; k <= 750; k++)
			b += burst_at(h, H_XDP, 1, T0 + (__u64)k * 4 * MSEC, &next);
	}
	TAP_CHECK(a == 2 && b == 90, "bucket rate 30 burst 2, 4 ms ticks: %d at t0 then %d over "
		  "3 s (want 2 and exactly 90)", a, b);
	gate_reset(h);
	set_cfg(h, 1, 30, 1, CORRAL_MODE_ENFORCE);
	a = burst_at(h, H_XDP, 5, T0, &next);
	b = 0;
	{
		int k;

		for (k = 1; k <= 750; k++)
			b += burst_at(h, H_XDP, 1, T0 + (__u64)k * 4 * MSEC, &next);
	}
	TAP_DIAG("bucket rate 30 burst 1, 4 ms ticks: %d then %d over 3 s (rate x dt = 90)", a, b);

	/* the dynamic word's rate wins over the static one; the burst stays cfg's */
	gate_reset(h);
	set_cfg(h, 1, 100, 10, CORRAL_MODE_ENFORCE);
	set_word(h, CORRAL_SYN_PACK(1000, 0, CORRAL_SYN_ACTIVE));
	a = burst_at(h, H_XDP, 50, T0, &next);
	b = steps_after(h, H_XDP, T0, 100, 3, &next);
	TAP_CHECK(a == 10 && b == 100, "bucket: manual word rate 1000 over cfg rate 100: %d at "
		  "t0 then %d over 100 ms (want 10 and 100)", a, b);

	/* no cap at all: rate 0 */
	gate_reset(h);
	a = burst_at(h, H_XDP, 500, T0, &next);
	TAP_CHECK(a == 500, "bucket: rate 0 means no cap (%d of 500 admitted)", a);

	/* deferred SYNs take no token: half the window gone, the late half retries first */
	gate_reset(h);
	set_cfg(h, 1, 100, 10, CORRAL_MODE_ENFORCE);
	set_herd(h, T0, SALT1, 100, 20000, 0);
	{
		const __u64 t = T0 + 10 * NSEC;
		int i, deferred = 0, late = 0, early = 0;

		for (i = 0; i < NSRC && late < 200; i++) {
			if (off1[i] <= 10000)
				continue;
			deferred += run_at(h, H_XDP, &syn4[i], t) == H_DROP;
			late++;
		}
		a = 0;
		for (i = 0; i < NSRC && early < 50; i++) {
			if (off1[i] > 10000)
				continue;
			a += run_at(h, H_XDP, &syn4[i], t) == H_PASS;
			early++;
		}
		TAP_CHECK(deferred == 200 && a == 10,
			  "bucket: %d of 200 SYNs deferred took no token: then %d of 50 admitted "
			  "sources pass at the same instant (want 200 and the full burst 10)",
			  deferred, a);
	}
}

/* ---- what the gate leaves alone ------------------------------------------------------------ */

struct pcase {
	const char *name;
	__u16 dport;
	__u8 flags;
	__u8 proto;
	int drop;          /* expected verdict */
	int gated;         /* expected syn_seen/syn_defer +1 */
};

static void test_untouched(struct harness *h, int family, enum h_prog p)
{
	static const struct pcase cases[] = {
		{ "SYN to the protected port (control)", PORT, PKT_SYN, PKT_TCP, 1, 1 },
		{ "ECN-setup SYN (SYN|ECE|CWR)", PORT, PKT_SYN | 0x40 | 0x80, PKT_TCP, 1, 1 },
		{ "SYN-ACK", PORT, PKT_SYN | PKT_ACK, PKT_TCP, 0, 0 },
		{ "ACK", PORT, PKT_ACK, PKT_TCP, 0, 0 },
		{ "PSH|ACK", PORT, PKT_PSH | PKT_ACK, PKT_TCP, 0, 0 },
		{ "RST", PORT, PKT_RST, PKT_TCP, 0, 0 },
		{ "FIN|ACK", PORT, PKT_FIN | PKT_ACK, PKT_TCP, 0, 0 },
		{ "SYN to port 81 (not protected)", 81, PKT_SYN, PKT_TCP, 0, 0 },
		{ "SYN to port 8080 (not protected)", 8080, PKT_SYN, PKT_TCP, 0, 0 },
		{ "UDP to the protected port", PORT, 0, PKT_UDP, 0, 0 },
	};
	const char *fam = family == 4 ? "v4" : "v6";
	const __u64 start = T0;
	struct h_stats before, after;
	unsigned int k;
	int src = -1, i;

	/* a source deferred at start + 1 ms */
	for (i = 0; i < NSRC && src < 0; i++)
		if ((family == 4 ? off1[i] : off6[i]) > 1)
			src = i;
	gate_reset(h);
	h_port_set(h, CORRAL_PI_TCP, PORT, PORT, 2);   /* SYN counters land in row 2 */
	set_herd(h, start, SALT1, 0, 20000, 0);
	h_set_now(h, start + MSEC);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct pcase *c = &cases[k];
		struct frame f;
		__u32 row = c->dport == PORT && c->proto == PKT_TCP ? 2 : 4;
		__u64 seen, def, pass;
		int v;

		frame_tcp(&f, family, src, c->dport, c->flags, c->proto);
		h_stats_read(h, &before);
		v = h_run(h, p, f.b, f.len);
		h_stats_read(h, &after);
		seen = h_pkts(&after, &before, row, CORRAL_R_SYN_SEEN);
		def = h_pkts(&after, &before, row, CORRAL_R_SYN_DEFER);
		pass = h_pkts(&after, &before, row, CORRAL_R_PASS);
		TAP_CHECK(v == (c->drop ? H_DROP : H_PASS) && seen == (__u64)c->gated &&
			  def == (__u64)c->gated && pass == (__u64)!c->drop,
			  "%s %s %s: %s, class %u syn_seen %llu syn_defer %llu pass %llu "
			  "(want %s, %d, %d, %d)", fam, h_prog_name(p), c->name,
			  v == H_DROP ? "drop" : v == H_PASS ? "pass" : "error", row,
			  (unsigned long long)seen, (unsigned long long)def,
			  (unsigned long long)pass, c->drop ? "drop" : "pass", c->gated, c->gated,
			  !c->drop);
	}

	/* the gate off: the marked port is not gated either */
	set_cfg(h, 0, 0, 0, CORRAL_MODE_ENFORCE);
	h_stats_read(h, &before);
	i = run_at(h, p, family == 4 ? &syn4[src] : &syn6[src], start + MSEC);
	h_stats_read(h, &after);
	TAP_CHECK(i == H_PASS && h_pkts(&after, &before, 2, CORRAL_R_SYN_SEEN) == 0,
		  "%s %s syn_on 0: a SYN to the marked port passes ungated", fam, h_prog_name(p));
}

/* ---- heartbeat --------------------------------------------------------------------------- */

static void test_heartbeat(struct harness *h)
{
	const __u64 now = T0 + 100 * NSEC, timeout = 2 * NSEC;   /* h_cfg_defaults() */
	int src = -1, i, a, b, next = 0, v;

	for (i = 0; i < NSRC && src < 0; i++)
		if (off1[i] > 1000)
			src = i;

	/* herd part: a controller herd word (HB) around the heartbeat timeout */
	gate_reset(h);
	set_herd(h, now, SALT1, 0, 20000, CORRAL_SYN_HB);
	h_set_heartbeat(h, now - NSEC / 10);
	v = run_at(h, H_XDP, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_DROP, "heartbeat 100 ms old: controller herd honoured (source deferred)");
	h_set_heartbeat(h, now + MSEC - timeout);
	v = run_at(h, H_XDP, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_DROP, "heartbeat exactly hb_timeout old: honoured (source deferred)");
	h_set_heartbeat(h, now + MSEC - timeout - 1);
	v = run_at(h, H_XDP, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_PASS, "heartbeat hb_timeout + 1 ns old: herd word ignored (source "
		  "admitted)");
	h_set_heartbeat(h, 0);
	v = run_at(h, H_TC_IN, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_PASS, "heartbeat never stamped: herd word ignored (corral_tc_in)");
	/* a manual herd (no HB flag) needs no heartbeat */
	set_herd(h, now, SALT1, 0, 20000, 0);
	v = run_at(h, H_XDP, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_DROP, "manual herd word (no HB flag): honoured with no heartbeat");
	/* a word without ACTIVE is no word */
	set_word(h, CORRAL_SYN_PACK(0, 20000, CORRAL_SYN_HERD));
	v = run_at(h, H_XDP, &syn4[src], now + MSEC);
	TAP_CHECK(v == H_PASS, "word without CORRAL_SYN_ACTIVE: ignored");

	/* rate part: controller rate 1000 vs static 100, burst 5 */
	gate_reset(h);
	set_cfg(h, 1, 100, 5, CORRAL_MODE_ENFORCE);
	set_word(h, CORRAL_SYN_PACK(1000, 0, CORRAL_SYN_ACTIVE | CORRAL_SYN_HB));
	h_set_heartbeat(h, now);
	a = burst_at(h, H_XDP, 20, now, &next);
	b = steps_after(h, H_XDP, now, 100, 3, &next);
	TAP_CHECK(a == 5 && b == 100, "fresh controller word: its rate 1000 applies (%d at t0, "
		  "%d over 100 ms; want 5 and 100)", a, b);
	bucket_reset();
	h_set_heartbeat(h, now - timeout - 1);
	a = burst_at(h, H_XDP, 20, now, &next);
	b = steps_after(h, H_XDP, now, 100, 3, &next);
	TAP_CHECK(a == 5 && b == 10, "stale controller word: static rate 100 applies (%d at t0, "
		  "%d over 100 ms; want 5 and 10)", a, b);
}

/* ---- monitor mode ------------------------------------------------------------------------- */

static void test_monitor(struct harness *h)
{
	struct h_stats before, after;
	int src = -1, i, v, next = 0, a;
	__u64 wd, def, cap, adm;

	for (i = 0; i < NSRC && src < 0; i++)
		if (off1[i] > 1000)
			src = i;
	gate_reset(h);
	set_cfg(h, 1, 0, 0, CORRAL_MODE_MONITOR);
	set_herd(h, T0, SALT1, 0, 20000, 0);
	h_stats_read(h, &before);
	v = run_at(h, H_XDP, &syn4[src], T0 + MSEC);
	h_stats_read(h, &after);
	wd = h_pkts(&after, &before, 4, CORRAL_R_WOULD_DROP);
	def = h_pkts(&after, &before, 4, CORRAL_R_SYN_DEFER);
	adm = h_pkts(&after, &before, 4, CORRAL_R_SYN_ADMIT);
	TAP_CHECK(v == H_PASS && def == 1 && wd == 1 && adm == 0,
		  "monitor: a deferred SYN passes, counted syn_defer %llu would_drop %llu "
		  "admitted %llu (want 1, 1, 0)", (unsigned long long)def,
		  (unsigned long long)wd, (unsigned long long)adm);

	gate_reset(h);
	set_cfg(h, 1, 100, 10, CORRAL_MODE_MONITOR);
	h_stats_read(h, &before);
	a = burst_at(h, H_TC_IN, 30, T0, &next);
	h_stats_read(h, &after);
	cap = h_pkts(&after, &before, 4, CORRAL_R_SYN_CAP);
	wd = h_pkts(&after, &before, 4, CORRAL_R_WOULD_DROP);
	adm = h_pkts(&after, &before, 4, CORRAL_R_SYN_ADMIT);
	TAP_CHECK(a == 30 && cap == 20 && wd == 20 && adm == 10,
		  "monitor: 30 SYNs over a burst of 10 all pass; syn_cap %llu would_drop %llu "
		  "admitted %llu (want 20, 20, 10)", (unsigned long long)cap,
		  (unsigned long long)wd, (unsigned long long)adm);
}

int main(void)
{
	struct harness h;
	int err;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	synports_fd = bpf_map__fd(h.skel->maps.corral_synports);
	synbkt_fd = bpf_map__fd(h.skel->maps.corral_synbkt);
	build_frames();

	test_offsets(&h, 4, off1);
	test_offsets(&h, 6, off6);
	test_step(&h);
	test_sweep(&h);
	test_resize(&h);
	test_salt(&h);
	test_aggregate(&h);
	test_bucket(&h);
	test_untouched(&h, 4, H_XDP);
	test_untouched(&h, 6, H_TC_IN);
	test_heartbeat(&h);
	test_monitor(&h);
	h_close(&h);
	return tap_done();
}
