// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen_flood.bpf.c - the flood generator's XDP program, run by
 * tools/bench/flood_gen through BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES.
 *
 * Each invocation writes one whole frame (Ethernet, IPv4 or IPv6, UDP,
 * payload) into the page it is given and redirects it out of cfg_ifindex,
 * which transmits it. Frame contents persist per page between invocations,
 * so every field is written every time.
 *
 * Pacing (cfg_rate_pps) happens here, frame by frame: an iteration that
 * is ahead of the schedule returns XDP_DROP and sends nothing, so the
 * offered rate is smooth and never bursts past the victim's ring. The run
 * also stops sending after cfg_max_frames frames.
 *
 * Flood frames take their source from a counter over a set of cfg_nsrc
 * sources (IPv4: cfg_v4_base + i; IPv6: fd77:h(i)::1, a scrambled /64 in
 * fd77::/16), or a random /64 per frame when cfg_nsrc is 0. Every 64th
 * frame (every frame when paced) reads the clock; when a legitimate request is due (one every
 * cfg_legit_gap_ns) that frame becomes an IPv4 request from the legit
 * client carrying a sequence number and its send time (CLOCK_MONOTONIC).
 *
 * State is plain globals: one generator process owns one loaded instance
 * and runs it from one pinned CPU, so nothing here runs concurrently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GEN_FRAME_LEN 64
#define GEN_ETH_P_IP 0x0800
#define GEN_ETH_P_IPV6 0x86DD
#define GEN_MAGIC_FLOOD 0x43464631   /* "CFF1" */
#define GEN_MAGIC_LEGIT 0x43464c31   /* "CFL1" */
#define GEN_CLOCK_EVERY 63           /* read the clock when (ctr & this) == 0 */
#define GEN_CATCHUP 32               /* paced: most frames sent back to back */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* load-time configuration, set by flood_gen through skel->rodata */
const volatile __u32 cfg_ifindex;          /* redirect (transmit) target */
const volatile __u8 cfg_smac[6];
const volatile __u8 cfg_dmac[6];
const volatile __u32 cfg_family = 4;       /* flood family: 4 or 6 */
const volatile __u32 cfg_nsrc = 1;         /* 0: random /64 per frame (IPv6) */
const volatile __u32 cfg_v4_base;          /* first flood source, host order */
const volatile __u32 cfg_v4_dst;           /* network order */
const volatile __u32 cfg_v6_dst[4];        /* network order */
const volatile __u16 cfg_flood_sport = 40000;  /* host order */
const volatile __u16 cfg_flood_dport = 9;      /* host order */
const volatile __u32 cfg_legit_src;        /* network order */
const volatile __u16 cfg_legit_sport;      /* host order */
const volatile __u16 cfg_legit_dport;      /* host order */
const volatile __u64 cfg_legit_gap_ns;     /* 0: no legitimate requests */
const volatile __u64 cfg_gap_ps;           /* 1e12 / rate; 0: as fast as possible */
const volatile __u64 cfg_max_frames;       /* 0: no limit */

/* results, read by flood_gen through skel->bss */
__u64 gen_sent;         /* frames written and redirected */
__u64 gen_legit_sent;   /* legitimate requests written */
__u64 gen_next_legit;   /* CLOCK_MONOTONIC ns of the next request */
__u64 gen_next_ps;      /* paced: CLOCK_MONOTONIC ps of the next frame */

struct gen_v4 {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	__u32 magic;
	__u32 seq;
	__u64 ts;
	__u8 pad[GEN_FRAME_LEN - 14 - 20 - 8 - 16];
} __attribute__((packed));

struct gen_v6 {
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct udphdr udp;
	__u8 pad[GEN_FRAME_LEN - 14 - 40 - 8];
} __attribute__((packed));

_Static_assert(sizeof(struct gen_v4) == GEN_FRAME_LEN, "v4 frame size");
_Static_assert(sizeof(struct gen_v6) == GEN_FRAME_LEN, "v6 frame size");

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u32 csum_add_words(const void *p, int nwords, __u32 sum)
{
	const __u16 *w = p;

#pragma unroll
	for (int i = 0; i < nwords; i++)
		sum += w[i];
	return sum;
}

static __always_inline void gen_eth(struct ethhdr *eth, __u16 proto) /* frame start */
{
#pragma unroll
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = cfg_dmac[i];
		eth->h_source[i] = cfg_smac[i];
	}
	eth->h_proto = bpf_htons(proto);
}

/* one IPv4/UDP frame; the UDP checksum is 0 (none), allowed for IPv4 */
static __always_inline void gen_write_v4(struct gen_v4 *f, __u32 saddr, __u16 sport,
					 __u16 dport, __u32 magic, __u32 seq, __u64 ts)
{
	gen_eth((void *)f, GEN_ETH_P_IP);
	f->ip.ihl = 5;
	f->ip.version = 4;
	f->ip.tos = 0;
	f->ip.tot_len = bpf_htons(GEN_FRAME_LEN - 14);
	f->ip.id = 0;
	f->ip.frag_off = 0;
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.check = 0;
	f->ip.saddr = saddr;
	f->ip.daddr = cfg_v4_dst;
	f->ip.check = csum_fold32(csum_add_words(&f->ip, 10, 0));
	f->udp.source = bpf_htons(sport);
	f->udp.dest = bpf_htons(dport);
	f->udp.len = bpf_htons(GEN_FRAME_LEN - 14 - 20);
	f->udp.check = 0;
	f->magic = bpf_htonl(magic);
	f->seq = seq;
	f->ts = ts;
}

