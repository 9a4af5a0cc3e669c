/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * reject.h - the reject action: answer a packet that corral's shaping
 * drops (shed, SYN gate, per-source bucket) when its class has action
 * reject, instead of dropping it silently.
 *
 * Contract: reject_reply() rewrites the packet in place into its answer
 * and returns CORRAL_V_TX, or returns CORRAL_V_DROP (nothing sent):
 *  - TCP without ACK: RST+ACK, seq 0, ack = seq + segment length
 *    (SYN and FIN count one);
 *  - TCP with ACK: RST, seq = the packet's ack;
 *  - other IPv4: ICMP destination unreachable, code 13 (administratively
 *    prohibited), quoting the IP header and 8 bytes;
 *  - other IPv6: ICMPv6 destination unreachable, code 1 (administratively
 *    prohibited), quoting the packet up to CORRAL_REPLY_QUOTE6 bytes (the
 *    reply fits the 1280-byte minimum MTU).
 * Addresses, ports and MACs are swapped; VLAN tags stay as they were;
 * IP options and IPv6 extension headers are not carried over. Never
 * answered: RSTs, ICMP errors, ICMPv6 errors and neighbour discovery,
 * non-first fragments, broadcast or multicast destinations (Ethernet or
 * IP), and sources that cannot be answered (0.0.0.0, ::, multicast, IPv4
 * broadcast, loopback). One global GCRA budget (corral_replybkt,
 * cfg.reply_rate/reply_burst) caps replies across CPUs; over it, or when
 * the packet cannot be resized, the packet is dropped and counted as
 * CORRAL_G_REPLY_SUPPRESSED. Sent replies count as CORRAL_G_REPLY_SENT.
 */
#ifndef CORRAL_REJECT_H
#define CORRAL_REJECT_H

#include "parse.h"
#include "bucket.h"
#include "stats.h"

#define CORRAL_REPLY_TTL 64
/* IPv6 reply: 40 + 8 + quote <= 1280 */
#define CORRAL_REPLY_QUOTE6 1232
#define CORRAL_MOVE_CHUNK 64
#define CORRAL_MOVE_CHUNKS ((CORRAL_REPLY_QUOTE6 + CORRAL_MOVE_CHUNK - 1) / CORRAL_MOVE_CHUNK)

/* ---- byte access through the hook's helpers --------------------------- */

static __always_inline int pkt_load(const struct corral_pkt *p, __u32 off, void *buf, __u32 len)
{
	/* each test names the hook's own pointer: in the other hook it is a
	 * known NULL and the branch (and its helper) compiles away */
	if (p->xdp)
		return bpf_xdp_load_bytes(p->xdp, off, buf, len);
	if (p->skb)
		return bpf_skb_load_bytes(p->skb, off, buf, len);
	return -1;
}

static __always_inline int pkt_store(const struct corral_pkt *p, __u32 off, void *buf, __u32 len)
{
	if (p->xdp)
		return bpf_xdp_store_bytes(p->xdp, off, buf, len);
	if (p->skb)
		return bpf_skb_store_bytes(p->skb, off, buf, len, 0);
	return -1;
}

/* ---- checksums ------------------------------------------------------------ */

static __always_inline __u32 csum_fold32(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)s;
}

/* sum of n (even, constant) bytes as 16-bit words in memory order */
static __always_inline __u64 csum_words(const void *buf, int n)
{
	const __u16 *w = buf;
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < n / 2; i++)
		s += w[i];
	return s;
}

/* IPv6 pseudo-header after the addresses: 32-bit length, zeros, next header */
static __always_inline __u64 csum_ph6(__u32 len, __u8 next)
{
	return (__u64)bpf_htons(len >> 16) + bpf_htons(len & 0xffff) + bpf_htons(next);
}

static __always_inline __u16 csum_final(__u64 s)
{
	return (__u16)~csum_fold32(s);
}

/*
 * The IPv4 header of a TCP reply of tcplen bytes to old: addresses
 * swapped, no options, DF, its checksum. Returns the sum of the TCP
 * pseudo-header, for the segment's checksum.
 */
