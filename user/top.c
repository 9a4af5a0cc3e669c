// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * top.c - "corral top": a live view refreshed every second (plain ANSI):
 * packet rates per class and verdict, and the sources furthest ahead of
 * their bucket (backlog = how far the bucket's TAT runs ahead of now).
 * Quits on 'q' or Ctrl-C and restores the terminal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "cmdutil.h"
#include "handle.h"
#include "status.h"
#include "top.h"
#include "words.h"

#define TOP_SOURCES 10

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

struct top_src {
	struct corral_src_key key;
	__u64 backlog_ns;
	__u64 byte_backlog_ns;
};

/* keep the TOP_SOURCES largest backlogs */
static void top_insert(struct top_src *t, int *n, const struct top_src *s)
{
	int i;

	if (*n == TOP_SOURCES && t[TOP_SOURCES - 1].backlog_ns >= s->backlog_ns)
		return;
	i = *n < TOP_SOURCES ? (*n)++ : TOP_SOURCES - 1;
	while (i > 0 && t[i - 1].backlog_ns < s->backlog_ns) {
		t[i] = t[i - 1];
		i--;
	}
	t[i] = *s;
}

static int scan_sources(int fd, __u64 now, struct top_src *t, int *nt, __u64 *total)
{
	enum { CHUNK = 4096 };
	static struct corral_src_key keys[CHUNK];
	static struct corral_bucket vals[CHUNK];
	__u32 batch = 0, count, i;
	bool first = true;
	int err;

	*nt = 0;
	*total = 0;
	for (;;) {
		count = CHUNK;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count, NULL);
		err = err ? -errno : 0;
		first = false;
		for (i = 0; i < count; i++) {
			struct top_src s = { .key = keys[i] };

			s.backlog_ns = vals[i].tat_pkt > now ? vals[i].tat_pkt - now : 0;
			s.byte_backlog_ns = vals[i].tat_byte > now ? vals[i].tat_byte - now : 0;
			if (s.byte_backlog_ns > s.backlog_ns)
				s.backlog_ns = s.byte_backlog_ns;
			top_insert(t, nt, &s);
		}
		*total += count;
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
	}
}

static const char *src_str(const struct corral_src_key *k, const struct corral_cfg *c,
			   char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, k->family == 4 ? c->v4_prefix : c->v6_prefix);
	return buf;
}

static const unsigned int top_reasons[] = {
	CORRAL_R_PASS, CORRAL_R_ALLOW, CORRAL_R_RATE, CORRAL_R_SHED, CORRAL_R_DENY,
	CORRAL_R_MALFORMED, CORRAL_R_WOULD_DROP, CORRAL_R_SYN_DEFER, CORRAL_R_SYN_CAP,
	CORRAL_R_SYN_COOKIE,
};
#define NTOP_REASONS (sizeof(top_reasons) / sizeof(top_reasons[0]))

