/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * herd_service - a TCP service with a fixed capacity, for herd experiments.
 *
 * One request-response per connection. W workers each accept, read the
 * request line, spend W/C seconds of fixed cost, write the response and
 * close, so the service serves at most C requests per second. The cost is
 * scheduled on a virtual clock: a request ends W/C after the end of the
 * previous one, or W/C after now if the worker was idle, where "now" may
 * lag the real clock by --slack (default 10 ms). The slack lets a worker
 * that lost time to accept/read/write overhead or to preemption catch up,
 * so under a herd the service runs at C, not below it; it is also the only
 * burst the service allows beyond C (slack x C / W requests per worker).
 *
 * Records per 100 ms: accepts, responses on time, wasted responses
 * (finished after the client's deadline carried in the request), the
 * peak accept-queue depth (TCP_INFO on the listener, sampled every 5 ms:
 * tcpi_unacked is the queue length of a listener), half-open connections
 * (sock_diag dump of SYN_RECV request sockets on the port) and the
 * namespace's ListenOverflows/ListenDrops.
 *
 * Stops after --duration, after --serve N responses on time, or on
 * SIGTERM/SIGINT; prints a summary and writes the CSV time series.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/prctl.h>

#include "herd_common.h"

#define MAX_WORKERS 64
#define MAX_DURATION_MS (3600ull * 1000)
#define NBUCKETS (MAX_DURATION_MS * 1000000ull / HERD_BUCKET_NS + 2)
#define READ_TIMEOUT_MS 200
#define QUEUE_SAMPLE_NS 5000000ull

struct bucket {
	uint64_t accepts;
	uint64_t served;        /* response written before the client's deadline */
	uint64_t wasted;        /* response written after it: the client had given up */
	uint64_t skipped;       /* expired on arrival and not worked on (--skip-expired) */
	uint64_t write_err;     /* response write failed (peer reset) */
	uint64_t empty;         /* accepted, no valid request within READ_TIMEOUT_MS */
	uint64_t qmax;          /* peak accept-queue depth seen */
	int64_t syn_recv;       /* half-open request sockets, -1 when not sampled */
	uint64_t overflows;     /* cumulative ListenOverflows at the end of the bucket */
	uint64_t drops;         /* cumulative ListenDrops */
	uint8_t sampled;        /* counters above were sampled in this bucket */
};

static struct {
	struct herd_addr addr;
	uint64_t rate;
	uint64_t workers;
	uint64_t backlog;
	uint64_t duration_ms;
	uint64_t slack_ms;
	uint64_t serve_n;
	bool skip_expired;
	const char *csv;
	bool quiet;
} opt = {
	.rate = 1000, .workers = 1, .backlog = 128, .duration_ms = 60000, .slack_ms = 10,
};

static struct bucket *buckets;
static uint64_t t0_mono, t0_unix_ms;
static int lfd = -1;
static volatile sig_atomic_t stop;
static uint64_t served_total;   /* atomic */
static uint64_t last_bucket;    /* atomic: highest bucket touched */

static void on_signal(int sig) { (void)sig; stop = 1; }

static struct bucket *bucket_now(void)
{
	uint64_t i = (herd_mono_ns() - t0_mono) / HERD_BUCKET_NS;
	uint64_t seen;

	if (i >= NBUCKETS)
		i = NBUCKETS - 1;
	seen = __atomic_load_n(&last_bucket, __ATOMIC_RELAXED);
	while (i > seen &&
	       !__atomic_compare_exchange_n(&last_bucket, &seen, i, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return &buckets[i];
}

static void add(uint64_t *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }

static void set_max(uint64_t *c, uint64_t v)
{
	uint64_t cur = __atomic_load_n(c, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(c, &cur, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/* read one request line within READ_TIMEOUT_MS; length or -1 */
static int read_request(int fd, char *buf, size_t len)
{
	uint64_t end = herd_mono_ns() + READ_TIMEOUT_MS * 1000000ull;
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = herd_mono_ns();
		ssize_t n;

		if (now >= end || poll(&p, 1, (int)((end - now) / 1000000ull) + 1) <= 0)
			return -1;
		n = recv(fd, buf + got, len - 1 - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = 0;
		if (memchr(buf, '\n', got))
			return (int)got;
	}
	return -1;
}

static void *worker(void *arg)
{
	uint64_t cost_ns = 1000000000ull * opt.workers / opt.rate;
	uint64_t slack_ns = opt.slack_ms * 1000000ull;
	uint64_t busy_until = 0;
	char req[HERD_REQ_MAX], resp[64];

	(void)arg;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!stop) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		uint32_t client, attempt;
		uint64_t deadline, now, end;
		struct timespec ts;
		struct bucket *b;
		int fd, n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;       /* another worker took it, or the peer went away */
		add(&bucket_now()->accepts);
		if (read_request(fd, req, sizeof(req)) < 0 ||
		    herd_parse_request(req, &client, &attempt, &deadline) < 0) {
			add(&bucket_now()->empty);
			close(fd);
			continue;
		}
		if (opt.skip_expired && herd_unix_us() >= deadline) {
			add(&bucket_now()->skipped);
			close(fd);
			continue;
		}
		now = herd_mono_ns();
		end = (busy_until + slack_ns > now ? busy_until : now - slack_ns) + cost_ns;
		ts.tv_sec = end / 1000000000ull;
		ts.tv_nsec = end % 1000000000ull;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
			;
		busy_until = end;
		n = snprintf(resp, sizeof(resp), "OK %" PRIu32 " %" PRIu32 "\n", client, attempt);
		b = bucket_now();
		if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) != n) {
			add(&b->write_err);
			add(&b->wasted);
		} else if (herd_unix_us() >= deadline) {
			add(&b->wasted);
		} else {
			add(&b->served);
			if (__atomic_add_fetch(&served_total, 1, __ATOMIC_RELAXED) == opt.serve_n)
				stop = 1;
		}
		close(fd);
	}
	return NULL;
}

/* count SYN_RECV request sockets on our port for one family; -errno on error */
static int64_t diag_syn_recv(int nl, int family, uint16_t port)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.r = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = 1u << TCP_SYN_RECV,
		},
	};
	static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
	int64_t count = 0;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				return count;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			if (m->idiag_state == TCP_SYN_RECV && ntohs(m->id.idiag_sport) == port)
				count++;
		}
	}
}