static __always_inline __u64 reply_ip4_tcp(struct iphdr *ip, const struct iphdr *old,
					   __u16 tcplen, __u8 ttl)
{
	__u32 sa = old->daddr, da = old->saddr;

	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = bpf_htons(20 + tcplen);
	ip->frag_off = bpf_htons(0x4000);   /* DF */
	ip->ttl = ttl;
	ip->protocol = CORRAL_IPPROTO_TCP;
	ip->saddr = old->daddr;
	ip->daddr = old->saddr;
	ip->check = csum_final(csum_words(ip, 20));
	/* the pseudo-header's words in memory order, as arithmetic: no
	 * stores to a struct read back through another type */
	return (__u64)(sa & 0xffff) + (sa >> 16) + (da & 0xffff) + (da >> 16) +
	       bpf_htons(CORRAL_IPPROTO_TCP) + bpf_htons(tcplen);
}

/* the same for IPv6: no extension headers */
static __always_inline __u64 reply_ip6_tcp(struct ipv6hdr *ip6, const struct ipv6hdr *old6,
					   __u16 tcplen, __u8 ttl)
{
	ip6->version = 6;
	ip6->payload_len = bpf_htons(tcplen);
	ip6->nexthdr = CORRAL_IPPROTO_TCP;
	ip6->hop_limit = ttl;
	ip6->saddr = old6->daddr;
	ip6->daddr = old6->saddr;
	return csum_words(&ip6->saddr, 32) + csum_ph6(tcplen, CORRAL_IPPROTO_TCP);
}

/*
 * Move len bytes at from to to (to > from, overlapping), back to front in
 * chunks, and return their checksum sum (the chunks start at even offsets
 * of the moved block). -1 on a helper error.
 */
static __always_inline __s64 pkt_move_up(const struct corral_pkt *p, __u32 from, __u32 to,
					 __u32 len)
{
	__u8 buf[CORRAL_MOVE_CHUNK];
	__u64 sum = 0;
	__u32 left = len;
	int i;

	for (i = 0; i < CORRAL_MOVE_CHUNKS; i++) {
		__u32 c, off, padded;
		__s64 part;

		if (!left)
			break;
		c = left > CORRAL_MOVE_CHUNK ? CORRAL_MOVE_CHUNK : left;
		/* the tail chunk first (chunks are whole from the front) */
		off = (left - 1) / CORRAL_MOVE_CHUNK * CORRAL_MOVE_CHUNK;
		c = left - off;
		if (c == 0 || c > CORRAL_MOVE_CHUNK)
			return -1;
		__builtin_memset(buf, 0, sizeof(buf));
		if (pkt_load(p, from + off, buf, c))
			return -1;
		if (pkt_store(p, to + off, buf, c))
			return -1;
		padded = (c + 3) & ~3u;
		if (padded > CORRAL_MOVE_CHUNK)
			return -1;
		part = bpf_csum_diff(NULL, 0, (__be32 *)buf, padded, 0);
		if (part < 0)
			return -1;
		sum += (__u64)part;
		left = off;
	}
	if (left)
		return -1;
	return (__s64)csum_fold32(sum);
}

/* ---- who may be answered ------------------------------------------------- */

static __always_inline int v4_unanswerable(__u32 a_be)
{
	__u32 a = bpf_ntohl(a_be);

	return a == 0 || a == 0xffffffff || (a >> 28) == 0xe || (a >> 24) == 127;
}

static __always_inline int reject_eligible(const struct corral_pkt *p)
{
	__u8 mac0, b[2];

	if (p->frag || (p->family != 4 && p->family != 6))
		return 0;
	if (pkt_load(p, 0, &mac0, 1) || (mac0 & 1))   /* Ethernet group address */
		return 0;
	if (p->family == 4) {
		if (v4_unanswerable(p->src[0]) || v4_unanswerable(p->dst[0]))
			return 0;
	} else {
		__u8 s0 = ((const __u8 *)p->src)[0], d0 = ((const __u8 *)p->dst)[0];

		if (s0 == 0xff || d0 == 0xff)
			return 0;
		if (!(p->src[0] | p->src[1] | p->src[2] | p->src[3]))
			return 0;
	}
	switch (p->l4proto) {
	case CORRAL_IPPROTO_TCP:
		return p->has_ports && !(p->tcp_flags & CORRAL_TCP_RST);
	case CORRAL_IPPROTO_ICMP:
		if (pkt_load(p, p->l4_off, b, 2))
			return 0;
		/* errors: unreachable, source quench, redirect, time exceeded,
		 * parameter problem */
		return !(b[0] == 3 || b[0] == 4 || b[0] == 5 || b[0] == 11 || b[0] == 12);
	case CORRAL_IPPROTO_ICMPV6:
		if (p->family != 6 || pkt_load(p, p->l4_off, b, 2))
			return 0;
		/* errors are types 0..127; neighbour discovery 133..137 */
		return b[0] >= 128 && !(b[0] >= 133 && b[0] <= 137);
	default:
		return 1;
	}
}

