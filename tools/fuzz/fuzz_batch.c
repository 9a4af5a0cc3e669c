// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_batch.c - libFuzzer harness for the batch/config file parser
 * (corral_batch_parse_stream, the reader behind "corral -f FILE" and
 * "corral run -c FILE") with the controller's lines (ctrl_conf_line,
 * ctrl_conf_check) as its extra-line callback, then the parsed ops applied
 * to an in-memory state as corral_batch_apply would before storing.
 *
 * Input: the file's bytes, read through fmemopen (NULs, long lines and a
 * missing final newline included). Checks beyond ASan/UBSan: refusals
 * carry a message naming the place; an accepted controller configuration
 * is within its documented bounds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "ctrl_conf.h"
#include "state.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_batch: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static int ctrl_line(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	return ctrl_conf_line(arg, argc, argv, err, errlen);
}

static void check_conf(const struct ctrl_conf *c)
{
	CHECK(c->interval_ns >= CTRL_MIN_INTERVAL_NS && c->interval_ns <= CTRL_MAX_INTERVAL_NS,
	      "interval %llu", (unsigned long long)c->interval_ns);
	CHECK(c->hb_timeout_ns >= 2 * c->interval_ns, "heartbeat timeout %llu",
	      (unsigned long long)c->hb_timeout_ns);
	CHECK(c->nports <= CTRL_MAX_PORTS, "%u ports", c->nports);
	for (unsigned i = 0; i < c->nports; i++) {
		CHECK(c->ports[i] != 0, "port 0");
		for (unsigned j = 0; j < i; j++)
			CHECK(c->ports[i] != c->ports[j], "duplicate port %u", c->ports[i]);
	}
	for (int i = 0; i < CTRL_NSIG; i++)
		CHECK(c->target[i] >= 0 && c->target[i] <= 1, "target %d = %f", i, c->target[i]);
	CHECK(!(c->target[CTRL_SIG_QUEUE] > 0) || c->nports, "queue target without ports");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct corral_batch *b = NULL;
	struct ctrl_conf conf;
	char err[1024], msg[512];
	FILE *f;
	int ret;

	if (!len)
		return 0;
	f = fmemopen((void *)data, len, "r");
	if (!f)
		return 0;
	ctrl_conf_init(&conf);
	memset(err, 0x55, sizeof(err));
	ret = corral_batch_parse_stream(f, "fuzz.conf", &b, ctrl_line, &conf, err, sizeof(err));
	fclose(f);
	if (ret) {
		CHECK(ret < 0, "parse returned %d", ret);
		CHECK(!b, "a batch after a failure");
		CHECK(memchr(err, 0, sizeof(err)) && !strncmp(err, "fuzz.conf", 9),
		      "message does not name the file: %.80s", err);
		return 0;
	}
	CHECK(b, "no batch");
	for (size_t i = 0; i < b->n; i++)
		CHECK(b->where[i] && !strncmp(b->where[i], "fuzz.conf:", 10), "where[%zu]", i);
	if (!ctrl_conf_check(&conf, msg, sizeof(msg)))
		check_conf(&conf);
	else
		CHECK(memchr(msg, 0, sizeof(msg)) && msg[0], "check refused without a message");
	{
		struct corral_state s;

		corral_state_init(&s);
		for (size_t i = 0; i < b->n; i++)
			if (corral_state_apply(&s, &b->ops[i], msg, sizeof(msg)))
				break;
		corral_state_free(&s);
	}
	corral_batch_free(b);
	return 0;
}