static void *sampler(void *arg)
{
	uint16_t port = ntohs(((struct sockaddr_in *)&opt.addr.ss)->sin_port);
	uint64_t next_slow = 0;
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	bool diag_warned = false;

	(void)arg;
	if (nl < 0)
		fprintf(stderr, "herd_service: sock_diag socket: %s\n", strerror(errno));
	while (!stop) {
		struct timespec ts = { 0, QUEUE_SAMPLE_NS };
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		struct bucket *b = bucket_now();
		uint64_t now = herd_mono_ns();

		if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			set_max(&b->qmax, ti.tcpi_unacked);
		if (now >= next_slow) {
			uint64_t ov, dr;
			int64_t sr = -1;

			next_slow = now + HERD_BUCKET_NS / 2;
			if (nl >= 0) {
				int64_t a = diag_syn_recv(nl, AF_INET, port);
				int64_t c = diag_syn_recv(nl, AF_INET6, port);

				if (a >= 0 && c >= 0) {
					sr = a + c;
				} else if (!diag_warned) {
					fprintf(stderr, "herd_service: sock_diag dump: %s\n",
						strerror((int)-(a < 0 ? a : c)));
					diag_warned = true;
				}
			}
			if (sr > b->syn_recv)
				b->syn_recv = sr;
			if (herd_listen_counters(&ov, &dr) == 0) {
				b->overflows = ov;
				b->drops = dr;
				b->sampled = 1;
			}
		}
		nanosleep(&ts, NULL);
	}
	if (nl >= 0)
		close(nl);
	return NULL;
}

