/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * controller.c - `corral run`: every interval read the load signals, step
 * the control law, publish the shed word and stamp the heartbeat. SIGHUP
 * re-reads the config file (validated whole; a bad file keeps the running
 * config), SIGTERM/SIGINT exit cleanly and clear the shed word the
 * controller owns. State lives in the pinned maps: a restarted controller
 * adopts the shed level it finds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <json-c/json.h>

#include "batch.h"
#include "controller.h"
#include "ctrl_conf.h"
#include "handle.h"
#include "law.h"
#include "qload.h"
#include "herd_ctl.h"
#include "metrics.h"
#include "signals.h"
#include "words.h"

/* extra signals exported besides the targets */
enum {
	SIG_X_SOFTIRQ = CTRL_NSIG,
	SIG_X_LOAD,
	SIG_X_QUEUE_LOAD,
	SIG_X_CONN_RATE,
	SIG_X_CONN_CAP,
	SIG_X_N,
};

static const char *const sig_x_names[SIG_X_N] = {
	[CTRL_SIG_CPU] = "cpu",
	[CTRL_SIG_PRESSURE] = "pressure",
	[CTRL_SIG_QUEUE] = "queue",
	[SIG_X_SOFTIRQ] = "softirq",
	[SIG_X_LOAD] = "load",
	[SIG_X_QUEUE_LOAD] = "queue_load",
	[SIG_X_CONN_RATE] = "conn_rate",
	[SIG_X_CONN_CAP] = "conn_capacity",
};

/* smoothing of the per-class offered rates (weight of the newest sample) */
#define RATE_ALPHA 0.5
/* the shed level is logged when it moves by at least this (1/10000) */
#define LOG_FRAC_STEP 1000

struct ctl {
	const char *conf_path;
	__u64 cli_interval_ns;          /* --interval, 0 = from config */
	struct ctrl_conf conf;
	struct corral_handle h;
	struct metrics_server *metrics;
	struct law_params lp;
	struct law_state law;
	struct law_weights lw;          /* class weights for mapping */
	struct law_level lv;            /* current decision */
	__u64 word;                     /* last word written */
	int adopt;                      /* adopt the pinned level at first rates */
	struct law_level adopted;
	int diag_fd;
	int timer_fd, sig_fd;
	/* signal state */
	struct sig_cpu cpu_prev;
	int cpu_ok;
	__u64 ovf_prev, drops_prev;
	int netstat_ok;
	__u64 opens;                    /* Tcp PassiveOpens, this tick */
	int opens_ok;
	struct qload_params qp;
	struct qload_state ql;          /* accept-queue load as a rate ratio */
	__u64 ql_prev_ns;
	struct corral_counter stats_prev[CORRAL_NSTATS];
	__u64 stats_prev_ns;
	int stats_ok, rates_ok;
	double rate[CORRAL_NCLASS];
	double sig[SIG_X_N];
	int sig_valid[SIG_X_N];
	int over;                       /* smoothed load above the band */
	unsigned long warned;           /* one warning per source of trouble */
	unsigned port_missing;          /* bit i: ports[i] has no listener */
	struct metrics_snap snap;
	__u64 last_json_ns;
	time_t started;
	/* herd pacing (SYN gate in "herd auto") */
	__u64 d_ovf;                    /* listen overflows + drops this tick */
	struct herd_params hp;
	struct herd_state herd;
	int herd_on;                    /* herd_state is initialized */
	__u64 syn_prev;                 /* SYN_SEEN summed over classes */
	__u64 cap_prev;                 /* SYN_CAP summed over classes */
	__u64 adm_prev;                 /* SYN_ADMIT summed over classes */
	__u64 syn_word;                 /* last SYN word written */
};

#define WARN_STAT     0x1
#define WARN_PSI      0x2
#define WARN_NETSTAT  0x4
#define WARN_DIAG     0x8
#define WARN_STATS    0x10
#define WARN_SOURCES  0x20
#define WARN_JSON     0x40
#define WARN_SNMP     0x80
#define WARN_EXPIRE   0x100

