// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_monitor.c - monitor mode computes every verdict and drops nothing.
 *
 * One mixed workload (deny-listed sources, malformed frames, rate-limited
 * sources, a shed class and a half-shed class, allow-listed sources,
 * non-IP) runs from a fresh state in enforce mode and again in monitor
 * mode. Monitor mode must pass every packet, count every reason exactly
 * as enforce mode does, and count each would-be drop once as would-drop
 * in the same row. The expected totals are also derived from the
 * workload itself, so both modes are checked against numbers, not only
 * against each other.
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
#define T0 (1000 * NSEC + 12345)

#define N_DENY 200       /* one packet each, 10.78.66.0/24 and 10.78.67.0/24 */
#define N_MAL 90         /* malformed frames of three kinds */
#define N_SRC 200        /* class-5 sources, 5 packets each, burst 3, half shed */
#define PER_SRC 5
#define BURST 3
#define N_C7 50          /* class 7 (dscp 16): above the shed level */
#define N_C2 40          /* class 2 (tcp 80): below the shed level */
#define N_ALLOW 20
#define N_ARP 10
#define NPKT (N_DENY + N_MAL + N_SRC * PER_SRC + N_C7 + N_C2 + N_ALLOW + N_ARP)

struct wpkt {
	__u8 b[160];
	int len;
	int kind;
	int src;         /* class-5 source index, or -1 */
};

enum kind { K_DENY, K_MAL, K_SRC, K_C7, K_C2, K_ALLOW, K_ARP };

static struct wpkt wl[NPKT];
static int nwl;

static void add(const struct pkt_spec *s, int kind, int src, int trunc)
{
	struct wpkt *w = &wl[nwl++];

	w->len = pkt_build(s, w->b, sizeof(w->b), NULL);
	if (trunc > 0 && trunc < w->len)
		w->len = trunc;
	w->kind = kind;
	w->src = src;
}

static void build_workload(void)
{
	struct pkt_spec s;
	int i, r;

	/* interleave kinds so that no mode depends on order within a kind */
	for (r = 0; r < PER_SRC; r++) {
		for (i = 0; i < N_SRC; i++) {
			pkt_spec_v4(&s, PKT_IP4(10, 78, 1, i), PKT_IP4(10, 77, 0, 2), PKT_UDP,
				    40000 + r, 53);
			s.payload_len = 20;
			add(&s, K_SRC, i, 0);
			if (r == 0 && i < N_DENY) {
				pkt_spec_v4(&s, PKT_IP4(10, 78, 66 + (i & 1), i), PKT_IP4(10, 77, 0, 2),
					    PKT_TCP, 40000, 80);
				s.tcp_flags = PKT_SYN;
				add(&s, K_DENY, -1, 0);
			}
			if (r == 1 && i < N_MAL) {
				pkt_spec_v4(&s, PKT_IP4(10, 78, 2, i), PKT_IP4(10, 77, 0, 2), PKT_UDP,
					    40000, 53);
				s.payload_len = 20;
				if (i % 3 == 0)
					s.nvlan = 3;
				else if (i % 3 == 1)
					s.ihl_override = 4;
				add(&s, K_MAL, -1, i % 3 == 2 ? 40 : 0);
			}
			if (r == 2 && i < N_C7) {
				pkt_spec_v4(&s, PKT_IP4(10, 78, 3, i), PKT_IP4(10, 77, 0, 2), PKT_UDP,
					    40000, 53);
				s.dscp = 16;
				add(&s, K_C7, -1, 0);
			}
			if (r == 3 && i < N_C2) {
				pkt_spec_v4(&s, PKT_IP4(10, 78, 4, i), PKT_IP4(10, 77, 0, 2), PKT_TCP,
					    40000, 80);
				s.tcp_flags = PKT_ACK;
				add(&s, K_C2, -1, 0);
			}
			if (r == 4 && i < N_ALLOW) {
				pkt_spec_v4(&s, PKT_IP4(10, 78, 77, i), PKT_IP4(10, 77, 0, 2), PKT_UDP,
					    40000, 53);
				add(&s, K_ALLOW, -1, 0);
			}
			if (r == 4 && i >= N_ALLOW && i < N_ALLOW + N_ARP) {
				pkt_spec_nonip(&s, PKT_ETH_ARP);
				add(&s, K_ARP, -1, 0);
			}
		}
	}
}