static int write_csv(const char *path, uint64_t nb, uint64_t ov0, uint64_t dr0)
{
	FILE *f = fopen(path, "w");
	uint64_t ov = ov0, dr = dr0, i;

	if (!f)
		return -errno;
	fprintf(f, "t_ms,unix_ms,accepts,served,wasted,skipped,write_errors,empty,"
		   "accept_queue_max,syn_recv,listen_overflows,listen_drops\n");
	for (i = 0; i <= nb; i++) {
		struct bucket *b = &buckets[i];
		uint64_t dov = 0, ddr = 0;

		if (b->sampled) {
			dov = b->overflows - ov;
			ddr = b->drops - dr;
			ov = b->overflows;
			dr = b->drops;
		}
		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			   ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 "\n",
			i * 100, t0_unix_ms + i * 100, b->accepts, b->served, b->wasted, b->skipped,
			b->write_err, b->empty, b->qmax, b->syn_recv, dov, ddr);
	}
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: herd_service [OPTIONS]\n"
"  --listen ADDR      address to listen on (default 0.0.0.0; :: for dual stack)\n"
"  --port PORT        TCP port (default 8080)\n"
"  --rate C           capacity, requests per second (default 1000)\n"
"  --workers W        workers, each spending W/C s per request (default 1)\n"
"  --backlog B        listen backlog (default 128; capped by net.core.somaxconn)\n"
"  --duration D       stop after D (ms, or Ns; default 60s, max 3600s)\n"
"  --slack T          how far a worker may fall behind and catch up (default 10 ms)\n"
"  --serve N          stop after N responses written on time\n"
"  --skip-expired     do not work on requests whose deadline has passed\n"
"  --csv FILE         write the per-100 ms time series to FILE\n"
"  --quiet            only the SUMMARY line\n");
}

