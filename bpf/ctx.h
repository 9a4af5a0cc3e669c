/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctx.h - the context shim between the hooks and the pipeline.
 *
 * The pipeline stages never see xdp_md or __sk_buff: each entry program
 * fills a struct corral_pkt (packet bounds, wire length, clock) and maps
 * the pipeline's enum corral_verdict to its own return code.
 * Exactly one of xdp/skb is set; stages that rewrite a packet into a reply
 * (CORRAL_V_TX) resize it with pkt_resize(), which is the only place that
 * knows the hook.
 */
#ifndef CORRAL_CTX_H
#define CORRAL_CTX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.h"

#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#endif

/* what the parser found */
struct corral_pkt {
	void *data;
	void *data_end;
	__u32 len;          /* bytes on the wire, for byte buckets and counters */
	__u8 family;        /* 0 = not IP, 4, 6 */
	__u8 l4proto;       /* IPPROTO_* of the transport header, 0 if none */
	__u8 dscp;
	__u8 frag;          /* 1: non-first fragment (no ports) */
	__u8 has_ports;     /* 1: sport/dport are valid */
	__u8 tcp_flags;     /* TCP flag byte (FIN..CWR) */
	__u16 sport;        /* host byte order */
	__u16 dport;
	__u16 pad;
	__u32 src[4];       /* network byte order, IPv4 in src[0] */
	__u32 dst[4];
	__u16 l3_off;       /* offset of the IP header */
	__u16 l4_off;       /* offset of the transport header (has_ports) */
	struct xdp_md *xdp;      /* set by corral_xdp */
	struct __sk_buff *skb;   /* set by the tc programs */
};

#define CORRAL_TCP_FIN 0x01
#define CORRAL_TCP_SYN 0x02
#define CORRAL_TCP_RST 0x04
#define CORRAL_TCP_ACK 0x10

/*
 * Resize the packet to new_len bytes (growing or cutting at the tail) and
 * reload the bounds. Returns 0 or a negative errno; on error the packet is
 * unchanged. Every pointer into the old packet is invalid afterwards.
 */
static __always_inline int pkt_resize(struct corral_pkt *p, __u32 new_len)
{
	int err;

	if (p->xdp) {
		/* p->len, not data_end - data: clang folds that difference
		 * into 32-bit pointer arithmetic, which the verifier refuses */
		err = bpf_xdp_adjust_tail(p->xdp, (int)new_len - (int)p->len);
		if (err)
			return err;
		p->data = (void *)(long)p->xdp->data;
		p->data_end = (void *)(long)p->xdp->data_end;
	} else if (p->skb) {
		err = bpf_skb_change_tail(p->skb, new_len, 0);
		if (err)
			return err;
		p->data = (void *)(long)p->skb->data;
		p->data_end = (void *)(long)p->skb->data_end;
	} else {
		return -22;  /* EINVAL */
	}
	p->len = new_len;
	return 0;
}

static __always_inline __u64 ctx_now(const struct corral_ctl *ctl)
{
	if (clock_mode == CORRAL_CLOCK_FAKE)
		return READ_ONCE(ctl->fake_now_ns);
	if (clock_mode == CORRAL_CLOCK_PRECISE)
		return bpf_ktime_get_ns();
	return bpf_ktime_get_coarse_ns();
}

#endif /* CORRAL_CTX_H */
