/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - test packet builder.
 *
 * Builds an Ethernet frame from a struct pkt_spec: 0..3 VLAN tags, then
 * IPv4 (options, DSCP, fragment offset/MF) or IPv6 (a chain of extension
 * headers: hop-by-hop, routing, destination options, fragment, AH), then a
 * transport header (TCP with flags and options, UDP, ICMP, ICMPv6; any
 * other protocol number gets no transport header) and a payload.
 * Lengths and checksums are valid (IPv4 header checksum, TCP/UDP/ICMP/
 * ICMPv6 checksums over the bytes present) unless a "lie" field asks for a
 * wrong value. Non-IP frames (ARP, LLDP, ...) are an EtherType and payload.
 *
 *   struct pkt_spec s;
 *   pkt_spec_v4(&s, PKT_IP4(10,78,0,1), PKT_IP4(10,77,0,2), PKT_TCP, 1234, 80);
 *   s.tcp_flags = PKT_SYN;
 *   int len = pkt_build(&s, buf, sizeof(buf), &lay);   // length or -errno
 *
 * The layout records where each header starts, so a caller can truncate
 * the frame at any header boundary (pkt_boundaries()).
 */
#ifndef CORRAL_TEST_PKT_H
#define CORRAL_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <arpa/inet.h>

#define PKT_MAX_VLAN 3
#define PKT_MAX_EXT 10
#define PKT_BUF_MAX 4096          /* larger than any frame the builder makes */

/* protocol numbers (IPPROTO_*) */
#define PKT_HOPOPTS  0
#define PKT_ICMP     1
#define PKT_TCP      6
#define PKT_UDP      17
#define PKT_ROUTING  43
#define PKT_FRAGMENT 44
#define PKT_GRE      47
#define PKT_AH       51
#define PKT_ICMPV6   58
#define PKT_NONE     59
#define PKT_DSTOPTS  60
#define PKT_SCTP     132

/* EtherTypes */
#define PKT_ETH_IP    0x0800
#define PKT_ETH_ARP   0x0806
#define PKT_ETH_8021Q 0x8100
#define PKT_ETH_IPV6  0x86DD
#define PKT_ETH_8021AD 0x88A8
#define PKT_ETH_LLDP  0x88CC

/* TCP flags */
#define PKT_FIN 0x01
#define PKT_SYN 0x02
#define PKT_RST 0x04
#define PKT_PSH 0x08
#define PKT_ACK 0x10

/* IPv4 address a.b.c.d in host order, and in network byte order (constant) */
#define PKT_IP4_HOST(a, b, c, d) \
	((__u32)(((__u32)(a) << 24) | ((__u32)(b) << 16) | ((__u32)(c) << 8) | (__u32)(d)))
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PKT_IP4(a, b, c, d) __builtin_bswap32(PKT_IP4_HOST(a, b, c, d))
#else
#define PKT_IP4(a, b, c, d) PKT_IP4_HOST(a, b, c, d)
#endif

struct pkt_ext {
	__u8 type;     /* PKT_HOPOPTS, PKT_ROUTING, PKT_DSTOPTS, PKT_FRAGMENT, PKT_AH */
	__u16 len;     /* bytes; 0 = minimum (8, AH 12); HOP/RT/DST: multiple of 8,
			  AH: multiple of 4, FRAGMENT: always 8 */
};

struct pkt_spec {
	/* layer 2 */
	int nvlan;                     /* 0..PKT_MAX_VLAN */
	__u16 vlan_tpid[PKT_MAX_VLAN]; /* 0 = 0x8100 (outer of 2+: 0x88A8 if set so) */
	__u16 vlan_tci[PKT_MAX_VLAN];
	__u16 ethertype;               /* 0 = from family; else written as is */
	__u8 eth_src[6], eth_dst[6];

