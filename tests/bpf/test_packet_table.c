// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_packet_table.c - the ingress pipeline as a specification table.
 *
 * Each row is an input packet, the expected verdict and the expected
 * counter deltas (the one row x reason it is counted under, would-drop,
 * buckets created). Every section runs from a fresh state through both
 * corral_xdp and corral_tc_in. Truncation at every header boundary and one
 * byte into every header is generated from a set of packet shapes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

/* rows start from a base packet and override some of its fields */
#pragma GCC diagnostic ignored "-Woverride-init"

#define SEC_NS 1000000000ULL
#define NONE CORRAL_ROW_NONE

/* lab addresses */
#define DST4 PKT_IP4(10, 77, 0, 2)
#define SRC4 PKT_IP4(10, 78, 0, 1)
#define SRC4B PKT_IP4(10, 78, 0, 2)
#define DENY4 PKT_IP4(10, 78, 66, 5)
#define ALLOW4 PKT_IP4(10, 78, 77, 5)
#define ALLOW4_DENIED PKT_IP4(10, 78, 77, 200)   /* deny /25 inside the allow /24 */
#define CLS4 PKT_IP4(10, 78, 10, 9)               /* class rule /24 */
#define CLS4_HOST PKT_IP4(10, 78, 10, 7)          /* class rule /32 */
#define LIM4 PKT_IP4(10, 78, 20, 1)               /* prefix limit */
#define ZERO4 PKT_IP4(10, 78, 30, 1)              /* class 0 by prefix */

#define A6(w3, w7) { 0xfd, 0x77, 0x00, (w3), [14] = ((w7) >> 8), [15] = ((w7) & 0xff) }
#define A6N(w3, w4, w7) { 0xfd, 0x77, 0x00, (w3), 0x00, (w4), [14] = ((w7) >> 8), \
			   [15] = ((w7) & 0xff) }
#define DST6 A6(0x01, 2)
#define SRC6 A6(0x78, 1)
#define SRC6B A6(0x78, 2)      /* same /64 as SRC6 */
#define SRC6C A6N(0x78, 1, 1)  /* another /64 */
#define DENY6 A6(0x66, 1)
#define ALLOW6 A6(0x77, 1)
#define CLS6 A6(0x10, 1)
#define ZERO6 A6(0x30, 1)

#define PAYLOAD 10
#define V4S(src, proto, port, ...) { .family = 4, .src4 = (src), .dst4 = DST4, .l4proto = (proto), \
	.sport = 40000, .dport = (port), .payload_len = PAYLOAD, __VA_ARGS__ }
#define V4(proto, port, ...) V4S(SRC4, proto, port, __VA_ARGS__)
#define V6S(src, proto, port, ...) { .family = 6, .src6 = src, .dst6 = DST6, .l4proto = (proto), \
	.sport = 40000, .dport = (port), .payload_len = PAYLOAD, __VA_ARGS__ }
#define V6(proto, port, ...) V6S(SRC6, proto, port, __VA_ARGS__)
#define NONIP(et, n, ...) { .family = 0, .ethertype = (et), .payload_len = (n), __VA_ARGS__ }
#define ICMP4 V4(PKT_ICMP, 0, .icmp_type = 8)
#define EXT(t, l) { .type = (t), .len = (l) }

struct row {
	const char *name;
	struct pkt_spec s;
	void (*fix)(__u8 *b, const struct pkt_layout *l);
	int trunc;              /* >0: cut the frame to this many bytes */
	int verdict;            /* H_PASS / H_DROP */
	int row, reason;        /* the one counter this packet lands in */
	int wd;                 /* 1: also counted as would-drop in that row */
	int src_new;            /* per-source buckets created */
};

#define PASS_AS(r, why) .verdict = H_PASS, .row = (r), .reason = (why)
#define DROP_AS(r, why) .verdict = H_DROP, .row = (r), .reason = (why)
#define MALFORMED DROP_AS(NONE, CORRAL_R_MALFORMED)

/* ---- fixes applied after building --------------------------------------- */
static void fix_ext0_len_lies(__u8 *b, const struct pkt_layout *l)
{
	b[l->ext[0] + 1] = 200;     /* claims 1608 bytes, the packet has 8 */
}

static void fix_ah_len_lies(__u8 *b, const struct pkt_layout *l)
{
	b[l->ext[0] + 1] = 250;
}

/* ---- sections ------------------------------------------------------------- */
struct section {
	const char *name;
	int (*setup)(struct harness *h);
	const struct row *rows;
	int nrows;
};

static int setup_none(struct harness *h)
{
	return 0;
}