/* one token of the global reply budget */
static __always_inline int reply_budget(const struct corral_cfg *cfg, __u64 now)
{
	__u32 zero = 0;
	struct corral_bucket *b;
	__u64 cost, burst;

	if (!cfg->reply_rate)
		return 0;
	b = bpf_map_lookup_elem(&corral_replybkt, &zero);
	if (!b)
		return 0;
	cost = CORRAL_NSEC / cfg->reply_rate;
	if (!cost)
		cost = 1;
	burst = cfg->reply_burst ? cfg->reply_burst : 1;
	return gcra_take(&b->tat_pkt, now, cost, burst * cost) == GCRA_PASS;
}

/* ---- builders ---------------------------------------------------------------- */

static __always_inline int swap_macs(const struct corral_pkt *p)
{
	__u8 m[12], t[12];

	if (pkt_load(p, 0, m, 12))
		return -1;
	__builtin_memcpy(t, m + 6, 6);
	__builtin_memcpy(t + 6, m, 6);
	return pkt_store(p, 0, t, 12);
}

struct reply_tcp_hdr {
	__be16 source, dest;
	__be32 seq, ack_seq;
	__u8 doff_res, flags;
	__be16 window, check, urg_ptr;
};

/* RST for a TCP packet; l3 headers written by the caller's family */
static __always_inline int build_rst(struct corral_pkt *p, __u32 l3, __u32 l3_len)
{
	struct reply_tcp_hdr th = {}, in;
	__u32 seg, hdrs;
	__u64 sum;

	if (pkt_load(p, p->l4_off, &in, sizeof(in)))
		return -1;
	/* segment length: what follows the transport header, plus SYN and FIN */
	hdrs = p->l4_off - l3 + (in.doff_res >> 4) * 4;
	if (l3_len < hdrs)
		return -1;
	seg = l3_len - hdrs;
	if (in.flags & CORRAL_TCP_SYN)
		seg++;
	if (in.flags & CORRAL_TCP_FIN)
		seg++;
	th.source = in.dest;
	th.dest = in.source;
	th.doff_res = 5 << 4;
	if (in.flags & CORRAL_TCP_ACK) {
		th.seq = in.ack_seq;
		th.flags = CORRAL_TCP_RST;
	} else {
		th.ack_seq = bpf_htonl(bpf_ntohl(in.seq) + seg);
		th.flags = CORRAL_TCP_RST | CORRAL_TCP_ACK;
	}

	if (p->family == 4) {
		struct iphdr ip = {}, old;

		if (pkt_load(p, l3, &old, sizeof(old)))
			return -1;
		sum = reply_ip4_tcp(&ip, &old, 20, CORRAL_REPLY_TTL) + csum_words(&th, 20);
		th.check = csum_final(sum);
		if (pkt_resize(p, l3 + 40))
			return -1;
		if (pkt_store(p, l3, &ip, 20) || pkt_store(p, l3 + 20, &th, 20))
			return -1;
		return 0;
	} else {
		struct ipv6hdr ip6 = {}, old6;

		if (pkt_load(p, l3, &old6, sizeof(old6)))
			return -1;
		sum = reply_ip6_tcp(&ip6, &old6, 20, CORRAL_REPLY_TTL) + csum_words(&th, 20);
		th.check = csum_final(sum);
		if (pkt_resize(p, l3 + 60))
			return -1;
		if (pkt_store(p, l3, &ip6, 40) || pkt_store(p, l3 + 40, &th, 20))
			return -1;
		return 0;
	}
}

/* grow (or cut) the packet to new_len and move quote bytes at l3 up by gap */
static __always_inline __s64 make_room(struct corral_pkt *p, __u32 l3, __u32 gap, __u32 quote)
{
	__u32 new_len = l3 + gap + quote;
	__s64 sum;

	if (new_len > p->len) {
		if (pkt_resize(p, new_len))
			return -1;
		return pkt_move_up(p, l3, l3 + gap, quote);
	}
	sum = pkt_move_up(p, l3, l3 + gap, quote);
	if (sum < 0 || pkt_resize(p, new_len))
		return -1;
	return sum;
}

