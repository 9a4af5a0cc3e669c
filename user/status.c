// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status.c - "corral status": counters per class and reason, tracked
 * sources, mode, shed, aggregation, devices, controller state.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "cmdutil.h"
#include "handle.h"
#include "loader.h"
#include "out.h"
#include "status.h"
#include "syn_cmd.h"
#include "words.h"

static const char *const gstat_names[CORRAL_NGSTAT] = {
	[CORRAL_G_SRC_NEW] = "src_new",
	[CORRAL_G_DST_NEW] = "dst_new",
	[CORRAL_G_BUCKET_RETRY] = "bucket_retry",
	[CORRAL_G_REPLY_SENT] = "reply_sent",
	[CORRAL_G_REPLY_SUPPRESSED] = "reply_suppressed",
	[CORRAL_G_COOKIE_NONE] = "cookie_unanswered",
	[CORRAL_G_COOKIE_OK] = "cookie_ok",
	[CORRAL_G_COOKIE_BAD] = "cookie_bad",
	[CORRAL_G_COOKIE_FAIL] = "cookie_refused",
};

const char *corral_row_name(unsigned int row, char *buf, size_t len)
{
	if (row == CORRAL_ROW_NONE)
		return "none";
	snprintf(buf, len, "%u", row);
	return buf;
}

static __s64 json_int(struct json_object *o, const char *key, __s64 dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return dflt;
	return json_object_get_int64(v);
}

/* pid is gone, or left as a zombie (killed, not yet reaped) */
static bool pid_dead(int pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool zombie = false;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		zombie = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	}
	fclose(f);
	return zombie;
}

/*
 * A controller that says it runs but is dead: pid gone, or the file not
 * rewritten (every second) within the heartbeat timeout, or the data
 * plane's heartbeat (hb_ns, 0 when not known) older than the timeout.
 */
static bool controller_stale(struct json_object *o, __u64 hb_ns, bool hb_known)
{
	__s64 pid = json_int(o, "pid", 0), updated = json_int(o, "updated", 0);
	__s64 timeout_ms = json_int(o, "heartbeat_timeout_ms", 0);
	__s64 limit_s, now = time(NULL);
	__u64 mono;

	if (pid > 0 && pid <= INT32_MAX && pid_dead((int)pid))
		return true;
	if (timeout_ms < 1000)
		timeout_ms = 1000;
	/* whole seconds in the file: one more of slack, and one for the write period */
	limit_s = timeout_ms / 1000 + 2;
	if (updated > 0 && now - updated > limit_s)
		return true;
	if (hb_known) {
		mono = corral_now_ns();
		if (!hb_ns || (mono > hb_ns && mono - hb_ns > (__u64)timeout_ms * 1000000ull))
			return true;
	}
	return false;
}

static struct json_object *controller_state(__u64 hb_ns, bool hb_known)
{
	struct json_object *o, *run;
	char path[512];

	if (snprintf(path, sizeof(path), "%s/controller.json", corral_run_dir()) >=
	    (int)sizeof(path))
		return NULL;
	o = json_object_from_file(path);
	if (!o)
		return NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	/* a file left by a dead controller (kill -9): say so */
	if (json_object_object_get_ex(o, "running", &run) && json_object_get_boolean(run) &&
	    controller_stale(o, hb_ns, hb_known)) {
		json_object_object_add(o, "running", json_object_new_boolean(0));
		json_object_object_add(o, "stale", json_object_new_boolean(1));
	}
	return o;
}

struct json_object *corral_controller_state(void)
{
	return controller_state(0, false);
}

static void print_json_text(struct json_object *o, int depth)
{
	json_object_object_foreach(o, k, v) {
		if (json_object_is_type(v, json_type_object)) {
			print_text("%*s%s:\n", depth * 2, "", k);
			print_json_text(v, depth + 1);
		} else {
			print_text("%*s%s %s\n", depth * 2, "", k, json_object_to_json_string_ext(
					   v, JSON_C_TO_STRING_PLAIN));
		}
	}
}

void corral_print_controller(__u64 hb_ns)
{
	struct json_object *o = controller_state(hb_ns, true), *v;

	if (!o) {
		print_null(PRINT_JSON, "controller", NULL);
		print_text("controller: not running\n");
		return;
	}
	print_json_obj("controller", o);
	if (json_object_object_get_ex(o, "stale", &v) && json_object_get_boolean(v)) {
		print_text("controller: not running (stale status file)\n");
		if (json_object_object_get_ex(o, "pid", &v))
			print_text("  pid %s\n", json_object_to_json_string(v));
	} else {
		print_text("controller:\n");
		print_json_text(o, 1);
	}
	json_object_put(o);
}

