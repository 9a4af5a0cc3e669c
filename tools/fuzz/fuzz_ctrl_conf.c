// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_ctrl_conf.c - libFuzzer harness for the controller's configuration
 * lines (user/ctrl_conf.h).
 *
 * Input: text lines. Each line is split into words and, prefixed with
 * "controller", fed to ctrl_conf_line() on one configuration; the whole is
 * then checked with ctrl_conf_check(). The first line is also handed raw to
 * ctrl_parse_percent() and ctrl_parse_ports(). Checks beyond ASan/UBSan:
 * accepted values within bounds, refusals with a message, a refused line
 * leaves the configuration as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "ctrl_conf.h"

#define MAX_LINES 64

#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_ctrl_conf: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

static void raw_words(const char *s)
{
	__u16 ports[CTRL_MAX_PORTS];
	unsigned n = 0;
	double f;

	if (!ctrl_parse_percent(s, &f))
		CHECK(f > 0 && f <= 1, "percent \"%s\" -> %f", s, f);
	if (!ctrl_parse_ports(s, ports, CTRL_MAX_PORTS, &n)) {
		CHECK(n >= 1 && n <= CTRL_MAX_PORTS, "%u ports from \"%s\"", n, s);
		for (unsigned i = 0; i < n; i++) {
			CHECK(ports[i], "port 0 from \"%s\"", s);
			for (unsigned j = 0; j < i; j++)
				CHECK(ports[i] != ports[j], "duplicate from \"%s\"", s);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf, *line, *save = NULL, *argv[CORRAL_BATCH_MAX_WORDS + 1], err[512];
	struct ctrl_conf c, before;
	int nlines = 0;

	buf = malloc(len + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, len);
	buf[len] = 0;
	{
		char *nl = strchr(buf, '\n');
		char *first = strndup(buf, nl ? (size_t)(nl - buf) : len);

		if (first) {
			raw_words(first);
			free(first);
		}
	}
	ctrl_conf_init(&c);
	argv[0] = "controller";
	for (line = strtok_r(buf, "\n", &save); line && nlines < MAX_LINES;
	     line = strtok_r(NULL, "\n", &save), nlines++) {
		int argc = corral_split_words(line, argv + 1, CORRAL_BATCH_MAX_WORDS), ret;

		if (argc < 0)
			continue;
		memcpy(&before, &c, sizeof(c));
		memset(err, 0x55, sizeof(err));
		ret = ctrl_conf_line(&c, argc + 1, argv, err, sizeof(err));
		if (ret) {
			CHECK(ret == -EINVAL, "line returned %d", ret);
			CHECK(memchr(err, 0, sizeof(err)) && err[0], "refusal without a message");
			CHECK(!memcmp(&before, &c, sizeof(c)), "a refused line changed the configuration");
		}
	}
	if (!ctrl_conf_check(&c, err, sizeof(err))) {
		CHECK(c.interval_ns >= CTRL_MIN_INTERVAL_NS && c.interval_ns <= CTRL_MAX_INTERVAL_NS,
		      "interval %llu", (unsigned long long)c.interval_ns);
		CHECK(c.hb_timeout_ns >= 2 * c.interval_ns, "heartbeat timeout");
		CHECK(c.nports <= CTRL_MAX_PORTS, "nports %u", c.nports);
		for (int i = 0; i < CTRL_NSIG; i++)
			CHECK(c.target[i] >= 0 && c.target[i] <= 1, "target %d", i);
	}
	free(buf);
	return 0;
}
