/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * save.h - the running configuration as batch lines ("corral save").
 *
 * The lines come in one canonical order (devices, mode, aggregate, classes,
 * limits, lists, shed, SYN gate; rules sorted), so saving the same
 * configuration twice gives the same text, and "corral -f" of the text on a
 * flushed corral rebuilds the same configuration. Not saved: counters,
 * buckets, the shed hash salt, a shed level the controller owns (a comment
 * says so) and the controller's own lines.
 */
#ifndef CORRAL_SAVE_H
#define CORRAL_SAVE_H

#include <stddef.h>
#include "loader.h"
#include "state.h"
#include "words.h"

struct corral_save_in {
	const struct corral_state *s;          /* cfg (with the SYN gate), rules, shed */
	const struct corral_portset *synports; /* NULL: none */
	const struct corral_dev_entry *devs;
	int ndev;
};

typedef int (*corral_line_fn)(void *arg, const char *line);

/* calls fn once per line (no newline); stops at fn's first non-zero return */
int corral_save_emit(const struct corral_save_in *in, corral_line_fn fn, void *arg);

/* the protected SYN ports of a handle (none when it has no corral_synports) */
void corral_synports_read(const struct corral_handle *h, struct corral_portset *ports);

/*
 * "corral flush": every policy setting back to its default (rules, limits,
 * classes, lists, mode, aggregation, shed off and its tuning, SYN gate off),
 * as one store under the writer lock. Devices stay attached; counters and
 * the shed hash key stay.
 */
int corral_flush(char *err, size_t errlen);

#endif /* CORRAL_SAVE_H */