static const struct row parse_rows[] = {
	{ "v4 tcp, no VLAN", V4(PKT_TCP, 80), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp, 1 VLAN", V4(PKT_TCP, 80, .nvlan = 1), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp, 2 VLAN (802.1ad + 802.1Q)",
	  V4(PKT_TCP, 80, .nvlan = 2, .vlan_tpid = { PKT_ETH_8021AD, PKT_ETH_8021Q }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp, 2 VLAN (802.1Q x2)", V4(PKT_TCP, 80, .nvlan = 2), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp, 3 VLAN = malformed", V4(PKT_TCP, 80, .nvlan = 3), MALFORMED },
	{ "v4 udp, 3 VLAN (802.1ad outer) = malformed",
	  V4(PKT_UDP, 53, .nvlan = 3, .vlan_tpid = { PKT_ETH_8021AD }), MALFORMED },
	{ "v6 udp, 2 VLAN", V6(PKT_UDP, 53, .nvlan = 2), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 udp, 3 VLAN = malformed", V6(PKT_UDP, 53, .nvlan = 3), MALFORMED },
	{ "ARP passes as non-IP", NONIP(PKT_ETH_ARP, 28), PASS_AS(NONE, CORRAL_R_NONIP) },
	{ "LLDP passes as non-IP", NONIP(PKT_ETH_LLDP, 46), PASS_AS(NONE, CORRAL_R_NONIP) },
	{ "ARP in a VLAN passes as non-IP", NONIP(PKT_ETH_ARP, 28, .nvlan = 1),
	  PASS_AS(NONE, CORRAL_R_NONIP) },
	{ "ARP in 3 VLAN = malformed", NONIP(PKT_ETH_ARP, 28, .nvlan = 3), MALFORMED },
	{ "Ethernet header only (non-IP, no payload)", NONIP(PKT_ETH_LLDP, 0),
	  PASS_AS(NONE, CORRAL_R_NONIP) },

	/* IPv4 header */
	{ "v4 options 4 bytes", V4(PKT_TCP, 80, .ip_opt_len = 4), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 options 40 bytes (ihl 15)", V4(PKT_UDP, 53, .ip_opt_len = 40),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 ihl 4 = malformed", V4(PKT_TCP, 80, .ihl_override = 4), MALFORMED },
	/* overrides are "> 0"; the builder keeps the low 4 bits: 0xf0 writes 0 */
	{ "v4 ihl 0 = malformed", V4(PKT_UDP, 53, .ihl_override = 0xf0), MALFORMED },
	{ "v4 ihl 15 beyond tot_len = malformed", V4(PKT_UDP, 53, .ihl_override = 15), MALFORMED },
	{ "v4 version 5 = malformed", V4(PKT_TCP, 80, .version_override = 5), MALFORMED },
	{ "v4 version 6 in an IPv4 frame = malformed", V4(PKT_TCP, 80, .version_override = 6),
	  MALFORMED },
	{ "v4 tot_len 1 byte longer than the frame = malformed", V4(PKT_TCP, 80, .iplen_delta = 1),
	  MALFORMED },
	{ "v4 tot_len far beyond the frame = malformed", V4(PKT_UDP, 53, .iplen_delta = 3000),
	  MALFORMED },
	{ "v4 tot_len below the header length = malformed",
	  V4(PKT_UDP, 53, .iplen_delta = -(8 + PAYLOAD + 1)), MALFORMED },
	{ "v4 tot_len shorter than the frame (Ethernet padding) passes",
	  V4(PKT_UDP, 53, .iplen_delta = -PAYLOAD), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 first fragment (MF, offset 0)", V4(PKT_TCP, 80, .mf = 1), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 non-first fragment (offset 185, MF)", V4(PKT_TCP, 80, .frag_off = 185, .mf = 1),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 last fragment (offset 185, no MF)", V4(PKT_UDP, 53, .frag_off = 185),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 non-first fragment with 1 byte and no transport header",
	  V4(PKT_TCP, 80, .frag_off = 1, .no_l4 = 1, .payload_len = 1),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 DF set", V4(PKT_TCP, 80, .df = 1), PASS_AS(4, CORRAL_R_PASS) },

	/* transports */
	{ "v4 tcp doff 5", V4(PKT_TCP, 80), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp with 40 bytes of options (doff 15)", V4(PKT_TCP, 80, .tcp_opt_len = 40),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 tcp doff 4 = malformed", V4(PKT_TCP, 80, .doff_override = 4), MALFORMED },
	{ "v4 tcp doff 0 = malformed", V4(PKT_TCP, 80, .doff_override = 0xf0), MALFORMED },
	{ "v4 tcp doff 15 beyond the frame = malformed", V4(PKT_TCP, 80, .doff_override = 15),
	  MALFORMED },
	{ "v4 tcp without payload", V4(PKT_TCP, 80, .no_l4 = 0, .payload_len = 0),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 udp", V4(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 icmp echo", ICMP4, PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 gre (other protocol, no ports)", V4(PKT_GRE, 0), PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 sctp (other protocol) without payload", V4(PKT_SCTP, 0, .payload_len = 0),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v4 udp truncated header (4 bytes) = malformed",
	  V4(PKT_UDP, 53, .no_l4 = 1, .payload_len = 4), MALFORMED },
	{ "v4 tcp truncated header (19 bytes) = malformed",
	  V4(PKT_TCP, 80, .no_l4 = 1, .payload_len = 19), MALFORMED },
	{ "v4 icmp truncated header (3 bytes) = malformed",
	  V4(PKT_ICMP, 0, .no_l4 = 1, .payload_len = 3), MALFORMED },
	{ "v4 icmp with only type/code/checksum (4 bytes)",
	  V4(PKT_ICMP, 0, .no_l4 = 1, .payload_len = 4), PASS_AS(4, CORRAL_R_PASS) },

	/* IPv6 */
	{ "v6 tcp", V6(PKT_TCP, 80), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 udp", V6(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 icmpv6 echo", V6(PKT_ICMPV6, 0, .icmp_type = 128), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 gre (other protocol)", V6(PKT_GRE, 0), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 no next header (59)", V6(PKT_NONE, 0, .payload_len = 0), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 version 4 in an IPv6 frame = malformed", V6(PKT_TCP, 80, .version_override = 4),
	  MALFORMED },
	{ "v6 payload_len 1 byte beyond the frame = malformed", V6(PKT_UDP, 53, .iplen_delta = 1),
	  MALFORMED },
	{ "v6 payload_len shorter than the frame passes", V6(PKT_UDP, 53, .iplen_delta = -PAYLOAD),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 tcp doff 4 = malformed", V6(PKT_TCP, 80, .doff_override = 4), MALFORMED },
	{ "v6 hop-by-hop + tcp", V6(PKT_TCP, 80, .next_ext = 1, .ext = { EXT(PKT_HOPOPTS, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 hop + routing + dstopts + udp",
	  V6(PKT_UDP, 53, .next_ext = 3,
	     .ext = { EXT(PKT_HOPOPTS, 16), EXT(PKT_ROUTING, 24), EXT(PKT_DSTOPTS, 8) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 AH + tcp", V6(PKT_TCP, 80, .next_ext = 1, .ext = { EXT(PKT_AH, 24) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 hop + AH + dstopts + icmpv6",
	  V6(PKT_ICMPV6, 0, .icmp_type = 128, .next_ext = 3,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_AH, 0), EXT(PKT_DSTOPTS, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 5 extension headers + tcp",
	  V6(PKT_TCP, 80, .next_ext = 5,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_ROUTING, 0),
		      EXT(PKT_AH, 0), EXT(PKT_DSTOPTS, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 6 extension headers (CORRAL_MAX_V6_EXT) + tcp",
	  V6(PKT_TCP, 80, .next_ext = 6,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_ROUTING, 0),
		      EXT(PKT_AH, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 7 extension headers = malformed (chain too long)",
	  V6(PKT_TCP, 80, .next_ext = 7,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_ROUTING, 0),
		      EXT(PKT_AH, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0) }),
	  MALFORMED },
	{ "v6 10 extension headers = malformed",
	  V6(PKT_UDP, 53, .next_ext = 10,
	     .ext = { EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0) }),
	  MALFORMED },
	{ "v6 dstopts length beyond the frame = malformed",
	  V6(PKT_UDP, 53, .next_ext = 1, .ext = { EXT(PKT_DSTOPTS, 0) }),
	  .fix = fix_ext0_len_lies, MALFORMED },
	{ "v6 hop-by-hop length beyond the frame, then no next header = malformed",
	  V6(PKT_NONE, 0, .payload_len = 0, .next_ext = 1, .ext = { EXT(PKT_HOPOPTS, 0) }),
	  .fix = fix_ext0_len_lies, MALFORMED },
	{ "v6 routing length beyond the frame, then gre = malformed",
	  V6(PKT_GRE, 0, .next_ext = 1, .ext = { EXT(PKT_ROUTING, 0) }),
	  .fix = fix_ext0_len_lies, MALFORMED },
	{ "v6 6 extension headers, then no next header",
	  V6(PKT_NONE, 0, .payload_len = 0, .next_ext = 6,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_ROUTING, 0),
		      EXT(PKT_AH, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 6 dstopts + a non-first fragment header (7 headers) = malformed",
	  V6(PKT_UDP, 53, .frag_off = 100, .next_ext = 7,
	     .ext = { EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_FRAGMENT, 0) }),
	  MALFORMED },
	{ "v6 AH length beyond the frame = malformed",
	  V6(PKT_UDP, 53, .next_ext = 1, .ext = { EXT(PKT_AH, 0) }),
	  .fix = fix_ah_len_lies, MALFORMED },
	{ "v6 first fragment (offset 0, M) + udp",
	  V6(PKT_UDP, 53, .mf = 1, .next_ext = 1, .ext = { EXT(PKT_FRAGMENT, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 non-first fragment (offset 100)",
	  V6(PKT_UDP, 53, .frag_off = 100, .mf = 1, .next_ext = 1,
	     .ext = { EXT(PKT_FRAGMENT, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 non-first fragment without transport header",
	  V6(PKT_TCP, 80, .frag_off = 100, .no_l4 = 1, .payload_len = 3, .next_ext = 2,
	     .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_FRAGMENT, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 first fragment with a cut tcp header = malformed",
	  V6(PKT_TCP, 80, .mf = 1, .no_l4 = 1, .payload_len = 12, .next_ext = 1,
	     .ext = { EXT(PKT_FRAGMENT, 0) }),
	  MALFORMED },
	{ "v6 tcp with 40 bytes of options", V6(PKT_TCP, 80, .tcp_opt_len = 40),
	  PASS_AS(4, CORRAL_R_PASS) },
};

/* malformed packets pass (and are still counted) with malformed_pass = 1 */
static int setup_malformed_pass(struct harness *h)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	c.malformed_pass = 1;
	h_cfg_set(h, &c);
	return 0;
}

static const struct row mpass_rows[] = {
	{ "malformed_pass: 3 VLAN passes, counted malformed", V4(PKT_TCP, 80, .nvlan = 3),
	  PASS_AS(NONE, CORRAL_R_MALFORMED) },
	{ "malformed_pass: truncated v4 passes, counted malformed", V4(PKT_TCP, 80), .trunc = 40,
	  PASS_AS(NONE, CORRAL_R_MALFORMED) },
	{ "malformed_pass: v4 cut inside the IP header (VLAN) passes, counted malformed",
	  V4(PKT_UDP, 53, .nvlan = 1), .trunc = 30, PASS_AS(NONE, CORRAL_R_MALFORMED) },
	{ "malformed_pass: v6 chain too long passes, counted malformed",
	  V6(PKT_UDP, 53, .next_ext = 10,
	     .ext = { EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0), EXT(PKT_DSTOPTS, 0),
		      EXT(PKT_DSTOPTS, 0) }),
	  PASS_AS(NONE, CORRAL_R_MALFORMED) },
	{ "malformed_pass: a valid packet still counts as pass", V4(PKT_TCP, 80),
	  PASS_AS(4, CORRAL_R_PASS) },
};

/* lists: deny drops, allow passes as class 0 and skips the buckets */
static int setup_lists(struct harness *h)
{
	__u32 deny = PKT_IP4(10, 78, 66, 0), allow = PKT_IP4(10, 78, 77, 0);
	__u32 inner = PKT_IP4(10, 78, 77, 128);
	__u8 deny6[16] = A6(0x66, 0), allow6[16] = A6(0x77, 0);
	int err = 0;

	err = err ?: h_policy_deny(h, 4, &deny, 24);
	err = err ?: h_policy_allow(h, 4, &allow, 24);
	err = err ?: h_policy_deny(h, 4, &inner, 25);
	err = err ?: h_policy_deny(h, 6, deny6, 32);
	err = err ?: h_policy_allow(h, 6, allow6, 32);
	/* every other source: 1 packet burst */
	h_set_default_limit(h, 1, 1, 0, 0);
	return err;
}

static const struct row list_rows[] = {
	{ "deny v4 /24 drops", V4S(DENY4, PKT_TCP, 80), DROP_AS(NONE, CORRAL_R_DENY) },
	{ "deny v4 /25 inside an allow /24 drops (longest prefix)", V4S(ALLOW4_DENIED, PKT_UDP, 53),
	  DROP_AS(NONE, CORRAL_R_DENY) },
	{ "allow v4 passes as class 0", V4S(ALLOW4, PKT_TCP, 80), PASS_AS(0, CORRAL_R_ALLOW) },
	{ "allow v4 skips buckets (2nd packet over burst 1)", V4S(ALLOW4, PKT_TCP, 80),
	  PASS_AS(0, CORRAL_R_ALLOW) },
	{ "allow v4 skips buckets (3rd packet)", V4S(ALLOW4, PKT_UDP, 53),
	  PASS_AS(0, CORRAL_R_ALLOW) },
	{ "unlisted v4 passes its bucket", V4(PKT_TCP, 80), PASS_AS(4, CORRAL_R_PASS),
	  .src_new = 1 },
	{ "unlisted v4 over its burst drops", V4(PKT_TCP, 80), DROP_AS(4, CORRAL_R_RATE) },
	{ "deny v4 fragment drops", V4S(DENY4, PKT_UDP, 53, .frag_off = 20),
	  DROP_AS(NONE, CORRAL_R_DENY) },
	{ "deny v6 /32 drops", V6S(DENY6, PKT_UDP, 53), DROP_AS(NONE, CORRAL_R_DENY) },
	{ "allow v6 passes as class 0", V6S(ALLOW6, PKT_TCP, 443), PASS_AS(0, CORRAL_R_ALLOW) },
	{ "allow v6 skips buckets", V6S(ALLOW6, PKT_TCP, 443), PASS_AS(0, CORRAL_R_ALLOW) },
	{ "unlisted v6 passes its bucket", V6(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS),
	  .src_new = 1 },
	{ "unlisted v6 over its burst drops", V6(PKT_UDP, 53), DROP_AS(4, CORRAL_R_RATE) },
};

/*
 * classes: source prefix > protocol/port > DSCP > default (4)
 *   10.78.10.0/24 -> 6, 10.78.10.7/32 -> 1, fd77:0:10::/48 -> 6
 *   tcp 80 -> 2, tcp 8000-8099 -> 3, tcp 0 -> 7 (only reachable without ports),
 *   udp 53 -> 7, icmp -> 1, icmpv6 -> 3
 *   dscp 46 -> 5, dscp 10 -> 0
 */
static int setup_classes(struct harness *h)
{
	__u32 pfx = PKT_IP4(10, 78, 10, 0), host = CLS4_HOST;
	__u8 pfx6[16] = A6(0x10, 0);
	int err = 0;

	err = err ?: h_policy_class(h, 4, &pfx, 24, 6);
	err = err ?: h_policy_class(h, 4, &host, 32, 1);
	err = err ?: h_policy_class(h, 6, pfx6, 48, 6);
	h_port_set(h, CORRAL_PI_TCP, 80, 80, 2);
	h_port_set(h, CORRAL_PI_TCP, 8000, 8099, 3);
	h_port_set(h, CORRAL_PI_TCP, 0, 0, 7);
	h_port_set(h, CORRAL_PI_UDP, 53, 53, 7);
	h_port_set(h, CORRAL_PI_ICMP, 0, 0, 1);
	h_port_set(h, CORRAL_PI_ICMPV6, 0, 0, 3);
	h_dscp_set(h, 46, 5);
	h_dscp_set(h, 10, 0);
	return err;
}

static const struct row class_rows[] = {
	{ "src prefix beats port and dscp", V4S(CLS4, PKT_TCP, 80, .dscp = 46),
	  PASS_AS(6, CORRAL_R_PASS) },
	{ "longer src prefix wins", V4S(CLS4_HOST, PKT_TCP, 80, .dscp = 46),
	  PASS_AS(1, CORRAL_R_PASS) },
	{ "port beats dscp", V4(PKT_TCP, 80, .dscp = 46), PASS_AS(2, CORRAL_R_PASS) },
	{ "dscp beats default", V4(PKT_TCP, 81, .dscp = 46), PASS_AS(5, CORRAL_R_PASS) },
	{ "dscp rule to class 0", V4(PKT_TCP, 81, .dscp = 10), PASS_AS(0, CORRAL_R_PASS) },
	{ "no rule: default class", V4(PKT_TCP, 81), PASS_AS(4, CORRAL_R_PASS) },
	{ "port range low end 8000", V4(PKT_TCP, 8000), PASS_AS(3, CORRAL_R_PASS) },
	{ "port range high end 8099", V4(PKT_TCP, 8099), PASS_AS(3, CORRAL_R_PASS) },
	{ "port 7999 below the range", V4(PKT_TCP, 7999), PASS_AS(4, CORRAL_R_PASS) },
	{ "port 8100 above the range", V4(PKT_TCP, 8100), PASS_AS(4, CORRAL_R_PASS) },
	{ "port rules are per protocol (udp 80)", V4(PKT_UDP, 80), PASS_AS(4, CORRAL_R_PASS) },
	{ "udp 53", V4(PKT_UDP, 53), PASS_AS(7, CORRAL_R_PASS) },
	{ "icmp protocol rule", ICMP4, PASS_AS(1, CORRAL_R_PASS) },
	{ "first fragment uses ports", V4(PKT_TCP, 80, .mf = 1), PASS_AS(2, CORRAL_R_PASS) },
	{ "non-first fragment skips the port table", V4(PKT_TCP, 80, .frag_off = 64, .mf = 1),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "non-first fragment still uses dscp", V4(PKT_TCP, 80, .frag_off = 64, .dscp = 46),
	  PASS_AS(5, CORRAL_R_PASS) },
	{ "non-first fragment still uses the src prefix", V4S(CLS4, PKT_UDP, 53, .frag_off = 64),
	  PASS_AS(6, CORRAL_R_PASS) },
	{ "VLAN-tagged tcp 80", V4(PKT_TCP, 80, .nvlan = 2), PASS_AS(2, CORRAL_R_PASS) },
	{ "v4 options do not move the ports", V4(PKT_TCP, 8050, .ip_opt_len = 12),
	  PASS_AS(3, CORRAL_R_PASS) },
	{ "v6 src prefix beats port", V6S(CLS6, PKT_TCP, 80, .dscp = 46),
	  PASS_AS(6, CORRAL_R_PASS) },
	{ "v6 port", V6(PKT_TCP, 80, .dscp = 46), PASS_AS(2, CORRAL_R_PASS) },
	{ "v6 port behind extension headers",
	  V6(PKT_TCP, 8000, .next_ext = 2, .ext = { EXT(PKT_HOPOPTS, 0), EXT(PKT_DSTOPTS, 16) }),
	  PASS_AS(3, CORRAL_R_PASS) },
	{ "v6 dscp (traffic class)", V6(PKT_UDP, 54, .dscp = 46), PASS_AS(5, CORRAL_R_PASS) },
	{ "v6 default", V6(PKT_UDP, 54), PASS_AS(4, CORRAL_R_PASS) },
	{ "v6 udp 53", V6(PKT_UDP, 53), PASS_AS(7, CORRAL_R_PASS) },
	{ "v6 icmpv6 protocol rule", V6(PKT_ICMPV6, 0, .icmp_type = 128),
	  PASS_AS(3, CORRAL_R_PASS) },
	{ "v6 first fragment uses ports",
	  V6(PKT_TCP, 80, .mf = 1, .next_ext = 1, .ext = { EXT(PKT_FRAGMENT, 0) }),
	  PASS_AS(2, CORRAL_R_PASS) },
	{ "v6 non-first fragment skips the port table",
	  V6(PKT_TCP, 80, .frag_off = 8, .next_ext = 1, .ext = { EXT(PKT_FRAGMENT, 0) }),
	  PASS_AS(4, CORRAL_R_PASS) },
};

/* shed level 3.0, scope new: classes > 3 shed for SYNs and non-TCP */
static int shed_common(struct harness *h)
{
	__u32 zero = PKT_IP4(10, 78, 30, 0), allow = PKT_IP4(10, 78, 77, 0);
	__u8 zero6[16] = A6(0x30, 0);
	int err = 0;

	err = err ?: h_policy_class(h, 4, &zero, 24, 0);
	err = err ?: h_policy_class(h, 6, zero6, 32, 0);
	err = err ?: h_policy_allow(h, 4, &allow, 24);
	h_port_set(h, CORRAL_PI_TCP, 80, 80, 2);
	h_port_set(h, CORRAL_PI_UDP, 3000, 3000, 3);
	h_port_set(h, CORRAL_PI_UDP, 1000, 1000, 1);
	h_set_now(h, 1000 * SEC_NS);
	return err;
}

static int setup_shed_new(struct harness *h)
{
	h_set_shed(h, CORRAL_SHED_PACK(3, 0, CORRAL_SCOPE_NEW, CORRAL_SHED_ON));
	return shed_common(h);
}

static const struct row shed_new_rows[] = {
	{ "shed 3.0 new: class 4 udp dropped", V4(PKT_UDP, 53), DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: class 4 icmp dropped", ICMP4, DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: class 4 SYN dropped", V4(PKT_TCP, 22, .tcp_flags = PKT_SYN),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: class 4 ACK passes (established flow)",
	  V4(PKT_TCP, 22, .tcp_flags = PKT_ACK), PASS_AS(4, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 4 SYN+ACK passes", V4(PKT_TCP, 22, .tcp_flags = PKT_SYN | PKT_ACK),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 4 FIN+ACK passes", V4(PKT_TCP, 22, .tcp_flags = PKT_FIN | PKT_ACK),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 4 tcp non-first fragment passes",
	  V4(PKT_TCP, 22, .frag_off = 10, .tcp_flags = PKT_SYN), PASS_AS(4, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 4 udp non-first fragment dropped", V4(PKT_UDP, 53, .frag_off = 10),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: class 3 udp passes (fraction 0)", V4(PKT_UDP, 3000),
	  PASS_AS(3, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 2 SYN passes", V4(PKT_TCP, 80, .tcp_flags = PKT_SYN),
	  PASS_AS(2, CORRAL_R_PASS) },
	{ "shed 3.0 new: class 0 (src prefix) passes", V4S(ZERO4, PKT_UDP, 53),
	  PASS_AS(0, CORRAL_R_PASS) },
	{ "shed 3.0 new: allow-listed passes", V4S(ALLOW4, PKT_UDP, 53),
	  PASS_AS(0, CORRAL_R_ALLOW) },
	{ "shed 3.0 new: v6 class 4 udp dropped", V6(PKT_UDP, 53), DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: v6 class 4 SYN dropped", V6(PKT_TCP, 22, .tcp_flags = PKT_SYN),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.0 new: v6 class 4 ACK passes", V6(PKT_TCP, 22, .tcp_flags = PKT_ACK),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "shed 3.0 new: v6 class 0 (src prefix) passes", V6S(ZERO6, PKT_ICMPV6, 0),
	  PASS_AS(0, CORRAL_R_PASS) },
};

/* shed level 3 with fraction 1.0, scope all */
static int setup_shed_all(struct harness *h)
{
	h_set_shed(h, CORRAL_SHED_PACK(3, CORRAL_FRAC_ONE, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	return shed_common(h);
}

static const struct row shed_all_rows[] = {
	{ "shed 3.100% all: class 4 ACK dropped", V4(PKT_TCP, 22, .tcp_flags = PKT_ACK),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.100% all: class 4 tcp non-first fragment dropped", V4(PKT_TCP, 22, .frag_off = 9),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.100% all: class 3 udp dropped (whole level)", V4(PKT_UDP, 3000),
	  DROP_AS(3, CORRAL_R_SHED) },
	{ "shed 3.100% all: class 2 ACK passes", V4(PKT_TCP, 80, .tcp_flags = PKT_ACK),
	  PASS_AS(2, CORRAL_R_PASS) },
	{ "shed 3.100% all: class 1 udp passes", V4(PKT_UDP, 1000), PASS_AS(1, CORRAL_R_PASS) },
	{ "shed 3.100% all: v6 class 4 ACK dropped", V6(PKT_TCP, 22, .tcp_flags = PKT_ACK),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 3.100% all: v6 class 3 dropped", V6(PKT_UDP, 3000), DROP_AS(3, CORRAL_R_SHED) },
};

/* level 0 with fraction 1.0: everything but class 0 */
static int setup_shed_zero(struct harness *h)
{
	h_set_shed(h, CORRAL_SHED_PACK(0, CORRAL_FRAC_ONE, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	return shed_common(h);
}

static const struct row shed_zero_rows[] = {
	{ "shed 0.100%: class 1 dropped", V4(PKT_UDP, 1000), DROP_AS(1, CORRAL_R_SHED) },
	{ "shed 0.100%: class 4 dropped", V4(PKT_TCP, 80 + 1, .tcp_flags = PKT_ACK),
	  DROP_AS(4, CORRAL_R_SHED) },
	{ "shed 0.100%: class 0 (src prefix) never shed", V4S(ZERO4, PKT_TCP, 22,
	  .tcp_flags = PKT_SYN), PASS_AS(0, CORRAL_R_PASS) },
	{ "shed 0.100%: v6 class 0 never shed", V6S(ZERO6, PKT_UDP, 53),
	  PASS_AS(0, CORRAL_R_PASS) },
	{ "shed 0.100%: allow-listed never shed", V4S(ALLOW4, PKT_UDP, 53),
	  PASS_AS(0, CORRAL_R_ALLOW) },
	{ "shed 0.100%: non-IP passes", NONIP(PKT_ETH_ARP, 28), PASS_AS(NONE, CORRAL_R_NONIP) },
};

/* a shed word without CORRAL_SHED_ON sheds nothing */
static int setup_shed_off(struct harness *h)
{
	h_set_shed(h, CORRAL_SHED_PACK(0, CORRAL_FRAC_ONE, CORRAL_SCOPE_ALL, 0));
	return shed_common(h);
}

static const struct row shed_off_rows[] = {
	{ "shed word off: class 4 passes", V4(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS) },
	{ "shed word off: class 1 passes", V4(PKT_UDP, 1000), PASS_AS(1, CORRAL_R_PASS) },
};

/* buckets: default 1 pps burst 2; 10.78.20.0/24 limited to burst 1 */
static int setup_buckets(struct harness *h)
{
	struct corral_limit lim = { .pkt_rate = 1, .pkt_burst = 1 };
	__u32 pfx = PKT_IP4(10, 78, 20, 0);

	h_set_now(h, 1000 * SEC_NS);
	h_set_default_limit(h, 1, 2, 0, 0);
	return h_policy_limit(h, 4, &pfx, 24, &lim);
}

static const struct row bucket_rows[] = {
	{ "bucket: 1st packet of a source passes", V4(PKT_TCP, 80), PASS_AS(4, CORRAL_R_PASS),
	  .src_new = 1 },
	{ "bucket: 2nd packet (burst 2) passes", V4(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS) },
	{ "bucket: 3rd packet over the burst dropped", V4(PKT_TCP, 80), DROP_AS(4, CORRAL_R_RATE) },
	{ "bucket: another source has its own bucket", V4S(SRC4B, PKT_TCP, 80),
	  PASS_AS(4, CORRAL_R_PASS), .src_new = 1 },
	{ "bucket: a fragment of the limited source dropped", V4(PKT_UDP, 53, .frag_off = 8),
	  DROP_AS(4, CORRAL_R_RATE) },
	{ "bucket: prefix limit (burst 1) passes one", V4S(LIM4, PKT_TCP, 80),
	  PASS_AS(4, CORRAL_R_PASS), .src_new = 1 },
	{ "bucket: prefix limit (burst 1) drops the 2nd", V4S(LIM4, PKT_TCP, 80),
	  DROP_AS(4, CORRAL_R_RATE) },
	{ "bucket: v6 1st passes", V6(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS), .src_new = 1 },
	{ "bucket: v6 same /64 shares the bucket", V6S(SRC6B, PKT_UDP, 53),
	  PASS_AS(4, CORRAL_R_PASS) },
	{ "bucket: v6 same /64 over the burst dropped", V6(PKT_TCP, 80),
	  DROP_AS(4, CORRAL_R_RATE) },
	{ "bucket: v6 another /64 has its own bucket", V6S(SRC6C, PKT_TCP, 80),
	  PASS_AS(4, CORRAL_R_PASS), .src_new = 1 },
	{ "bucket: non-IP is not policed", NONIP(PKT_ETH_ARP, 28), PASS_AS(NONE, CORRAL_R_NONIP) },
};

/* monitor: every drop reason is counted, and also as would-drop; all pass */
static int setup_monitor(struct harness *h)
{
	__u32 deny = PKT_IP4(10, 78, 66, 0);
	struct corral_cfg c;
	int err;

	h_set_now(h, 1000 * SEC_NS);
	h_cfg_get(h, &c);
	c.mode = CORRAL_MODE_MONITOR;
	c.dflt.pkt_rate = 1;
	c.dflt.pkt_burst = 1;
	h_cfg_set(h, &c);
	h_dscp_set(h, 8, 7);
	h_set_shed(h, CORRAL_SHED_PACK(6, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	err = h_policy_deny(h, 4, &deny, 24);
	return err;
}

static const struct row monitor_rows[] = {
	{ "monitor: deny passes, counted deny + would-drop", V4S(DENY4, PKT_TCP, 80),
	  PASS_AS(NONE, CORRAL_R_DENY), .wd = 1 },
	{ "monitor: malformed passes, counted malformed + would-drop",
	  V4(PKT_TCP, 80, .nvlan = 3), PASS_AS(NONE, CORRAL_R_MALFORMED), .wd = 1 },
	{ "monitor: truncated v6 passes, counted malformed + would-drop", V6(PKT_TCP, 80),
	  .trunc = 60, PASS_AS(NONE, CORRAL_R_MALFORMED), .wd = 1 },
	{ "monitor: class 7 over shed level 6 passes, counted shed + would-drop",
	  V4(PKT_UDP, 53, .dscp = 8), PASS_AS(7, CORRAL_R_SHED), .wd = 1 },
	{ "monitor: 1st packet passes", V4(PKT_UDP, 53), PASS_AS(4, CORRAL_R_PASS),
	  .src_new = 1 },
	{ "monitor: over the burst passes, counted rate + would-drop", V4(PKT_UDP, 53),
	  PASS_AS(4, CORRAL_R_RATE), .wd = 1 },
	{ "monitor: non-IP passes, no would-drop", NONIP(PKT_ETH_ARP, 28),
	  PASS_AS(NONE, CORRAL_R_NONIP) },
	{ "monitor: v6 over the burst passes, counted rate + would-drop", V6(PKT_UDP, 53),
	  PASS_AS(4, CORRAL_R_PASS), .src_new = 1 },
	{ "monitor: v6 2nd packet counted rate + would-drop", V6(PKT_UDP, 53),
	  PASS_AS(4, CORRAL_R_RATE), .wd = 1 },
};

#define SECTION(n, fn, rows) { n, fn, rows, sizeof(rows) / sizeof(rows[0]) }

static const struct section sections[] = {
	SECTION("parse", setup_none, parse_rows),
	SECTION("malformed_pass", setup_malformed_pass, mpass_rows),
	SECTION("lists", setup_lists, list_rows),
	SECTION("classes", setup_classes, class_rows),
	SECTION("shed new", setup_shed_new, shed_new_rows),
	SECTION("shed all", setup_shed_all, shed_all_rows),
	SECTION("shed level 0", setup_shed_zero, shed_zero_rows),
	SECTION("shed off", setup_shed_off, shed_off_rows),
	SECTION("buckets", setup_buckets, bucket_rows),
	SECTION("monitor", setup_monitor, monitor_rows),
};

/* ---- running ------------------------------------------------------------------ */
/* would-drop anywhere: every row */
static __u64 wd_all(const struct h_stats *a, const struct h_stats *b)
{
	__u64 n = 0;
	__u32 row;

	for (row = 0; row < CORRAL_NROWS; row++)
		n += h_pkts(a, b, row, CORRAL_R_WOULD_DROP);
	return n;
}

static void run_row(struct harness *h, enum h_prog prog, const struct row *r)
{
	__u8 buf[PKT_BUF_MAX];
	struct pkt_layout lay;
	struct h_stats before, after;
	char why[512] = "";
	int len, v, n = 0;
	__u64 got, total, wd, snew;

	len = pkt_build(&r->s, buf, sizeof(buf), &lay);
	if (len < 0) {
		TAP_CHECK(0, "%s [%s]: build packet: %s", r->name, h_prog_name(prog),
			  strerror(-len));
		return;
	}
	if (r->fix)
		r->fix(buf, &lay);
	if (r->trunc > 0 && r->trunc < len)
		len = r->trunc;
	if (h_stats_read(h, &before)) {
		TAP_CHECK(0, "%s [%s]: read counters", r->name, h_prog_name(prog));
		return;
	}
	v = h_run(h, prog, buf, len);
	if (h_stats_read(h, &after)) {
		TAP_CHECK(0, "%s [%s]: read counters", r->name, h_prog_name(prog));
		return;
	}
	got = h_pkts(&after, &before, r->row, r->reason);
	total = h_pkts_total(&after, &before);
	wd = h_pkts(&after, &before, r->row, CORRAL_R_WOULD_DROP);
	snew = h_gstat(&after, &before, CORRAL_G_SRC_NEW);

	if (v != r->verdict)
		n += snprintf(why + n, sizeof(why) - n, " verdict %s want %s;",
			      v == H_PASS ? "pass" : v == H_DROP ? "drop" : strerror(-v),
			      r->verdict == H_PASS ? "pass" : "drop");
	if (got != 1 || h_bytes(&after, &before, r->row, r->reason) != (__u64)len)
		n += snprintf(why + n, sizeof(why) - n, " row %d/%s: %llu pkts %llu bytes, want 1/%d;",
			      r->row, h_reason_name(r->reason), (unsigned long long)got,
			      (unsigned long long)h_bytes(&after, &before, r->row, r->reason), len);
	if (total != 1)
		n += snprintf(why + n, sizeof(why) - n, " %llu packets counted in all, want 1;",
			      (unsigned long long)total);
	if (wd != (__u64)r->wd || wd_all(&after, &before) != (__u64)r->wd)
		n += snprintf(why + n, sizeof(why) - n, " would-drop %llu (all rows %llu) want %d;",
			      (unsigned long long)wd, (unsigned long long)wd_all(&after, &before),
			      r->wd);
	if (snew != (__u64)r->src_new)
		n += snprintf(why + n, sizeof(why) - n, " buckets created %llu want %d;",
			      (unsigned long long)snew, r->src_new);
	TAP_CHECK(n == 0, "%s [%s, %d bytes]%s", r->name, h_prog_name(prog), len, why);
}

/* truncation shapes: every cut before the end is malformed */
static void truncations(struct harness *h, enum h_prog prog)
{
	const struct {
		const char *name;
		struct pkt_spec s;
	} shapes[] = {
		{ "v4 tcp", V4(PKT_TCP, 80) },
		{ "v4 tcp options, 2 VLAN", V4(PKT_TCP, 80, .nvlan = 2, .ip_opt_len = 8,
					       .tcp_opt_len = 12) },
		{ "v4 udp, 1 VLAN", V4(PKT_UDP, 53, .nvlan = 1) },
		{ "v4 icmp", ICMP4 },
		{ "v4 gre", V4(PKT_GRE, 0) },
		{ "v4 first fragment tcp", V4(PKT_TCP, 80, .mf = 1) },
		{ "v4 non-first fragment", V4(PKT_UDP, 53, .frag_off = 3) },
		{ "v6 tcp", V6(PKT_TCP, 80) },
		{ "v6 udp, 2 VLAN", V6(PKT_UDP, 53, .nvlan = 2) },
		{ "v6 icmpv6", V6(PKT_ICMPV6, 0, .icmp_type = 128) },
		{ "v6 hop+rt+dst+ah tcp",
		  V6(PKT_TCP, 443, .tcp_opt_len = 8, .next_ext = 4,
		     .ext = { EXT(PKT_HOPOPTS, 16), EXT(PKT_ROUTING, 8), EXT(PKT_DSTOPTS, 8),
			      EXT(PKT_AH, 16) }) },
		{ "v6 fragment (first) udp",
		  V6(PKT_UDP, 53, .mf = 1, .next_ext = 1, .ext = { EXT(PKT_FRAGMENT, 0) }) },
		{ "v6 fragment (non-first)",
		  V6(PKT_UDP, 53, .frag_off = 3, .next_ext = 2,
		     .ext = { EXT(PKT_DSTOPTS, 0), EXT(PKT_FRAGMENT, 0) }) },
	};
	unsigned int i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		__u8 buf[PKT_BUF_MAX];
		struct pkt_layout lay;
		struct h_stats before, after;
		int offs[32], nb, len, j, k, cuts = 0, bad = 0, m = 0, refused = 0;
		char why[512] = "";
		__u64 mal, total;

		len = pkt_build(&shapes[i].s, buf, sizeof(buf), &lay);
		if (len < 0) {
			TAP_CHECK(0, "truncate %s: build: %s", shapes[i].name, strerror(-len));
			continue;
		}
		nb = pkt_boundaries(&lay, offs, 32);
		h_stats_read(h, &before);
		for (j = 0; j < nb; j++) {
			for (k = 0; k < 2; k++) {
				int cut = offs[j] + k;
				int v;

				/* BPF_PROG_TEST_RUN needs a whole Ethernet header */
				if (cut < 14 || cut >= len)
					continue;
				/* the byte-in cut of a boundary that is the next one */
				if (k && j + 1 < nb && cut == offs[j + 1])
					continue;
				v = h_run(h, prog, buf, cut);
				/*
				 * The kernel's skb test run refuses an IP EtherType
				 * without a whole fixed IP header (EINVAL); behind a
				 * VLAN tag it does not look, so those shapes cover it.
				 */
				if (v == -EINVAL && prog != H_XDP && !lay.nvlan &&
				    cut < lay.l3 + (shapes[i].s.family == 4 ? 20 : 40)) {
					refused++;
					continue;
				}
				cuts++;
				if (v != H_DROP) {
					bad++;
					if (m < (int)sizeof(why) - 32)
						m += snprintf(why + m, sizeof(why) - m, " %d:%s", cut,
							      v == H_PASS ? "pass" : "err");
				}
			}
		}
		h_stats_read(h, &after);
		mal = h_pkts(&after, &before, NONE, CORRAL_R_MALFORMED);
		total = h_pkts_total(&after, &before);
		TAP_CHECK(bad == 0 && mal == (__u64)cuts && total == (__u64)cuts,
			  "truncate %s [%s]: %d cuts (%d..%d bytes of %d) all dropped as malformed"
			  " (malformed %llu, counted %llu; %d cuts refused by the test run)%s%s",
			  shapes[i].name, h_prog_name(prog), cuts, 14, len - 1, len,
			  (unsigned long long)mal, (unsigned long long)total, refused,
			  bad ? "; not dropped at:" : "", why);
		/* and the whole frame passes */
		TAP_CHECK(h_run(h, prog, buf, len) == H_PASS, "truncate %s [%s]: whole %d-byte frame passes",
			  shapes[i].name, h_prog_name(prog), len);
	}
}

int main(void)
{
	enum h_prog progs[] = { H_XDP, H_TC_IN };
	struct harness h;
	unsigned int p, s, r;
	struct h_stats before, after;
	int err;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	for (p = 0; p < 2; p++) {
		for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
			const struct section *sec = &sections[s];

			err = h_reset(&h);
			if (!err)
				err = sec->setup(&h);
			if (err) {
				TAP_CHECK(0, "section %s [%s]: setup: %s", sec->name,
					  h_prog_name(progs[p]), strerror(-err));
				continue;
			}
			TAP_DIAG("section %s [%s]", sec->name, h_prog_name(progs[p]));
			h_stats_read(&h, &before);
			for (r = 0; r < (unsigned int)sec->nrows; r++)
				run_row(&h, progs[p], &sec->rows[r]);
			h_stats_read(&h, &after);
			if (strcmp(sec->name, "monitor") != 0)
				TAP_CHECK(wd_all(&after, &before) == 0,
					  "section %s [%s]: no would-drop outside monitor mode",
					  sec->name, h_prog_name(progs[p]));
		}
		err = h_reset(&h);
		TAP_DIAG("truncation [%s]", h_prog_name(progs[p]));
		if (!err)
			truncations(&h, progs[p]);
	}
	h_close(&h);
	return tap_done();
}