static void logf_ts(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_ts(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ corral: ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *run_dir(void)
{
	const char *d = getenv("CORRAL_RUN_DIR");

	return d && *d ? d : CORRAL_RUN_DIR;
}

/* ---- configuration ------------------------------------------------------ */

struct conf_load {
	struct ctrl_conf conf;
	struct corral_batch *batch;
};

static int conf_extra(void *arg, int argc, char **argv, char *err, size_t errlen)
{
	struct conf_load *cl = arg;

	return ctrl_conf_line(&cl->conf, argc, argv, err, errlen);
}

/* parse and validate a whole file; nothing is applied */
static int conf_parse(const char *path, struct conf_load *cl, char *err, size_t errlen)
{
	int r;

	ctrl_conf_init(&cl->conf);
	cl->batch = NULL;
	if (!path)
		return ctrl_conf_check(&cl->conf, err, errlen);
	r = corral_batch_parse_file(path, &cl->batch, conf_extra, cl, err, errlen);
	if (r)
		return r;
	r = ctrl_conf_check(&cl->conf, err, errlen);
	if (r) {
		char msg[384];

		/* batch errors carry FILE:LINE already; whole-file ones get the path */
		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
		corral_batch_free(cl->batch);
		cl->batch = NULL;
	}
	return r;
}

/* write cfg.hb_timeout_ns through a short-lived locked handle */
static int commit_hb_timeout(__u64 ns)
{
	struct corral_handle h;
	struct corral_cfg c;
	int r;

	r = corral_handle_open(&h);
	if (r)
		return r;
	r = corral_lock(&h);
	if (!r) {
		corral_cfg_begin(&h, &c);
		if (c.hb_timeout_ns != ns) {
			c.hb_timeout_ns = ns;
			r = corral_cfg_commit(&h, &c);
		}
	}
	corral_handle_close(&h);
	return r;
}

static int arm_timer(int fd, __u64 ns)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = (time_t)(ns / 1000000000ull),
				 .tv_nsec = (long)(ns % 1000000000ull) },
	};

	its.it_value = its.it_interval;
	return timerfd_settime(fd, 0, &its, NULL) ? -errno : 0;
}

static __u64 interval_of(const struct ctl *c)
{
	return c->cli_interval_ns ? c->cli_interval_ns : c->conf.interval_ns;
}

static void conf_describe(const struct ctl *c)
{
	char buf[256];
	size_t n = 0;

	for (int i = 0; i < CTRL_NSIG; i++)
		if (c->conf.target[i] > 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s %.1f%%", ctrl_sig_names[i],
					      c->conf.target[i] * 100);
	buf[n] = '\0';
	logf_ts("controller: shed %s, interval %llums, heartbeat-timeout %llums, targets:%s",
		c->conf.shed_auto ? "auto" : "manual",
		(unsigned long long)(interval_of(c) / 1000000),
		(unsigned long long)(c->conf.hb_timeout_ns / 1000000), n ? buf : " none");
}

