/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * herd_clients - N clients that all start at once, for herd experiments.
 *
 * One process, one epoll loop, non-blocking sockets. Client i binds to its
 * own source address (--src + i mod --src-count; IP_FREEBIND, so the
 * caller routes the range locally), connects, sends one request line with
 * its deadline, and waits --timeout for the response. Every first connect
 * is issued after all sockets are created and bound, by --launch-threads
 * threads (default: one per CPU, since each connect also runs the
 * handshake's softirq work inline), so the herd starts within tens of
 * milliseconds (reported as the launch span); then one thread runs the
 * event loop.
 *
 * An attempt fails when the connect fails or times out, the connection is
 * reset or closed without a response, or the response does not come within
 * --timeout of the request. Then the client retries by mode:
 *   kernel   no application timeout on connect (only the kernel's SYN
 *            retransmissions, bounded by the global deadline); after a
 *            failed attempt it reconnects at once
 *   none     connect timeout --connect-timeout, reconnect at once
 *   expo     sleep min(cap, base * 2^n) before retry n (n = 0, 1, ...)
 *   full     sleep U(0, min(cap, base * 2^n))
 *   decorr   sleep min(cap, U(base, 3 * prev)), prev starting at base
 *
 * SYNs per attempt are 1 + tcpi_total_retrans read with TCP_INFO when the
 * connect completes or is abandoned (before any data is sent, so every
 * retransmission counted is a SYN retransmission).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "herd_common.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#define MAX_CLIENTS 1000000u
#define MAX_BUCKETS 36002u

enum mode { M_KERNEL, M_NONE, M_EXPO, M_FULL, M_DECORR };
static const char *const mode_names[] = { "kernel", "none", "expo", "full", "decorr" };

enum cstate { C_IDLE, C_CONNECTING, C_WAITING, C_SERVED, C_FAILED };

struct client {
	int fd;
	uint8_t state;
	uint8_t rlen;
	char rbuf[30];
	uint32_t gen;           /* timer generation; heap entries with another gen are stale */
	int launch_err;         /* errno of the first connect, set by a launch thread */
	uint32_t attempts;
	uint32_t syns;
	uint32_t req_timeouts;
	uint32_t conn_fail;     /* connect errors and connect timeouts */
	uint32_t resets;        /* closed or reset without a response */
	uint64_t attempt_ns;
	uint64_t done_ns;       /* served (or failed) at, relative to t0 */
	uint64_t prev_sleep_ms;
};

struct timer { uint64_t at; uint32_t idx, gen; };

struct series { uint32_t connects, served, req_timeouts, conn_fail; };

static struct {
	enum mode mode;
	struct herd_addr server, src;
	bool bind_src;
	uint64_t n, src_count, timeout_ms, connect_timeout_ms, base_ms, cap_ms;
	uint64_t deadline_ms, max_attempts, capacity, seed, syncnt, launch_threads;
	const char *csv, *clients_csv;
	bool quiet;
} opt = {
	.mode = M_KERNEL, .n = 100, .timeout_ms = 2000, .base_ms = 100,
	.cap_ms = 10000, .deadline_ms = 60000,
};

static struct client *cl;
static struct timer *heap;
static size_t heap_n, heap_cap;
static struct series *ser;
static uint64_t t0, rng;
static int ep = -1;
static uint64_t remaining, local_errors;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { (void)sig; interrupted = 1; }

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1Dull;
}

/* uniform in [lo, hi] */
static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + rnd() % (hi - lo + 1);
}

static uint64_t rel_now(void) { return herd_mono_ns() - t0; }

static struct series *series_at(uint64_t rel_ns)
{
	uint64_t i = rel_ns / HERD_BUCKET_NS;

	return &ser[i < MAX_BUCKETS ? i : MAX_BUCKETS - 1];
}

