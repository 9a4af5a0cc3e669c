// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_reject.c - the reject action (bpf/reject.h), with the fake clock,
 * through corral_xdp and corral_tc_in.
 *
 * Class 4 (the default class) is shed whole (shed level 0, scope all), so
 * every packet is a shaping drop of class 4. With action reject the output
 * packet is parsed back: MACs, addresses and ports swapped, VLAN tags kept,
 * TCP flags and seq/ack, ICMP type/code and quote, every checksum
 * recomputed here. No reply to a RST, an ICMP or ICMPv6 error, neighbour
 * discovery, a non-first fragment, a multicast destination. Action drop and
 * monitor mode send nothing. The reply budget passes exactly burst replies
 * at a frozen clock, then floor(dt / cost) more after dt, also with two
 * threads racing on it from both CPUs.
 */
#include <errno.h>
#include <pthread.h>
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
#define T0 (1000 * NSEC)

static int replybkt_fd;

struct out {
	__u8 b[PKT_BUF_MAX];
	__u32 len;
	int v;
};

static void set_action(struct harness *h, __u8 act, __u64 rate, __u64 burst, __u8 mode)
{
	struct corral_cfg c;
	struct corral_bucket z = { 0 };
	__u32 k = 0;

	h_cfg_get(h, &c);
	memset(c.class_action, CORRAL_ACTION_DROP, sizeof(c.class_action));
	c.class_action[4] = act;
	c.reply_rate = rate;
	c.reply_burst = burst;
	c.mode = mode;
	h_cfg_set(h, &c);
	bpf_map_update_elem(replybkt_fd, &k, &z, BPF_ANY);
}

