/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cookie.h - SYN cookies for protected ports (cfg.syn_cookies, enforce mode).
 *
 * Contract:
 *  - cookie_synack() rewrites a SYN in place into the SYN-ACK the kernel
 *    would send in cookie mode: the sequence number is the kernel's own
 *    cookie (bpf_tcp_raw_gen_syncookie_ipv4/6, the kernel's secret, so the
 *    kernel's own check accepts it), acknowledging seq + 1, with one option,
 *    MSS (the device MTU less the IP and TCP headers). No window scale,
 *    SACK or timestamps are offered (like kernel cookies without
 *    timestamps): the connection runs with a 64 KB window. Addresses,
 *    ports and MACs are swapped, VLAN tags stay, IP options and IPv6
 *    extension headers are not carried over. Returns CORRAL_V_TX, or
 *    CORRAL_V_DROP when the SYN cannot be answered (group or unanswerable
 *    addresses, a helper error): counted as CORRAL_G_COOKIE_NONE.
 *    Nothing is kept per connection: a spoofed SYN costs one reply.
 *  - cookie_ack() (tc ingress only) hands a TCP ACK for a listening
 *    socket whose cookie checks to that listener as a request socket
 *    (bpf_sk_assign_tcp_reqsk), with the MSS the cookie carries; the stack
 *    then creates the connection. Returns COOKIE_ACK_OK (counted as
 *    CORRAL_G_COOKIE_OK; the caller counts the admission), COOKIE_ACK_BAD
 *    (a listener, but not our cookie: passed on, CORRAL_G_COOKIE_BAD; the
 *    stack answers it, with its own cookie check or a RST) or
 *    COOKIE_ACK_NONE (no listener: an established connection or nothing).
 */
#ifndef CORRAL_COOKIE_H
#define CORRAL_COOKIE_H

#include "reject.h"

#define CORRAL_COOKIE_TTL 64
#define CORRAL_COOKIE_WINDOW 65535

enum cookie_ack_result {
	COOKIE_ACK_NONE = 0,
	COOKIE_ACK_OK = 1,
	COOKIE_ACK_BAD = 2,
};

/* the TCP header and its options, as far as the SYN has them */
struct cookie_th {
	struct reply_tcp_hdr h;
	__u8 opt[40];
};

static __always_inline int cookie_synack(struct corral_pkt *p)
{
	__u32 l3 = p->l3_off, mtu = 0, thlen;
	struct cookie_th in = {};
	struct {
		struct reply_tcp_hdr h;
		__u8 mss[4];
	} th = {};
	__s64 c;
	__u64 sum;
	__u16 adv;

	if (!reject_eligible(p) || l3 > 64 || p->l4_off > CORRAL_MAX_L3_OFF)
		goto none;
	if (pkt_load(p, p->l4_off, &in.h, sizeof(in.h)))
		goto none;
	thlen = (in.h.doff_res >> 4) * 4;
	if (thlen > 20) {
		__u32 olen = thlen - 20;

		/* the verifier sees this bound, not one clang derives */
		asm volatile("" : "+r"(olen));
		if (olen < 1 || olen > sizeof(in.opt))
			goto none;
		if (pkt_load(p, p->l4_off + 20, in.opt, olen))
			goto none;
	}
	asm volatile("" : "+r"(thlen));
	if (thlen < 20 || thlen > sizeof(in))
		goto none;
	if (p->xdp)
		bpf_check_mtu(p->xdp, 0, &mtu, 0, 0);
	else if (p->skb)
		bpf_check_mtu(p->skb, 0, &mtu, 0, 0);
	if (mtu < 1280 || mtu > 65535)
		mtu = 1500;

	th.h.source = in.h.dest;
	th.h.dest = in.h.source;
	th.h.ack_seq = bpf_htonl(bpf_ntohl(in.h.seq) + 1);
	th.h.doff_res = 6 << 4;
	th.h.flags = CORRAL_TCP_SYN | CORRAL_TCP_ACK;
	th.h.window = bpf_htons(CORRAL_COOKIE_WINDOW);
	th.mss[0] = 2;
	th.mss[1] = 4;

	if (p->family == 4) {
		struct iphdr ip = {}, old;

		if (pkt_load(p, l3, &old, sizeof(old)))
			goto none;
		c = bpf_tcp_raw_gen_syncookie_ipv4(&old, (struct tcphdr *)&in, thlen);
		if (c < 0)
			goto none;
		adv = (__u16)(mtu - 40);
		th.h.seq = bpf_htonl((__u32)c);
		th.mss[2] = adv >> 8;
		th.mss[3] = adv & 0xff;
		sum = reply_ip4_tcp(&ip, &old, 24, CORRAL_COOKIE_TTL) + csum_words(&th, 24);
		th.h.check = csum_final(sum);
		if (swap_macs(p) || pkt_resize(p, l3 + 44))
			goto fail;
		if (pkt_store(p, l3, &ip, 20) || pkt_store(p, l3 + 20, &th, 24))
			goto fail;
	} else {
		struct ipv6hdr ip6 = {}, old6;

		if (pkt_load(p, l3, &old6, sizeof(old6)))
			goto none;
		c = bpf_tcp_raw_gen_syncookie_ipv6(&old6, (struct tcphdr *)&in, thlen);
		if (c < 0)
			goto none;
		adv = (__u16)(mtu - 60);
		th.h.seq = bpf_htonl((__u32)c);
		th.mss[2] = adv >> 8;
		th.mss[3] = adv & 0xff;
		sum = reply_ip6_tcp(&ip6, &old6, 24, CORRAL_COOKIE_TTL) + csum_words(&th, 24);
		th.h.check = csum_final(sum);
		if (swap_macs(p) || pkt_resize(p, l3 + 64))
			goto fail;
		if (pkt_store(p, l3, &ip6, 40) || pkt_store(p, l3 + 40, &th, 24))
			goto fail;
	}
	if (p->skb)
		bpf_csum_level(p->skb, BPF_CSUM_LEVEL_RESET);
	return CORRAL_V_TX;
none:
	gstat_inc(CORRAL_G_COOKIE_NONE);
	return CORRAL_V_DROP;
fail:
	/* the packet may be half rewritten: it must not pass on */
	gstat_inc(CORRAL_G_COOKIE_NONE);
	return CORRAL_V_DROP;
}

#ifdef CORRAL_COOKIE_ACK
extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs, int attrs__sz) __ksym;