static void render(bool tty, const struct corral_handle *h, const struct corral_counter *prev,
		   const struct corral_counter *cur, double dt, const struct top_src *t, int nt,
		   __u64 nsrc, __u64 now)
{
	const struct corral_cfg *c = corral_cfg_live(h);
	__u64 shed = corral_shed_read(h), hb = h->ctl->heartbeat_ns;
	struct json_object *ctrl;
	char b[64], lv[16];
	unsigned int row, i;

	if (tty)
		fputs("\033[H\033[2J", stdout);
	if (CORRAL_SHED_FLAGS(shed) & CORRAL_SHED_ON)
		corral_level_str(CORRAL_SHED_LEVEL(shed), CORRAL_SHED_FRAC(shed), lv, sizeof(lv));
	else
		snprintf(lv, sizeof(lv), "off");
	printf("corral top   mode %s   shed %s   sources %llu   heartbeat ",
	       c->mode == CORRAL_MODE_MONITOR ? "monitor" : "enforce", lv,
	       (unsigned long long)nsrc);
	if (hb && now >= hb)
		printf("%llu ms ago\n", (unsigned long long)((now - hb) / 1000000));
	else
		printf("never\n");
	ctrl = corral_controller_state();
	if (ctrl) {
		struct json_object *v;

		printf("controller");
		if (json_object_object_get_ex(ctrl, "running", &v))
			printf(" running %s", json_object_get_boolean(v) ? "yes" : "no");
		if (json_object_object_get_ex(ctrl, "admitted_share", &v))
			printf(" admitted_share %.3f", json_object_get_double(v));
		printf("\n");
		json_object_put(ctrl);
	}
	printf("\n%-6s", "class");
	for (i = 0; i < NTOP_REASONS; i++)
		printf(" %10s", corral_reason_name(top_reasons[i]));
	printf("   (packets/s)\n");
	for (row = 0; row < CORRAL_NROWS; row++) {
		printf("%-6s", corral_row_name(row, b, sizeof(b)));
		for (i = 0; i < NTOP_REASONS; i++) {
			__u32 k = CORRAL_STAT_KEY(row, top_reasons[i]);
			double r = dt > 0 ? (double)(cur[k].packets - prev[k].packets) / dt : 0;

			printf(" %10.0f", r);
		}
		printf("\n");
	}
	printf("\n%-44s %6s %14s\n", "top sources (by backlog)", "class", "backlog ms");
	for (i = 0; i < (unsigned int)nt; i++) {
		if (!t[i].backlog_ns)
			break;
		char cls[8], src[80];

		if (t[i].key.class == CORRAL_CLASS_ANY)
			snprintf(cls, sizeof(cls), "-");
		else
			snprintf(cls, sizeof(cls), "%u", t[i].key.class);
		printf("%-44s %6s %14.1f\n", src_str(&t[i].key, c, src, sizeof(src)), cls,
		       (double)t[i].backlog_ns / 1e6);
	}
	if (tty)
		printf("\n(q to quit)\n");
	fflush(stdout);
}

int cmd_top(int argc, char **argv)
{
	static struct corral_counter prev[CORRAL_NSTATS], cur[CORRAL_NSTATS];
	struct top_src top[TOP_SOURCES];
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction old_int, old_term;
	struct termios tio, saved;
	struct corral_handle h;
	bool tty = isatty(STDOUT_FILENO), raw = false;
	__u64 count = 0, n = 0, t_prev, nsrc;
	int ret, nt, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "count")) {
			if (++i >= argc) {
				corral_errorf("top: missing argument after \"count\"");
				return CORRAL_EXIT_USAGE;
			}
			if (corral_parse_u64(argv[i], &count) || !count) {
				corral_errorf("top: invalid count \"%s\"", argv[i]);
				return CORRAL_EXIT_USAGE;
			}
		} else {
			corral_errorf("top: unknown argument \"%s\"", argv[i]);
			return CORRAL_EXIT_USAGE;
		}
	}
	ret = corral_open_loaded(&h);
	if (ret)
		return ret;
	ret = corral_stats_read(&h, prev);
	if (ret) {
		corral_errorf("top: read counters: %s", strerror(-ret));
		corral_handle_close(&h);
		return CORRAL_EXIT_FAIL;
	}
	t_prev = corral_now_ns();

	top_stop = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		tio = saved;
		tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		raw = !tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	}
	if (tty)
		fputs("\033[?25l", stdout);

	while (!top_stop) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		__u64 deadline = corral_now_ns() + 1000000000ull, now;
		double dt;

		/* wait one second, or less on a key */
		while (!top_stop && (now = corral_now_ns()) < deadline) {
			int ms = (int)((deadline - now) / 1000000) + 1;
			int pr = poll(&pfd, raw ? 1 : 0, ms);

			if (pr > 0 && (pfd.revents & POLLIN)) {
				char ch;

				if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
					top_stop = 1;
			} else if (pr > 0) {
				raw = false;   /* stdin closed */
			}
		}
		if (top_stop)
			break;
		ret = corral_stats_read(&h, cur);
		now = corral_now_ns();
		if (!ret) {
			__u64 bnow = h.ctl->fake_now_ns ? h.ctl->fake_now_ns : now;

			ret = scan_sources(h.buckets_fd, bnow, top, &nt, &nsrc);
		}
		if (ret) {
			corral_errorf("top: read maps: %s", strerror(-ret));
			break;
		}
		dt = (double)(now - t_prev) / 1e9;
		render(tty, &h, prev, cur, dt, top, nt, nsrc, now);
		memcpy(prev, cur, sizeof(prev));
		t_prev = now;
		if (count && ++n >= count)
			break;
	}

	if (tty)
		fputs("\033[?25h", stdout);
	fflush(stdout);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	corral_handle_close(&h);
	return ret ? CORRAL_EXIT_FAIL : 0;
}
