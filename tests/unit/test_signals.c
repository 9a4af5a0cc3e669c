/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_signals.c - signal parsers on recorded /proc samples (tests/data),
 * and the sock_diag accept-queue reader on live listeners inside a private
 * network namespace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <cmocka.h>
#include "signals.h"

#define DATA "tests/data/"

static char *load(const char *name)
{
	static char bufs[4][65536];
	static int next;
	char *b = bufs[next++ & 3];
	char path[256];

	snprintf(path, sizeof(path), DATA "%s", name);
	int r = sig_read_file(path, b, sizeof(bufs[0]));
	if (r < 0)
		fail_msg("cannot read %s: %s", path, strerror(-r));
	return b;
}

static void test_stat_recorded(void **state)
{
	struct sig_cpu a, b;
	double busy, soft;

	(void)state;
	assert_int_equal(sig_parse_stat(load("proc_stat.0"), &a), 0);
	assert_int_equal(sig_parse_stat(load("proc_stat.1"), &b), 0);
	/* cpu  3652 0 2232 84434 456 0 56 80 0 0 */
	assert_int_equal(a.total, 3652 + 2232 + 84434 + 456 + 56 + 80);
	assert_int_equal(a.idle, 84434 + 456);
	assert_int_equal(a.softirq, 56);
	/* an idle second: +1 system, +198 idle, +1 steal */
	assert_int_equal(sig_cpu_share(&a, &b, &busy, &soft), 0);
	assert_true(fabs(busy - 2.0 / 200.0) < 1e-9);
	assert_true(soft == 0);

	/* a busy second: both CPUs spinning */
	assert_int_equal(sig_parse_stat(load("proc_stat_busy.0"), &a), 0);
	assert_int_equal(sig_parse_stat(load("proc_stat_busy.1"), &b), 0);
	assert_int_equal(sig_cpu_share(&a, &b, &busy, &soft), 0);
	assert_true(busy == 1.0);
	/* no time between identical samples */
	assert_int_equal(sig_cpu_share(&a, &a, &busy, &soft), -EAGAIN);
}

static void test_stat_softirq_and_bad(void **state)
{
	struct sig_cpu a, b;
	double busy, soft;

	(void)state;
	assert_int_equal(sig_parse_stat("cpu  100 0 100 700 100 0 0 0 0 0\n", &a), 0);
	assert_int_equal(sig_parse_stat("intr 5\ncpu  150 0 150 750 100 0 50 0 0 0\ncpu0 1 1 1 1 1 1 1 1\n",
					&b), 0);
	assert_int_equal(sig_cpu_share(&a, &b, &busy, &soft), 0);
	assert_true(fabs(busy - 150.0 / 200.0) < 1e-9);  /* 50 user + 50 system + 50 softirq */
	assert_true(fabs(soft - 50.0 / 200.0) < 1e-9);
	/* only per-CPU lines, truncated line, garbage */
	assert_int_equal(sig_parse_stat("cpu0 1 2 3 4 5 6 7 8\n", &a), -ENOENT);
	assert_int_equal(sig_parse_stat("cpu  1 2 3 4\n", &a), -EINVAL);
	assert_int_equal(sig_parse_stat("cpu  1 2 x 4 5 6 7 8\n", &a), -EINVAL);
	assert_int_equal(sig_parse_stat("", &a), -ENOENT);
}

static void test_psi(void **state)
{
	double v;

	(void)state;
	assert_int_equal(sig_parse_psi(load("pressure_cpu.txt"), &v), 0);
	assert_true(fabs(v - 0.0012) < 1e-9);   /* some avg10=0.12 */
	assert_int_equal(sig_parse_psi("some avg10=87.50 avg60=1.00 avg300=0.00 total=5\n"
				       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &v), 0);
	assert_true(fabs(v - 0.875) < 1e-9);
	assert_int_equal(sig_parse_psi("full avg10=1.00\n", &v), -ENOENT);
	assert_int_equal(sig_parse_psi("some avg60=1.00\n", &v), -EINVAL);
	assert_int_equal(sig_parse_psi("some avg10=abc\n", &v), -EINVAL);
	assert_int_equal(sig_parse_psi("some avg10=120.00 avg60=0\n", &v), -EINVAL);
}