static void setup(struct harness *h, __u8 act)
{
	h_reset(h);
	h_set_now(h, T0);
	h_set_shed(h, CORRAL_SHED_PACK(0, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	set_action(h, act, 1000, 100, CORRAL_MODE_ENFORCE);
}

static int run(struct harness *h, enum h_prog p, const __u8 *in, int len, struct out *o)
{
	o->len = sizeof(o->b);
	o->v = h_run_out(h, p, in, (__u32)len, o->b, &o->len);
	return o->v;
}

static __u16 rd16(const __u8 *b) { return (__u16)(b[0] << 8 | b[1]); }
static __u32 rd32(const __u8 *b) { return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3]; }

/* checksum of an upper-layer message with its pseudo-header: 0 when right */
static __u16 l4_csum(int family, const __u8 *l3, const __u8 *l4, __u32 l4len, __u8 proto)
{
	__u8 ph[40];
	__u32 n;

	if (family == 4) {
		memcpy(ph, l3 + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (__u8)(l4len >> 8);
		ph[11] = (__u8)l4len;
		n = 12;
	} else {
		memcpy(ph, l3 + 8, 32);
		ph[32] = (__u8)(l4len >> 24);
		ph[33] = (__u8)(l4len >> 16);
		ph[34] = (__u8)(l4len >> 8);
		ph[35] = (__u8)l4len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		n = 40;
	}
	/* pkt_csum returns the complement; sum the two parts unfolded */
	{
		__u32 s = (__u16)~pkt_csum(ph, n, 0);

		return pkt_csum(l4, l4len, s);
	}
}

/* the frame that was sent in, and where its parts are */
struct frame {
	__u8 b[PKT_BUF_MAX];
	int len;
	struct pkt_layout lay;
	struct pkt_spec s;
};

static void build(struct frame *f)
{
	f->len = pkt_build(&f->s, f->b, sizeof(f->b), &f->lay);
}

static void v4(struct frame *f, __u8 proto, __u8 flags)
{
	pkt_spec_v4(&f->s, PKT_IP4(10, 78, 1, 2), PKT_IP4(10, 77, 0, 1), proto, 40000, 80);
	f->s.tcp_flags = flags;
	f->s.seq = 1000;
	f->s.ack_seq = 5555;
}

static void v6(struct frame *f, __u8 proto, __u8 flags)
{
	__u8 src[16], dst[16];

	pkt_ip6(src, 0xfd77, 0x78, 1, 0, 0, 0, 0, 2);
	pkt_ip6(dst, 0xfd77, 0, 0, 0, 0, 0, 0, 1);
	pkt_spec_v6(&f->s, src, dst, proto, 40000, 80);
	f->s.tcp_flags = flags;
	f->s.seq = 1000;
	f->s.ack_seq = 5555;
}

/* layer 2 of the reply: MACs swapped, everything up to L3 else the same */
static void check_l2(const char *what, const struct frame *f, const struct out *o)
{
	TAP_CHECK(!memcmp(o->b, f->b + 6, 6) && !memcmp(o->b + 6, f->b, 6),
		  "%s: MACs swapped", what);
	TAP_CHECK(!memcmp(o->b + 12, f->b + 12, f->lay.l3 - 12),
		  "%s: EtherType and %d VLAN tag(s) kept", what, f->lay.nvlan);
}

/* IP header of the reply; returns its length */
static int check_l3(const char *what, const struct frame *f, const struct out *o, __u8 proto)
{
	const __u8 *ip = o->b + f->lay.l3, *in = f->b + f->lay.l3;
	__u32 l3len = o->len - f->lay.l3;

	if (f->s.family == 4) {
		TAP_CHECK(ip[0] == 0x45 && rd16(ip + 2) == l3len && ip[9] == proto &&
			  ip[8] == 64 && (rd16(ip + 6) & 0x3fff) == 0,
			  "%s: IPv4 header: ihl 5, tot_len %u, proto %u, ttl 64, not a fragment",
			  what, l3len, proto);
		TAP_CHECK(!memcmp(ip + 12, in + 16, 4) && !memcmp(ip + 16, in + 12, 4),
			  "%s: IPv4 addresses swapped", what);
		TAP_EQ("IPv4 header checksum verifies", pkt_csum(ip, 20, 0), 0);
		return 20;
	}
	TAP_CHECK((ip[0] >> 4) == 6 && rd16(ip + 4) == l3len - 40 && ip[6] == proto && ip[7] == 64,
		  "%s: IPv6 header: payload %u, next %u, hop limit 64", what, l3len - 40, proto);
	TAP_CHECK(!memcmp(ip + 8, in + 24, 16) && !memcmp(ip + 24, in + 8, 16),
		  "%s: IPv6 addresses swapped", what);
	return 40;
}

static void check_rst(struct harness *h, enum h_prog p, struct frame *f, const char *what,
		      __u8 want_flags, __u32 want_seq, __u32 want_ack)
{
	static struct out o;
	const __u8 *th;
	int hl, v;

	build(f);
	v = run(h, p, f->b, f->len, &o);
	TAP_EQ(what, v, H_TX);
	if (v != H_TX)
		return;
	hl = f->s.family == 4 ? 20 : 40;
	TAP_EQ("RST length: L2 + IP + 20", o.len, (__u32)(f->lay.l3 + hl + 20));
	check_l2(what, f, &o);
	check_l3(what, f, &o, PKT_TCP);
	th = o.b + f->lay.l3 + hl;
	TAP_CHECK(rd16(th) == 80 && rd16(th + 2) == 40000, "%s: ports swapped", what);
	TAP_CHECK(th[12] == 0x50 && th[13] == want_flags,
		  "%s: doff 5, flags 0x%02x (want 0x%02x)", what, th[13], want_flags);
	TAP_CHECK(rd32(th + 4) == want_seq && rd32(th + 8) == want_ack,
		  "%s: seq %u ack %u (want %u, %u)", what, rd32(th + 4), rd32(th + 8),
		  want_seq, want_ack);
	TAP_EQ("TCP checksum with pseudo-header verifies",
	       l4_csum(f->s.family, o.b + f->lay.l3, th, 20, PKT_TCP), 0);
}

static void check_icmp(struct harness *h, enum h_prog p, struct frame *f, const char *what,
		       __u32 want_quote)
{
	static struct out o;
	const __u8 *ic;
	__u8 proto = f->s.family == 4 ? PKT_ICMP : PKT_ICMPV6;
	int hl, v;

	build(f);
	v = run(h, p, f->b, f->len, &o);
	TAP_EQ(what, v, H_TX);
	if (v != H_TX)
		return;
	hl = f->s.family == 4 ? 20 : 40;
	TAP_EQ("ICMP reply length: L2 + IP + 8 + quote", o.len,
	       (__u32)(f->lay.l3 + hl + 8 + want_quote));
	check_l2(what, f, &o);
	check_l3(what, f, &o, proto);
	ic = o.b + f->lay.l3 + hl;
	if (f->s.family == 4) {
		TAP_CHECK(ic[0] == 3 && ic[1] == 13 && !rd32(ic + 4),
			  "%s: ICMP type 3 code 13 (got %u/%u)", what, ic[0], ic[1]);
		TAP_EQ("ICMP checksum verifies", pkt_csum(ic, 8 + want_quote, 0), 0);
	} else {
		TAP_CHECK(ic[0] == 1 && ic[1] == 1 && !rd32(ic + 4),
			  "%s: ICMPv6 type 1 code 1 (got %u/%u)", what, ic[0], ic[1]);
		TAP_EQ("ICMPv6 checksum with pseudo-header verifies",
		       l4_csum(6, o.b + f->lay.l3, ic, 8 + want_quote, PKT_ICMPV6), 0);
	}
	TAP_CHECK(!memcmp(ic + 8, f->b + f->lay.l3, want_quote),
		  "%s: quotes the first %u bytes of the original IP packet", what, want_quote);
}

static void test_replies(struct harness *h, enum h_prog p)
{
	static struct frame f;
	const char *pn = h_prog_name(p);
	char w[128];

	setup(h, CORRAL_ACTION_REJECT);

	snprintf(w, sizeof(w), "%s: IPv4 SYN -> RST+ACK", pn);
	v4(&f, PKT_TCP, PKT_SYN);
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1001);

	snprintf(w, sizeof(w), "%s: IPv4 SYN with options and 7 data bytes", pn);
	v4(&f, PKT_TCP, PKT_SYN);
	f.s.tcp_opt_len = 12;
	f.s.ip_opt_len = 8;
	f.s.payload_len = 7;
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1008);

	snprintf(w, sizeof(w), "%s: IPv4 ACK with 10 bytes -> RST seq = ack", pn);
	v4(&f, PKT_TCP, PKT_ACK | PKT_PSH);
	f.s.payload_len = 10;
	check_rst(h, p, &f, w, PKT_RST, 5555, 0);

	snprintf(w, sizeof(w), "%s: IPv4 FIN without ACK -> RST+ACK ack = seq + 1", pn);
	v4(&f, PKT_TCP, PKT_FIN);
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1001);

	snprintf(w, sizeof(w), "%s: IPv6 SYN -> RST+ACK", pn);
	v6(&f, PKT_TCP, PKT_SYN);
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1001);

	snprintf(w, sizeof(w), "%s: IPv6 SYN behind a destination-options header", pn);
	v6(&f, PKT_TCP, PKT_SYN);
	pkt_spec_add_ext(&f.s, PKT_DSTOPTS, 16);
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1001);

	snprintf(w, sizeof(w), "%s: IPv4 SYN in two VLAN tags", pn);
	v4(&f, PKT_TCP, PKT_SYN);
	f.s.nvlan = 2;
	f.s.vlan_tci[0] = 10;
	f.s.vlan_tci[1] = 20;
	check_rst(h, p, &f, w, PKT_RST | PKT_ACK, 0, 1001);

	snprintf(w, sizeof(w), "%s: IPv4 UDP 100 bytes -> ICMP prohibited", pn);
	v4(&f, PKT_UDP, 0);
	f.s.payload_len = 100;
	check_icmp(h, p, &f, w, 28);

	snprintf(w, sizeof(w), "%s: IPv4 UDP with 12 option bytes", pn);
	v4(&f, PKT_UDP, 0);
	f.s.ip_opt_len = 12;
	f.s.payload_len = 3;
	check_icmp(h, p, &f, w, 40);

	snprintf(w, sizeof(w), "%s: IPv4 UDP in a VLAN tag", pn);
	v4(&f, PKT_UDP, 0);
	f.s.nvlan = 1;
	f.s.vlan_tci[0] = 7;
	f.s.payload_len = 40;
	check_icmp(h, p, &f, w, 28);

	snprintf(w, sizeof(w), "%s: IPv4 GRE, 2 bytes after the header", pn);
	v4(&f, PKT_GRE, 0);
	f.s.payload_len = 2;
	check_icmp(h, p, &f, w, 22);

	snprintf(w, sizeof(w), "%s: IPv4 ICMP echo -> ICMP prohibited", pn);
	v4(&f, PKT_ICMP, 0);
	f.s.icmp_type = 8;
	f.s.payload_len = 56;
	check_icmp(h, p, &f, w, 28);

	snprintf(w, sizeof(w), "%s: IPv6 UDP 100 bytes -> ICMPv6 quoting all of it", pn);
	v6(&f, PKT_UDP, 0);
	f.s.payload_len = 100;
	check_icmp(h, p, &f, w, 148);

	snprintf(w, sizeof(w), "%s: IPv6 UDP 1300 bytes -> quote cut at 1232", pn);
	v6(&f, PKT_UDP, 0);
	f.s.payload_len = 1300;
	check_icmp(h, p, &f, w, 1232);

	snprintf(w, sizeof(w), "%s: IPv6 UDP 1 byte (odd length)", pn);
	v6(&f, PKT_UDP, 0);
	f.s.payload_len = 1;
	check_icmp(h, p, &f, w, 49);

	snprintf(w, sizeof(w), "%s: IPv6 echo request -> ICMPv6 prohibited", pn);
	v6(&f, PKT_ICMPV6, 0);
	f.s.icmp_type = 128;
	f.s.payload_len = 10;
	check_icmp(h, p, &f, w, 58);
}

