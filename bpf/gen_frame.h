/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gen_frame.h - the flood generator's frame stream, written once and
 * compiled twice: into gen_flood.bpf.c (run by BPF_PROG_RUN in live-frames
 * mode) and into tools/bench/flood_gen.c (its AF_PACKET sender, for kernels
 * that refuse live frames). Both backends therefore send the same frames in
 * the same order and pace them the same way.
 *
 * Contract: the includer defines, before including this header,
 *   GEN_NOW()      CLOCK_MONOTONIC in ns (bpf_ktime_get_ns() in BPF),
 *   GEN_PRANDOM()  a pseudo-random __u32,
 * and has __u8/__u16/__u32/__u64, struct ethhdr, iphdr, ipv6hdr, udphdr
 * (vmlinux.h in BPF, the uapi headers in userspace) and bpf_endian.h.
 *
 * gen_produce() decides what the next frame of the stream is and writes it
 * whole (frame memory may be reused, so every field is written every time):
 *  - pacing (cfg->gap_ps): a call ahead of the schedule writes nothing and
 *    returns 0; after a gap the stream catches up by GEN_CATCHUP frames at
 *    most, so the offered rate is smooth and never bursts past the
 *    victim's ring;
 *  - after cfg->max_frames frames, every call returns 0;
 *  - flood frames take their source from a counter over cfg->nsrc sources
 *    (IPv4: v4_base + i; IPv6: fd77:h(i)::1, a scrambled /64 in fd77::/16),
 *    or a random source per frame when nsrc is 0;
 *  - every 64th frame (every frame when paced) reads the clock; when a
 *    legitimate request is due (one every cfg->legit_gap_ns) that frame is
 *    an IPv4 request from the legit client with a sequence number and its
 *    send time.
 * State is one struct gen_state owned by one sender on one CPU: nothing
 * here runs concurrently.
 */
#ifndef CORRAL_GEN_FRAME_H
#define CORRAL_GEN_FRAME_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#ifdef __clang__
#define GEN_UNROLL _Pragma("unroll")
#else
#define GEN_UNROLL
#endif

#define GEN_FRAME_LEN 64
#define GEN_ETH_P_IP 0x0800
#define GEN_ETH_P_IPV6 0x86DD
#define GEN_IPPROTO_UDP 17
#define GEN_MAGIC_FLOOD 0x43464631   /* "CFF1" */
#define GEN_MAGIC_LEGIT 0x43464c31   /* "CFL1" */
#define GEN_CLOCK_EVERY 63           /* read the clock when (n & this) == 0 */
#define GEN_CATCHUP 32               /* paced: most frames sent back to back */

/* what the stream looks like; set once before the run */
struct gen_cfg {
	__u8 smac[6];
	__u8 dmac[6];
	__u32 family;          /* flood family: 4 or 6 */
	__u32 nsrc;            /* 0: a random source per frame */
	__u32 v4_base;         /* first flood source, host order */
	__u32 v4_dst;          /* network order */
	__u32 v6_dst[4];       /* network order */
	__u16 flood_sport;     /* host order */
	__u16 flood_dport;     /* host order */
	__u32 legit_src;       /* network order */
	__u16 legit_sport;     /* host order */
	__u16 legit_dport;     /* host order */
	__u64 legit_gap_ns;    /* 0: no legitimate requests */
	__u64 gap_ps;          /* 1e12 / rate; 0: as fast as possible */
	__u64 max_frames;      /* 0: no limit */
};

/* where the stream is */
struct gen_state {
	__u64 sent;            /* frames written */
	__u64 legit_sent;      /* legitimate requests written */
	__u64 next_legit;      /* CLOCK_MONOTONIC ns of the next request */
	__u64 next_ps;         /* paced: CLOCK_MONOTONIC ps of the next frame */
};

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

#define GEN_CFG const volatile struct gen_cfg

static __always_inline __u16 gen_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u32 gen_csum_add(const void *p, int nwords, __u32 sum)
{
	const __u16 *w = p;

	GEN_UNROLL
	for (int i = 0; i < nwords; i++)
		sum += w[i];
	return sum;
}

static __always_inline void gen_eth(GEN_CFG *cfg, struct ethhdr *eth, __u16 proto)
{
	GEN_UNROLL
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = cfg->dmac[i];
		eth->h_source[i] = cfg->smac[i];
	}
	eth->h_proto = bpf_htons(proto);
}

