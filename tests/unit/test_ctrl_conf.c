/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* test_ctrl_conf.c - "controller ..." config lines and run options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "ctrl_conf.h"

static char err[256];

/* split a line on spaces (test helper) and feed it */
static int line(struct ctrl_conf *c, const char *text)
{
	static char buf[512];
	char *argv[16], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 16; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	err[0] = '\0';
	return ctrl_conf_line(c, argc, argv, err, sizeof(err));
}

/* the line fails and the message names the bad word */
static void bad(const char *text, const char *word)
{
	struct ctrl_conf c, before;

	ctrl_conf_init(&c);
	before = c;
	if (line(&c, text) != -EINVAL)
		fail_msg("accepted: %s", text);
	if (!strstr(err, word))
		fail_msg("error for \"%s\" does not name \"%s\": %s", text, word, err);
	/* nothing half-applied */
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_defaults(void **state)
{
	struct ctrl_conf c;

	(void)state;
	ctrl_conf_init(&c);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), 0);
	assert_int_equal(c.shed_auto, 1);
	assert_true(c.target[CTRL_SIG_CPU] == 0.85);
	assert_true(c.target[CTRL_SIG_PRESSURE] == 0);
	assert_true(c.target[CTRL_SIG_QUEUE] == 0);
	assert_int_equal(c.interval_ns, 100000000ull);
	assert_int_equal(c.hb_timeout_ns, 2000000000ull);
	assert_int_equal(c.nports, 0);
}

static void test_good_lines(void **state)
{
	struct ctrl_conf c;

	(void)state;
	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller target cpu 90%"), 0);
	assert_int_equal(line(&c, "controller target pressure 12.5"), 0);
	assert_int_equal(line(&c, "controller target queue 60%"), 0);
	assert_int_equal(line(&c, "controller ports 80,443,8080"), 0);
	assert_int_equal(line(&c, "controller interval 50ms"), 0);
	assert_int_equal(line(&c, "controller heartbeat-timeout 1.5s"), 0);
	assert_int_equal(line(&c, "controller shed manual"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), 0);
	assert_true(fabs(c.target[CTRL_SIG_CPU] - 0.9) < 1e-12);
	assert_true(fabs(c.target[CTRL_SIG_PRESSURE] - 0.125) < 1e-12);
	assert_true(fabs(c.target[CTRL_SIG_QUEUE] - 0.6) < 1e-12);
	assert_int_equal(c.nports, 3);
	assert_int_equal(c.ports[0], 80);
	assert_int_equal(c.ports[1], 443);
	assert_int_equal(c.ports[2], 8080);
	assert_int_equal(c.interval_ns, 50000000ull);
	assert_int_equal(c.hb_timeout_ns, 1500000000ull);
	assert_int_equal(c.shed_auto, 0);

	/* off, and ports imply the queue target */
	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller target cpu off"), 0);
	assert_int_equal(line(&c, "controller ports 9000"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), 0);
	assert_true(c.target[CTRL_SIG_CPU] == 0);
	assert_true(c.target[CTRL_SIG_QUEUE] == CTRL_DFLT_TARGET_QUEUE);
}

static void test_bad_lines(void **state)
{
	(void)state;
	bad("controller", "missing keyword");
	bad("controller speed 3", "\"speed\"");
	bad("controller target", "target cpu|pressure|queue");
	bad("controller target disk 50%", "\"disk\"");
	bad("controller target cpu 0%", "\"0%\"");
	bad("controller target cpu 101%", "\"101%\"");
	bad("controller target cpu -5", "\"-5\"");
	bad("controller target cpu 5%%", "\"5%%\"");
	bad("controller target cpu 0x10", "\"0x10\"");
	bad("controller target cpu nan", "\"nan\"");
	bad("controller target cpu 85 extra", "target cpu|pressure|queue");
	bad("controller ports 0", "\"0\"");
	bad("controller ports 65536", "\"65536\"");
	bad("controller ports 80,,443", "\"80,,443\"");
	bad("controller ports 80,", "\"80,\"");
	bad("controller ports 80,80", "duplicate");
	bad("controller ports http", "\"http\"");
	bad("controller ports -1", "\"-1\"");
	bad("controller interval 5ms", "\"5ms\"");
	bad("controller interval 11s", "\"11s\"");
	bad("controller interval fast", "\"fast\"");
	bad("controller interval 100 ms", "interval DURATION");
	bad("controller heartbeat-timeout 0", "\"0\"");
	bad("controller heartbeat-timeout 2x", "\"2x\"");
	bad("controller shed sometimes", "\"sometimes\"");
	bad("controller shed", "auto|manual");
	bad("limit add default 10pps", "not a controller line");
}

static void test_duplicates_and_check(void **state)
{
	struct ctrl_conf c;

	(void)state;
	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller interval 200ms"), 0);
	assert_int_equal(line(&c, "controller interval 300ms"), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(c.interval_ns, 200000000ull);

	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller target queue 50%"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "controller ports"));

	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller target cpu off"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "every target is off"));
	/* manual shedding needs no target */
	assert_int_equal(line(&c, "controller shed manual"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), 0);

	ctrl_conf_init(&c);
	assert_int_equal(line(&c, "controller interval 2s"), 0);
	assert_int_equal(line(&c, "controller heartbeat-timeout 3s"), 0);
	assert_int_equal(ctrl_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "heartbeat-timeout"));
}

static void test_parsers(void **state)
{
	double f;
	__u16 p[CTRL_MAX_PORTS + 1];
	unsigned n;
	char many[512] = "";

	(void)state;
	assert_int_equal(ctrl_parse_percent("100", &f), 0);
	assert_true(f == 1.0);
	assert_int_equal(ctrl_parse_percent("100.1", &f), -ERANGE);
	for (int i = 0; i <= CTRL_MAX_PORTS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s%d", i ? "," : "",
			 1000 + i);
	assert_int_equal(ctrl_parse_ports(many, p, CTRL_MAX_PORTS, &n), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_duplicates_and_check),
		cmocka_unit_test(test_parsers),
	};
	return cmocka_run_group_tests_name("ctrl_conf", tests, NULL, NULL);
}