static __u32 buckets_max(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

int cmd_status(int argc, char **argv)
{
	static struct corral_counter st[CORRAL_NSTATS];
	struct corral_counter tot[CORRAL_NREASON] = {};
	const struct corral_cfg *c;
	const char *dev = NULL;
	struct corral_handle h;
	char b[32];
	__u64 nsrc = 0;
	unsigned int row, r;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "dev")) {
			if (dev) {
				corral_errorf("status: duplicate \"dev\"");
				return CORRAL_EXIT_USAGE;
			}
			if (++i >= argc) {
				corral_errorf("status: missing argument after \"dev\"");
				return CORRAL_EXIT_USAGE;
			}
			dev = argv[i];
		} else {
			corral_errorf("status: unknown argument \"%s\"", argv[i]);
			return CORRAL_EXIT_USAGE;
		}
	}
	ret = corral_open_loaded(&h);
	if (ret)
		return ret;
	if (dev) {
		struct corral_dev_entry d[CORRAL_DEVS_MAX];
		int n = corral_devs_list(h.devs_fd, d, CORRAL_DEVS_MAX);
		bool found = false;

		for (i = 0; i < n; i++)
			found |= !strcmp(d[i].dev.ifname, dev);
		if (!found) {
			corral_errorf("status: dev %s: not attached", dev);
			corral_handle_close(&h);
			return CORRAL_EXIT_FAIL;
		}
	}
	ret = corral_stats_read(&h, st);
	if (!ret)
		ret = corral_sources_count(&h, &nsrc);
	if (ret) {
		corral_errorf("status: read counters: %s", strerror(-ret));
		corral_handle_close(&h);
		return CORRAL_EXIT_FAIL;
	}
	c = corral_cfg_live(&h);

	out_begin();
	print_bool(PRINT_JSON, "loaded", NULL, true);
	corral_print_mode(c);
	corral_print_aggregate(c);
	corral_print_shed(corral_shed_read(&h), __atomic_load_n(&h.ctl->heartbeat_ns, __ATOMIC_ACQUIRE),
			  c->hb_timeout_ns);
	corral_print_syn(&h, st);
	print_u64(PRINT_ANY, "default_class", "class default %llu\n", c->default_class);
	print_u64(PRINT_ANY, "sources", "sources %llu", nsrc);
	print_u64(PRINT_ANY, "sources_max", " of %llu\n", buckets_max(h.buckets_fd));
	corral_print_devices(h.devs_fd, dev);

	print_text("%-6s %-10s %14s %16s\n", "class", "reason", "packets", "bytes");
	out_open_object("counters");
	for (row = 0; row < CORRAL_NROWS; row++) {
		out_open_object(corral_row_name(row, b, sizeof(b)));
		for (r = 0; r < CORRAL_NREASON; r++) {
			const struct corral_counter *v = &st[CORRAL_STAT_KEY(row, r)];

			tot[r].packets += v->packets;
			tot[r].bytes += v->bytes;
			out_open_object(corral_reason_name(r));
			print_u64(PRINT_JSON, "packets", NULL, v->packets);
			print_u64(PRINT_JSON, "bytes", NULL, v->bytes);
			out_close_object();
			if (v->packets)
				print_text("%-6s %-10s %14llu %16llu\n", corral_row_name(row, b, sizeof(b)),
					   corral_reason_name(r), (unsigned long long)v->packets,
					   (unsigned long long)v->bytes);
		}
		out_close_object();
	}
	out_close_object();
	out_open_object("totals");
	for (r = 0; r < CORRAL_NREASON; r++) {
		out_open_object(corral_reason_name(r));
		print_u64(PRINT_JSON, "packets", NULL, tot[r].packets);
		print_u64(PRINT_JSON, "bytes", NULL, tot[r].bytes);
		out_close_object();
		if (tot[r].packets)
			print_text("%-6s %-10s %14llu %16llu\n", "all", corral_reason_name(r),
				   (unsigned long long)tot[r].packets,
				   (unsigned long long)tot[r].bytes);
	}
	out_close_object();
	out_open_object("global");
	for (r = 0; r < CORRAL_NGSTAT; r++) {
		print_text("%s%s", r ? " " : "", gstat_names[r]);
		print_u64(PRINT_ANY, gstat_names[r], " %llu", st[CORRAL_GSTAT_KEY(r)].packets);
	}
	print_nl();
	out_close_object();
	corral_print_controller(__atomic_load_n(&h.ctl->heartbeat_ns, __ATOMIC_ACQUIRE));
	out_end();
	corral_handle_close(&h);
	return 0;
}
