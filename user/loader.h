/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * loader.h - load the data plane, pin its maps, attach it to devices.
 *
 * The first attach creates and pins every map under the pin directory,
 * initializes the configuration, and creates the device registry
 * (corral_devs, created last: its pin marks an initialized corral). Later
 * attaches load a fresh object that reuses the pinned maps, so a newer
 * build replaces the program and keeps all state. Re-attaching a device
 * swaps its program atomically (bpf_link_update for XDP, a tc filter
 * replace on the same handle/priority for tc). Detaching the last device
 * removes every pin and the directory.
 */
#ifndef CORRAL_LOADER_H
#define CORRAL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "handle.h"

#define CORRAL_TC_HANDLE 0xc0a1
#define CORRAL_TC_PRIO   0xc0

struct corral_attach_opts {
	const char *ifname;
	enum corral_attach_mode mode;
	bool egress;
	__u32 sources;      /* 0: keep the loaded size, or the default */
	int clock;          /* enum corral_clock, -1: default (coarse) */
	bool fallback;      /* mode xdp was not asked for by name: where the
			     * driver has no native XDP, attach xdp-generic
			     * (and keep an existing xdp-generic attachment) */
	bool *fell_back;    /* out, optional: true when native XDP was refused
			     * and this attach fell back to xdp-generic */
};

int corral_attach(const struct corral_attach_opts *o, char *err, size_t errlen);
int corral_detach(const char *ifname, char *err, size_t errlen);

const char *corral_attach_mode_name(__u32 mode);

/* device registry: fills up to max entries, returns the count or -errno */
struct corral_dev_entry {
	__u32 ifindex;
	struct corral_dev dev;
};
int corral_devs_list(int devs_fd, struct corral_dev_entry *out, size_t max);

#endif /* CORRAL_LOADER_H */