/* the shed word in the map is ours when it carries CORRAL_SHED_HB */
static void clear_owned_word(struct ctl *c)
{
	__u64 w = corral_shed_read(&c->h);

	if (CORRAL_SHED_FLAGS(w) & CORRAL_SHED_HB)
		corral_shed_write(&c->h, 0);
	c->word = 0;
	/* likewise the SYN word: a controller-owned word carries CORRAL_SYN_HB */
	w = corral_syn_read(&c->h);
	if (CORRAL_SYN_FLAGS(w) & CORRAL_SYN_HB)
		__atomic_compare_exchange_n(&c->h.ctl->syn, &w, 0, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	c->syn_word = 0;
	c->herd_on = 0;
}

static void attach_notice(const char *ifname)
{
	logf_ts("controller: attach %s: no native XDP in its driver; attached in xdp-generic mode",
		ifname);
}

/* install a parsed config: apply its batch, then switch the controller */
static int conf_install(struct ctl *c, struct conf_load *cl, char *err, size_t errlen)
{
	int r;

	if (cl->batch) {
		r = corral_batch_apply(cl->batch, CORRAL_BATCH_CONVERGE, attach_notice, err,
				       errlen);
		corral_batch_free(cl->batch);
		cl->batch = NULL;
		if (r)
			return r;
	}
	if (cl->conf.set & CTRL_SET_HB) {
		r = commit_hb_timeout(cl->conf.hb_timeout_ns);
		if (r) {
			snprintf(err, errlen, "controller heartbeat-timeout: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

/* ---- signals ------------------------------------------------------------ */

static void warn_once(struct ctl *c, unsigned long bit, const char *what, int r)
{
	if (c->warned & bit)
		return;
	c->warned |= bit;
	logf_ts("controller: %s: %s (signal not used until it recovers)", what, strerror(-r));
}

/*
 * The queue signal as the law sees it: the arrival rate over the rate the
 * protected queues can take (qload.h), once a busy tick has measured the
 * service's capacity; until then the fill over its target.
 */
static void queue_load(struct ctl *c, const struct sig_queue *q, __u64 now)
{
	struct qload_input in = {
		.opens = c->opens,
		.drops = c->drops_prev,
		.target = c->conf.target[CTRL_SIG_QUEUE],
		.pass = c->lv.shed ? c->law.share : 1,
		.dt_s = c->ql_prev_ns ? (double)(now - c->ql_prev_ns) / 1e9 : 0,
	};
	double v;

	for (unsigned i = 0; i < c->conf.nports; i++) {
		if (!q[i].listeners)
			continue;
		in.depth += q[i].depth;
		in.limit += q[i].limit;
	}
	c->ql_prev_ns = now;
	v = qload_step(&c->qp, &c->ql, &in);
	if (v >= 0 && isfinite(v)) {
		c->sig[SIG_X_QUEUE_LOAD] = v;
		c->sig_valid[SIG_X_QUEUE_LOAD] = 1;
	}
	c->sig[SIG_X_CONN_RATE] = c->ql.arrivals;
	c->sig_valid[SIG_X_CONN_RATE] = c->ql.primed;
	c->sig[SIG_X_CONN_CAP] = c->ql.cap;
	c->sig_valid[SIG_X_CONN_CAP] = c->ql.cap > 0;
}

static void read_signals(struct ctl *c, __u64 now, struct corral_counter *cur)
{
	static char buf[65536];
	int r;

	for (int i = 0; i < SIG_X_N; i++)
		c->sig_valid[i] = 0;

	/* CPU busy and softirq share since the last tick */
	struct sig_cpu cpu;
	r = sig_read_file("/proc/stat", buf, sizeof(buf));
	if (r >= 0)
		r = sig_parse_stat(buf, &cpu);
	if (r < 0) {
		warn_once(c, WARN_STAT, "/proc/stat", r);
	} else {
		c->warned &= ~WARN_STAT;
		if (c->cpu_ok && !sig_cpu_share(&c->cpu_prev, &cpu, &c->sig[CTRL_SIG_CPU],
						&c->sig[SIG_X_SOFTIRQ])) {
			c->sig_valid[CTRL_SIG_CPU] = c->sig_valid[SIG_X_SOFTIRQ] = 1;
			c->cpu_prev = cpu;
		} else if (!c->cpu_ok) {
			c->cpu_prev = cpu;
		}
		c->cpu_ok = 1;
	}

	/* CPU pressure, only when it has a target (avg10 is already smoothed) */
	if (c->conf.target[CTRL_SIG_PRESSURE] > 0) {
		r = sig_read_file("/proc/pressure/cpu", buf, sizeof(buf));
		if (r >= 0)
			r = sig_parse_psi(buf, &c->sig[CTRL_SIG_PRESSURE]);
		if (r < 0) {
			warn_once(c, WARN_PSI, "/proc/pressure/cpu", r);
		} else {
			c->warned &= ~WARN_PSI;
			c->sig_valid[CTRL_SIG_PRESSURE] = 1;
		}
	}

	/* listen overflows: any during the tick means a queue was full */
	__u64 ovf = 0, drops = 0, d_ovf = 0;
	r = sig_read_file("/proc/net/netstat", buf, sizeof(buf));
	if (r >= 0)
		r = sig_parse_netstat(buf, &ovf, &drops);
	if (r < 0) {
		warn_once(c, WARN_NETSTAT, "/proc/net/netstat", r);
	} else {
		c->warned &= ~WARN_NETSTAT;
		if (c->netstat_ok)
			d_ovf = (ovf > c->ovf_prev ? ovf - c->ovf_prev : 0) +
				(drops > c->drops_prev ? drops - c->drops_prev : 0);
		c->ovf_prev = ovf;
		c->drops_prev = drops;
		c->d_ovf = d_ovf;
		c->netstat_ok = 1;
		c->snap.listen_overflows = ovf;
		c->snap.listen_drops = drops;
		c->snap.have_netstat = 1;
	}

	/* handshakes completed into accept queues (for the queue load) */
	c->opens_ok = 0;
	if (c->conf.nports && c->conf.target[CTRL_SIG_QUEUE] > 0) {
		r = sig_read_file("/proc/net/snmp", buf, sizeof(buf));
		if (r >= 0)
			r = sig_parse_mib(buf, "Tcp", "PassiveOpens", &c->opens);
		if (r < 0) {
			warn_once(c, WARN_SNMP, "/proc/net/snmp", r);
		} else {
			c->warned &= ~WARN_SNMP;
			c->opens_ok = 1;
		}
	}

	/* accept queues of the protected listeners */
	c->snap.nports = c->conf.nports;
	if (c->conf.nports) {
		struct sig_queue q[CTRL_MAX_PORTS];

		r = c->diag_fd >= 0 ? sig_listen_queues(c->diag_fd, c->conf.ports, c->conf.nports, q)
				    : c->diag_fd;
		if (r < 0) {
			warn_once(c, WARN_DIAG, "sock_diag", r);
		} else {
			unsigned missing = 0;

			c->warned &= ~WARN_DIAG;
			for (unsigned i = 0; i < c->conf.nports; i++) {
				c->snap.ports[i] = q[i].port;
				c->snap.q_depth[i] = q[i].depth;
				c->snap.q_limit[i] = q[i].limit;
				c->snap.q_listeners[i] = q[i].listeners;
				if (!q[i].listeners)
					missing |= 1u << i;
				if ((missing ^ c->port_missing) & (1u << i))
					logf_ts(missing & (1u << i)
						? "controller: port %u: no TCP listener (queue signal ignores it)"
						: "controller: port %u: listener found",
						q[i].port);
			}
			c->port_missing = missing;
			c->sig[CTRL_SIG_QUEUE] = sig_queue_fill(q, c->conf.nports);
			if (d_ovf && missing != (1u << c->conf.nports) - 1 &&
			    c->sig[CTRL_SIG_QUEUE] < 1.0)
				c->sig[CTRL_SIG_QUEUE] = 1.0;
			c->sig_valid[CTRL_SIG_QUEUE] = 1;
			if (c->opens_ok && c->netstat_ok)
				queue_load(c, q, now);
		}
	}

	/* the data plane's offered rate per class */
	r = corral_stats_read(&c->h, cur);
	if (r) {
		warn_once(c, WARN_STATS, "reading corral_stats", r);
		return;
	}
	c->warned &= ~WARN_STATS;
	memcpy(c->snap.stats, cur, sizeof(c->snap.stats));
	c->snap.have_stats = 1;
	if (c->stats_ok) {
		double r8[CORRAL_NCLASS];

		sig_class_rates(c->stats_prev, cur, now - c->stats_prev_ns, r8);
		for (int k = 0; k < CORRAL_NCLASS; k++)
			c->rate[k] = c->rates_ok ? RATE_ALPHA * r8[k] + (1 - RATE_ALPHA) * c->rate[k]
						 : r8[k];
		c->rates_ok = 1;
	}
	memcpy(c->stats_prev, cur, sizeof(c->stats_prev));
	c->stats_prev_ns = now;
	c->stats_ok = 1;
}

/* ---- status file ---------------------------------------------------------- */

/* a number printed with 6 significant digits, not json-c's 17 */
static json_object *jnum(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static void write_status(struct ctl *c, int running)
{
	char path[512], tmp[520], lvl[16];
	json_object *o = json_object_new_object(), *s = json_object_new_object(),
		    *t = json_object_new_object(), *sh = json_object_new_object(),
		    *ports = json_object_new_array();
	const char *text;
	FILE *f;
	int r = 0;

	json_object_object_add(o, "schema", json_object_new_int(1));
	json_object_object_add(o, "running", json_object_new_boolean(running));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "started", json_object_new_int64(c->started));
	json_object_object_add(o, "updated", json_object_new_int64(time(NULL)));
	json_object_object_add(o, "shed_mode",
			       json_object_new_string(c->conf.shed_auto ? "auto" : "manual"));
	json_object_object_add(o, "interval_ms",
			       json_object_new_int64((int64_t)(interval_of(c) / 1000000)));
	json_object_object_add(o, "heartbeat_timeout_ms",
			       json_object_new_int64((int64_t)(c->conf.hb_timeout_ns / 1000000)));
	for (int i = 0; i < SIG_X_N; i++)
		if (c->sig_valid[i])
			json_object_object_add(s, sig_x_names[i], jnum(c->sig[i]));
	json_object_object_add(o, "signals", s);
	for (int i = 0; i < CTRL_NSIG; i++)
		if (c->conf.target[i] > 0)
			json_object_object_add(t, ctrl_sig_names[i], jnum(c->conf.target[i]));
	json_object_object_add(o, "targets", t);
	for (unsigned i = 0; i < c->conf.nports; i++)
		json_object_array_add(ports, json_object_new_int(c->conf.ports[i]));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "admitted_share", jnum(c->law.share));
	json_object_object_add(sh, "active", json_object_new_boolean(c->lv.shed));
	corral_level_str(c->lv.level, c->lv.frac, lvl, sizeof(lvl));
	json_object_object_add(sh, "level", json_object_new_string(c->lv.shed ? lvl : "none"));
	json_object_object_add(sh, "word", json_object_new_uint64(c->word));
	json_object_object_add(o, "shed", sh);
	if (c->herd_on) {
		json_object *hd = json_object_new_object();

		json_object_object_add(hd, "active", json_object_new_boolean(c->herd.active));
		json_object_object_add(hd, "syn_rate", jnum(c->herd.rate));
		json_object_object_add(hd, "baseline", jnum(c->herd.baseline));
		json_object_object_add(hd, "estimated_size", jnum(c->herd.est_size));
		json_object_object_add(hd, "window_ms", json_object_new_uint64(c->herd.window_ms));
		json_object_object_add(o, "herd", hd);
	}
	json_object_object_add(o, "ticks", json_object_new_uint64(c->snap.ticks));
	json_object_object_add(o, "tick_seconds", jnum(c->snap.tick_seconds));

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (mkdir(run_dir(), 0755) && errno != EEXIST)
		r = -errno;
	if (!r && (snprintf(path, sizeof(path), "%s/controller.json", run_dir()) >= (int)sizeof(path) ||
		   snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)))
		r = -ENAMETOOLONG;
	if (!r) {
		f = fopen(tmp, "we");
		if (!f) {
			r = -errno;
		} else {
			fprintf(f, "%s\n", text);
			if (fclose(f))
				r = -errno;
			else if (rename(tmp, path))
				r = -errno;
		}
	}
	if (r)
		warn_once(c, WARN_JSON, "writing controller.json", r);
	else
		c->warned &= ~WARN_JSON;
	json_object_put(o);
}

/* ---- one tick ------------------------------------------------------------- */

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the signal with the largest signal/target ratio */
static int worst_signal(const struct ctl *c)
{
	int w = -1;

	for (int i = 0; i < CTRL_NSIG; i++)
		if (c->conf.target[i] > 0 && c->sig_valid[i] &&
		    (w < 0 || c->sig[i] / c->conf.target[i] > c->sig[w] / c->conf.target[w]))
			w = i;
	return w;
}

/* state changes, one line each: the smoothed load crossing the hysteresis
 * band (the law starts or stops cutting), and shed level moves */
static void log_transitions(struct ctl *c, const struct law_level *old, double d)
{
	char a[16], b[16];
	int w = worst_signal(c);

	if (c->law.primed && w >= 0) {
		if (!c->over && d > 1 + c->lp.band) {
			c->over = 1;
			logf_ts("controller: load %.2f x target: over (worst %s %.1f%%, target %.1f%%)",
				d, ctrl_sig_names[w], c->sig[w] * 100, c->conf.target[w] * 100);
		} else if (c->over && d < 1 - c->lp.band) {
			c->over = 0;
			logf_ts("controller: load %.2f x target: back under (worst %s %.1f%%, target %.1f%%)",
				d, ctrl_sig_names[w], c->sig[w] * 100, c->conf.target[w] * 100);
		}
	}
	if (old->shed == c->lv.shed && (!c->lv.shed || (old->level == c->lv.level &&
	    abs((int)old->frac - (int)c->lv.frac) < LOG_FRAC_STEP)))
		return;
	corral_level_str(old->level, old->frac, a, sizeof(a));
	corral_level_str(c->lv.level, c->lv.frac, b, sizeof(b));
	logf_ts("controller: shed %s -> %s (admitted share %.3f, load %.3f of target)%s",
		old->shed ? a : "none", c->lv.shed ? b : "none", c->law.share, d,
		c->conf.shed_auto ? "" : " [manual: not applied]");
}

/* smallest listen backlog of the protected ports that have a listener (0: none known) */
static unsigned backlog_of(const struct ctl *c)
{
	unsigned b = 0;

	for (unsigned i = 0; i < c->snap.nports; i++)
		if (c->snap.q_listeners[i] && c->snap.q_limit[i] &&
		    (!b || c->snap.q_limit[i] < b))
			b = c->snap.q_limit[i];
	return b;
}

/* deepest accept queue of the protected ports (-1: unknown) */
static double depth_of(const struct ctl *c)
{
	double d = -1;

	if (!c->sig_valid[CTRL_SIG_QUEUE])
		return -1;
	for (unsigned i = 0; i < c->snap.nports; i++)
		if (c->snap.q_listeners[i] && (double)c->snap.q_depth[i] > d)
			d = c->snap.q_depth[i];
	return d;
}

/*
 * Herd pacing: while the SYN gate is on in "herd auto", feed the SYNs the
 * data plane saw, the listen overflows and the protected accept-queue fill
 * to the herd law (herd_ctl.h) and publish its SYN word with CORRAL_SYN_HB.
 * The word is written only while the live cfg still says "herd auto", and
 * a herd's start time and salt are stored before the word that uses them.
 */
static void herd_tick(struct ctl *c, const struct corral_counter *cur, __u64 now, double dt_s)
{
	const struct corral_cfg *cfg = corral_cfg_live(&c->h);
	struct herd_input in = { .dt_s = dt_s, .now_ns = now, .queue_fill = -1 };
	__u64 syns = 0, capped = 0, admitted = 0, salt = 0, w, burst;
	int ev;

	for (int row = 0; row < CORRAL_NROWS; row++) {
		syns += cur[CORRAL_STAT_KEY(row, CORRAL_R_SYN_SEEN)].packets;
		capped += cur[CORRAL_STAT_KEY(row, CORRAL_R_SYN_CAP)].packets;
		admitted += cur[CORRAL_STAT_KEY(row, CORRAL_R_SYN_ADMIT)].packets;
	}
	if (!cfg->syn_on || cfg->syn_herd != CORRAL_HERD_AUTO) {
		if (c->herd_on)
			logf_ts("controller: SYN gate left herd auto; herd pacing off");
		c->herd_on = 0;
		c->syn_prev = syns;
		c->cap_prev = capped;
		c->adm_prev = admitted;
		return;
	}
	if (!c->herd_on) {
		double rate0 = cfg->syn_rate ? (double)cfg->syn_rate : HERD_DEFAULT_RATE;

		herd_params_default(&c->hp);
		c->hp.max_rate = 1e9;   /* above this one SYN costs 0 ns in the data plane */
		herd_state_init(&c->herd, &c->hp, rate0);
		c->herd_on = 1;
		c->syn_prev = syns;
		c->cap_prev = capped;
		c->adm_prev = admitted;
		logf_ts("controller: herd pacing on, SYN rate %.0f/s", c->herd.rate);
		return;
	}
	in.syns = syns >= c->syn_prev ? (double)(syns - c->syn_prev) : 0;
	c->syn_prev = syns;
	in.capped = capped >= c->cap_prev ? (double)(capped - c->cap_prev) : 0;
	c->cap_prev = capped;
	in.admitted = admitted >= c->adm_prev ? (double)(admitted - c->adm_prev) : 0;
	c->adm_prev = admitted;
	in.depth = depth_of(c);
	in.overflows = (double)c->d_ovf;
	if (c->sig_valid[CTRL_SIG_QUEUE])
		in.queue_fill = c->sig[CTRL_SIG_QUEUE];
	if (getrandom(&salt, sizeof(salt), 0) != sizeof(salt))
		salt = now * 0x9e3779b97f4a7c15ULL;
	ev = herd_step(&c->hp, &c->herd, &in, salt);
	if (cfg->syn_window_ns && c->herd.active)
		c->herd.window_ms = (uint32_t)(cfg->syn_window_ns / 1000000);
	if (ev & HERD_EV_START) {
		__atomic_store_n(&c->h.ctl->herd_start_ns, c->herd.start_ns, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->h.ctl->herd_salt, c->herd.salt, __ATOMIC_SEQ_CST);
		logf_ts("controller: herd detected: %.0f SYN/s over baseline %.1f/s; window %u ms at %.0f SYN/s",
			in.syns / in.dt_s, c->herd.baseline, c->herd.window_ms, c->herd.rate);
	}
	if (ev & HERD_EV_WINDOW)
		logf_ts("controller: herd of about %.0f sources: window %u ms",
			c->herd.est_size, c->herd.window_ms);
	if (ev & HERD_EV_END)
		logf_ts("controller: herd over");
	if (ev & HERD_EV_RATE)
		logf_ts("controller: SYN rate %.0f/s", c->herd.rate);
	w = herd_syn_word(&c->herd);
	/* the operator's burst, or one sized from C and the backlog */
	burst = cfg->syn_burst ? 0 : herd_burst(&c->hp, &c->herd, backlog_of(c));
	/* the CLI may have switched the gate meanwhile: check the live cfg again */
	cfg = corral_cfg_live(&c->h);
	if (cfg->syn_on && cfg->syn_herd == CORRAL_HERD_AUTO &&
	    (w != c->syn_word || corral_syn_read(&c->h) != w ||
	     __atomic_load_n(&c->h.ctl->syn_burst, __ATOMIC_RELAXED) != burst)) {
		/* the burst first: the word that uses it comes after */
		__atomic_store_n(&c->h.ctl->syn_burst, burst, __ATOMIC_SEQ_CST);
		corral_syn_write(&c->h, w);
		c->syn_word = w;
	}
}

/*
 * Timed allow/deny entries: the data plane stops applying one when it
 * expires; here the expired entries leave the maps (a load leaves them out,
 * the store deletes them) and the trie is compiled without them.
 */
static void expire_lists(struct ctl *c)
{
	__u64 due = corral_cfg_live(&c->h)->list_expiry_ns;
	char err[256];
	int r;

	if (!due || due > corral_dp_now(&c->h))
		return;
	r = corral_ops_commit(NULL, 0, NULL, err, sizeof(err));
	if (r)
		warn_once(c, WARN_EXPIRE, "removing expired allow/deny entries", r);
	else
		c->warned &= ~WARN_EXPIRE;
}

static void tick(struct ctl *c)
{
	__u64 t0 = corral_now_ns();
	double cpu0 = cpu_now();
	struct corral_counter cur[CORRAL_NSTATS];
	struct law_level old = c->lv;
	double d = 0;
	int have = 0;

	__u64 prev_stats_ns = c->stats_prev_ns;

	corral_heartbeat(&c->h);
	c->snap.hb_ns = __atomic_load_n(&c->h.ctl->heartbeat_ns, __ATOMIC_RELAXED);
	expire_lists(c);
	read_signals(c, t0, cur);
	if (c->stats_ok)
		herd_tick(c, cur, t0, prev_stats_ns ? (double)(t0 - prev_stats_ns) / 1e9
						    : (double)interval_of(c) / 1e9);

	for (int i = 0; i < CTRL_NSIG; i++) {
		if (!(c->conf.target[i] > 0) || !c->sig_valid[i])
			continue;
		if (i == CTRL_SIG_QUEUE && c->sig_valid[SIG_X_QUEUE_LOAD])
			d = fmax(d, c->sig[SIG_X_QUEUE_LOAD]);
		else
			d = fmax(d, c->sig[i] / c->conf.target[i]);
		have = 1;
	}

	/* the level in force while the rates were measured is c->lv */
	if (c->rates_ok)
		law_weights_update(&c->lw, c->rate, &c->lv);
	if (c->adopt && c->rates_ok) {
		/* restart: continue from the level the pinned map holds */
		c->law.share = law_share_of(&c->adopted, c->rate);
		if (c->law.share < c->lp.min_share)
			c->law.share = c->lp.min_share;
		c->adopt = 0;
	}
	if (have && !c->adopt) {
		law_step(&c->lp, &c->law, d);
		law_map(c->law.share, c->lw.w, &c->lv);
	}
	c->sig[SIG_X_LOAD] = c->law.ewma;
	c->sig_valid[SIG_X_LOAD] = c->law.primed;

	if (c->conf.shed_auto && !c->adopt) {
		__u64 w = law_shed_word(&c->lv);

		/* rewrite when it changed or someone else wrote the word */
		if (w != c->word || corral_shed_read(&c->h) != w) {
			corral_shed_write(&c->h, w);
			c->word = w;
		}
	}
	log_transitions(c, &old, c->law.ewma);

	/* metrics snapshot */
	struct metrics_snap *s = &c->snap;
	s->nsig = 0;
	for (int i = 0; i < SIG_X_N; i++) {
		struct metrics_signal *m = &s->sig[s->nsig++];

		m->name = sig_x_names[i];
		m->value = c->sig[i];
		m->valid = c->sig_valid[i];
		m->target = i < CTRL_NSIG ? c->conf.target[i]
			  : i == SIG_X_LOAD || i == SIG_X_QUEUE_LOAD ? 1.0 : 0;
	}
	memcpy(s->class_rate, c->rate, sizeof(s->class_rate));
	s->shedding = c->lv.shed;
	s->level = c->lv.level;
	s->frac = c->lv.frac;
	s->share = c->law.share;
	s->hb_timeout_ns = corral_cfg_live(&c->h)->hb_timeout_ns;
	s->herd_pacing = c->herd_on;
	s->herd_active = c->herd.active;
	s->syn_rate = c->herd.rate;
	s->herd_window_s = c->herd.window_ms / 1000.0;
	s->ticks++;
	if (t0 - c->last_json_ns >= 1000000000ull || !c->last_json_ns) {
		__u64 n;
		int r = corral_sources_count(&c->h, &n);

		if (r) {
			warn_once(c, WARN_SOURCES, "counting sources", r);
		} else {
			c->warned &= ~WARN_SOURCES;
			s->sources = n;
			s->have_sources = 1;
		}
		write_status(c, 1);
		c->last_json_ns = t0;
	}
	s->tick_seconds = (double)(corral_now_ns() - t0) / 1e9;
	s->tick_cpu_seconds = cpu_now() - cpu0;
	metrics_publish(c->metrics, s);
}

/* ---- SIGHUP ---------------------------------------------------------------- */

static void reload(struct ctl *c)
{
	struct conf_load cl;
	char err[512];
	int r;

	if (!c->conf_path) {
		logf_ts("controller: SIGHUP: no config file (-c), nothing to reload");
		return;
	}
	r = conf_parse(c->conf_path, &cl, err, sizeof(err));
	if (!r)
		r = conf_install(c, &cl, err, sizeof(err));
	if (r) {
		logf_ts("controller: reload %s failed, keeping the running config: %s",
			c->conf_path, err);
		c->snap.reloads_failed++;
		return;
	}
	int was_auto = c->conf.shed_auto;
	__u64 old_iv = interval_of(c);

	c->conf = cl.conf;
	c->port_missing = 0;
	if (interval_of(c) != old_iv) {
		r = arm_timer(c->timer_fd, interval_of(c));
		if (r)
			logf_ts("controller: timer: %s", strerror(-r));
	}
	if (was_auto && !c->conf.shed_auto)
		clear_owned_word(c);
	c->snap.reloads_ok++;
	logf_ts("controller: reloaded %s", c->conf_path);
	conf_describe(c);
}

/* ---- main -------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: corral run [-c FILE] [--check] [--metrics [ADDR:]PORT] [--interval DURATION]\n"
		"  -c FILE               config: batch commands, attach/detach lines and\n"
		"                        \"controller ...\" lines, applied at start and re-read\n"
		"                        on SIGHUP (attach lines name the whole device set)\n"
		"  --check               validate the file against the running state, apply nothing\n"
		"  --metrics [ADDR:]PORT serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"  --interval DURATION   control period (default 100ms; overrides the file)\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "interval", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct ctl c;   /* large; one controller per process */
	const char *metrics_spec = NULL;
	bool check = false;
	struct conf_load cl;
	char err[512];
	sigset_t mask;
	int opt, r, rc = 1;

	sigemptyset(&mask);
	memset(&c, 0, sizeof(c));
	c.diag_fd = c.timer_fd = c.sig_fd = -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c.conf_path = optarg;
			break;
		case 'm':
			metrics_spec = optarg;
			break;
		case 'i':
			if (corral_parse_duration(optarg, &c.cli_interval_ns) ||
			    c.cli_interval_ns < CTRL_MIN_INTERVAL_NS ||
			    c.cli_interval_ns > CTRL_MAX_INTERVAL_NS) {
				fprintf(stderr, "corral: run: invalid interval \"%s\" (10ms..10s)\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "corral: run: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* 1. validate everything before touching anything */
	r = conf_parse(c.conf_path, &cl, err, sizeof(err));
	if (r) {
		fprintf(stderr, "corral: run: %s\n", err);
		return 1;
	}
	if (cl.conf.hb_timeout_ns < 2 * (c.cli_interval_ns ? c.cli_interval_ns
							   : cl.conf.interval_ns)) {
		fprintf(stderr, "corral: run: heartbeat-timeout must be at least twice the interval\n");
		goto out_batch;
	}
	if (check) {
		/* everything start would check, against the running state; no change */
		if (cl.batch) {
			r = corral_batch_check(cl.batch, CORRAL_BATCH_CONVERGE, err, sizeof(err));
		} else {
			r = corral_handle_open(&c.h);
			if (!r)
				corral_handle_close(&c.h);
			r = r == -ENOENT ? 0 : 1;
		}
		if (r < 0) {
			fprintf(stderr, "corral: run: %s\n", err);
			goto out_batch;
		}
		if (!r) {
			fprintf(stderr, "corral: run: %s: nothing attached and the file attaches "
				"nothing (add \"attach dev IF\")\n", c.conf_path ? c.conf_path : "-");
			goto out_batch;
		}
		rc = 0;
		goto out_batch;
	}
	law_params_default(&c.lp);
	qload_params_default(&c.qp);
	qload_init(&c.ql);
	law_init(&c.law);

	/* signals go to the signalfd only, in every thread started after this */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (c.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0 ||
	    (c.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0) {
		fprintf(stderr, "corral: run: %s\n", strerror(errno));
		goto out_batch;
	}

	/* 2. the metrics port, before anything is applied */
	if (metrics_spec) {
		r = metrics_start(&c.metrics, metrics_spec, err, sizeof(err));
		if (r) {
			fprintf(stderr, "corral: run: %s\n", err);
			goto out_batch;
		}
	}

	/* 3. apply the file, then open the loaded corral */
	r = conf_install(&c, &cl, err, sizeof(err));
	if (r) {
		fprintf(stderr, "corral: run: %s: %s\n", c.conf_path, err);
		goto out_metrics;
	}
	c.conf = cl.conf;
	r = corral_handle_open(&c.h);
	if (r) {
		fprintf(stderr, "corral: run: %s: %s%s\n", corral_pin_dir(), strerror(-r),
			r == -ENOENT ? " (nothing is attached; add \"attach dev IF\" to the config)"
				     : "");
		goto out_metrics;
	}
	c.diag_fd = c.conf.nports ? sig_diag_open() : -ENOENT;
	if (c.conf.nports && c.diag_fd < 0)
		logf_ts("controller: sock_diag: %s", strerror(-c.diag_fd));

	/* restart: adopt the controller's pinned shed level */
	c.word = corral_shed_read(&c.h);
	if ((CORRAL_SHED_FLAGS(c.word) & (CORRAL_SHED_ON | CORRAL_SHED_HB)) ==
	    (CORRAL_SHED_ON | CORRAL_SHED_HB) && c.conf.shed_auto) {
		char lvl[16];

		law_level_of_word(c.word, &c.adopted);
		c.lv = c.adopted;
		c.adopt = 1;
		corral_level_str(c.adopted.level, c.adopted.frac, lvl, sizeof(lvl));
		logf_ts("controller: adopting pinned shed level %s", lvl);
	}
	c.started = time(NULL);
	r = arm_timer(c.timer_fd, interval_of(&c));
	if (r) {
		fprintf(stderr, "corral: run: timer: %s\n", strerror(-r));
		goto out_handle;
	}
	logf_ts("controller: running, pid %d%s%s", getpid(), metrics_spec ? ", metrics on " : "",
		metrics_spec ? metrics_spec : "");
	conf_describe(&c);

	tick(&c);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c.timer_fd, .events = POLLIN },
			{ .fd = c.sig_fd, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			logf_ts("controller: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(c.sig_fd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload(&c);
				} else {
					logf_ts("controller: %s, exiting", strsignal((int)si.ssi_signo));
					rc = 0;
					break;
				}
			}
		}
		if (p[0].revents & POLLIN) {
			__u64 n;

			if (read(c.timer_fd, &n, sizeof(n)) == sizeof(n))
				tick(&c);
		}
	}

	/* a clean exit leaves nothing shed */
	if (c.conf.shed_auto)
		clear_owned_word(&c);
	c.lv.shed = 0;
	write_status(&c, 0);
out_handle:
	if (c.diag_fd >= 0)
		close(c.diag_fd);
	metrics_stop(c.metrics);
	c.metrics = NULL;
	corral_handle_close(&c.h);
	goto out_fds;
out_metrics:
	metrics_stop(c.metrics);
out_batch:
	if (cl.batch)
		corral_batch_free(cl.batch);
out_fds:
	if (c.timer_fd >= 0)
		close(c.timer_fd);
	if (c.sig_fd >= 0)
		close(c.sig_fd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return rc;
}
