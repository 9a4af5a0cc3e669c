// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cli.c - batch files and the command line without the kernel:
 * whole-file validation (one bad line: no ops), the controller hook,
 * in-memory all-or-nothing application, and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch.h"
#include "cli.h"
#include "state.h"

static FILE *text(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");

	assert_non_null(f);
	return f;
}

static const char good[] =
	"# a comment line\n"
	"\n"
	"mode set monitor\n"
	"limit add default rate 1kpps   # trailing comment\n"
	"   allow add 10.0.0.0/8\n"
	"class add 1 proto tcp dport 22\n"
	"shed set 5.5 scope all\n";

static void test_batch_good(void **state)
{
	struct corral_batch *b;
	char err[256];
	FILE *f = text(good);

	assert_int_equal(corral_batch_parse_stream(f, "good", &b, NULL, NULL, err, sizeof(err)), 0);
	fclose(f);
	assert_non_null(b);
	assert_int_equal(b->n, 5);
	assert_int_equal(b->ops[0].kind, CORRAL_OP_MODE_SET);
	assert_int_equal(b->ops[1].kind, CORRAL_OP_LIMIT_ADD);
	assert_int_equal(b->ops[1].limit.lim.pkt_rate, 1000);
	assert_int_equal(b->ops[4].kind, CORRAL_OP_SHED_SET);
	assert_string_equal(b->where[0], "good:3");
	assert_string_equal(b->where[4], "good:7");
	corral_batch_free(b);
}

