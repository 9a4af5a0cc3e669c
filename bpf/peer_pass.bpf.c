// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peer_pass.bpf.c - pass everything. Loaded on the far end of a veth pair
 * in the e2e lab: a veth delivers XDP_TX frames (corral's reject replies in
 * native XDP mode) only to a peer with an XDP program of its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int peer_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