static void test_netstat(void **state)
{
	__u64 o = 99, d = 99;

	(void)state;
	assert_int_equal(sig_parse_netstat(load("netstat.txt"), &o, &d), 0);
	assert_int_equal(o, 0);
	assert_int_equal(d, 0);
	/* recorded after 6 connects to a listener with backlog 1 */
	assert_int_equal(sig_parse_netstat(load("netstat_overflow.txt"), &o, &d), 0);
	assert_int_equal(o, 8);
	assert_int_equal(d, 8);
	assert_int_equal(sig_parse_netstat("TcpExt: A ListenDrops ListenOverflows\nTcpExt: 1 2 3\n",
					   &o, &d), 0);
	assert_int_equal(o, 3);
	assert_int_equal(d, 2);
	/* header without values, short value line, missing fields */
	assert_int_equal(sig_parse_netstat("TcpExt: ListenOverflows ListenDrops\n", &o, &d), -EINVAL);
	assert_int_equal(sig_parse_netstat("TcpExt: A ListenOverflows ListenDrops\nTcpExt: 1 2\n",
					   &o, &d), -EINVAL);
	assert_int_equal(sig_parse_netstat("TcpExt: A B\nTcpExt: 1 2\n", &o, &d), -ENOENT);
	assert_int_equal(sig_parse_netstat("IpExt: A B\nIpExt: 1 2\n", &o, &d), -ENOENT);
}