	/* layer 3 */
	int family;                    /* 4, 6, or 0 = non-IP (ethertype + payload) */
	__u32 src4, dst4;              /* network byte order */
	__u8 src6[16], dst6[16];
	__u8 dscp;                     /* 0..63 */
	__u8 ecn;
	__u8 ttl;                      /* 0 = 64 */
	__u8 ip_opt_len;               /* IPv4 option bytes (NOPs + EOL), multiple of 4, <= 40 */
	__u16 frag_off;                /* fragment offset in 8-byte units (IPv4; IPv6
					  fragment header if the chain has one) */
	__u8 mf;                       /* more-fragments flag */
	__u8 df;                       /* IPv4 don't-fragment flag */
	int ihl_override;              /* >0: write this IHL (lie); options stay as built */
	int version_override;          /* >0: write this IP version */
	int iplen_delta;               /* added to tot_len / payload_len (lie) */
	int next_ext;                  /* number of IPv6 extension headers */
	struct pkt_ext ext[PKT_MAX_EXT];

	/* layer 4 */
	__u8 l4proto;                  /* PKT_TCP, PKT_UDP, PKT_ICMP, PKT_ICMPV6, other */
	__u8 no_l4;                    /* 1: no transport header, payload follows L3 */
	__u16 sport, dport;            /* host byte order */
	__u8 tcp_flags;
	__u8 tcp_opt_len;              /* TCP option bytes, multiple of 4, <= 40 */
	int doff_override;             /* >0: write this TCP data offset (lie) */
	__u32 seq, ack_seq;
	__u8 icmp_type, icmp_code;

	__u32 payload_len;
	__u8 payload_byte;             /* fill value; 0 = a counting pattern */
};

/* where each part of a built frame starts (byte offsets) */
struct pkt_layout {
	int len;                       /* total frame length */
	int nvlan;
	int vlan[PKT_MAX_VLAN];        /* each VLAN tag (4 bytes) */
	int l3;                        /* IP header (or non-IP payload) */
	int l3_hlen;                   /* IPv4 header incl. options, IPv6 fixed 40 */
	int next;
	int ext[PKT_MAX_EXT];          /* each IPv6 extension header */
	int ext_len[PKT_MAX_EXT];
	int l4;                        /* transport header (== payload if none) */
	int l4_hlen;
	int payload;
};

/* a fresh spec: zeroed, TTL 64, fixed MACs */
void pkt_spec_init(struct pkt_spec *s);
/* IPv4 / IPv6 packet of protocol proto between the two addresses and ports */
void pkt_spec_v4(struct pkt_spec *s, __u32 src, __u32 dst, __u8 proto, __u16 sport,
		 __u16 dport);
void pkt_spec_v6(struct pkt_spec *s, const __u8 src[16], const __u8 dst[16], __u8 proto,
		 __u16 sport, __u16 dport);
/* non-IP frame with this EtherType (PKT_ETH_ARP builds a valid ARP request) */
void pkt_spec_nonip(struct pkt_spec *s, __u16 ethertype);

/* append an IPv6 extension header to the chain; -E2BIG when full */
int pkt_spec_add_ext(struct pkt_spec *s, __u8 type, __u16 len);

/*
 * Build the frame into buf (cap bytes). Returns the frame length, or
 * -EINVAL for an impossible spec, -E2BIG when cap is too small. lay may be
 * NULL.
 */
int pkt_build(const struct pkt_spec *s, void *buf, size_t cap, struct pkt_layout *lay);

/*
 * Every header boundary of a built frame, ascending and deduplicated:
 * 0, 14 (end of Ethernet), each VLAN tag, L3, each extension header, L4,
 * payload and the frame length. Returns the count (at most max).
 */
int pkt_boundaries(const struct pkt_layout *lay, int *offs, int max);

/* helpers for addresses */
void pkt_ip6(__u8 out[16], __u16 a, __u16 b, __u16 c, __u16 d, __u16 e, __u16 f, __u16 g,
	     __u16 h);
/* Internet checksum of len bytes folded into 16 bits, starting from sum */
__u16 pkt_csum(const void *data, size_t len, __u32 sum);

#endif /* CORRAL_TEST_PKT_H */