static int bad_arg(const char *name, const char *val)
{
	fprintf(stderr, "herd_service: %s: invalid value \"%s\"\n", name, val);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "serve", required_argument, NULL, 'n' },
		{ "slack", required_argument, NULL, 's' },
		{ "skip-expired", no_argument, NULL, 'x' },
		{ "csv", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *listen_s = "0.0.0.0";
	uint64_t port = 8080, ov0 = 0, dr0 = 0, ov1 = 0, dr1 = 0, stop_at, nb, i;
	uint64_t tot[6] = { 0 }, qpeak = 0, first_ms = 0, last_ms = 0, queued_at_stop = 0;
	int64_t srpeak = -1;
	pthread_t th[MAX_WORKERS], samp;
	struct sigaction sa = { .sa_handler = on_signal };
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	int c, one = 1, err;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'p': if (herd_parse_u64(optarg, 1, 65535, &port)) return bad_arg("port", optarg); break;
		case 'c': if (herd_parse_u64(optarg, 1, 10000000, &opt.rate)) return bad_arg("rate", optarg); break;
		case 'w': if (herd_parse_u64(optarg, 1, MAX_WORKERS, &opt.workers)) return bad_arg("workers", optarg); break;
		case 'b': if (herd_parse_u64(optarg, 1, 1u << 20, &opt.backlog)) return bad_arg("backlog", optarg); break;
		case 'd': if (herd_parse_ms(optarg, MAX_DURATION_MS, &opt.duration_ms) || !opt.duration_ms) return bad_arg("duration", optarg); break;
		case 'n': if (herd_parse_u64(optarg, 1, UINT32_MAX, &opt.serve_n)) return bad_arg("serve", optarg); break;
		case 's': if (herd_parse_ms(optarg, 10000, &opt.slack_ms)) return bad_arg("slack", optarg); break;
		case 'x': opt.skip_expired = true; break;
		case 'o': opt.csv = optarg; break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "herd_service: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (herd_parse_addr(listen_s, (uint16_t)port, &opt.addr))
		return bad_arg("listen", listen_s);

	buckets = calloc(NBUCKETS, sizeof(*buckets));
	if (!buckets) {
		fprintf(stderr, "herd_service: buckets: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < NBUCKETS; i++)
		buckets[i].syn_recv = -1;

	lfd = socket(opt.addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		fprintf(stderr, "herd_service: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt.addr.family == AF_INET6) {
		int zero = 0;

		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (bind(lfd, (struct sockaddr *)&opt.addr.ss, opt.addr.len) < 0) {
		fprintf(stderr, "herd_service: bind %s port %" PRIu64 ": %s\n", listen_s, port,
			strerror(errno));
		return 1;
	}
	if (listen(lfd, (int)opt.backlog) < 0) {
		fprintf(stderr, "herd_service: listen: %s\n", strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (herd_listen_counters(&ov0, &dr0))
		fprintf(stderr, "herd_service: /proc/net/netstat: cannot read listen counters\n");
	t0_mono = herd_mono_ns();
	t0_unix_ms = herd_unix_ms();
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && !opt.quiet)
		printf("herd_service: listening on %s port %" PRIu64 ", capacity %" PRIu64
		       "/s, %" PRIu64 " worker(s), backlog %u\n",
		       listen_s, port, opt.rate, opt.workers, ti.tcpi_sacked);
	fflush(stdout);

	if ((err = pthread_create(&samp, NULL, sampler, NULL))) {
		fprintf(stderr, "herd_service: sampler thread: %s\n", strerror(err));
		return 1;
	}
	for (i = 0; i < opt.workers; i++) {
		if ((err = pthread_create(&th[i], NULL, worker, NULL))) {
			fprintf(stderr, "herd_service: worker thread: %s\n", strerror(err));
			stop = 1;
			opt.workers = i;
			break;
		}
	}
	stop_at = t0_mono + opt.duration_ms * 1000000ull;
	while (!stop && herd_mono_ns() < stop_at) {
		struct timespec ts = { 0, 20000000 };

		nanosleep(&ts, NULL);
	}
	stop = 1;
	for (i = 0; i < opt.workers; i++)
		pthread_join(th[i], NULL);
	pthread_join(samp, NULL);
	tl = sizeof(ti);
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
		queued_at_stop = ti.tcpi_unacked;
	herd_listen_counters(&ov1, &dr1);
	close(lfd);

	nb = __atomic_load_n(&last_bucket, __ATOMIC_RELAXED);
	for (i = 0; i <= nb; i++) {
		struct bucket *b = &buckets[i];

		tot[0] += b->accepts;
		tot[1] += b->served;
		tot[2] += b->wasted;
		tot[3] += b->skipped;
		tot[4] += b->write_err;
		tot[5] += b->empty;
		if (b->qmax > qpeak)
			qpeak = b->qmax;
		if (b->syn_recv > srpeak)
			srpeak = b->syn_recv;
		if (b->accepts && !first_ms)
			first_ms = i * 100 + 1;
		if (b->served)
			last_ms = (i + 1) * 100;
	}
	if (opt.csv && (err = write_csv(opt.csv, nb, ov0, dr0)) < 0)
		fprintf(stderr, "herd_service: %s: %s\n", opt.csv, strerror(-err));
	if (!opt.quiet) {
		printf("herd_service summary (capacity %" PRIu64 "/s, backlog %" PRIu64 ")\n",
		       opt.rate, opt.backlog);
		printf("  accepted connections        %" PRIu64 "\n", tot[0]);
		printf("  responses on time           %" PRIu64 "\n", tot[1]);
		printf("  wasted (client gave up)     %" PRIu64 "\n", tot[2]);
		printf("  skipped as expired          %" PRIu64 "\n", tot[3]);
		printf("  no request                  %" PRIu64 "\n", tot[5]);
		printf("  peak accept queue           %" PRIu64 "\n", qpeak);
		printf("  peak half-open (SYN_RECV)   %" PRId64 "\n", srpeak);
		printf("  left in accept queue        %" PRIu64 "\n", queued_at_stop);
		printf("  ListenOverflows delta       %" PRIu64 "\n", ov1 - ov0);
		printf("  ListenDrops delta           %" PRIu64 "\n", dr1 - dr0);
	}
	printf("SUMMARY service accepts=%" PRIu64 " served=%" PRIu64 " wasted=%" PRIu64
	       " skipped=%" PRIu64 " write_errors=%" PRIu64 " empty=%" PRIu64
	       " peak_queue=%" PRIu64 " peak_syn_recv=%" PRId64 " queued_at_stop=%" PRIu64
	       " listen_overflows=%" PRIu64 " listen_drops=%" PRIu64
	       " first_accept_ms=%" PRIu64 " last_served_ms=%" PRIu64 "\n",
	       tot[0], tot[1], tot[2], tot[3], tot[4], tot[5], qpeak, srpeak, queued_at_stop,
	       ov1 - ov0, dr1 - dr0, first_ms ? first_ms - 1 : 0, last_ms);
	free(buckets);
	return 0;
}
