/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - stage 1: parse Ethernet, up to CORRAL_MAX_VLAN VLAN tags,
 * IPv4 (with options, fragments), IPv6 (a bounded chain of extension
 * headers, fragments), then TCP/UDP/ICMP/ICMPv6.
 *
 * Contract: parse_packet() fills p->family/l4proto/dscp/ports/flags/src/dst
 * and returns PARSE_IP, PARSE_NONIP (not IPv4/IPv6: passes untouched) or
 * PARSE_MALFORMED: truncated at any header, a header length that lies,
 * more VLAN tags or extension headers than the bounds, a transport header
 * cut short, an IPv6 source inside ::ffff:0:0/96 (IPv4-mapped addresses
 * never appear on the wire; allowing them would let an IPv6 packet match
 * IPv4 rules). Non-first fragments have no ports (p->frag = 1). Transport
 * protocols other than TCP/UDP/ICMP/ICMPv6 parse as IP without ports.
 * The IP total/payload length must fit in the packet (p->len).
 */
#ifndef CORRAL_PARSE_H
#define CORRAL_PARSE_H

#include "ctx.h"
#include <bpf/bpf_endian.h>

#define CORRAL_ETH_P_IP     0x0800
#define CORRAL_ETH_P_IPV6   0x86DD
#define CORRAL_ETH_P_8021Q  0x8100
#define CORRAL_ETH_P_8021AD 0x88A8

#define CORRAL_IPPROTO_HOPOPTS  0
#define CORRAL_IPPROTO_ICMP     1
#define CORRAL_IPPROTO_TCP      6
#define CORRAL_IPPROTO_UDP      17
#define CORRAL_IPPROTO_ROUTING  43
#define CORRAL_IPPROTO_FRAGMENT 44
#define CORRAL_IPPROTO_AH       51
#define CORRAL_IPPROTO_ICMPV6   58
#define CORRAL_IPPROTO_NONE     59
#define CORRAL_IPPROTO_DSTOPTS  60

/* offsets past this are not walked (keeps the verifier's ranges bounded) */
#define CORRAL_MAX_L3_OFF 2048

enum parse_result {
	PARSE_IP = 0,
	PARSE_NONIP = 1,
	PARSE_MALFORMED = 2,
};

struct corral_opthdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

static __always_inline int parse_l4(struct corral_pkt *p, __u32 off)
{
	void *data = p->data, *end = p->data_end;
	__u8 *l4;

	if (off > CORRAL_MAX_L3_OFF)
		return PARSE_MALFORMED;
	p->l4_off = off;
	l4 = data + off;
	switch (p->l4proto) {
	case CORRAL_IPPROTO_TCP: {
		struct tcphdr *th = (void *)l4;
		__u32 doff;

		if ((void *)(th + 1) > end)
			return PARSE_MALFORMED;
		doff = ((__u8 *)th)[12] >> 4;
		if (doff < 5 || off + doff * 4 > p->len)
			return PARSE_MALFORMED;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		p->has_ports = 1;
		break;
	}
	case CORRAL_IPPROTO_UDP: {
		struct udphdr *uh = (void *)l4;

		if ((void *)(uh + 1) > end)
			return PARSE_MALFORMED;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
		p->has_ports = 1;
		break;
	}
	case CORRAL_IPPROTO_ICMP:
	case CORRAL_IPPROTO_ICMPV6:
		/* type, code, checksum */
		if (l4 + 4 > (__u8 *)end)
			return PARSE_MALFORMED;
		break;
	default:
		break;
	}
	return PARSE_IP;
}

static __always_inline int parse_ipv4(struct corral_pkt *p, __u32 off)
{
	struct iphdr *ip = p->data + off;
	__u32 hlen, tot;
	__u16 frag;

	if ((void *)(ip + 1) > p->data_end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || off + tot > p->len)
		return PARSE_MALFORMED;
	if (p->data + off + hlen > p->data_end)
		return PARSE_MALFORMED;
	p->family = 4;
	p->dscp = ip->tos >> 2;
	p->l4proto = ip->protocol;
	p->src[0] = ip->saddr;
	p->dst[0] = ip->daddr;
	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff) {          /* non-first fragment: no transport header */
		p->frag = 1;
		return PARSE_IP;
	}
	return parse_l4(p, off + hlen);
}