static void no_reply(struct harness *h, enum h_prog p, struct frame *f, const char *what)
{
	static struct out o;
	struct h_stats a, b;
	int v;

	build(f);
	h_stats_read(h, &b);
	v = run(h, p, f->b, f->len, &o);
	h_stats_read(h, &a);
	TAP_CHECK(v == H_DROP && h_gstat(&a, &b, CORRAL_G_REPLY_SENT) == 0 &&
		  h_gstat(&a, &b, CORRAL_G_REPLY_SUPPRESSED) == 0 &&
		  h_pkts(&a, &b, 4, CORRAL_R_SHED) == 1,
		  "%s: %s: dropped, shed counted, no reply (verdict %d)", h_prog_name(p), what, v);
}

static void test_never(struct harness *h, enum h_prog p)
{
	static struct frame f;

	setup(h, CORRAL_ACTION_REJECT);
	v4(&f, PKT_TCP, PKT_RST);
	no_reply(h, p, &f, "IPv4 RST");
	v4(&f, PKT_TCP, PKT_RST | PKT_ACK);
	no_reply(h, p, &f, "IPv4 RST+ACK");
	v6(&f, PKT_TCP, PKT_RST);
	no_reply(h, p, &f, "IPv6 RST");
	v4(&f, PKT_ICMP, 0);
	f.s.icmp_type = 3;
	f.s.payload_len = 28;
	no_reply(h, p, &f, "ICMP destination unreachable");
	v4(&f, PKT_ICMP, 0);
	f.s.icmp_type = 11;
	f.s.payload_len = 28;
	no_reply(h, p, &f, "ICMP time exceeded");
	v6(&f, PKT_ICMPV6, 0);
	f.s.icmp_type = 1;
	f.s.payload_len = 48;
	no_reply(h, p, &f, "ICMPv6 destination unreachable");
	v6(&f, PKT_ICMPV6, 0);
	f.s.icmp_type = 2;
	no_reply(h, p, &f, "ICMPv6 packet too big");
	v6(&f, PKT_ICMPV6, 0);
	f.s.icmp_type = 135;
	f.s.payload_len = 20;
	no_reply(h, p, &f, "ICMPv6 neighbour solicitation");
	v4(&f, PKT_UDP, 0);
	f.s.frag_off = 100;
	f.s.payload_len = 40;
	no_reply(h, p, &f, "IPv4 non-first fragment");
	v6(&f, PKT_UDP, 0);
	pkt_spec_add_ext(&f.s, PKT_FRAGMENT, 8);
	f.s.frag_off = 100;
	f.s.payload_len = 40;
	no_reply(h, p, &f, "IPv6 non-first fragment");
	v4(&f, PKT_UDP, 0);
	f.s.dst4 = PKT_IP4(224, 0, 0, 251);
	no_reply(h, p, &f, "IPv4 multicast destination");
	v4(&f, PKT_UDP, 0);
	f.s.dst4 = PKT_IP4(255, 255, 255, 255);
	no_reply(h, p, &f, "IPv4 broadcast destination");
	v4(&f, PKT_UDP, 0);
	f.s.src4 = PKT_IP4(0, 0, 0, 0);
	no_reply(h, p, &f, "IPv4 source 0.0.0.0");
	v4(&f, PKT_TCP, PKT_SYN);
	memset(f.s.eth_dst, 0xff, 6);
	no_reply(h, p, &f, "Ethernet broadcast destination");
	v6(&f, PKT_UDP, 0);
	f.s.dst6[0] = 0xff;
	f.s.dst6[1] = 0x02;
	no_reply(h, p, &f, "IPv6 multicast destination");

	/* action drop and monitor mode: nothing sent */
	setup(h, CORRAL_ACTION_DROP);
	v4(&f, PKT_TCP, PKT_SYN);
	no_reply(h, p, &f, "action drop: IPv4 SYN");
	v6(&f, PKT_UDP, 0);
	no_reply(h, p, &f, "action drop: IPv6 UDP");
	{
		static struct out o;
		int v;

		setup(h, CORRAL_ACTION_REJECT);
		set_action(h, CORRAL_ACTION_REJECT, 1000, 100, CORRAL_MODE_MONITOR);
		v4(&f, PKT_TCP, PKT_SYN);
		build(&f);
		v = run(h, p, f.b, f.len, &o);
		TAP_CHECK(v == H_PASS && o.len == (__u32)f.len && !memcmp(o.b, f.b, f.len),
			  "%s: monitor mode: a reject class's SYN passes unchanged", h_prog_name(p));
		/* another class's drop is not answered */
		setup(h, CORRAL_ACTION_REJECT);
		set_action(h, CORRAL_ACTION_DROP, 1000, 100, CORRAL_MODE_ENFORCE);
		{
			struct corral_cfg c;

			h_cfg_get(h, &c);
			c.class_action[5] = CORRAL_ACTION_REJECT;
			h_cfg_set(h, &c);
		}
		v = run(h, p, f.b, f.len, &o);
		TAP_EQ("class 5 rejects, class 4 drops: class 4 SYN dropped", v, H_DROP);
	}
}

