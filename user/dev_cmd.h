/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dev_cmd.h - "attach dev IF ..." and "detach dev IF" as parsed operations,
 * shared by the command line and by batch / "corral run -c" files.
 *
 * A list of device operations is applied in order; when one fails, every
 * device is put back as it was before the list started (devices the list
 * attached are detached, devices it changed or detached are re-attached
 * with their old mode and egress), so a list is all or nothing.
 */
#ifndef CORRAL_DEV_CMD_H
#define CORRAL_DEV_CMD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include "loader.h"

struct corral_dev_op {
	bool detach;
	bool has_mode;            /* "mode" was named (no fallback to generic) */
	char ifname[IF_NAMESIZE];
	struct corral_attach_opts o;   /* o.ifname points at ifname after parse */
};

/*
 * argv[0] is "attach" or "detach". Syntax only, plus (when check_dev) the
 * device must exist now. 0, or CORRAL_PARSE_NOT_CONFIG for another first
 * word, or -EINVAL with a message naming the bad word.
 */
int corral_dev_parse(int argc, char **argv, bool check_dev, struct corral_dev_op *op,
		     char *err, size_t errlen);

/*
 * Apply ops in order. Checked first, changing nothing: every detach names
 * an attached device, and no detach empties the device set before the end
 * of the list, nor at the end when keep_one (policy lines follow, or a
 * controller runs on the maps). converge: afterwards detach every device
 * that no attach op named (when some op is an attach). notice, if set, is
 * called for each attach that fell back to xdp-generic. On failure all
 * devices are restored and err names the op (where[i] prefixes it when
 * where is set).
 */
struct corral_dev_apply {
	struct corral_dev_op *ops;
	size_t n;
	const char *const *where;     /* "FILE:LINE" of each op, or NULL */
	bool keep_one;
	bool converge;
	void (*notice)(const char *ifname);
	/* run after the device ops; its failure restores the devices too */
	int (*then)(void *arg, char *err, size_t errlen);
	void *arg;
};

int corral_dev_ops_apply(const struct corral_dev_apply *a, char *err, size_t errlen);
/* the checks of corral_dev_ops_apply alone: devices attached after, or -errno */
int corral_dev_ops_check(const struct corral_dev_apply *a, char *err, size_t errlen);

#endif /* CORRAL_DEV_CMD_H */