static int setup(struct harness *h, int mode)
{
	__u32 d1 = PKT_IP4(10, 78, 66, 0), d2 = PKT_IP4(10, 78, 67, 0);
	__u32 al = PKT_IP4(10, 78, 77, 0);
	struct corral_cfg c;
	int err;

	err = h_reset(h);
	if (err)
		return err;
	h_set_now(h, T0);
	h_cfg_get(h, &c);
	c.mode = mode;
	c.default_class = 5;
	c.dflt.pkt_rate = 1;
	c.dflt.pkt_burst = BURST;
	h_cfg_set(h, &c);
	h_dscp_set(h, 16, 7);
	h_port_set(h, CORRAL_PI_TCP, 80, 80, 2);
	h_set_shed(h, CORRAL_SHED_PACK(5, 5000, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	err = h_policy_deny(h, 4, &d1, 24);
	err = err ?: h_policy_deny(h, 4, &d2, 24);
	err = err ?: h_policy_allow(h, 4, &al, 24);
	return err;
}

struct outcome {
	struct h_stats st;
	int drops;
	__u8 dropped[NPKT];
	int err;
};

static void run(struct harness *h, enum h_prog p, int mode, struct outcome *o)
{
	struct h_stats before, after;
	int i, k;

	memset(o, 0, sizeof(*o));
	o->err = setup(h, mode);
	if (o->err)
		return;
	h_stats_read(h, &before);
	for (i = 0; i < nwl; i++) {
		int v = h_run(h, p, wl[i].b, wl[i].len);

		if (v < 0) {
			o->err = v;
			return;
		}
		o->dropped[i] = v == H_DROP;
		o->drops += o->dropped[i];
	}
	h_stats_read(h, &after);
	for (k = 0; k < CORRAL_NSTATS; k++) {
		o->st.c[k].packets = after.c[k].packets - before.c[k].packets;
		o->st.c[k].bytes = after.c[k].bytes - before.c[k].bytes;
	}
}

static __u64 cnt(const struct outcome *o, __u32 row, __u32 reason)
{
	return o->st.c[CORRAL_STAT_KEY(row, reason)].packets;
}

static const __u32 drop_reasons[] = { CORRAL_R_RATE, CORRAL_R_SHED, CORRAL_R_DENY,
				      CORRAL_R_MALFORMED };

int main(void)
{
	static struct outcome enf, mon;
	enum h_prog progs[] = { H_XDP, H_TC_IN };
	struct harness h;
	unsigned int p, k;
	int err, i, shed_src, row;

	build_workload();
	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	TAP_DIAG("workload: %d packets", nwl);
	for (p = 0; p < 2; p++) {
		const char *pn = h_prog_name(progs[p]);
		__u64 wd_total = 0, reason_drops = 0;
		int row_ok = 1, same = 1;

		run(&h, progs[p], CORRAL_MODE_ENFORCE, &enf);
		run(&h, progs[p], CORRAL_MODE_MONITOR, &mon);
		if (enf.err || mon.err) {
			TAP_CHECK(0, "[%s] run the workload: %s", pn,
				  strerror(-(enf.err ? enf.err : mon.err)));
			continue;
		}

		/* enforce mode against the workload's own arithmetic */
		shed_src = 0;
		{
			/* a source is shed when all its packets drop as shed */
			static int src_drops[N_SRC];

			memset(src_drops, 0, sizeof(src_drops));
			for (i = 0; i < nwl; i++)
				if (wl[i].kind == K_SRC)
					src_drops[wl[i].src] += enf.dropped[i];
			for (i = 0; i < N_SRC; i++)
				shed_src += src_drops[i] == PER_SRC;
		}
		TAP_CHECK(shed_src > N_SRC / 4 && shed_src < 3 * N_SRC / 4,
			  "[%s] enforce: %d of %d class-5 sources shed at level 5.50", pn,
			  shed_src, N_SRC);
		TAP_CHECK(cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_DENY) == N_DENY &&
			  cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_MALFORMED) == N_MAL &&
			  cnt(&enf, 7, CORRAL_R_SHED) == N_C7 &&
			  cnt(&enf, 5, CORRAL_R_SHED) == (__u64)shed_src * PER_SRC &&
			  cnt(&enf, 5, CORRAL_R_RATE) == (__u64)(N_SRC - shed_src) * (PER_SRC - BURST) &&
			  cnt(&enf, 5, CORRAL_R_PASS) == (__u64)(N_SRC - shed_src) * BURST &&
			  cnt(&enf, 2, CORRAL_R_PASS) == N_C2 &&
			  cnt(&enf, 0, CORRAL_R_ALLOW) == N_ALLOW &&
			  cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_NONIP) == N_ARP,
			  "[%s] enforce: deny %llu/%d malformed %llu/%d shed7 %llu/%d shed5 %llu/%d "
			  "rate %llu/%d pass5 %llu/%d pass2 %llu/%d allow %llu/%d nonip %llu/%d", pn,
			  (unsigned long long)cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_DENY), N_DENY,
			  (unsigned long long)cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_MALFORMED), N_MAL,
			  (unsigned long long)cnt(&enf, 7, CORRAL_R_SHED), N_C7,
			  (unsigned long long)cnt(&enf, 5, CORRAL_R_SHED), shed_src * PER_SRC,
			  (unsigned long long)cnt(&enf, 5, CORRAL_R_RATE),
			  (N_SRC - shed_src) * (PER_SRC - BURST),
			  (unsigned long long)cnt(&enf, 5, CORRAL_R_PASS), (N_SRC - shed_src) * BURST,
			  (unsigned long long)cnt(&enf, 2, CORRAL_R_PASS), N_C2,
			  (unsigned long long)cnt(&enf, 0, CORRAL_R_ALLOW), N_ALLOW,
			  (unsigned long long)cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_NONIP), N_ARP);
		TAP_CHECK(h_pkts_total(&enf.st, &(struct h_stats){ 0 }) == (__u64)nwl &&
			  enf.drops == N_DENY + N_MAL + N_C7 + shed_src * PER_SRC +
				       (N_SRC - shed_src) * (PER_SRC - BURST),
			  "[%s] enforce: %d packets dropped, every packet counted once", pn,
			  enf.drops);

		/* monitor mode */
		TAP_CHECK(mon.drops == 0, "[%s] monitor: %d of %d packets dropped (want 0)", pn,
			  mon.drops, nwl);
		for (k = 0; k < CORRAL_NSTATS; k++) {
			__u32 reason = k % CORRAL_NREASON;

			if (k >= CORRAL_NROWS * CORRAL_NREASON)
				break;
			if (reason == CORRAL_R_WOULD_DROP)
				continue;
			if (mon.st.c[k].packets != enf.st.c[k].packets ||
			    mon.st.c[k].bytes != enf.st.c[k].bytes) {
				same = 0;
				TAP_DIAG("row %u %s: monitor %llu enforce %llu", k / CORRAL_NREASON,
					 h_reason_name(reason),
					 (unsigned long long)mon.st.c[k].packets,
					 (unsigned long long)enf.st.c[k].packets);
			}
		}
		TAP_CHECK(same, "[%s] monitor: every row x reason counted exactly as in enforce "
			  "mode (packets and bytes)", pn);
		for (row = 0; row < CORRAL_NROWS; row++) {
			__u64 want = 0;

			for (k = 0; k < sizeof(drop_reasons) / sizeof(drop_reasons[0]); k++)
				want += cnt(&enf, row, drop_reasons[k]);
			reason_drops += want;
			wd_total += cnt(&mon, row, CORRAL_R_WOULD_DROP);
			if (cnt(&mon, row, CORRAL_R_WOULD_DROP) != want) {
				row_ok = 0;
				TAP_DIAG("row %d: would-drop %llu, drop reasons %llu", row,
					 (unsigned long long)cnt(&mon, row, CORRAL_R_WOULD_DROP),
					 (unsigned long long)want);
			}
		}
		TAP_CHECK(row_ok && wd_total == (__u64)enf.drops && reason_drops == (__u64)enf.drops,
			  "[%s] monitor: would-drop %llu = enforce drops %d, row by row", pn,
			  (unsigned long long)wd_total, enf.drops);
		TAP_CHECK(cnt(&enf, CORRAL_ROW_NONE, CORRAL_R_WOULD_DROP) == 0 &&
			  cnt(&enf, 5, CORRAL_R_WOULD_DROP) == 0,
			  "[%s] enforce: no would-drop counted", pn);
	}
	h_close(&h);
	return tap_done();
}