/* also the rate stage: a bucket over its limit answers */
static void test_rate_stage(struct harness *h, enum h_prog p)
{
	static struct frame f;
	static struct out o;
	int v1, v2;

	h_reset(h);
	h_set_now(h, T0);
	set_action(h, CORRAL_ACTION_REJECT, 1000, 100, CORRAL_MODE_ENFORCE);
	h_set_default_limit(h, 10, 1, 0, 0);
	v4(&f, PKT_TCP, PKT_SYN);
	build(&f);
	v1 = run(h, p, f.b, f.len, &o);
	v2 = run(h, p, f.b, f.len, &o);
	TAP_CHECK(v1 == H_PASS && v2 == H_TX && o.b[f.lay.l3 + 20 + 13] == (PKT_RST | PKT_ACK),
		  "%s: bucket burst 1: first SYN passes, second is answered with RST+ACK (%d, %d)",
		  h_prog_name(p), v1, v2);
}

static void test_budget(struct harness *h, enum h_prog p)
{
	static struct frame f;
	static struct out o;
	struct h_stats a, b;
	int i, tx = 0, drop = 0, other = 0;

	setup(h, CORRAL_ACTION_REJECT);
	set_action(h, CORRAL_ACTION_REJECT, 10, 5, CORRAL_MODE_ENFORCE);   /* cost 100 ms */
	v4(&f, PKT_TCP, PKT_SYN);
	build(&f);
	h_stats_read(h, &b);
	for (i = 0; i < 20; i++) {
		int v = run(h, p, f.b, f.len, &o);

		tx += v == H_TX;
		drop += v == H_DROP;
		other += v != H_TX && v != H_DROP;
	}
	h_stats_read(h, &a);
	TAP_CHECK(tx == 5 && drop == 15 && !other,
		  "%s: budget 10/s burst 5, frozen clock: 5 of 20 answered, 15 dropped (%d, %d)",
		  h_prog_name(p), tx, drop);
	TAP_EQ("reply_sent counts the replies", h_gstat(&a, &b, CORRAL_G_REPLY_SENT), 5);
	TAP_EQ("reply_suppressed counts the rest", h_gstat(&a, &b, CORRAL_G_REPLY_SUPPRESSED), 15);
	TAP_EQ("all 20 counted as shed", h_pkts(&a, &b, 4, CORRAL_R_SHED), 20);

	/* 350 ms later: floor(350 / 100) = 3 more */
	h_set_now(h, T0 + 350 * 1000000ULL);
	tx = drop = 0;
	for (i = 0; i < 10; i++) {
		int v = run(h, p, f.b, f.len, &o);

		tx += v == H_TX;
		drop += v == H_DROP;
	}
	TAP_CHECK(tx == 3 && drop == 7, "%s: after 350 ms: 3 more replies, then drops (%d, %d)",
		  h_prog_name(p), tx, drop);

	/* rate 0: never answered */
	set_action(h, CORRAL_ACTION_REJECT, 0, 5, CORRAL_MODE_ENFORCE);
	TAP_EQ("reply rate 0: dropped", run(h, p, f.b, f.len, &o), H_DROP);
}

