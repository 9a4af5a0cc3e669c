// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * batch.c - parse a whole batch file, then apply it as one change.
 *
 * "syn" lines are kept apart from the configuration ops: each one
 * describes the whole SYN gate, so the last one is stored, after the
 * configuration ops (which are the ones that can conflict).
 *
 * "attach" and "detach" lines are kept apart too, in file order, and go
 * first: the policy needs loaded maps. A failure in the policy or the SYN
 * gate puts the devices back as they were (dev_cmd.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "dev_cmd.h"
#include "syn_cmd.h"

/* the batch and its syn line; b first, so a struct corral_batch * is one */
struct batch_priv {
	struct corral_batch b;
	bool has_syn;
	struct corral_syn_op syn;
	char syn_where[300];
	struct corral_dev_op *devs;
	char **dev_where;
	size_t ndev, devcap;
};

int corral_split_words(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (argc >= max)
			return -E2BIG;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (!*p)
			break;
		*p++ = 0;
	}
	return argc;
}

void corral_batch_free(struct corral_batch *b)
{
	struct batch_priv *bp = (struct batch_priv *)b;
	size_t i;

	if (!b)
		return;
	for (i = 0; i < bp->ndev; i++)
		free(bp->dev_where[i]);
	free(bp->dev_where);
	free(bp->devs);
	for (i = 0; i < b->n; i++)
		free(b->where[i]);
	free(b->where);
	free(b->ops);
	free(b);
}

static int batch_push(struct corral_batch *b, const struct corral_op *op, const char *where)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		void *o = realloc(b->ops, cap * sizeof(*b->ops));

		if (!o)
			return -ENOMEM;
		b->ops = o;
		o = realloc(b->where, cap * sizeof(*b->where));
		if (!o)
			return -ENOMEM;
		b->where = o;
		b->cap = cap;
	}
	b->where[b->n] = strdup(where);
	if (!b->where[b->n])
		return -ENOMEM;
	b->ops[b->n++] = *op;
	return 0;
}

static int dev_push(struct batch_priv *bp, const struct corral_dev_op *op, const char *where)
{
	if (bp->ndev == bp->devcap) {
		size_t cap = bp->devcap ? bp->devcap * 2 : 4;
		void *o = realloc(bp->devs, cap * sizeof(*bp->devs));

		if (!o)
			return -ENOMEM;
		bp->devs = o;
		o = realloc(bp->dev_where, cap * sizeof(*bp->dev_where));
		if (!o)
			return -ENOMEM;
		bp->dev_where = o;
		bp->devcap = cap;
	}
	bp->dev_where[bp->ndev] = strdup(where);
	if (!bp->dev_where[bp->ndev])
		return -ENOMEM;
	bp->devs[bp->ndev++] = *op;
	return 0;
}

