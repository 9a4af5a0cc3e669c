// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * gen_flood.bpf.c - the flood generator's XDP program, run by
 * tools/bench/flood_gen through BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES.
 *
 * Each invocation asks gen_frame.h for the next frame of the stream, writes
 * it into the page it is given and redirects it out of gen_ifindex, which
 * transmits it; an invocation with no frame due (ahead of the pace, or all
 * sent) returns XDP_DROP and sends nothing.
 *
 * State is plain globals: one generator process owns one loaded instance
 * and runs it from one pinned CPU, so nothing here runs concurrently.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GEN_NOW() bpf_ktime_get_ns()
#define GEN_PRANDOM() bpf_get_prandom_u32()
#include "gen_frame.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* load-time configuration, set by flood_gen through skel->rodata */
const volatile __u32 gen_ifindex;          /* redirect (transmit) target */
const volatile struct gen_cfg gen_cfg;

/* results, read by flood_gen through skel->bss */
struct gen_state gen_st;

SEC("xdp")
int gen_flood(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + GEN_FRAME_LEN > data_end)
		return XDP_ABORTED;
	if (!gen_produce(&gen_cfg, &gen_st, data))
		return XDP_DROP;
	return bpf_redirect(gen_ifindex, 0);
}