/* attach/detach lines are kept apart from the policy, in file order */
static void test_batch_device_lines(void **state)
{
	struct corral_batch *b;
	char err[256];
	FILE *f = text("attach dev lo mode tc egress\nlimit add default rate 1kpps\n"
		       "detach dev gone0\n");

	assert_int_equal(corral_batch_parse_stream(f, "d", &b, NULL, NULL, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(b->n, 1);
	assert_int_equal(corral_batch_devices(b), 2);
	corral_batch_free(b);
}

static void test_batch_one_bad_line(void **state)
{
	static const char *const bad[] = {
		"mode set monitor\nlimit add default rate 1kpps\nclass add 9 proto tcp\nshed off\n",
		"mode set monitor\nstatus\n",
		"limit add 300.1.1.1/33 rate 5\n",
		"mode set monitor\ncontroller target 0.8\n",
		"attach dev lo\nattach dev cenope0\n",
		"attach dev lo mode turbo\n",
		"attach mode xdp\n",
		"attach dev lo sources\n",
		"detach dev\n",
		"detach lo\n",
		"detach dev lo egress\n",
	};
	static const char *const msg[] = {
		"f:3: class: invalid class \"9\"",
		"f:2: \"status\" is not a configuration command",
		"f:1: limit: invalid prefix \"300.1.1.1/33\"",
		"f:2: controller: not accepted here",
		"f:2: attach: no device \"cenope0\"",
		"f:1: attach: invalid mode \"turbo\"",
		"f:1: attach: missing \"dev IFACE\"",
		"f:1: attach: missing argument after \"sources\"",
		"f:1: detach: missing argument after \"dev\"",
		"f:1: detach: expected \"dev IFACE\"",
		"f:1: detach: unknown argument \"egress\"",
	};
	struct corral_batch *b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = text(bad[i]);
		int ret = corral_batch_parse_stream(f, "f", &b, NULL, NULL, err, sizeof(err));

		fclose(f);
		assert_int_equal(ret, -EINVAL);
		assert_null(b);
		assert_string_equal(err, msg[i]);
	}
}

struct extra_seen {
	int lines;
	char last[64];
};

static int extra(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	struct extra_seen *s = arg;

	s->lines++;
	assert_string_equal(argv[0], "controller");
	if (argc < 2 || !strcmp(argv[1], "bogus")) {
		snprintf(err, errlen, "controller: bad \"%s\"", argc > 1 ? argv[1] : "");
		return -EINVAL;
	}
	snprintf(s->last, sizeof(s->last), "%s", argv[argc - 1]);
	return 0;
}

static void test_batch_controller_lines(void **state)
{
	struct extra_seen seen = { 0 };
	struct corral_batch *b;
	char err[256];
	FILE *f = text("controller interval 100ms\nshed off\ncontroller target 0.8\n");

	assert_int_equal(corral_batch_parse_stream(f, "c", &b, extra, &seen, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(seen.lines, 2);
	assert_string_equal(seen.last, "0.8");
	assert_int_equal(b->n, 1);
	corral_batch_free(b);

	f = text("shed off\ncontroller bogus\n");
	assert_int_equal(corral_batch_parse_stream(f, "c", &b, extra, &seen, err, sizeof(err)),
			 -EINVAL);
	fclose(f);
	assert_null(b);
	assert_string_equal(err, "c:2: controller: bad \"bogus\"");
}

/* a batch that parses but conflicts: applying it to a state fails part-way,
 * and corral_ops_commit only stores after every op applied */
static void test_batch_conflict_in_memory(void **state)
{
	struct corral_batch *b;
	struct corral_state s;
	char err[256];
	size_t i;
	int ret = 0;
	FILE *f = text("allow add 10.0.0.0/8\nlimit add default rate 5\ndeny add 10.0.0.0/8\n");

	assert_int_equal(corral_batch_parse_stream(f, "x", &b, NULL, NULL, err, sizeof(err)), 0);
	fclose(f);
	corral_state_init(&s);
	for (i = 0; i < b->n && !ret; i++)
		ret = corral_state_apply(&s, &b->ops[i], err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(i, 3);
	assert_string_equal(err, "deny: 10.0.0.0/8 is in the allow list");
	corral_state_free(&s);
	corral_batch_free(b);
}

static void test_split_words(void **state)
{
	char line[] = "  limit\tadd default  rate 5 # comment words\n";
	char *argv[8];

	assert_int_equal(corral_split_words(line, argv, 8), 5);
	assert_string_equal(argv[0], "limit");
	assert_string_equal(argv[1], "add");
	assert_string_equal(argv[4], "5");
	{
		char l2[] = "a b c d";

		assert_int_equal(corral_split_words(l2, argv, 3), -E2BIG);
	}
}

static int cli(const char *line)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;
	char *p;

	snprintf(buf, sizeof(buf), "corral %s", line);
	for (p = strtok(buf, " "); p && argc < 31; p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	return corral_main(argc, argv);
}

static void test_exit_codes(void **state)
{
	FILE *f;

	/* nothing is loaded under this pin directory */
	int out = dup(1), errfd = dup(2), null = open("/dev/null", O_WRONLY);

	setenv("CORRAL_PIN_DIR", "/nonexistent/corral-unit", 1);
	assert_true(out >= 0 && errfd >= 0 && null >= 0);
	fflush(stdout);
	dup2(null, 1);
	dup2(null, 2);

	assert_int_equal(cli("help"), CORRAL_EXIT_OK);
	assert_int_equal(cli("limit help"), CORRAL_EXIT_OK);
	assert_int_equal(cli("shed --help"), CORRAL_EXIT_OK);
	assert_int_equal(cli("--help"), CORRAL_EXIT_OK);
	assert_int_equal(cli("frobnicate"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("-x status"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("limit add 300.1.1.1/33 rate 10"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("limit frob"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("attach"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("attach dev x mode fast"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("attach dev x dev y"), CORRAL_EXIT_USAGE);
	assert_int_equal(cli("status extra"), CORRAL_EXIT_USAGE);
	/* valid words, but corral is not loaded */
	assert_int_equal(cli("limit add default rate 10"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("limit show"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("-j status"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("detach dev lo"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("attach dev no-such-dev0"), CORRAL_EXIT_FAIL);
	/* batch: a bad line is a usage error before anything is opened */
	f = fopen("/tmp/corral-unit-batch.conf", "w");
	assert_non_null(f);
	fputs("shed off\nshed set 9\n", f);
	fclose(f);
	assert_int_equal(cli("-f /tmp/corral-unit-batch.conf"), CORRAL_EXIT_USAGE);
	f = fopen("/tmp/corral-unit-batch.conf", "w");
	assert_non_null(f);
	fputs("shed off\n", f);
	fclose(f);
	assert_int_equal(cli("-f /tmp/corral-unit-batch.conf"), CORRAL_EXIT_FAIL);
	unlink("/tmp/corral-unit-batch.conf");
	assert_int_equal(cli("-f /nonexistent/file"), CORRAL_EXIT_FAIL);
	unsetenv("CORRAL_PIN_DIR");
	unlink("/run/corral/lock_nonexistent_corral-unit");
	fflush(stdout);
	dup2(out, 1);
	dup2(errfd, 2);
	close(out);
	close(errfd);
	close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_good),
		cmocka_unit_test(test_batch_device_lines),
		cmocka_unit_test(test_batch_one_bad_line),
		cmocka_unit_test(test_batch_controller_lines),
		cmocka_unit_test(test_batch_conflict_in_memory),
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
