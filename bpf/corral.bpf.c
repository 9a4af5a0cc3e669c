// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * corral.bpf.c - entry points. Each hook fills a struct corral_pkt, runs
 * the one pipeline, and maps the verdict to its own return code.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#define CORRAL_COOKIE_ACK 1
#include "pipeline.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
/* bytes of headers made linear before a tc program parses */
#define CORRAL_PULL_LEN 256

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int corral_xdp(struct xdp_md *ctx)
{
	struct corral_pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.xdp = ctx,
	};
	enum corral_verdict v;

	p.len = p.data_end - p.data;
	v = pipeline_ingress(&p);
	if (v == CORRAL_V_TX)
		return XDP_TX;
	return v == CORRAL_V_DROP ? XDP_DROP : XDP_PASS;
}

static __always_inline void tc_fill(struct __sk_buff *skb, struct corral_pkt *p)
{
	__u32 len = skb->len;
	__u32 want = len < CORRAL_PULL_LEN ? len : CORRAL_PULL_LEN;
	__u32 data = skb->data, data_end = skb->data_end;

	if (data_end - data < want) {
		bpf_skb_pull_data(skb, want);
		/* the pull may move the packet: read the bounds again */
		asm volatile("" ::: "memory");
		data = skb->data;
		data_end = skb->data_end;
	}
	p->data = (void *)(long)data;
	p->data_end = (void *)(long)data_end;
	p->len = len;
	p->skb = skb;
}

SEC("tc")
int corral_tc_in(struct __sk_buff *skb)
{
	struct corral_pkt p = {};

	enum corral_verdict v;

	tc_fill(skb, &p);
	v = pipeline_ingress(&p);
	if (v == CORRAL_V_TX)
		return bpf_redirect(skb->ifindex, 0);  /* out of the same device */
	return v == CORRAL_V_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/* tc ingress beside corral_xdp: the ACKs of the SYN cookies XDP sent */
SEC("tc")
int corral_tc_cookie(struct __sk_buff *skb)
{
	struct corral_pkt p = {};

	tc_fill(skb, &p);
	pipeline_cookie_ack(&p);
	return TC_ACT_OK;
}

SEC("tc")
int corral_tc_out(struct __sk_buff *skb)
{
	struct corral_pkt p = {};
	int class;

	tc_fill(skb, &p);
	class = pipeline_egress(&p);
	if (class < 0)
		return TC_ACT_SHOT;
	if (class != CORRAL_CLASS_ANY)
		skb->priority = class;
	return TC_ACT_OK;
}
