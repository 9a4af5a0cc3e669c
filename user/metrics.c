/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* metrics.c - Prometheus text exposition over libmicrohttpd. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <bpf/bpf.h>
#include "handle.h"
#include "metrics.h"
#include "words.h"

static const char *row_name(unsigned row, char *buf, size_t len)
{
	if (row == CORRAL_ROW_NONE)
		return "none";
	snprintf(buf, len, "%u", row);
	return buf;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int metrics_render(const struct metrics_snap *s, __u64 now_ns, FILE *f)
{
	static const char *gnames[CORRAL_NGSTAT] = {
		[CORRAL_G_SRC_NEW] = "corral_sources_created_total",
		[CORRAL_G_DST_NEW] = "corral_destinations_created_total",
		[CORRAL_G_BUCKET_RETRY] = "corral_bucket_retries_total",
		[CORRAL_G_REPLY_SENT] = "corral_replies_sent_total",
		[CORRAL_G_REPLY_SUPPRESSED] = "corral_replies_suppressed_total",
		[CORRAL_G_COOKIE_NONE] = "corral_syn_cookies_unanswered_total",
		[CORRAL_G_COOKIE_OK] = "corral_syn_cookies_ok_total",
		[CORRAL_G_COOKIE_BAD] = "corral_syn_cookies_bad_total",
		[CORRAL_G_COOKIE_FAIL] = "corral_syn_cookies_refused_total",
	};
	static const char *ghelp[CORRAL_NGSTAT] = {
		[CORRAL_G_SRC_NEW] = "Per-source buckets created.",
		[CORRAL_G_DST_NEW] = "Per-destination buckets created.",
		[CORRAL_G_BUCKET_RETRY] = "Bucket updates that ran out of compare-and-swap retries.",
		[CORRAL_G_REPLY_SENT] = "Shaping drops of reject classes answered (TCP RST, ICMP prohibited).",
		[CORRAL_G_REPLY_SUPPRESSED] = "Answerable drops of reject classes not answered: over the reply budget.",
		[CORRAL_G_COOKIE_NONE] = "SYNs to cookie ports that could not be answered (unanswerable address): dropped.",
		[CORRAL_G_COOKIE_OK] = "ACKs whose SYN cookie checked, handed to their listener.",
		[CORRAL_G_COOKIE_BAD] = "ACKs to a listener without a valid SYN cookie (passed to the stack).",
		[CORRAL_G_COOKIE_FAIL] = "Valid SYN cookies the kernel refused as request sockets.",
	};
	char rb[8];

	if (s->have_stats) {
		for (int b = 0; b < 2; b++) {
			const char *n = b ? "corral_bytes_total" : "corral_packets_total";

			head(f, n, "counter", b ? "Bytes by class row and verdict reason."
						 : "Packets by class row and verdict reason.");
			for (unsigned row = 0; row < CORRAL_NROWS; row++)
				for (unsigned r = 0; r < CORRAL_NREASON; r++) {
					const struct corral_counter *c =
						&s->stats[CORRAL_STAT_KEY(row, r)];

					fprintf(f, "%s{class=\"%s\",reason=\"%s\"} %llu\n", n,
						row_name(row, rb, sizeof(rb)), corral_reason_name(r),
						(unsigned long long)(b ? c->bytes : c->packets));
				}
		}
		for (int g = 0; g < CORRAL_NGSTAT; g++) {
			head(f, gnames[g], "counter", ghelp[g]);
			fprintf(f, "%s %llu\n", gnames[g],
				(unsigned long long)s->stats[CORRAL_GSTAT_KEY(g)].packets);
		}
	}
	if (s->have_sources) {
		head(f, "corral_tracked_sources", "gauge", "Per-source buckets in the table.");
		fprintf(f, "corral_tracked_sources %llu\n", (unsigned long long)s->sources);
	}
	head(f, "corral_class_offered_packets_per_second", "gauge",
	     "Packets per second reaching the shed stage, by class (smoothed).");
	for (unsigned c = 0; c < CORRAL_NCLASS; c++)
		fprintf(f, "corral_class_offered_packets_per_second{class=\"%u\"} %.6g\n", c,
			s->class_rate[c]);

	head(f, "corral_shed_active", "gauge", "1 while the controller sheds.");
	fprintf(f, "corral_shed_active %d\n", s->shedding ? 1 : 0);
	head(f, "corral_shed_level", "gauge",
	     "Shed level L.F: classes above L dropped, fraction F of class L sources (8 = none).");
	fprintf(f, "corral_shed_level %.4f\n",
		s->shedding ? s->level + (double)s->frac / CORRAL_FRAC_ONE : (double)CORRAL_NCLASS);
	head(f, "corral_admitted_share", "gauge", "Admitted share of offered traffic (0..1).");
	fprintf(f, "corral_admitted_share %.6f\n", s->share);
	if (s->herd_pacing) {
		head(f, "corral_herd_active", "gauge", "1 while jittered herd admission runs.");
		fprintf(f, "corral_herd_active %d\n", s->herd_active ? 1 : 0);
		head(f, "corral_syn_rate", "gauge", "SYN admissions per second the controller allows.");
		fprintf(f, "corral_syn_rate %.6g\n", s->syn_rate);
		head(f, "corral_herd_window_seconds", "gauge", "Admission window of the current herd.");
		fprintf(f, "corral_herd_window_seconds %.3f\n", s->herd_active ? s->herd_window_s : 0.0);
	}

	head(f, "corral_signal", "gauge", "Load signals (shares 0..1; load = smoothed worst signal/target).");
	for (unsigned i = 0; i < s->nsig; i++)
		if (s->sig[i].valid)
			fprintf(f, "corral_signal{name=\"%s\"} %.6f\n", s->sig[i].name, s->sig[i].value);
	head(f, "corral_signal_target", "gauge", "Targets of the load signals (0..1).");
	for (unsigned i = 0; i < s->nsig; i++)
		if (s->sig[i].target > 0)
			fprintf(f, "corral_signal_target{name=\"%s\"} %.6f\n", s->sig[i].name,
				s->sig[i].target);

	if (s->nports) {
		head(f, "corral_accept_queue_depth", "gauge",
		     "Connections waiting for accept() on protected listeners.");
		for (unsigned i = 0; i < s->nports; i++)
			fprintf(f, "corral_accept_queue_depth{port=\"%u\"} %u\n", s->ports[i],
				s->q_depth[i]);
		head(f, "corral_accept_queue_limit", "gauge", "Backlog of protected listeners.");
		for (unsigned i = 0; i < s->nports; i++)
			fprintf(f, "corral_accept_queue_limit{port=\"%u\"} %u\n", s->ports[i],
				s->q_limit[i]);
		head(f, "corral_accept_queue_listeners", "gauge",
		     "Listening sockets found on protected ports.");
		for (unsigned i = 0; i < s->nports; i++)
			fprintf(f, "corral_accept_queue_listeners{port=\"%u\"} %u\n", s->ports[i],
				s->q_listeners[i]);
	}
	if (s->have_netstat) {
		head(f, "corral_listen_overflows_total", "counter", "TcpExt ListenOverflows of the host.");
		fprintf(f, "corral_listen_overflows_total %llu\n",
			(unsigned long long)s->listen_overflows);
		head(f, "corral_listen_drops_total", "counter", "TcpExt ListenDrops of the host.");
		fprintf(f, "corral_listen_drops_total %llu\n", (unsigned long long)s->listen_drops);
	}

	head(f, "corral_tick_seconds", "gauge", "Wall time of the last controller tick.");
	fprintf(f, "corral_tick_seconds %.9f\n", s->tick_seconds);
	head(f, "corral_tick_cpu_seconds", "gauge", "CPU time of the last controller tick.");
	fprintf(f, "corral_tick_cpu_seconds %.9f\n", s->tick_cpu_seconds);
	head(f, "corral_ticks_total", "counter", "Controller ticks.");
	fprintf(f, "corral_ticks_total %llu\n", (unsigned long long)s->ticks);
	head(f, "corral_config_reloads_total", "counter", "Config reloads on SIGHUP by result.");
	fprintf(f, "corral_config_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)s->reloads_ok);
	fprintf(f, "corral_config_reloads_total{result=\"error\"} %llu\n",
		(unsigned long long)s->reloads_failed);
	head(f, "corral_heartbeat_age_seconds", "gauge", "Age of the controller heartbeat stamp.");
	fprintf(f, "corral_heartbeat_age_seconds %.6f\n",
		s->hb_ns && now_ns > s->hb_ns ? (double)(now_ns - s->hb_ns) / 1e9 : 0.0);
	head(f, "corral_heartbeat_timeout_seconds", "gauge",
	     "Heartbeat age after which the data plane ignores the shed level.");
	fprintf(f, "corral_heartbeat_timeout_seconds %.3f\n", (double)s->hb_timeout_ns / 1e9);
	return ferror(f) ? -EIO : 0;
}

struct rule_hits {
	struct corral_prefix_rule_key key;
	struct corral_hits v;
};

int metrics_render_rules(int hits_fd, FILE *f)
{
	static const struct {
		const char *name, *help;
	} fam[3] = {
		{ "corral_rule_packets_total", "Packets a list or limit rule decided on." },
		{ "corral_rule_bytes_total", "Bytes a list or limit rule decided on." },
		{ "corral_rule_dropped_total",
		  "Packets a deny rule or a limit rule dropped (in monitor mode: would drop)." },
	};
	struct corral_handle h = { .hits_fd = hits_fd };
	struct corral_prefix_rule_key key, next;
	struct rule_hits *out = NULL;
	__u64 entries = 0, omitted = 0;
	size_t n = 0, steps = 0;
	char pb[CORRAL_PREFIX_STRLEN];
	void *prev = NULL;

	out = calloc(METRICS_MAX_RULE_SERIES, sizeof(*out));
	if (!out)
		return -ENOMEM;
	/* bounded: a map rewritten under the walk cannot keep it going */
	while (steps++ <= CORRAL_MAX_PREFIX_RULES && !bpf_map_get_next_key(hits_fd, prev, &next)) {
		struct corral_hits sum;

		key = next;
		prev = &key;
		if (corral_hits_read(&h, &key, &sum))
			continue;
		entries++;
		if (!sum.packets)
			continue;
		if (n == METRICS_MAX_RULE_SERIES) {
			omitted++;
			continue;
		}
		out[n].key = key;
		out[n++].v = sum;
	}
	head(f, "corral_rules_counted", "gauge", "List and limit rules hit at least once.");
	fprintf(f, "corral_rules_counted %llu\n", (unsigned long long)entries);
	head(f, "corral_rule_series_omitted", "gauge",
	     "Rules with hits left out of the corral_rule_* series (over the cap).");
	fprintf(f, "corral_rule_series_omitted %llu\n", (unsigned long long)omitted);
	for (int k = 0; k < 3; k++) {
		head(f, fam[k].name, "counter", fam[k].help);
		for (size_t i = 0; i < n; i++) {
			const struct corral_hits *h = &out[i].v;

			fprintf(f, "%s{rule=\"%s\",prefix=\"%s\"} %llu\n", fam[k].name,
				corral_rule_kind_name(out[i].key.kind),
				corral_lpm_str(&out[i].key.pfx, pb, sizeof(pb)),
				(unsigned long long)(k == 0 ? h->packets : k == 1 ? h->bytes
										 : h->dropped));
		}
	}
	free(out);
	return ferror(f) ? -EIO : 0;
}

struct metrics_server {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	struct metrics_snap snap;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct metrics_server *m = cls;
	struct MHD_Response *resp;
	struct metrics_snap *snap;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	char path[4096];
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "method not allowed\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		goto send;
	}
	if (strcmp(url, "/metrics")) {
		static const char msg[] = "corral: see /metrics\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
		goto send;
	}
	snap = malloc(sizeof(*snap));
	f = snap ? open_memstream(&text, &len) : NULL;
	if (!f) {
		free(snap);
		return MHD_NO;
	}
	pthread_mutex_lock(&m->lock);
	*snap = m->snap;
	pthread_mutex_unlock(&m->lock);
	metrics_render(snap, corral_now_ns(), f);
	free(snap);
	/* rule counters are read at scrape time, from their own pin */
	if (!corral_pin_path(path, sizeof(path), "corral_hits")) {
		int fd = bpf_obj_get(path);

		if (fd >= 0) {
			metrics_render_rules(fd, f);
			close(fd);
		}
	}
	if (fclose(f)) {
		free(text);
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
send:
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "[ADDR:]PORT": 9100, 127.0.0.1:9100, [::1]:9100, :9100 */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *port_s = spec, *colon;
	__u32 port;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(rb - spec - 1));
		host[rb - spec - 1] = '\0';
		port_s = rb + 2;
	} else if ((colon = strrchr(spec, ':'))) {
		if (strchr(spec, ':') != colon || (size_t)(colon - spec) >= sizeof(host))
			goto bad;  /* bare IPv6 needs brackets */
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port_s = colon + 1;
	}
	if (corral_parse_u32_range(port_s, 1, 65535, &port))
		goto bad;
	if (!host[0] || strchr(host, '.') || !strchr(host, ':')) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((__u16)port);
		if (host[0] && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((__u16)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid metrics address \"%s\" ([ADDR:]PORT)", spec);
	return -EINVAL;
}

int metrics_start(struct metrics_server **out, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct metrics_server *m;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	int fd, one = 1, r;
	socklen_t sl;

	r = parse_listen(spec, &ss, err, errlen);
	if (r)
		return r;
	/* bind here so the error is the real one (EADDRINUSE, EADDRNOTAVAIL) */
	sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64))
		goto sys;
	m = calloc(1, sizeof(*m));
	if (!m) {
		r = -ENOMEM;
		close(fd);
		snprintf(err, errlen, "metrics %s: %s", spec, strerror(-r));
		return r;
	}
	pthread_mutex_init(&m->lock, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, m, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!m->d) {
		close(fd);
		pthread_mutex_destroy(&m->lock);
		free(m);
		snprintf(err, errlen, "metrics %s: cannot start the HTTP server", spec);
		return -EIO;
	}
	*out = m;
	return 0;
sys:
	r = -errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "metrics %s: %s", spec, strerror(-r));
	return r;
}

void metrics_publish(struct metrics_server *m, const struct metrics_snap *s)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->snap = *s;
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);   /* closes the listen socket it was given */
	pthread_mutex_destroy(&m->lock);
	free(m);
}
