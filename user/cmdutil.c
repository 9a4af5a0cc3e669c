// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmdutil.c - helpers and printers shared by the commands (see cmdutil.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmdutil.h"
#include "handle.h"
#include "loader.h"
#include "out.h"
#include "words.h"

void corral_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("corral: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int corral_open_loaded(struct corral_handle *h)
{
	int ret = corral_handle_open(h);

	if (ret == -ENOENT) {
		corral_errorf("not loaded (attach a device first)");
		return CORRAL_EXIT_FAIL;
	}
	if (ret) {
		corral_errorf("%s: %s", corral_pin_dir(), strerror(-ret));
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

static const char *mode_name(__u8 m)
{
	return m == CORRAL_MODE_MONITOR ? "monitor" : "enforce";
}

void corral_print_mode(const struct corral_cfg *c)
{
	print_string(PRINT_ANY, "mode", "mode %s", mode_name(c->mode));
	print_string(PRINT_ANY, "malformed", " malformed %s", c->malformed_pass ? "pass" : "drop");
	print_nl();
}

void corral_print_aggregate(const struct corral_cfg *c)
{
	out_open_object("aggregate");
	print_u64(PRINT_ANY, "v4", "aggregate v4 %llu", c->v4_prefix);
	print_u64(PRINT_ANY, "v6", " v6 %llu", c->v6_prefix);
	print_string(PRINT_TEXT, NULL, " class %s", c->key_class ? "on" : "off");
	print_bool(PRINT_JSON, "class", NULL, c->key_class);
	out_close_object();
	print_nl();
}

void corral_print_shed(__u64 w, __u64 hb_ns, __u64 timeout_ns)
{
	__u32 flags = CORRAL_SHED_FLAGS(w);
	bool on = flags & CORRAL_SHED_ON;
	bool ctrl = flags & CORRAL_SHED_HB;
	__u64 now = corral_now_ns();
	bool stale = ctrl && (!hb_ns || now - hb_ns > timeout_ns);
	char b[32];

	out_open_object("shed");
	print_bool(PRINT_JSON, "on", NULL, on);
	if (!on) {
		print_text("shed off");
	} else {
		corral_level_str(CORRAL_SHED_LEVEL(w), CORRAL_SHED_FRAC(w), b, sizeof(b));
		print_string(PRINT_TEXT, NULL, "shed %s", b);
		print_u64(PRINT_JSON, "level", NULL, CORRAL_SHED_LEVEL(w));
		print_u64(PRINT_JSON, "frac", NULL, CORRAL_SHED_FRAC(w));
		print_double(PRINT_JSON, "fraction", NULL,
			     (double)CORRAL_SHED_FRAC(w) / CORRAL_FRAC_ONE);
		print_string(PRINT_ANY, "scope", " scope %s",
			     CORRAL_SHED_SCOPE(w) == CORRAL_SCOPE_ALL ? "all" : "new");
		print_string(PRINT_ANY, "source", " (%s)", ctrl ? "controller" : "manual");
		if (stale)
			print_text(" stale heartbeat: not applied");
	}
	print_bool(PRINT_JSON, "stale", NULL, stale);
	print_u64(PRINT_JSON, "word", NULL, w);
	out_close_object();
	if (hb_ns && now >= hb_ns)
		print_u64(PRINT_ANY, "heartbeat_age_ms", "\nheartbeat %llu ms ago",
			  (now - hb_ns) / 1000000);
	else
		print_null(PRINT_ANY, "heartbeat_age_ms", "\nheartbeat never");
	print_nl();
}

void corral_print_devices(int devs_fd, const char *only)
{
	struct corral_dev_entry d[CORRAL_DEVS_MAX];
	int n = corral_devs_list(devs_fd, d, CORRAL_DEVS_MAX), i;

	out_open_array("devices");
	for (i = 0; i < n; i++) {
		char name[IF_NAMESIZE];
		bool present = if_indextoname(d[i].ifindex, name) &&
			       !strcmp(name, d[i].dev.ifname);

		if (only && strcmp(only, d[i].dev.ifname))
			continue;
		out_open_object(NULL);
		print_string(PRINT_ANY, "ifname", "dev %s", d[i].dev.ifname);
		print_u64(PRINT_ANY, "ifindex", " ifindex %llu", d[i].ifindex);
		print_string(PRINT_ANY, "mode", " mode %s", corral_attach_mode_name(d[i].dev.mode));
		print_bool(PRINT_JSON, "egress", NULL, d[i].dev.egress);
		if (d[i].dev.egress)
			print_text(" egress");
		print_bool(PRINT_JSON, "present", NULL, present);
		if (!present)
			print_text(" (device gone)");
		out_close_object();
		print_nl();
	}
	out_close_array();
}
