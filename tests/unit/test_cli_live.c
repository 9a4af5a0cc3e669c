// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_cli_live.c - the CLI against a loaded data plane, in a network
 * namespace of its own (veth pair, no traffic): attach, configure, a batch
 * with one bad line or one conflicting line changes nothing, JSON status
 * parses, re-attach keeps state, detach leaves nothing pinned.
 * Skipped when not root.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include <cmocka.h>

#include "cli.h"
#include "handle.h"
#include "out.h"
#include "state.h"

static char ns[32], pins[64], dev[16];
static int home_ns = -1;

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int cli(const char *fmt, ...)
{
	static char buf[512];
	char *argv[40];
	int argc = 0, out, err, null, ret;
	va_list ap;
	char *p;

	va_start(ap, fmt);
	memcpy(buf, "corral ", 7);
	vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	for (p = strtok(buf, " "); p && argc < 39; p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	fflush(stdout);
	out = dup(1);
	err = dup(2);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	dup2(null, 2);
	ret = corral_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	return ret;
}

static int setup(void **state)
{
	int fd;

	if (geteuid() != 0)
		return 0;
	snprintf(ns, sizeof(ns), "cli_u%d", (int)getpid());
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/cli_u%d", (int)getpid());
	snprintf(dev, sizeof(dev), "cliu%da", (int)getpid() % 100000);
	if (sh("ip netns add %s", ns) ||
	    sh("ip -n %s link add %s type veth peer name cliu%db", ns, dev, (int)getpid() % 100000) ||
	    sh("ip -n %s link set %s up", ns, dev))
		return -1;
	home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	{
		char path[64];

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		return -1;
	close(fd);
	setenv("CORRAL_PIN_DIR", pins, 1);
	return 0;
}

static int teardown(void **state)
{
	if (geteuid() != 0)
		return 0;
	cli("detach dev %s", dev);
	sh("rm -rf %s", pins);
	sh("rm -f /run/corral/lock_sys_fs_bpf_%s", ns);
	if (home_ns >= 0) {
		setns(home_ns, CLONE_NEWNET);
		close(home_ns);
	}
	sh("ip netns del %s 2>/dev/null", ns);
	unsetenv("CORRAL_PIN_DIR");
	return 0;
}

/* everything a configuration change can touch */
struct snap {
	struct corral_cfg cfg;
	__u64 shed;
	struct corral_state st;
	size_t npol;
	unsigned long port_sum;
};

static int pr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct corral_prule));
}

static void snap(struct snap *s)
{
	struct corral_handle h;
	struct corral_lpm_key k, nk;
	size_t i;

	memset(s, 0, sizeof(*s));
	assert_int_equal(corral_handle_open(&h), 0);
	s->cfg = *corral_cfg_live(&h);
	s->shed = corral_shed_read(&h);
	assert_int_equal(corral_state_load(&h, &s->st), 0);
	qsort(s->st.pr, s->st.npr, sizeof(*s->st.pr), pr_cmp);
	if (!bpf_map_get_next_key(h.policy_fd, NULL, &nk)) {
		do {
			s->npol++;
			k = nk;
		} while (!bpf_map_get_next_key(h.policy_fd, &k, &nk));
	}
	for (i = 0; i < CORRAL_PORT_TABLE_SIZE; i++)
		s->port_sum += (i + 1) * CORRAL_PORT_CLS(&h, i);
	corral_handle_close(&h);
}

