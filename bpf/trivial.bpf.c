// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* trivial.bpf.c - the floor for benchmarks: drop everything, do nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int trivial_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}