static void test_mib(void **state)
{
	__u64 v = 99;

	(void)state;
	/* recorded in a fresh namespace: "Tcp:" has MaxConn -1 before PassiveOpens */
	assert_int_equal(sig_parse_mib(load("snmp.txt"), "Tcp", "PassiveOpens", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sig_parse_mib(load("snmp.txt"), "Tcp", "RtoMax", &v), 0);
	assert_int_equal(v, 120000);
	/* a signed field is not a counter */
	assert_int_equal(sig_parse_mib(load("snmp.txt"), "Tcp", "MaxConn", &v), -EINVAL);
	/* "Tcp" does not match "TcpExt" */
	assert_int_equal(sig_parse_mib(load("netstat.txt"), "Tcp", "ListenDrops", &v), -ENOENT);
	assert_int_equal(sig_parse_mib(load("snmp.txt"), "Tcp", "NoSuchField", &v), -ENOENT);
	assert_int_equal(sig_parse_mib("Tcp: A B\nTcp: 1\n", "Tcp", "B", &v), -EINVAL);
	assert_int_equal(sig_parse_mib("Tcp: A B\nTcpExt: 1 2\n", "Tcp", "B", &v), -EINVAL);
	assert_int_equal(sig_parse_mib("Tcp: A B\nTcp: 1 2\n", "Tcp", "B", &v), 0);
	assert_int_equal(v, 2);
	/* a header without its value line at the end */
	assert_int_equal(sig_parse_mib("Tcp: A B", "Tcp", "B", &v), -EINVAL);
}

static void test_class_rates(void **state)
{
	static struct corral_counter prev[CORRAL_NSTATS], cur[CORRAL_NSTATS];
	double r[CORRAL_NCLASS];

	(void)state;
	cur[CORRAL_STAT_KEY(1, CORRAL_R_PASS)].packets = 100;
	cur[CORRAL_STAT_KEY(6, CORRAL_R_PASS)].packets = 40;
	cur[CORRAL_STAT_KEY(6, CORRAL_R_SHED)].packets = 50;
	cur[CORRAL_STAT_KEY(6, CORRAL_R_RATE)].packets = 10;
	/* extra counts and pre-shed drops are not offered traffic */
	cur[CORRAL_STAT_KEY(6, CORRAL_R_WOULD_DROP)].packets = 50;
	cur[CORRAL_STAT_KEY(6, CORRAL_R_SYN_SEEN)].packets = 70;
	cur[CORRAL_STAT_KEY(3, CORRAL_R_DENY)].packets = 1000;
	cur[CORRAL_STAT_KEY(CORRAL_ROW_NONE, CORRAL_R_MALFORMED)].packets = 1000;
	/* a counter that went backwards (maps recreated) counts as zero */
	prev[CORRAL_STAT_KEY(2, CORRAL_R_PASS)].packets = 500;
	sig_class_rates(prev, cur, 500000000ull, r);
	assert_true(r[0] == 0);
	assert_true(r[1] == 200);
	assert_true(r[2] == 0);
	assert_true(r[3] == 0);
	assert_true(r[6] == 200);
	sig_class_rates(prev, cur, 0, r);
	assert_true(r[1] == 0);
}

static void test_queue_fill(void **state)
{
	struct sig_queue q[3] = {
		{ .port = 80, .listeners = 1, .depth = 5, .limit = 10 },
		{ .port = 443, .listeners = 2, .depth = 30, .limit = 40 },
		{ .port = 8080, .listeners = 0 },
	};

	(void)state;
	assert_true(fabs(sig_queue_fill(q, 3) - 0.75) < 1e-9);
	assert_true(sig_queue_fill(q, 0) == 0);
}

static void test_diag_parse_malformed(void **state)
{
	__u16 port = 80;
	struct sig_queue q = { .port = 80 };
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err = {
		.h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR },
		.e = { .error = -EPERM },
	};
	struct nlmsghdr done = { .nlmsg_len = sizeof(done), .nlmsg_type = NLMSG_DONE };
	struct nlmsghdr shorty = { .nlmsg_len = sizeof(shorty), .nlmsg_type = SOCK_DIAG_BY_FAMILY };

	(void)state;
	assert_int_equal(sig_diag_parse(&err, sizeof(err), &port, 1, &q), -EPERM);
	assert_int_equal(sig_diag_parse(&done, sizeof(done), &port, 1, &q), 1);
	assert_int_equal(sig_diag_parse(&shorty, sizeof(shorty), &port, 1, &q), -EPROTO);
	assert_int_equal(sig_diag_parse(&done, 7, &port, 1, &q), -EPROTO);
}

/* ---- live listeners in a private network namespace --------------------- */

static int netns_ok;

static int enter_netns(void **state)
{
	struct ifreq ifr = { 0 };
	int s;

	(void)state;
	if (unshare(CLONE_NEWNET))
		return 0;       /* tests below skip */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	strcpy(ifr.ifr_name, "lo");
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		if (!ioctl(s, SIOCSIFFLAGS, &ifr))
			netns_ok = 1;
	}
	close(s);
	return 0;
}

static int listener(int family, __u16 port, int backlog)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

/* connect and wait (bounded) for the handshake to finish */
static int client(int family, __u16 port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len))
		assert_int_equal(errno, EINPROGRESS);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	assert_int_equal(poll(&p, 1, 2000), 1);
	return fd;
}