struct racer {
	struct harness *h;
	enum h_prog p;
	int n, tx, bad;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	static __thread struct frame f;
	static __thread struct out o;
	int i;

	v4(&f, PKT_TCP, PKT_SYN);
	build(&f);
	for (i = 0; i < r->n; i++) {
		int v = run(r->h, r->p, f.b, f.len, &o);

		r->tx += v == H_TX;
		r->bad += v != H_TX && v != H_DROP;
	}
	return NULL;
}

static void test_budget_race(struct harness *h, enum h_prog p)
{
	struct racer r[2] = { { h, p, 3000, 0, 0 }, { h, p, 3000, 0, 0 } };
	pthread_t t[2];
	struct h_stats a, b;
	int i, started = 0;

	setup(h, CORRAL_ACTION_REJECT);
	set_action(h, CORRAL_ACTION_REJECT, 1000, 100, CORRAL_MODE_ENFORCE);
	h_stats_read(h, &b);
	for (i = 0; i < 2; i++)
		started += !pthread_create(&t[i], NULL, race, &r[i]);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	h_stats_read(h, &a);
	TAP_CHECK(started == 2 && !r[0].bad && !r[1].bad && r[0].tx + r[1].tx == 100,
		  "%s: two threads, 6000 SYNs at a frozen clock, burst 100: %d + %d replies",
		  h_prog_name(p), r[0].tx, r[1].tx);
	TAP_EQ("reply_sent = 100", h_gstat(&a, &b, CORRAL_G_REPLY_SENT), 100);
	TAP_EQ("reply_suppressed = the other 5900",
	       h_gstat(&a, &b, CORRAL_G_REPLY_SUPPRESSED), 5900);
}

int main(void)
{
	struct harness h;
	int err, p;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	replybkt_fd = bpf_map__fd(h.skel->maps.corral_replybkt);
	for (p = H_XDP; p <= H_TC_IN; p++) {
		test_replies(&h, p);
		test_never(&h, p);
		test_rate_stage(&h, p);
		test_budget(&h, p);
		test_budget_race(&h, p);
	}
	h_close(&h);
	return tap_done();
}