static int heap_push(uint64_t at, uint32_t idx, uint32_t gen)
{
	size_t i;

	if (heap_n == heap_cap) {
		size_t nc = heap_cap ? heap_cap * 2 : 1024;
		struct timer *nh = realloc(heap, nc * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		heap = nh;
		heap_cap = nc;
	}
	i = heap_n++;
	while (i > 0 && heap[(i - 1) / 2].at > at) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = (struct timer){ at, idx, gen };
	return 0;
}

static struct timer heap_pop(void)
{
	struct timer top = heap[0], last = heap[--heap_n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && heap[c + 1].at < heap[c].at)
			c++;
		if (heap[c].at >= last.at)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_n)
		heap[i] = last;
	return top;
}

static void timer_set(uint32_t idx, uint64_t at)
{
	struct client *c = &cl[idx];

	c->gen++;
	if (heap_push(at, idx, c->gen)) {
		fprintf(stderr, "herd_clients: timer heap: %s\n", strerror(ENOMEM));
		exit(1);
	}
}

static void timer_cancel(uint32_t idx) { cl[idx].gen++; }

static uint32_t syns_so_far(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
		return 1;
	return 1 + ti.tcpi_total_retrans;
}

static void close_conn(struct client *c)
{
	if (c->fd >= 0) {
		close(c->fd);   /* also removes it from the epoll set */
		c->fd = -1;
	}
	c->rlen = 0;
}

static void finish(uint32_t idx, uint8_t st)
{
	struct client *c = &cl[idx];

	close_conn(c);
	timer_cancel(idx);
	c->state = st;
	c->done_ns = rel_now();
	remaining--;
}

/* create and bind the socket of client idx; 0 or -errno */
static int prepare(uint32_t idx)
{
	struct client *c = &cl[idx];
	int one = 1, fd;

	fd = socket(opt.server.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (opt.syncnt) {
		int s = (int)opt.syncnt;

		if (setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &s, sizeof(s)) < 0)
			goto err;
	}
	if (opt.bind_src) {
		struct herd_addr a;

		herd_addr_add(&opt.src, idx % opt.src_count, &a);
		if (setsockopt(fd, opt.src.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
			       opt.src.family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND,
			       &one, sizeof(one)) < 0)
			goto err;
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a.ss, a.len) < 0)
			goto err;
	}
	c->fd = fd;
	return 0;
err:
	one = -errno;
	close(fd);
	return one;
}

static void attempt_failed(uint32_t idx);

/* connect the prepared socket of client idx */
static void connect_now(uint32_t idx)
{
	struct client *c = &cl[idx];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = idx };
	uint64_t now;

	c->attempts++;
	c->state = C_CONNECTING;
	now = rel_now();
	c->attempt_ns = now;
	series_at(now)->connects++;
	if (connect(c->fd, (struct sockaddr *)&opt.server.ss, opt.server.len) < 0 &&
	    errno != EINPROGRESS) {
		c->syns++;
		c->conn_fail++;
		series_at(now)->conn_fail++;
		attempt_failed(idx);
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		fprintf(stderr, "herd_clients: epoll_ctl: %s\n", strerror(errno));
		exit(1);
	}
	if (opt.mode == M_KERNEL)
		timer_cancel(idx);      /* only the global deadline bounds it */
	else
		timer_set(idx, now + opt.connect_timeout_ms * 1000000ull);
}

struct launch_part { uint32_t from, to; };

/* first connects of clients [from, to): only connect and epoll_ctl, no shared state */
static void *launch_part(void *arg)
{
	const struct launch_part *lp = arg;
	uint32_t i;

	for (i = lp->from; i < lp->to; i++) {
		struct client *c = &cl[i];
		struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = i };

		c->attempt_ns = rel_now();
		if (connect(c->fd, (struct sockaddr *)&opt.server.ss, opt.server.len) < 0 &&
		    errno != EINPROGRESS)
			c->launch_err = errno;
		else if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			c->launch_err = errno;
	}
	return NULL;
}