static void test_listen_queues_live(void **state)
{
	__u16 ports[3] = { 7701, 7702, 7703 };
	struct sig_queue q[3];
	int fds[16], nf = 0, diag;

	(void)state;
	if (!netns_ok)
		skip();
	diag = sig_diag_open();
	assert_true(diag >= 0);

	fds[nf++] = listener(AF_INET, 7701, 4);
	fds[nf++] = listener(AF_INET6, 7701, 8);    /* second listener, same port */
	fds[nf++] = listener(AF_INET6, 7702, 16);
	/* 7703: nobody listens */
	assert_int_equal(sig_listen_queues(diag, ports, 3, q), 0);
	assert_int_equal(q[0].listeners, 2);
	assert_int_equal(q[0].depth, 0);
	assert_int_equal(q[0].limit, 12);
	assert_int_equal(q[1].listeners, 1);
	assert_int_equal(q[1].limit, 16);
	assert_int_equal(q[2].listeners, 0);
	assert_true(sig_queue_fill(q, 3) == 0);

	for (int i = 0; i < 3; i++)
		fds[nf++] = client(AF_INET, 7701);
	for (int i = 0; i < 4; i++)
		fds[nf++] = client(AF_INET6, 7702);
	/* established children sit in the accept queues: nobody accepts */
	assert_int_equal(sig_listen_queues(diag, ports, 3, q), 0);
	assert_int_equal(q[0].depth, 3);
	assert_int_equal(q[1].depth, 4);
	assert_true(fabs(sig_queue_fill(q, 3) - 4.0 / 16.0) < 1e-9);
	for (int i = 0; i < nf; i++)
		close(fds[i]);
	close(diag);
}

static void test_listen_overflow_live(void **state)
{
	static char buf[65536];
	__u64 o0 = 0, d0 = 0, o1 = 0, d1 = 0, po0 = 0;
	int fds[8], nf = 0;

	(void)state;
	if (!netns_ok)
		skip();
	assert_true(sig_read_file("/proc/net/netstat", buf, sizeof(buf)) > 0);
	assert_int_equal(sig_parse_netstat(buf, &o0, &d0), 0);
	assert_true(sig_read_file("/proc/net/snmp", buf, sizeof(buf)) > 0);
	assert_int_equal(sig_parse_mib(buf, "Tcp", "PassiveOpens", &po0), 0);
	fds[nf++] = listener(AF_INET, 7710, 1);
	for (int i = 0; i < 5; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7710),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_true(fd >= 0);
		connect(fd, (struct sockaddr *)&a, sizeof(a));
		fds[nf++] = fd;
	}
	/* the handshakes beyond the backlog overflow on arrival of their ACK */
	for (int tries = 0; tries < 200 && o1 <= o0; tries++) {
		usleep(10000);
		assert_true(sig_read_file("/proc/net/netstat", buf, sizeof(buf)) > 0);
		assert_int_equal(sig_parse_netstat(buf, &o1, &d1), 0);
	}
	assert_true(o1 > o0);
	assert_true(d1 >= o1 - o0 + d0);
	/* each of the 5 connects ends in an accept queue (PassiveOpens) or a
	 * refusal (ListenDrops): what the queue load counts as arrivals */
	__u64 po = 0;
	for (int tries = 0; tries < 200; tries++) {
		assert_true(sig_read_file("/proc/net/snmp", buf, sizeof(buf)) > 0);
		assert_int_equal(sig_parse_mib(buf, "Tcp", "PassiveOpens", &po), 0);
		assert_true(sig_read_file("/proc/net/netstat", buf, sizeof(buf)) > 0);
		assert_int_equal(sig_parse_netstat(buf, &o1, &d1), 0);
		if (po - po0 + d1 - d0 >= 5)
			break;
		usleep(10000);
	}
	assert_true(po - po0 >= 1 && po - po0 <= 2);   /* backlog 1 holds 2 */
	assert_true(po - po0 + d1 - d0 >= 5);
	for (int i = 0; i < nf; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_recorded),
		cmocka_unit_test(test_stat_softirq_and_bad),
		cmocka_unit_test(test_psi),
		cmocka_unit_test(test_netstat),
		cmocka_unit_test(test_mib),
		cmocka_unit_test(test_class_rates),
		cmocka_unit_test(test_queue_fill),
		cmocka_unit_test(test_diag_parse_malformed),
		cmocka_unit_test(test_listen_queues_live),
		cmocka_unit_test(test_listen_overflow_live),
	};
	return cmocka_run_group_tests_name("signals", tests, enter_netns, NULL);
}