/* a well-spread 48-bit value from a source index */
static __always_inline __u64 gen_mix48(__u64 x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return x & 0xffffffffffffull;
}

/* one IPv6/UDP frame from fd77:<48 bits>::1, UDP checksum computed */
static __always_inline void gen_write_v6(struct gen_v6 *f, __u64 net48)
{
	__u32 sum;

	gen_eth((void *)f, GEN_ETH_P_IPV6);
	f->ip.version = 6;
	f->ip.priority = 0;
	f->ip.flow_lbl[0] = 0;
	f->ip.flow_lbl[1] = 0;
	f->ip.flow_lbl[2] = 0;
	f->ip.payload_len = bpf_htons(GEN_FRAME_LEN - 14 - 40);
	f->ip.nexthdr = IPPROTO_UDP;
	f->ip.hop_limit = 64;
	f->ip.saddr.in6_u.u6_addr32[0] = bpf_htonl(0xfd770000u | (__u32)(net48 >> 32));
	f->ip.saddr.in6_u.u6_addr32[1] = bpf_htonl((__u32)net48);
	f->ip.saddr.in6_u.u6_addr32[2] = 0;
	f->ip.saddr.in6_u.u6_addr32[3] = bpf_htonl(1);
#pragma unroll
	for (int i = 0; i < 4; i++)
		f->ip.daddr.in6_u.u6_addr32[i] = cfg_v6_dst[i];
	f->udp.source = bpf_htons(cfg_flood_sport);
	f->udp.dest = bpf_htons(cfg_flood_dport);
	f->udp.len = bpf_htons(GEN_FRAME_LEN - 14 - 40);
	f->udp.check = 0;
	f->pad[0] = 0;
	f->pad[1] = 0;
	/* pseudo header (addresses, length, next header) + UDP header + payload */
	sum = csum_add_words(&f->ip.saddr, 16, 0);
	sum += f->udp.len + bpf_htons(IPPROTO_UDP);
	sum = csum_add_words(&f->udp, (GEN_FRAME_LEN - 14 - 40) / 2, sum);
	sum = csum_fold32(sum);
	f->udp.check = sum ? sum : 0xffff;
}

SEC("xdp")
int gen_flood(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 n = gen_sent, now = 0;

	if (data + GEN_FRAME_LEN > data_end)
		return XDP_ABORTED;
	if (cfg_max_frames && n >= cfg_max_frames)
		return XDP_DROP;   /* done: the rest of this run sends nothing */

	if (cfg_gap_ps) {
		__u64 now_ps, floor_ps;

		now = bpf_ktime_get_ns();
		now_ps = now * 1000;
		/* ahead of schedule: skip this iteration without sending */
		if (now_ps < gen_next_ps)
			return XDP_DROP;
		/* behind (a gap between runs): catch up by GEN_CATCHUP frames at most */
		floor_ps = now_ps - GEN_CATCHUP * cfg_gap_ps;
		gen_next_ps = (gen_next_ps > floor_ps ? gen_next_ps : floor_ps) + cfg_gap_ps;
	}
	gen_sent = n + 1;

	if (cfg_legit_gap_ns && (cfg_gap_ps || (n & GEN_CLOCK_EVERY) == 0)) {
		if (!now)
			now = bpf_ktime_get_ns();
		if (now >= gen_next_legit) {
			__u64 next = gen_next_legit + cfg_legit_gap_ns;

			/* after a pause, restart the schedule instead of bursting */
			gen_next_legit = next > now ? next : now + cfg_legit_gap_ns;
			gen_write_v4(data, cfg_legit_src, cfg_legit_sport, cfg_legit_dport,
				     GEN_MAGIC_LEGIT, (__u32)gen_legit_sent, now);
			gen_legit_sent++;
			return bpf_redirect(cfg_ifindex, 0);
		}
	}

	if (cfg_family == 6) {
		__u64 net48;

		if (cfg_nsrc)
			net48 = gen_mix48(n % cfg_nsrc);
		else
			net48 = ((__u64)bpf_get_prandom_u32() << 16) ^ bpf_get_prandom_u32();
		gen_write_v6(data, net48 & 0xffffffffffffull);
	} else {
		__u32 idx = cfg_nsrc ? (__u32)(n % cfg_nsrc) : bpf_get_prandom_u32() & 0x1ffff;

		gen_write_v4(data, bpf_htonl(cfg_v4_base + idx), cfg_flood_sport,
			     cfg_flood_dport, GEN_MAGIC_FLOOD, (__u32)n, 0);
	}
	return bpf_redirect(cfg_ifindex, 0);
}