/* one IPv4/UDP frame; the UDP checksum is 0 (none), allowed for IPv4 */
static __always_inline void gen_write_v4(GEN_CFG *cfg, struct gen_v4 *f, __u32 saddr,
					 __u16 sport, __u16 dport, __u32 magic, __u32 seq,
					 __u64 ts)
{
	gen_eth(cfg, (void *)f, GEN_ETH_P_IP);
	f->ip.ihl = 5;
	f->ip.version = 4;
	f->ip.tos = 0;
	f->ip.tot_len = bpf_htons(GEN_FRAME_LEN - 14);
	f->ip.id = 0;
	f->ip.frag_off = 0;
	f->ip.ttl = 64;
	f->ip.protocol = GEN_IPPROTO_UDP;
	f->ip.check = 0;
	f->ip.saddr = saddr;
	f->ip.daddr = cfg->v4_dst;
	f->ip.check = gen_csum_fold(gen_csum_add(&f->ip, 10, 0));
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
static __always_inline void gen_write_v6(GEN_CFG *cfg, struct gen_v6 *f, __u64 net48)
{
	/* the addresses sit at offset 22 of the frame: written byte-wise */
	__u32 src[4], dst[4], sum;

	gen_eth(cfg, (void *)f, GEN_ETH_P_IPV6);
	f->ip.version = 6;
	f->ip.priority = 0;
	f->ip.flow_lbl[0] = 0;
	f->ip.flow_lbl[1] = 0;
	f->ip.flow_lbl[2] = 0;
	f->ip.payload_len = bpf_htons(GEN_FRAME_LEN - 14 - 40);
	f->ip.nexthdr = GEN_IPPROTO_UDP;
	f->ip.hop_limit = 64;
	src[0] = bpf_htonl(0xfd770000u | (__u32)(net48 >> 32));
	src[1] = bpf_htonl((__u32)net48);
	src[2] = 0;
	src[3] = bpf_htonl(1);
	GEN_UNROLL
	for (int i = 0; i < 4; i++)
		dst[i] = cfg->v6_dst[i];
	__builtin_memcpy(&f->ip.saddr, src, sizeof(src));
	__builtin_memcpy(&f->ip.daddr, dst, sizeof(dst));
	f->udp.source = bpf_htons(cfg->flood_sport);
	f->udp.dest = bpf_htons(cfg->flood_dport);
	f->udp.len = bpf_htons(GEN_FRAME_LEN - 14 - 40);
	f->udp.check = 0;
	f->pad[0] = 0;
	f->pad[1] = 0;
	/* pseudo header (addresses, length, next header) + UDP header + payload */
	sum = gen_csum_add(src, 8, 0);
	sum = gen_csum_add(dst, 8, sum);
	sum += f->udp.len + bpf_htons(GEN_IPPROTO_UDP);
	sum = gen_csum_add(&f->udp, (GEN_FRAME_LEN - 14 - 40) / 2, sum);
	sum = gen_csum_fold(sum);
	f->udp.check = sum ? sum : 0xffff;
}

/* the next frame of the stream into data (GEN_FRAME_LEN bytes): 1 if one
 * was written, 0 if none is due (ahead of the pace, or all sent) */
static __always_inline int gen_produce(GEN_CFG *cfg, struct gen_state *st, void *data)
{
	__u64 n = st->sent, now = 0;

	if (cfg->max_frames && n >= cfg->max_frames)
		return 0;
	if (cfg->gap_ps) {
		__u64 now_ps, floor_ps;

		now = GEN_NOW();
		now_ps = now * 1000;
		if (now_ps < st->next_ps)
			return 0;
		floor_ps = now_ps - GEN_CATCHUP * cfg->gap_ps;
		st->next_ps = (st->next_ps > floor_ps ? st->next_ps : floor_ps) + cfg->gap_ps;
	}
	st->sent = n + 1;

	if (cfg->legit_gap_ns && (cfg->gap_ps || (n & GEN_CLOCK_EVERY) == 0)) {
		if (!now)
			now = GEN_NOW();
		if (now >= st->next_legit) {
			__u64 next = st->next_legit + cfg->legit_gap_ns;

			/* after a pause, restart the schedule instead of bursting */
			st->next_legit = next > now ? next : now + cfg->legit_gap_ns;
			gen_write_v4(cfg, data, cfg->legit_src, cfg->legit_sport, cfg->legit_dport,
				     GEN_MAGIC_LEGIT, (__u32)st->legit_sent, now);
			st->legit_sent++;
			return 1;
		}
	}

	if (cfg->family == 6) {
		__u64 net48;

		if (cfg->nsrc)
			net48 = gen_mix48(n % cfg->nsrc);
		else
			net48 = ((__u64)GEN_PRANDOM() << 16) ^ GEN_PRANDOM();
		gen_write_v6(cfg, data, net48 & 0xffffffffffffull);
	} else {
		__u32 idx = cfg->nsrc ? (__u32)(n % cfg->nsrc) : GEN_PRANDOM() & 0x1ffff;

		gen_write_v4(cfg, data, bpf_htonl(cfg->v4_base + idx), cfg->flood_sport,
			     cfg->flood_dport, GEN_MAGIC_FLOOD, (__u32)n, 0);
	}
	return 1;
}

#endif /* CORRAL_GEN_FRAME_H */