/* bookkeeping of the first attempts, once the launch threads are done */
static void launch_account(uint32_t idx)
{
	struct client *c = &cl[idx];

	c->attempts = 1;
	c->state = C_CONNECTING;
	series_at(c->attempt_ns)->connects++;
	if (c->launch_err) {
		c->syns++;
		c->conn_fail++;
		series_at(c->attempt_ns)->conn_fail++;
		attempt_failed(idx);
	} else if (opt.mode != M_KERNEL) {
		timer_set(idx, c->attempt_ns + opt.connect_timeout_ms * 1000000ull);
	}
}

static void start_attempt(uint32_t idx)
{
	int err = prepare(idx);

	if (err) {
		local_errors++;
		if (local_errors <= 5)
			fprintf(stderr, "herd_clients: client %u: socket: %s\n", idx, strerror(-err));
		cl[idx].state = C_IDLE;
		timer_set(idx, rel_now() + 10000000ull);   /* local resource shortage: try later */
		return;
	}
	connect_now(idx);
}

static uint64_t backoff_ms(struct client *c)
{
	uint32_t n = c->attempts ? c->attempts - 1 : 0;
	uint64_t exp = n >= 40 ? opt.cap_ms : opt.base_ms << n;

	if (exp > opt.cap_ms)
		exp = opt.cap_ms;
	switch (opt.mode) {
	case M_EXPO:
		return exp;
	case M_FULL:
		return rnd_range(0, exp);
	case M_DECORR:
		c->prev_sleep_ms = rnd_range(opt.base_ms, 3 * (c->prev_sleep_ms ? c->prev_sleep_ms
									  : opt.base_ms));
		if (c->prev_sleep_ms > opt.cap_ms)
			c->prev_sleep_ms = opt.cap_ms;
		return c->prev_sleep_ms;
	default:
		return 0;
	}
}

static void attempt_failed(uint32_t idx)
{
	struct client *c = &cl[idx];
	uint64_t at;

	close_conn(c);
	if (opt.max_attempts && c->attempts >= opt.max_attempts) {
		finish(idx, C_FAILED);
		return;
	}
	at = rel_now() + backoff_ms(c) * 1000000ull;
	if (at >= opt.deadline_ms * 1000000ull) {
		finish(idx, C_FAILED);
		return;
	}
	c->state = C_IDLE;
	timer_set(idx, at);
}

static void on_connected(uint32_t idx)
{
	struct client *c = &cl[idx];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = idx };
	char req[HERD_REQ_MAX];
	int soerr = 0, n;
	socklen_t sl = sizeof(soerr);
	uint64_t now = rel_now();

	c->syns += syns_so_far(c->fd);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		c->conn_fail++;
		series_at(now)->conn_fail++;
		attempt_failed(idx);
		return;
	}
	now = rel_now();
	n = herd_format_request(req, sizeof(req), idx, c->attempts,
				herd_unix_us() + opt.timeout_ms * 1000ull);
	if (n < 0 || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		c->resets++;
		attempt_failed(idx);
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
		fprintf(stderr, "herd_clients: epoll_ctl: %s\n", strerror(errno));
		exit(1);
	}
	c->state = C_WAITING;
	timer_set(idx, now + opt.timeout_ms * 1000000ull);
}

static void on_readable(uint32_t idx)
{
	struct client *c = &cl[idx];
	ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 - c->rlen, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		c->rlen += (uint8_t)n;
		c->rbuf[c->rlen] = 0;
		if (!memchr(c->rbuf, '\n', c->rlen)) {
			if (c->rlen < sizeof(c->rbuf) - 1)
				return;
		} else if (strncmp(c->rbuf, "OK ", 3) == 0) {
			timer_cancel(idx);
			finish(idx, C_SERVED);
			series_at(c->done_ns)->served++;
			return;
		}
	}
	c->resets++;
	timer_cancel(idx);
	attempt_failed(idx);
}