int corral_batch_parse_stream(FILE *f, const char *name, struct corral_batch **out,
			      corral_extra_line_fn extra, void *arg, char *err, size_t errlen)
{
	struct batch_priv *bp;
	struct corral_batch *b;
	char *line = NULL, *argv[CORRAL_BATCH_MAX_WORDS], where[300], msg[512];
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = 0, argc;

	*out = NULL;
	bp = calloc(1, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	b = &bp->b;
	while (getline(&line, &cap, f) >= 0) {
		struct corral_op op;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		argc = corral_split_words(line, argv, CORRAL_BATCH_MAX_WORDS);
		if (argc < 0) {
			snprintf(err, errlen, "%s: too many words", where);
			ret = -EINVAL;
			goto fail;
		}
		if (!argc)
			continue;
		if (!strcmp(argv[0], "controller")) {
			if (!extra) {
				snprintf(err, errlen, "%s: controller: not accepted here", where);
				ret = -EINVAL;
				goto fail;
			}
			msg[0] = 0;
			ret = extra(arg, argc, argv, msg, sizeof(msg));
			if (ret) {
				snprintf(err, errlen, "%s: %s", where,
					 msg[0] ? msg : "controller: invalid line");
				ret = ret < 0 ? ret : -EINVAL;
				goto fail;
			}
			continue;
		}
		if (!strcmp(argv[0], "attach") || !strcmp(argv[0], "detach")) {
			struct corral_dev_op dop;

			ret = corral_dev_parse(argc, argv, true, &dop, msg, sizeof(msg));
			if (!ret)
				ret = dev_push(bp, &dop, where);
			if (ret) {
				snprintf(err, errlen, "%s: %s", where,
					 ret == -ENOMEM ? strerror(ENOMEM) : msg);
				goto fail;
			}
			continue;
		}
		if (!strcmp(argv[0], "syn")) {
			ret = corral_syn_parse(argc, argv, &bp->syn, msg, sizeof(msg));
			if (ret == CORRAL_PARSE_NOT_CONFIG) {
				snprintf(err, errlen, "%s: \"syn%s%s\" is not a configuration command",
					 where, argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
				ret = -EINVAL;
				goto fail;
			}
			if (ret) {
				snprintf(err, errlen, "%s: %s", where, msg);
				goto fail;
			}
			bp->has_syn = true;
			snprintf(bp->syn_where, sizeof(bp->syn_where), "%s", where);
			continue;
		}
		ret = corral_op_parse(argc, argv, &op, msg, sizeof(msg));
		if (ret == CORRAL_PARSE_NOT_CONFIG) {
			snprintf(err, errlen, "%s: \"%s%s%s\" is not a configuration command", where,
				 argv[0], argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
			ret = -EINVAL;
			goto fail;
		}
		if (ret) {
			snprintf(err, errlen, "%s: %s", where, msg);
			goto fail;
		}
		ret = batch_push(b, &op, where);
		if (ret) {
			snprintf(err, errlen, "%s: %s", where, strerror(-ret));
			goto fail;
		}
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", name);
		goto fail;
	}
	free(line);
	*out = b;
	return 0;
fail:
	free(line);
	corral_batch_free(b);
	return ret;
}

int corral_batch_parse_file(const char *path, struct corral_batch **out, corral_extra_line_fn extra,
			    void *arg, char *err, size_t errlen)
{
	FILE *f;
	int ret;

	if (!strcmp(path, "-"))
		return corral_batch_parse_stream(stdin, "<stdin>", out, extra, arg, err, errlen);
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	ret = corral_batch_parse_stream(f, path, out, extra, arg, err, errlen);
	fclose(f);
	return ret;
}

/* the policy and the SYN gate, after the devices */
static int apply_policy(void *arg, char *err, size_t errlen)
{
	struct batch_priv *bp = arg;
	struct corral_batch *b = &bp->b;
	int ret;

	if (b->n) {
		ret = corral_ops_commit(b->ops, b->n, (const char *const *)b->where, err, errlen);
		if (ret)
			return ret;
	}
	if (bp->has_syn)
		return corral_syn_commit(&bp->syn, bp->syn_where, err, errlen);
	return 0;
}

size_t corral_batch_devices(const struct corral_batch *b)
{
	return ((const struct batch_priv *)b)->ndev;
}

int corral_batch_check(struct corral_batch *b, unsigned int flags, char *err, size_t errlen)
{
	struct batch_priv *bp = (struct batch_priv *)b;
	struct corral_dev_apply a = {
		.ops = bp->devs,
		.n = bp->ndev,
		.where = (const char *const *)bp->dev_where,
		.keep_one = b->n || bp->has_syn || (flags & CORRAL_BATCH_CONVERGE),
	};
	int ndev, ret;

	ndev = corral_dev_ops_check(&a, err, errlen);
	if (ndev < 0)
		return ndev;
	if (b->n) {
		bool attaches = false;

		for (size_t i = 0; i < bp->ndev; i++)
			attaches |= !bp->devs[i].detach;
		ret = corral_ops_check(b->ops, b->n, (const char *const *)b->where, attaches,
				       err, errlen);
		if (ret)
			return ret;
	} else if (bp->has_syn && !ndev) {
		snprintf(err, errlen, "%s: not loaded (attach a device first)", bp->syn_where);
		return -ENOENT;
	}
	return ndev;
}

int corral_batch_apply(struct corral_batch *b, unsigned int flags,
		       void (*notice)(const char *ifname), char *err, size_t errlen)
{
	struct batch_priv *bp = (struct batch_priv *)b;
	struct corral_dev_apply a = {
		.ops = bp->devs,
		.n = bp->ndev,
		.where = (const char *const *)bp->dev_where,
		.keep_one = b->n || bp->has_syn || (flags & CORRAL_BATCH_CONVERGE),
		.converge = flags & CORRAL_BATCH_CONVERGE,
		.notice = notice,
		.then = apply_policy,
		.arg = bp,
	};

	return corral_dev_ops_apply(&a, err, errlen);
}