static __always_inline int ipv6_is_ext(__u8 next)
{
	return next == CORRAL_IPPROTO_HOPOPTS || next == CORRAL_IPPROTO_ROUTING ||
	       next == CORRAL_IPPROTO_DSTOPTS || next == CORRAL_IPPROTO_AH ||
	       next == CORRAL_IPPROTO_FRAGMENT;
}

static __always_inline int parse_ipv6(struct corral_pkt *p, __u32 off)
{
	struct ipv6hdr *ip6 = p->data + off;
	void *end = p->data_end;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	if (off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > p->len)
		return PARSE_MALFORMED;
	p->family = 6;
	p->dscp = ((ip6->priority << 4) | (ip6->flow_lbl[0] >> 4)) >> 2;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	/* ::ffff:0:0/96 is where IPv4 rules live in the policy trie */
	if (p->src[0] == 0 && p->src[1] == 0 && p->src[2] == bpf_htonl(0x0000ffff))
		return PARSE_MALFORMED;
	next = ip6->nexthdr;
	off += sizeof(*ip6);

	/* up to CORRAL_MAX_V6_EXT extension headers, then the transport header */
	for (i = 0; i <= CORRAL_MAX_V6_EXT; i++) {
		struct corral_opthdr *oh;

		/* the previous extension header must end inside the packet */
		if (off > CORRAL_MAX_L3_OFF || off > p->len)
			return PARSE_MALFORMED;
		/* one extension header more than the bound: malformed */
		if (i == CORRAL_MAX_V6_EXT && ipv6_is_ext(next))
			return PARSE_MALFORMED;
		oh = p->data + off;
		switch (next) {
		case CORRAL_IPPROTO_HOPOPTS:
		case CORRAL_IPPROTO_ROUTING:
		case CORRAL_IPPROTO_DSTOPTS:
			if ((void *)(oh + 1) > end)
				return PARSE_MALFORMED;
			next = oh->nexthdr;
			off += (oh->hdrlen + 1) * 8;
			break;
		case CORRAL_IPPROTO_AH:
			if ((void *)(oh + 1) > end)
				return PARSE_MALFORMED;
			next = oh->nexthdr;
			off += (oh->hdrlen + 2) * 4;
			break;
		case CORRAL_IPPROTO_FRAGMENT: {
			struct frag_hdr *fh = (void *)oh;

			if ((void *)(fh + 1) > end)
				return PARSE_MALFORMED;
			next = fh->nexthdr;
			off += sizeof(*fh);
			if (bpf_ntohs(fh->frag_off) & 0xfff8) {
				p->l4proto = next;
				p->frag = 1;
				return PARSE_IP;
			}
			break;
		}
		case CORRAL_IPPROTO_NONE:
			p->l4proto = next;
			return PARSE_IP;
		default:
			p->l4proto = next;
			return parse_l4(p, off);
		}
	}
	/* still inside the extension chain after the bound: malformed */
	return PARSE_MALFORMED;
}

static __always_inline int parse_packet(struct corral_pkt *p)
{
	struct ethhdr *eth = p->data;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > p->data_end)
		return PARSE_MALFORMED;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (i = 0; i <= CORRAL_MAX_VLAN; i++) {
		struct vlan_hdr *vh;

		if (proto != CORRAL_ETH_P_8021Q && proto != CORRAL_ETH_P_8021AD)
			break;
		if (i == CORRAL_MAX_VLAN)
			return PARSE_MALFORMED;
		vh = p->data + off;
		if ((void *)(vh + 1) > p->data_end)
			return PARSE_MALFORMED;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		off += sizeof(*vh);
	}

	p->l3_off = off;
	if (proto == CORRAL_ETH_P_IP)
		return parse_ipv4(p, off);
	if (proto == CORRAL_ETH_P_IPV6)
		return parse_ipv6(p, off);
	return PARSE_NONIP;
}

#endif /* CORRAL_PARSE_H */