static void on_timer(uint32_t idx)
{
	struct client *c = &cl[idx];
	uint64_t now = rel_now();

	switch (c->state) {
	case C_IDLE:
		start_attempt(idx);
		break;
	case C_CONNECTING:
		c->syns += syns_so_far(c->fd);
		c->conn_fail++;
		series_at(now)->conn_fail++;
		attempt_failed(idx);
		break;
	case C_WAITING:
		c->req_timeouts++;
		series_at(now)->req_timeouts++;
		attempt_failed(idx);
		break;
	default:
		break;
	}
}

static void on_event(uint32_t idx, uint32_t events)
{
	struct client *c = &cl[idx];

	if (c->state == C_CONNECTING)
		on_connected(idx);
	else if (c->state == C_WAITING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		on_readable(idx);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, uint64_t n, double p)
{
	uint64_t i;

	if (!n)
		return 0;
	i = (uint64_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

static int write_series(const char *path, uint64_t unix0, uint64_t end_ns)
{
	FILE *f = fopen(path, "w");
	uint64_t i, nb = end_ns / HERD_BUCKET_NS;

	if (!f)
		return -errno;
	if (nb >= MAX_BUCKETS)
		nb = MAX_BUCKETS - 1;
	fprintf(f, "t_ms,unix_ms,connects,served,req_timeouts,conn_failures\n");
	for (i = 0; i <= nb; i++)
		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%u,%u,%u,%u\n", i * 100, unix0 + i * 100,
			ser[i].connects, ser[i].served, ser[i].req_timeouts, ser[i].conn_fail);
	return fclose(f) ? -errno : 0;
}

static int write_clients(const char *path)
{
	FILE *f = fopen(path, "w");
	uint64_t i;

	if (!f)
		return -errno;
	fprintf(f, "client,src,served,time_ms,attempts,syns,req_timeouts,conn_failures,resets\n");
	for (i = 0; i < opt.n; i++) {
		struct client *c = &cl[i];
		struct herd_addr a;
		char s[64] = "-";

		if (opt.bind_src) {
			herd_addr_add(&opt.src, i % opt.src_count, &a);
			herd_addr_str(&a, s, sizeof(s));
		}
		fprintf(f, "%" PRIu64 ",%s,%d,%.1f,%u,%u,%u,%u,%u\n", i, s, c->state == C_SERVED,
			c->state == C_SERVED ? (double)c->done_ns / 1e6 : -1.0, c->attempts, c->syns,
			c->req_timeouts, c->conn_fail, c->resets);
	}
	return fclose(f) ? -errno : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: herd_clients --server ADDR [OPTIONS]\n"
"  --server ADDR          service address (IPv4 or IPv6)\n"
"  --port PORT            service port (default 8080)\n"
"  -n, --clients N        number of clients (default 100)\n"
"  --src ADDR             first source address; client i binds ADDR + (i mod K)\n"
"  --src-count K          number of source addresses (default N)\n"
"  --mode M               kernel|none|expo|full|decorr (default kernel)\n"
"  --timeout T            request timeout (default 2000 ms; T is ms, or Ns)\n"
"  --connect-timeout T    connect timeout per attempt, not in kernel mode (default = timeout)\n"
"  --base T, --cap T      backoff base and cap (default 100 ms, 10 s)\n"
"  --deadline T           global deadline of the run (default 60 s)\n"
"  --max-attempts K       give up after K attempts (default: no limit)\n"
"  --syncnt K             TCP_SYNCNT on each socket (default: net.ipv4.tcp_syn_retries)\n"
"  --capacity C           service capacity, to report completion against N/C\n"
"  --seed S               jitter seed (default: from the clock)\n"
"  --launch-threads T     threads issuing the first connects (default: CPUs, max 8)\n"
"  --csv FILE             per-100 ms time series (connects, served, timeouts)\n"
"  --clients-csv FILE     one row per client\n"
"  --quiet                only the SUMMARY line\n");
}

static int bad_arg(const char *name, const char *val)
{
	fprintf(stderr, "herd_clients: %s: invalid value \"%s\"\n", name, val);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'n' },
		{ "src", required_argument, NULL, 's' },
		{ "src-count", required_argument, NULL, 'k' },
		{ "mode", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "connect-timeout", required_argument, NULL, 'T' },
		{ "base", required_argument, NULL, 'B' },
		{ "cap", required_argument, NULL, 'C' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "max-attempts", required_argument, NULL, 'A' },
		{ "syncnt", required_argument, NULL, 'Y' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'R' },
		{ "launch-threads", required_argument, NULL, 'L' },
		{ "csv", required_argument, NULL, 'o' },
		{ "clients-csv", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *server_s = NULL, *src_s = NULL;
	uint64_t port = 8080, launch_ns, unix0, end_ns, i, nserved = 0, last_served = 0;
	uint64_t sum_att = 0, max_att = 0, sum_syn = 0, max_syn = 0, req_to = 0, cfail = 0;
	uint64_t resets = 0, *times;
	struct epoll_event evs[1024];
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit rl;
	bool seeded = false;
	int c, m;

	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': server_s = optarg; break;
		case 'p': if (herd_parse_u64(optarg, 1, 65535, &port)) return bad_arg("port", optarg); break;
		case 'n': if (herd_parse_u64(optarg, 1, MAX_CLIENTS, &opt.n)) return bad_arg("clients", optarg); break;
		case 's': src_s = optarg; break;
		case 'k': if (herd_parse_u64(optarg, 1, MAX_CLIENTS, &opt.src_count)) return bad_arg("src-count", optarg); break;
		case 'm':
			for (m = 0; m < 5 && strcmp(optarg, mode_names[m]); m++)
				;
			if (m == 5)
				return bad_arg("mode", optarg);
			opt.mode = (enum mode)m;
			break;
		case 't': if (herd_parse_ms(optarg, 3600000, &opt.timeout_ms) || !opt.timeout_ms) return bad_arg("timeout", optarg); break;
		case 'T': if (herd_parse_ms(optarg, 3600000, &opt.connect_timeout_ms) || !opt.connect_timeout_ms) return bad_arg("connect-timeout", optarg); break;
		case 'B': if (herd_parse_ms(optarg, 3600000, &opt.base_ms) || !opt.base_ms) return bad_arg("base", optarg); break;
		case 'C': if (herd_parse_ms(optarg, 3600000, &opt.cap_ms)) return bad_arg("cap", optarg); break;
		case 'D': if (herd_parse_ms(optarg, 3600000, &opt.deadline_ms) || !opt.deadline_ms) return bad_arg("deadline", optarg); break;
		case 'A': if (herd_parse_u64(optarg, 1, UINT32_MAX, &opt.max_attempts)) return bad_arg("max-attempts", optarg); break;
		case 'Y': if (herd_parse_u64(optarg, 1, 127, &opt.syncnt)) return bad_arg("syncnt", optarg); break;
		case 'c': if (herd_parse_u64(optarg, 1, 100000000, &opt.capacity)) return bad_arg("capacity", optarg); break;
		case 'R': if (herd_parse_u64(optarg, 0, UINT64_MAX, &opt.seed)) return bad_arg("seed", optarg); seeded = true; break;
		case 'L': if (herd_parse_u64(optarg, 1, 64, &opt.launch_threads)) return bad_arg("launch-threads", optarg); break;
		case 'o': opt.csv = optarg; break;
		case 'O': opt.clients_csv = optarg; break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "herd_clients: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!server_s) {
		usage(stderr);
		return 2;
	}
	if (herd_parse_addr(server_s, (uint16_t)port, &opt.server))
		return bad_arg("server", server_s);
	if (src_s) {
		if (herd_parse_addr(src_s, 0, &opt.src))
			return bad_arg("src", src_s);
		if (opt.src.family != opt.server.family) {
			fprintf(stderr, "herd_clients: src and server must be the same family\n");
			return 2;
		}
		opt.bind_src = true;
	}
	if (!opt.src_count || opt.src_count > opt.n)
		opt.src_count = opt.n;
	if (!opt.connect_timeout_ms)
		opt.connect_timeout_ms = opt.timeout_ms;
	if (!opt.launch_threads) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		opt.launch_threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (uint64_t)ncpu;
	}
	if (opt.cap_ms < opt.base_ms)
		opt.cap_ms = opt.base_ms;
	rng = seeded ? opt.seed : herd_now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
	if (!rng)
		rng = 0x9E3779B97F4A7C15ull;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < opt.n + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < opt.n + 64) {
			fprintf(stderr, "herd_clients: %" PRIu64 " clients need %" PRIu64
				" descriptors, limit is %llu\n", opt.n, opt.n + 64,
				(unsigned long long)rl.rlim_cur);
			return 1;
		}
	}
	cl = calloc(opt.n, sizeof(*cl));
	ser = calloc(MAX_BUCKETS, sizeof(*ser));
	times = calloc(opt.n, sizeof(*times));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!cl || !ser || !times || ep < 0) {
		fprintf(stderr, "herd_clients: setup: %s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* create and bind every socket first, so the launch loop is only connect() */
	for (i = 0; i < opt.n; i++) {
		int err = prepare((uint32_t)i);

		cl[i].fd = err ? -1 : cl[i].fd;
		if (err) {
			fprintf(stderr, "herd_clients: client %" PRIu64 ": socket: %s\n", i,
				strerror(-err));
			return 1;
		}
	}
	remaining = opt.n;
	unix0 = herd_unix_ms();
	t0 = herd_mono_ns();
	{
		struct launch_part parts[64];
		pthread_t th[64];
		uint64_t k, nt = opt.launch_threads;
		int err;

		if (nt > opt.n)
			nt = opt.n;
		for (k = 0; k < nt; k++) {
			parts[k].from = (uint32_t)(opt.n * k / nt);
			parts[k].to = (uint32_t)(opt.n * (k + 1) / nt);
		}
		for (k = 1; k < nt; k++) {
			if ((err = pthread_create(&th[k], NULL, launch_part, &parts[k]))) {
				fprintf(stderr, "herd_clients: launch thread: %s\n", strerror(err));
				return 1;
			}
		}
		launch_part(&parts[0]);
		for (k = 1; k < nt; k++)
			pthread_join(th[k], NULL);
	}
	launch_ns = rel_now();
	for (i = 0; i < opt.n; i++)
		launch_account((uint32_t)i);

	while (remaining && !interrupted) {
		uint64_t now = rel_now(), wait_ns = 100000000ull;
		struct timespec ts;
		int ne, k;

		if (now >= opt.deadline_ms * 1000000ull)
			break;
		while (heap_n && heap[0].at <= now) {
			struct timer t = heap_pop();

			if (t.gen == cl[t.idx].gen)
				on_timer(t.idx);
		}
		if (!remaining)
			break;
		now = rel_now();
		if (heap_n && heap[0].at > now && heap[0].at - now < wait_ns)
			wait_ns = heap[0].at - now;
		else if (heap_n && heap[0].at <= now)
			wait_ns = 0;
		if (opt.deadline_ms * 1000000ull - now < wait_ns)
			wait_ns = opt.deadline_ms * 1000000ull - now;
		ts.tv_sec = wait_ns / 1000000000ull;
		ts.tv_nsec = wait_ns % 1000000000ull;
		ne = epoll_pwait2(ep, evs, 1024, &ts, NULL);
		if (ne < 0 && errno != EINTR) {
			fprintf(stderr, "herd_clients: epoll_pwait2: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < ne; k++)
			on_event(evs[k].data.u32, evs[k].events);
	}
	end_ns = rel_now();
	for (i = 0; i < opt.n; i++) {
		struct client *p = &cl[i];

		if (p->state == C_CONNECTING)
			p->syns += syns_so_far(p->fd);
		if (p->state != C_SERVED && p->state != C_FAILED)
			finish((uint32_t)i, C_FAILED);
		if (p->state == C_SERVED) {
			times[nserved++] = p->done_ns;
			if (p->done_ns > last_served)
				last_served = p->done_ns;
		}
		sum_att += p->attempts;
		sum_syn += p->syns;
		if (p->attempts > max_att)
			max_att = p->attempts;
		if (p->syns > max_syn)
			max_syn = p->syns;
		req_to += p->req_timeouts;
		cfail += p->conn_fail;
		resets += p->resets;
	}
	qsort(times, nserved, sizeof(*times), cmp_u64);

	if (opt.csv && (m = write_series(opt.csv, unix0, end_ns)) < 0)
		fprintf(stderr, "herd_clients: %s: %s\n", opt.csv, strerror(-m));
	if (opt.clients_csv && (m = write_clients(opt.clients_csv)) < 0)
		fprintf(stderr, "herd_clients: %s: %s\n", opt.clients_csv, strerror(-m));

	if (!opt.quiet) {
		printf("herd_clients: mode %s, %" PRIu64 " clients from %" PRIu64
		       " source address(es), timeout %" PRIu64 " ms\n", mode_names[opt.mode], opt.n,
		       opt.bind_src ? opt.src_count : 0, opt.timeout_ms);
		printf("  launch span (all first connects)  %.1f ms\n", (double)launch_ns / 1e6);
		printf("  served                            %" PRIu64 " / %" PRIu64 " (%.1f%%)\n",
		       nserved, opt.n, 100.0 * (double)nserved / (double)opt.n);
		printf("  failed (not served)               %" PRIu64 "\n", opt.n - nserved);
		printf("  timed-out requests                %" PRIu64 "\n", req_to);
		printf("  failed connects                   %" PRIu64 "\n", cfail);
		printf("  closed without response           %" PRIu64 "\n", resets);
		if (nserved == opt.n)
			printf("  completion time                   %.2f s", (double)last_served / 1e9);
		else
			printf("  completion time                   - (not all served)");
		if (opt.capacity)
			printf("  (N/C = %.2f s)", (double)opt.n / (double)opt.capacity);
		printf("\n");
		printf("  time to served p50 / p99 / max    %.0f / %.0f / %.0f ms\n",
		       pct(times, nserved, 0.5), pct(times, nserved, 0.99),
		       pct(times, nserved, 1.0));
		printf("  attempts per client mean / max    %.2f / %" PRIu64 "\n",
		       (double)sum_att / (double)opt.n, max_att);
		printf("  SYNs per client mean / max        %.2f / %" PRIu64 "\n",
		       (double)sum_syn / (double)opt.n, max_syn);
		if (local_errors)
			printf("  local socket errors               %" PRIu64 "\n", local_errors);
	}
	printf("SUMMARY clients mode=%s n=%" PRIu64 " served=%" PRIu64 " failed=%" PRIu64
	       " req_timeouts=%" PRIu64 " conn_failures=%" PRIu64 " resets=%" PRIu64
	       " completion_ms=%.0f p50_ms=%.0f p99_ms=%.0f max_ms=%.0f attempts_mean=%.2f"
	       " attempts_max=%" PRIu64 " syns_mean=%.2f syns_max=%" PRIu64 " syns_total=%" PRIu64
	       " launch_ms=%.1f local_errors=%" PRIu64 "\n",
	       mode_names[opt.mode], opt.n, nserved, opt.n - nserved, req_to, cfail, resets,
	       nserved == opt.n ? (double)last_served / 1e6 : -1.0, pct(times, nserved, 0.5),
	       pct(times, nserved, 0.99), pct(times, nserved, 1.0),
	       (double)sum_att / (double)opt.n, max_att, (double)sum_syn / (double)opt.n, max_syn,
	       sum_syn, (double)launch_ns / 1e6, local_errors);
	fflush(stdout);
	free(times);
	free(heap);
	free(ser);
	free(cl);
	close(ep);
	return interrupted ? 130 : 0;
}
