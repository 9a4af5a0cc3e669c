/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * batch.h - "corral -f FILE": one configuration command per line, '#'
 * starts a comment. Every line is parsed first; the batch is applied only
 * when all lines are valid, and then as one state change (all or nothing
 * for rule conflicts and missing rules, which are checked in memory).
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
int corral_batch_apply(struct corral_batch *b, char *err, size_t errlen);
void corral_batch_free(struct corral_batch *b);

#endif /* CORRAL_BATCH_H */