static __always_inline int build_icmp4(struct corral_pkt *p, __u32 l3)
{
	struct iphdr ip = {}, old;
	__u8 icmp[8] = { 3, 13 };
	__u32 quote, tot;
	__s64 qsum;

	if (pkt_load(p, l3, &old, sizeof(old)))
		return -1;
	tot = bpf_ntohs(old.tot_len);
	quote = old.ihl * 4 + 8;
	if (quote > tot)
		quote = tot;
	if (quote > 68)
		return -1;
	qsum = make_room(p, l3, 28, quote);
	if (qsum < 0)
		return -1;
	ip.version = 4;
	ip.ihl = 5;
	ip.tos = 0xc0;                        /* internetwork control */
	ip.tot_len = bpf_htons(28 + quote);
	ip.ttl = CORRAL_REPLY_TTL;
	ip.protocol = CORRAL_IPPROTO_ICMP;
	ip.saddr = old.daddr;
	ip.daddr = old.saddr;
	ip.check = csum_final(csum_words(&ip, 20));
	*(__u16 *)&icmp[2] = csum_final(csum_words(icmp, 8) + (__u64)qsum);
	if (pkt_store(p, l3, &ip, 20) || pkt_store(p, l3 + 20, icmp, 8))
		return -1;
	return 0;
}

static __always_inline int build_icmp6(struct corral_pkt *p, __u32 l3)
{
	struct ipv6hdr ip6 = {}, old6;
	__u8 icmp[8] = { 1, 1 };
	__u32 quote;
	__s64 qsum;
	__u64 sum;

	if (pkt_load(p, l3, &old6, sizeof(old6)))
		return -1;
	quote = 40 + bpf_ntohs(old6.payload_len);
	if (quote > CORRAL_REPLY_QUOTE6)
		quote = CORRAL_REPLY_QUOTE6;
	qsum = make_room(p, l3, 48, quote);
	if (qsum < 0)
		return -1;
	ip6.version = 6;
	ip6.payload_len = bpf_htons(8 + quote);
	ip6.nexthdr = CORRAL_IPPROTO_ICMPV6;
	ip6.hop_limit = CORRAL_REPLY_TTL;
	ip6.saddr = old6.daddr;
	ip6.daddr = old6.saddr;
	sum = csum_words(&ip6.saddr, 32) + csum_ph6(8 + quote, CORRAL_IPPROTO_ICMPV6) +
	      csum_words(icmp, 8) + (__u64)qsum;
	*(__u16 *)&icmp[2] = csum_final(sum);
	if (pkt_store(p, l3, &ip6, 40) || pkt_store(p, l3 + 40, icmp, 8))
		return -1;
	return 0;
}

/* the packet is a shaping drop of a reject class (enforce mode) */
static __always_inline enum corral_verdict reject_reply(const struct corral_cfg *cfg,
							struct corral_pkt *p, __u64 now)
{
	__u32 l3 = p->l3_off, l3_len;
	int err;

	if (!reject_eligible(p))
		return CORRAL_V_DROP;
	if (l3 > 64 || p->l4_off > CORRAL_MAX_L3_OFF)
		return CORRAL_V_DROP;
	if (!reply_budget(cfg, now)) {
		gstat_inc(CORRAL_G_REPLY_SUPPRESSED);
		return CORRAL_V_DROP;
	}
	/* bytes of the IP packet: header(s) and payload */
	if (p->family == 4) {
		struct iphdr old;

		if (pkt_load(p, l3, &old, sizeof(old)))
			goto fail;
		l3_len = bpf_ntohs(old.tot_len);
	} else {
		struct ipv6hdr old6;

		if (pkt_load(p, l3, &old6, sizeof(old6)))
			goto fail;
		l3_len = 40 + bpf_ntohs(old6.payload_len);
	}
	if (swap_macs(p))
		goto fail;
	if (p->l4proto == CORRAL_IPPROTO_TCP)
		err = build_rst(p, l3, l3_len);
	else if (p->family == 4)
		err = build_icmp4(p, l3);
	else
		err = build_icmp6(p, l3);
	if (err)
		goto fail;
	/* a checksum the device vouched for was that of the packet we replaced */
	if (p->skb)
		bpf_csum_level(p->skb, BPF_CSUM_LEVEL_RESET);
	gstat_inc(CORRAL_G_REPLY_SENT);
	return CORRAL_V_TX;
fail:
	/* the packet may be half rewritten: it must not pass on */
	gstat_inc(CORRAL_G_REPLY_SUPPRESSED);
	return CORRAL_V_DROP;
}

#endif /* CORRAL_REJECT_H */