static void assert_same(struct snap *a, struct snap *b)
{
	assert_memory_equal(&a->cfg, &b->cfg, sizeof(a->cfg));
	assert_int_equal(a->shed, b->shed);
	assert_int_equal(a->st.npr, b->st.npr);
	assert_memory_equal(a->st.pr, b->st.pr, a->st.npr * sizeof(*a->st.pr));
	assert_int_equal(a->st.npt, b->st.npt);
	assert_int_equal(a->npol, b->npol);
	assert_int_equal(a->port_sum, b->port_sum);
	corral_state_free(&a->st);
	corral_state_free(&b->st);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_live(void **state)
{
	char path[128], cmd[128];
	struct snap a, b;
	struct json_object *j, *v;
	FILE *f;

	if (geteuid() != 0)
		skip();
	assert_int_equal(cli("attach dev %s mode xdp-generic sources 4096", dev), 0);
	snprintf(path, sizeof(path), "%s/corral_ctl", pins);
	assert_int_equal(access(path, F_OK), 0);

	/* first-load defaults */
	snap(&a);
	assert_int_equal(a.cfg.mode, CORRAL_MODE_ENFORCE);
	assert_int_equal(a.cfg.default_class, 4);
	assert_int_equal(a.cfg.v4_prefix, 32);
	assert_int_equal(a.cfg.v6_prefix, 64);
	assert_int_equal(a.cfg.dscp_class[0], CORRAL_CLASS_ANY);
	assert_int_equal(a.cfg.epoch_ns, 60000000000ull);
	assert_int_equal(a.port_sum, (unsigned long)CORRAL_CLASS_ANY *
			 ((unsigned long)CORRAL_PORT_TABLE_SIZE * (CORRAL_PORT_TABLE_SIZE + 1) / 2));
	corral_state_free(&a.st);

	assert_int_equal(cli("allow add 10.0.0.0/8"), 0);
	assert_int_equal(cli("limit add 10.1.0.0/16 rate 5kpps"), 0);
	assert_int_equal(cli("class add 2 proto tcp dport 80-90"), 0);
	assert_int_equal(cli("deny add 10.0.0.0/8"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("allow del 10.9.0.0/16"), CORRAL_EXIT_FAIL);
	assert_int_equal(cli("limit add 300.1.1.1/33 rate 1"), CORRAL_EXIT_USAGE);

	snap(&a);
	assert_int_equal(a.st.npr, 2);
	assert_int_equal(a.npol, 2);
	assert_int_equal(a.cfg.tables, CORRAL_TBL_PREFIX | CORRAL_TBL_PORT);

	/* batch with one bad line: nothing applied */
	snprintf(path, sizeof(path), "/tmp/%s.conf", ns);
	write_file(path, "mode set monitor\nshed set 5.5\nlimit add default rate 1\n"
			 "class add 9 src 10.2.0.0/16\n");
	assert_int_equal(cli("-f %s", path), CORRAL_EXIT_USAGE);
	snap(&b);
	assert_same(&a, &b);
	/* a batch whose last line conflicts: nothing applied */
	snap(&a);
	write_file(path, "mode set monitor\nshed set 5.5\nlimit add default rate 1\n"
			 "class add 3 src 10.2.0.0/16\ndeny add 10.0.0.0/8\n");
	assert_int_equal(cli("-f %s", path), CORRAL_EXIT_FAIL);
	snap(&b);
	assert_same(&a, &b);
	/* the same without the conflict: all applied */
	write_file(path, "mode set monitor\nshed set 5.5\nlimit add default rate 1\n"
			 "class add 3 src 10.2.0.0/16\n");
	assert_int_equal(cli("-f %s", path), 0);
	unlink(path);
	snap(&a);
	assert_int_equal(a.cfg.mode, CORRAL_MODE_MONITOR);
	assert_int_equal(a.cfg.dflt.pkt_rate, 1);
	assert_int_equal(a.shed, CORRAL_SHED_PACK(5, 5000, CORRAL_SCOPE_NEW, CORRAL_SHED_ON));
	assert_int_equal(a.st.npr, 3);
	corral_state_free(&a.st);

	/* JSON status through a parser */
	snprintf(path, sizeof(path), "/tmp/%s.json", ns);
	f = fopen(path, "w");
	assert_non_null(f);
	out_set_file(f);
	assert_int_equal(cli("-j status"), 0);
	out_set_file(NULL);
	fclose(f);
	j = json_object_from_file(path);
	unlink(path);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "schema", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(j, "mode", &v));
	assert_string_equal(json_object_get_string(v), "monitor");
	assert_true(json_object_object_get_ex(j, "sources_max", &v));
	assert_int_equal(json_object_get_int64(v), 4096);
	assert_true(json_object_object_get_ex(j, "counters", &v));
	assert_true(json_object_object_get_ex(v, "none", &v));
	assert_true(json_object_object_get_ex(v, "malformed", &v));
	assert_true(json_object_object_get_ex(j, "devices", &v));
	assert_int_equal(json_object_array_length(v), 1);
	json_object_put(j);

	/* re-attach (tc, then back to xdp-generic) keeps the state */
	snap(&a);
	assert_int_equal(cli("attach dev %s mode tc egress", dev), 0);
	assert_int_equal(cli("attach dev %s mode xdp-generic", dev), 0);
	assert_int_equal(cli("attach dev %s mode xdp-generic sources 8192", dev),
			 CORRAL_EXIT_FAIL);
	snap(&b);
	assert_same(&a, &b);

	/* detach of the last device removes every pin */
	assert_int_equal(cli("detach dev %s", dev), 0);
	assert_int_not_equal(access(pins, F_OK), 0);
	assert_int_equal(cli("limit show"), CORRAL_EXIT_FAIL);
	snprintf(cmd, sizeof(cmd), "ip link show %s xdp 2>/dev/null | grep -q prog", dev);
	assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_live, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