/*
 * The MSS a valid cookie carries: the kernel's cookie adds the index of
 * its MSS table entry (0..3) to a keyed hash, so the cookie less k still
 * checks exactly while k <= index (a borrow out of the 24 hash bits, one
 * chance in 2^24 per step, only makes the answer smaller, never invalid).
 */
static __always_inline __u32 cookie_mss_index(int v6, struct iphdr *ip, struct ipv6hdr *ip6,
					      struct reply_tcp_hdr *th)
{
	__u32 ack = bpf_ntohl(th->ack_seq), idx = 0;
	int k;

#pragma unroll
	for (k = 1; k <= 3; k++) {
		long r;

		th->ack_seq = bpf_htonl(ack - k);
		if (v6)
			r = bpf_tcp_raw_check_syncookie_ipv6(ip6, (struct tcphdr *)th);
		else
			r = bpf_tcp_raw_check_syncookie_ipv4(ip, (struct tcphdr *)th);
		if (r)
			break;
		idx = k;
	}
	th->ack_seq = bpf_htonl(ack);
	return idx;
}

static __always_inline int cookie_ack(struct corral_pkt *p)
{
	struct bpf_tcp_req_attrs attrs = {};
	struct bpf_sock_tuple t = {};
	struct reply_tcp_hdr th;
	struct iphdr ip = {};
	struct ipv6hdr ip6 = {};
	struct bpf_sock *skc;
	struct tcp_sock *tp;
	int v6 = p->family == 6, ret = COOKIE_ACK_NONE;
	__u32 idx;
	long r;

	if (!p->skb || p->l4_off > CORRAL_MAX_L3_OFF || p->l3_off > 64)
		return COOKIE_ACK_NONE;
	if (pkt_load(p, p->l4_off, &th, sizeof(th)))
		return COOKIE_ACK_NONE;
	if (v6) {
		if (pkt_load(p, p->l3_off, &ip6, sizeof(ip6)))
			return COOKIE_ACK_NONE;
		__builtin_memcpy(t.ipv6.saddr, &ip6.saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6.daddr, 16);
		t.ipv6.sport = th.source;
		t.ipv6.dport = th.dest;
		skc = bpf_skc_lookup_tcp(p->skb, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	} else {
		if (pkt_load(p, p->l3_off, &ip, sizeof(ip)))
			return COOKIE_ACK_NONE;
		t.ipv4.saddr = ip.saddr;
		t.ipv4.daddr = ip.daddr;
		t.ipv4.sport = th.source;
		t.ipv4.dport = th.dest;
		skc = bpf_skc_lookup_tcp(p->skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	}
	if (!skc)
		return COOKIE_ACK_NONE;
	if (skc->state != BPF_TCP_LISTEN)
		goto out;
	if (v6)
		r = bpf_tcp_raw_check_syncookie_ipv6(&ip6, (struct tcphdr *)&th);
	else
		r = bpf_tcp_raw_check_syncookie_ipv4(&ip, (struct tcphdr *)&th);
	if (r) {
		gstat_inc(CORRAL_G_COOKIE_BAD);
		ret = COOKIE_ACK_BAD;
		goto out;
	}
	idx = cookie_mss_index(v6, &ip, &ip6, &th) & 3;
	/* the kernel's MSS tables (net/ipv4/syncookies.c, net/ipv6/syncookies.c) */
	if (v6)
		attrs.mss = idx == 0 ? 1280 - 60 : idx == 1 ? 1480 - 60 : idx == 2 ? 1500 - 60 : 9000 - 60;
	else
		attrs.mss = idx == 0 ? 536 : idx == 1 ? 1300 : idx == 2 ? 1440 : 1460;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp || bpf_sk_assign_tcp_reqsk(p->skb, (struct sock *)tp, &attrs, sizeof(attrs))) {
		gstat_inc(CORRAL_G_COOKIE_FAIL);
		ret = COOKIE_ACK_BAD;
		goto out;
	}
	gstat_inc(CORRAL_G_COOKIE_OK);
	ret = COOKIE_ACK_OK;
out:
	bpf_sk_release(skc);
	return ret;
}
#endif /* CORRAL_COOKIE_ACK */

#endif /* CORRAL_COOKIE_H */
