/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * batch.h - "corral -f FILE": one configuration command per line, '#'
 * starts a comment. Every line is parsed first; the batch is applied only
 * when all lines are valid, and then as one state change (all or nothing
 * for rule conflicts and missing rules, which are checked in memory).
 * "attach dev IF ..." and "detach dev IF" lines change the attached
 * devices (the device must exist when the file is read).
 * Lines whose first word is "controller" are handed to the extra callback
 * (the controller's own settings); without a callback they are errors.
 */
#ifndef CORRAL_BATCH_H
#define CORRAL_BATCH_H

#include <stddef.h>
#include <stdio.h>
#include "state.h"

typedef int (*corral_extra_line_fn)(void *arg, int argc, char **argv, char *err, size_t errlen);

struct corral_batch {
	struct corral_op *ops;
	char **where;          /* "FILE:LINE" of each op */
	size_t n, cap;
};

#define CORRAL_BATCH_MAX_WORDS 64

/* split a line into words (spaces/tabs, '#' to end of line); argc or -E2BIG */
int corral_split_words(char *line, char **argv, int max);

int corral_batch_parse_file(const char *path, struct corral_batch **out, corral_extra_line_fn extra,
			    void *arg, char *err, size_t errlen);  /* lines starting "controller" go to extra */
/* the same from a stream (name used in messages) */
int corral_batch_parse_stream(FILE *f, const char *name, struct corral_batch **out,
			      corral_extra_line_fn extra, void *arg, char *err, size_t errlen);
/*
 * attach/detach lines first (in file order), then the policy, then the
 * SYN gate; a failure restores the devices. CORRAL_BATCH_CONVERGE: the
 * file's attach lines name the whole device set (others are detached), and
 * at least one device stays attached ("corral run -c"). notice is called
 * for an attach that fell back to xdp-generic.
 */
#define CORRAL_BATCH_CONVERGE 1u
int corral_batch_apply(struct corral_batch *b, unsigned int flags,
		       void (*notice)(const char *ifname), char *err, size_t errlen);
/*
 * Everything corral_batch_apply checks, against the running state, applying
 * nothing: the number of devices attached afterwards, or -errno.
 */
int corral_batch_check(struct corral_batch *b, unsigned int flags, char *err, size_t errlen);
size_t corral_batch_devices(const struct corral_batch *b);   /* attach/detach lines */
void corral_batch_free(struct corral_batch *b);

#endif /* CORRAL_BATCH_H */
