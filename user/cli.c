// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli.c - global flags, the command table, attach/detach/dev and the
 * configuration objects (parse -> op -> apply) with their show commands.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>

#include "batch.h"
#include "cli.h"
#include "cmdutil.h"
#include "dev_cmd.h"
#include "save.h"
#include "loader.h"
#include "out.h"
#include "state.h"
#include "status.h"
#include "syn_cmd.h"
#include "top.h"
#include "words.h"

#if __has_include("controller.h")
#include "controller.h"
#define CORRAL_HAVE_RUN 1
#endif

static bool verbose;

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static bool is_help(const char *w)
{
	return is(w, "help") || is(w, "--help") || is(w, "-h");
}

/* ---- usage ------------------------------------------------------------------- */

static const char usage_main[] =
	"Usage: corral [-j] [-p] [-v] OBJECT COMMAND [ARGS]\n"
	"       corral [-v] -f FILE          batch: one command per line, '#' comments\n"
	"       corral -c FILE               check a batch file, apply nothing\n"
	"       corral --version | corral help | corral OBJECT help\n"
	"OBJECT := { attach | detach | dev | mode | aggregate | limit | class |\n"
	"            allow | deny | shed | syn | status | top | save | flush | run }\n"
	"  -j  JSON output   -p  pretty JSON   -v  libbpf debug messages\n";

struct usage {
	const char *obj;
	const char *text;
};

static const struct usage usages[] = {
	{ "attach", "Usage: corral attach dev IFACE [mode xdp|xdp-generic|tc] [egress] [sources N]\n"
		    "                     [clock coarse|precise|fake]\n" },
	{ "detach", "Usage: corral detach dev IFACE\n" },
	{ "save", "Usage: corral save\n"
		  "  print the running configuration as a batch file (corral -f reads it back)\n" },
	{ "flush", "Usage: corral flush\n"
		   "  every policy setting back to its default; devices stay attached\n" },
	{ "dev", "Usage: corral dev show\n" },
	{ "mode", "Usage: corral mode set [enforce|monitor] [malformed pass|drop]\n"
		  "       corral mode show\n" },
	{ "aggregate", "Usage: corral aggregate set [v4 LEN] [v6 LEN] [class on|off]\n"
		       "       corral aggregate show\n" },
	{ "limit", "Usage: corral limit add default|egress|PREFIX [rate RATE] [burst PKTS]\n"
		   "                                       [bytes BYTERATE] [bburst SIZE]\n"
		   "       corral limit del default|egress|PREFIX\n"
		   "       corral limit show\n"
		   "RATE := 1000pps | 10kpps | 2mpps      BYTERATE := 800kbit | 10mbit | 1gbit\n"
		   "SIZE := 1500b | 64kb | 1mb\n" },
	{ "class", "Usage: corral class add|del CLASS proto tcp|udp|icmp|icmpv6 [dport PORT[-PORT]]\n"
		   "       corral class add|del CLASS src PREFIX\n"
		   "       corral class add|del CLASS dscp N\n"
		   "       corral class default CLASS\n"
		   "       corral class set CLASS action drop|reject\n"
		   "       corral class reply rate RATE [burst N]\n"
		   "       corral class show\n"
		   "CLASS := 0..7 (0 critical, never shed; 7 bulk)\n"
		   "action reject answers the class's shaping drops (TCP RST, ICMP prohibited)\n"
		   "within one reply budget for all classes (default rate 1000pps burst 100)\n" },
	{ "allow", "Usage: corral allow add PREFIX [timeout DURATION]\n"
		   "       corral allow del PREFIX\n"
		   "       corral allow show\n" },
	{ "deny", "Usage: corral deny add PREFIX [timeout DURATION]\n"
		  "       corral deny del PREFIX\n"
		  "       corral deny show\n" },
	{ "shed", "Usage: corral shed set LEVEL [scope new|all]\n"
		  "       corral shed off\n"
		  "       corral shed tune [epoch DURATION] [timeout DURATION]\n"
		  "       corral shed show\n"
		  "LEVEL := L | L.F   classes > L are shed, and the fraction 0.F of class-L sources\n" },
	{ "syn", "Usage: corral syn set ports PORTS [rate RATE] [burst N] [herd auto|on|off]\n"
		 "                      [window auto|DURATION] [cookies on|off]\n"
		 "       corral syn off\n"
		 "       corral syn show\n"
		 "PORTS := PORT[,PORT...]   PORT := 1..65535 | LO-HI\n"
		 "herd on starts jittered admission now and needs a window DURATION\n"
		 "cookies on answers the SYNs the gate admits with SYN cookies from XDP\n" },
	{ "status", "Usage: corral status [dev IFACE]\n" },
	{ "top", "Usage: corral top [count N]\n" },
	{ "run", "Usage: corral run [-c FILE] [--check] [--metrics [ADDR:]PORT] "
		 "[--interval DURATION]\n" },
};

static const char *usage_of(const char *obj)
{
	size_t i;

	for (i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (is(usages[i].obj, obj))
			return usages[i].text;
	return NULL;
}

static int print_usage(const char *obj, FILE *f)
{
	const char *u = obj ? usage_of(obj) : NULL;

	fputs(u ? u : usage_main, f);
	return f == stdout ? CORRAL_EXIT_OK : CORRAL_EXIT_USAGE;
}

/* ---- loaded state ------------------------------------------------------------ */

static int load_state(struct corral_handle *h, struct corral_state *s)
{
	int ret = corral_open_loaded(h);

	if (ret)
		return ret;
	ret = corral_state_load(h, s);
	if (ret) {
		corral_errorf("read state: %s", strerror(-ret));
		corral_handle_close(h);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

/* ---- printers shared with status ---------------------------------------------- */

static void print_limit(const char *key, const struct corral_limit *l)
{
	char b[64];

	out_open_object(key);
	if (l->pkt_rate) {
		print_u64(PRINT_JSON, "pkt_rate", NULL, l->pkt_rate);
		print_u64(PRINT_JSON, "pkt_burst", NULL, l->pkt_burst);
		print_string(PRINT_TEXT, NULL, " rate %s", corral_rate_str(l->pkt_rate, b, sizeof(b)));
		print_u64(PRINT_TEXT, NULL, " burst %llu", l->pkt_burst);
	}
	if (l->byte_rate) {
		print_u64(PRINT_JSON, "byte_rate", NULL, l->byte_rate);
		print_u64(PRINT_JSON, "byte_burst", NULL, l->byte_burst);
		print_string(PRINT_TEXT, NULL, " bytes %s",
			     corral_byterate_str(l->byte_rate, b, sizeof(b)));
		print_string(PRINT_TEXT, NULL, " bburst %s",
			     corral_size_str(l->byte_burst, b, sizeof(b)));
	}
	if (!l->pkt_rate && !l->byte_rate)
		print_text(" unlimited");
	out_close_object();
}

/*
 * Hit counters of one rule under key (JSON: packets, bytes, dropped and
 * last_ms_ago, null before the first hit; null when the data plane keeps
 * no counters), text " packets N bytes N [dropped N]".
 */
static void print_hits(const struct corral_handle *h, const struct corral_prule *r,
		       __u64 now, const char *key, bool dropped)
{
	struct corral_hits v;
	int err = corral_hits_read(h, &r->key, &v);

	/* no entry: not hit yet; no map (an older data plane): no counters */
	if (err && (err != -ENOENT || h->hits_fd < 0)) {
		print_null(PRINT_JSON, key, NULL);
		return;
	}
	out_open_object(key);
	print_u64(PRINT_ANY, "packets", " packets %llu", v.packets);
	print_u64(PRINT_ANY, "bytes", " bytes %llu", v.bytes);
	print_u64(dropped ? PRINT_ANY : PRINT_JSON, "dropped", " dropped %llu", v.dropped);
	if (!v.packets)
		print_null(PRINT_JSON, "last_ms_ago", NULL);
	else
		print_u64(PRINT_JSON, "last_ms_ago", NULL,
			  now > v.last_ns ? (now - v.last_ns) / 1000000ull : 0);
	out_close_object();
}

static int prule_sort(const void *pa, const void *pb)
{
	const struct corral_prule *a = pa, *b = pb;
	struct corral_prefix x, y;

	corral_lpm_to_prefix(&a->key.pfx, &x);
	corral_lpm_to_prefix(&b->key.pfx, &y);
	if (x.family != y.family)
		return x.family < y.family ? -1 : 1;
	if (memcmp(x.addr, y.addr, 16))
		return memcmp(x.addr, y.addr, 16);
	return x.len < y.len ? -1 : x.len > y.len;
}

static void sort_rules(struct corral_state *s)
{
	if (s->npr)
		qsort(s->pr, s->npr, sizeof(*s->pr), prule_sort);
}

/* ---- show commands ------------------------------------------------------------ */

static int show_mode(void)
{
	struct corral_handle h;
	int ret = corral_open_loaded(&h);

	if (ret)
		return ret;
	out_begin();
	corral_print_mode(corral_cfg_live(&h));
	out_end();
	corral_handle_close(&h);
	return 0;
}

static int show_aggregate(void)
{
	struct corral_handle h;
	int ret = corral_open_loaded(&h);

	if (ret)
		return ret;
	out_begin();
	corral_print_aggregate(corral_cfg_live(&h));
	out_end();
	corral_handle_close(&h);
	return 0;
}

static int show_limit(void)
{
	struct corral_handle h;
	struct corral_state s;
	char b[CORRAL_PREFIX_STRLEN];
	size_t i;
	int ret = load_state(&h, &s);

	if (ret)
		return ret;
	sort_rules(&s);
	out_begin();
	print_text("default");
	print_limit("default", &s.cfg.dflt);
	print_nl();
	if (s.cfg.egress_buckets) {
		print_text("egress");
		print_limit("egress", &s.cfg.egress);
		print_nl();
	} else {
		print_null(PRINT_JSON, "egress", NULL);
	}
	out_open_array("limits");
	for (i = 0; i < s.npr; i++) {
		if (s.pr[i].key.kind != CORRAL_RULE_LIMIT)
			continue;
		out_open_object(NULL);
		print_string(PRINT_ANY, "prefix", "%s", corral_lpm_str(&s.pr[i].key.pfx, b, sizeof(b)));
		print_limit("limit", &s.pr[i].val.limit);
		print_hits(&h, &s.pr[i], s.now_ns, "hits", true);
		out_close_object();
		print_nl();
	}
	out_close_array();
	out_end();
	corral_state_free(&s);
	corral_handle_close(&h);
	return 0;
}

static int show_class(void)
{
	struct corral_handle h;
	struct corral_state s;
	char b[CORRAL_PREFIX_STRLEN];
	size_t i;
	int ret = load_state(&h, &s);

	if (ret)
		return ret;
	sort_rules(&s);
	if (s.npt)
		qsort(s.pt, s.npt, sizeof(*s.pt), corral_ptrule_cmp);
	out_begin();
	print_u64(PRINT_ANY, "default", "class default %llu\n", s.cfg.default_class);
	out_open_array("actions");
	for (i = 0; i < CORRAL_NCLASS; i++)
		print_string(PRINT_JSON, NULL, NULL,
			     s.cfg.class_action[i] == CORRAL_ACTION_REJECT ? "reject" : "drop");
	out_close_array();
	print_text("class action");
	for (i = 0; i < CORRAL_NCLASS; i++)
		print_text(" %zu:%s", i, s.cfg.class_action[i] == CORRAL_ACTION_REJECT ?
			   "reject" : "drop");
	print_text("\n");
	out_open_object("reply");
	print_u64(PRINT_ANY, "rate", "class reply rate %llupps", s.cfg.reply_rate);
	print_u64(PRINT_ANY, "burst", " burst %llu\n", s.cfg.reply_burst);
	out_close_object();
	out_open_array("ports");
	for (i = 0; i < s.npt; i++) {
		const struct corral_ptrule *r = &s.pt[i];
		bool all = r->key.port_lo == 0 && r->key.port_hi == 65535;

		out_open_object(NULL);
		print_u64(PRINT_ANY, "class", "class %llu", r->cls);
		print_string(PRINT_ANY, "proto", " proto %s", corral_proto_name(r->key.proto_idx));
		print_u64(PRINT_JSON, "dport_lo", NULL, r->key.port_lo);
		print_u64(PRINT_JSON, "dport_hi", NULL, r->key.port_hi);
		if (!all && r->key.port_lo == r->key.port_hi)
			print_u64(PRINT_TEXT, NULL, " dport %llu", r->key.port_lo);
		else if (!all)
			print_text(" dport %u-%u", r->key.port_lo, r->key.port_hi);
		out_close_object();
		print_nl();
	}
	out_close_array();
	out_open_array("src");
	for (i = 0; i < s.npr; i++) {
		if (s.pr[i].key.kind != CORRAL_RULE_CLASS)
			continue;
		out_open_object(NULL);
		print_u64(PRINT_ANY, "class", "class %llu", s.pr[i].val.class);
		print_string(PRINT_ANY, "prefix", " src %s\n",
			     corral_lpm_str(&s.pr[i].key.pfx, b, sizeof(b)));
		out_close_object();
	}
	out_close_array();
	out_open_array("dscp");
	for (i = 0; i < 64; i++) {
		if (s.cfg.dscp_class[i] == CORRAL_CLASS_ANY)
			continue;
		out_open_object(NULL);
		print_u64(PRINT_ANY, "class", "class %llu", s.cfg.dscp_class[i]);
		print_u64(PRINT_ANY, "dscp", " dscp %llu\n", i);
		out_close_object();
	}
	out_close_array();
	out_end();
	corral_state_free(&s);
	corral_handle_close(&h);
	return 0;
}

static int show_list(bool allow)
{
	struct corral_handle h;
	struct corral_state s;
	char b[CORRAL_PREFIX_STRLEN];
	__u32 kind = allow ? CORRAL_RULE_ALLOW : CORRAL_RULE_DENY;
	size_t i;
	int ret = load_state(&h, &s);

	if (ret)
		return ret;
	sort_rules(&s);
	out_begin();
	out_open_array(allow ? "allow" : "deny");
	for (i = 0; i < s.npr; i++) {
		__u64 e = s.pr[i].val.expires_ns;

		if (s.pr[i].key.kind != kind)
			continue;
		print_string(PRINT_ANY, NULL, "%s", corral_lpm_str(&s.pr[i].key.pfx, b, sizeof(b)));
		if (e)
			print_text(" timeout %llus left", (unsigned long long)
				   ((e - s.now_ns + 999999999ull) / 1000000000ull));
		if (!out_is_json())
			print_hits(&h, &s.pr[i], s.now_ns, NULL, false);
		print_text("\n");
	}
	out_close_array();
	/* JSON: the list stays an array of prefixes; counters beside it */
	out_open_object("hits");
	for (i = 0; i < s.npr && out_is_json(); i++)
		if (s.pr[i].key.kind == kind)
			print_hits(&h, &s.pr[i], s.now_ns,
				   corral_lpm_str(&s.pr[i].key.pfx, b, sizeof(b)), true);
	out_close_object();
	/* JSON: the list stays an array of prefixes; time left beside it */
	out_open_object("expires_ms");
	for (i = 0; i < s.npr; i++) {
		__u64 e = s.pr[i].val.expires_ns;

		if (s.pr[i].key.kind == kind && e)
			print_u64(PRINT_JSON, corral_lpm_str(&s.pr[i].key.pfx, b, sizeof(b)), NULL,
				  (e - s.now_ns) / 1000000ull);
	}
	out_close_object();
	out_end();
	corral_state_free(&s);
	corral_handle_close(&h);
	return 0;
}

static int show_shed(void)
{
	struct corral_handle h;
	const struct corral_cfg *c;
	int ret = corral_open_loaded(&h);

	if (ret)
		return ret;
	c = corral_cfg_live(&h);
	out_begin();
	corral_print_shed(corral_shed_read(&h), __atomic_load_n(&h.ctl->heartbeat_ns, __ATOMIC_ACQUIRE),
			  c->hb_timeout_ns);
	print_u64(PRINT_ANY, "epoch_ms", "epoch %llu ms", c->epoch_ns / 1000000);
	print_u64(PRINT_ANY, "timeout_ms", " timeout %llu ms\n", c->hb_timeout_ns / 1000000);
	out_end();
	corral_handle_close(&h);
	return 0;
}

static int show_syn(void)
{
	static struct corral_counter st[CORRAL_NSTATS];
	struct corral_handle h;
	int ret = corral_open_loaded(&h);

	if (ret)
		return ret;
	ret = corral_stats_read(&h, st);
	if (ret) {
		corral_errorf("syn: read counters: %s", strerror(-ret));
		corral_handle_close(&h);
		return CORRAL_EXIT_FAIL;
	}
	out_begin();
	corral_print_syn(&h, st);
	out_end();
	corral_handle_close(&h);
	return 0;
}

static int do_syn(int argc, char **argv)
{
	struct corral_syn_op op;
	char err[768];
	int ret;

	if (argc < 2 || is_help(argv[1]))
		return print_usage("syn", argc < 2 ? stderr : stdout);
	if (is(argv[1], "show") || is(argv[1], "list")) {
		if (argc > 2) {
			corral_errorf("syn: unknown argument \"%s\"", argv[2]);
			return CORRAL_EXIT_USAGE;
		}
		return show_syn();
	}
	ret = corral_syn_parse(argc, argv, &op, err, sizeof(err));
	if (ret == CORRAL_PARSE_NOT_CONFIG) {
		corral_errorf("syn: unknown command \"%s\"", argv[1]);
		return CORRAL_EXIT_USAGE;
	}
	if (ret) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_USAGE;
	}
	ret = corral_syn_commit(&op, NULL, err, sizeof(err));
	if (ret) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

static int do_dev(int argc, char **argv)
{
	struct corral_handle h;
	int ret;

	if (argc < 2 || is_help(argv[1]))
		return print_usage("dev", argc < 2 ? stderr : stdout);
	if (!is(argv[1], "show") && !is(argv[1], "list")) {
		corral_errorf("dev: unknown command \"%s\"", argv[1]);
		return CORRAL_EXIT_USAGE;
	}
	if (argc > 2) {
		corral_errorf("dev: unknown argument \"%s\"", argv[2]);
		return CORRAL_EXIT_USAGE;
	}
	ret = corral_open_loaded(&h);
	if (ret)
		return ret;
	out_begin();
	corral_print_devices(h.devs_fd, NULL);
	out_end();
	corral_handle_close(&h);
	return 0;
}

/* ---- attach / detach ------------------------------------------------------------ */

static void fallback_notice(const char *ifname)
{
	fprintf(stderr, "corral: attach %s: no native XDP in its driver; attached in "
		"xdp-generic mode\n", ifname);
}

/* attach and detach: one device op, applied as a list of one */
static int do_dev_op(int argc, char **argv)
{
	struct corral_dev_op op;
	struct corral_dev_apply a = { .ops = &op, .n = 1, .notice = fallback_notice };
	char err[768];

	if (argc < 2 || is_help(argv[1]))
		return print_usage(argv[0], argc < 2 ? stderr : stdout);
	if (corral_dev_parse(argc, argv, false, &op, err, sizeof(err))) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_USAGE;
	}
	if (corral_dev_ops_apply(&a, err, sizeof(err))) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

/* ---- configuration objects --------------------------------------------------------- */

static int do_config(int argc, char **argv)
{
	const char *obj = argv[0];
	struct corral_op op;
	char err[768];
	int ret;

	if (argc < 2 || is_help(argv[1]))
		return print_usage(obj, argc < 2 ? stderr : stdout);
	if (is(argv[1], "show") || is(argv[1], "list")) {
		if (argc > 2) {
			corral_errorf("%s: unknown argument \"%s\"", obj, argv[2]);
			return CORRAL_EXIT_USAGE;
		}
		if (is(obj, "mode"))
			return show_mode();
		if (is(obj, "aggregate"))
			return show_aggregate();
		if (is(obj, "limit"))
			return show_limit();
		if (is(obj, "class"))
			return show_class();
		if (is(obj, "allow") || is(obj, "deny"))
			return show_list(is(obj, "allow"));
		if (is(obj, "shed"))
			return show_shed();
	}
	ret = corral_op_parse(argc, argv, &op, err, sizeof(err));
	if (ret == CORRAL_PARSE_NOT_CONFIG) {
		corral_errorf("%s: unknown command \"%s\"", obj, argv[1]);
		return CORRAL_EXIT_USAGE;
	}
	if (ret) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_USAGE;
	}
	ret = corral_ops_commit(&op, 1, NULL, err, sizeof(err));
	if (ret) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

static int do_batch(const char *path, bool check)
{
	struct corral_batch *b;
	char err[1024];
	int ret;

	ret = corral_batch_parse_file(path, &b, NULL, NULL, err, sizeof(err));
	if (ret) {
		corral_errorf("%s", err);
		return ret == -EINVAL ? CORRAL_EXIT_USAGE : CORRAL_EXIT_FAIL;
	}
	if (check)
		ret = corral_batch_check(b, 0, err, sizeof(err)) < 0 ? -1 : 0;
	else
		ret = corral_batch_apply(b, 0, fallback_notice, err, sizeof(err));
	corral_batch_free(b);
	if (ret) {
		corral_errorf("%s", err);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

/* ---- save / flush ---------------------------------------------------------------- */

static int save_line(void *arg, const char *line)
{
	print_string(PRINT_ANY, NULL, "%s\n", line);
	return 0;
}

static int do_save(int argc, char **argv)
{
	static struct corral_portset ports;
	struct corral_dev_entry devs[CORRAL_DEVS_MAX];
	struct corral_save_in in = { .synports = &ports, .devs = devs };
	struct corral_handle h;
	struct corral_state s;
	int ret;

	if (argc > 1 && is_help(argv[1]))
		return print_usage("save", stdout);
	if (argc > 1) {
		corral_errorf("save: unknown argument \"%s\"", argv[1]);
		return CORRAL_EXIT_USAGE;
	}
	ret = load_state(&h, &s);
	if (ret)
		return ret;
	corral_synports_read(&h, &ports);
	in.ndev = corral_devs_list(h.devs_fd, devs, CORRAL_DEVS_MAX);
	if (in.ndev < 0) {
		corral_errorf("save: corral_devs: %s", strerror(-in.ndev));
		ret = CORRAL_EXIT_FAIL;
		goto out;
	}
	in.s = &s;
	out_begin();
	out_open_array("lines");
	ret = corral_save_emit(&in, save_line, NULL);
	out_close_array();
	out_end();
	if (ret) {
		corral_errorf("save: %s", strerror(-ret));
		ret = CORRAL_EXIT_FAIL;
	}
out:
	corral_state_free(&s);
	corral_handle_close(&h);
	return ret;
}

static int do_flush(int argc, char **argv)
{
	char err[512];

	if (argc > 1 && is_help(argv[1]))
		return print_usage("flush", stdout);
	if (argc > 1) {
		corral_errorf("flush: unknown argument \"%s\"", argv[1]);
		return CORRAL_EXIT_USAGE;
	}
	if (corral_flush(err, sizeof(err))) {
		corral_errorf("flush: %s", err);
		return CORRAL_EXIT_FAIL;
	}
	return 0;
}

static int do_help(int argc, char **argv)
{
	if (argc > 1 && !is_help(argv[1]))
		return print_usage(argv[1], stdout);
	return print_usage(NULL, stdout);
}

#ifdef CORRAL_HAVE_RUN
static int do_run(int argc, char **argv)
{
	if (argc > 1 && is_help(argv[1]))
		return print_usage("run", stdout);
	return cmd_run(argc, argv);
}
#endif

static int do_status(int argc, char **argv)
{
	if (argc > 1 && is_help(argv[1]))
		return print_usage("status", stdout);
	return cmd_status(argc, argv);
}

static int do_top(int argc, char **argv)
{
	if (argc > 1 && is_help(argv[1]))
		return print_usage("top", stdout);
	return cmd_top(argc, argv);
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "attach", do_dev_op },
	{ "detach", do_dev_op },
	{ "dev", do_dev },
	{ "mode", do_config },
	{ "aggregate", do_config },
	{ "limit", do_config },
	{ "class", do_config },
	{ "allow", do_config },
	{ "deny", do_config },
	{ "shed", do_config },
	{ "syn", do_syn },
	{ "status", do_status },
	{ "top", do_top },
	{ "save", do_save },
	{ "flush", do_flush },
#ifdef CORRAL_HAVE_RUN
	{ "run", do_run },
#endif
	{ "help", do_help },
	{ 0 }
};

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool cap_has(const struct __user_cap_data_struct d[2], unsigned int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Every command but help works on pinned BPF objects and devices: it needs
 * CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN). Checked before anything is
 * read or changed, so an unprivileged run says what is missing instead of
 * a bare "Operation not permitted" half way through.
 */
static int need_privilege(const char *obj)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &hdr, d))
		return 0; /* unknown: let the kernel answer */
	if (cap_has(d, CAP_NET_ADMIN) && (cap_has(d, CAP_BPF) || cap_has(d, CAP_SYS_ADMIN)))
		return 0;
	corral_errorf("%s: needs root (CAP_BPF and CAP_NET_ADMIN)", obj);
	return CORRAL_EXIT_FAIL;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int corral_main(int argc, char **argv)
{
	const char *batch = NULL;
	bool check = false;
	const struct cmd *c;
	int i = 1;

	out_json = out_pretty = false;
	verbose = false;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *w = argv[i];

		if (is_help(w))
			return print_usage(NULL, stdout);
		if (is(w, "--version") || is(w, "-V")) {
			printf("corral %s (libbpf %s)\n", CORRAL_VERSION, libbpf_version_string());
			return 0;
		}
		if (is(w, "-c") || is(w, "--check")) {
			/* "corral -c FILE": check a batch file, apply nothing */
			check = true;
			w = "-f";
		}
		if (is(w, "-f") || is(w, "-batch")) {
			if (++i >= argc) {
				corral_errorf("missing FILE after \"%s\"", w);
				return CORRAL_EXIT_USAGE;
			}
			batch = argv[i];
			continue;
		}
		if (w[1] == '-') {
			corral_errorf("unknown option \"%s\"", w);
			return print_usage(NULL, stderr);
		}
		for (w++; *w; w++) {
			if (*w == 'j')
				out_json = true;
			else if (*w == 'p')
				out_pretty = true;
			else if (*w == 'v')
				verbose = true;
			else {
				corral_errorf("unknown option \"%s\"", argv[i]);
				return print_usage(NULL, stderr);
			}
		}
	}
	libbpf_set_print(libbpf_print);
	if (batch) {
		if (i < argc) {
			corral_errorf("unexpected \"%s\" after -f FILE", argv[i]);
			return CORRAL_EXIT_USAGE;
		}
		if (need_privilege("batch"))
			return CORRAL_EXIT_FAIL;
		return do_batch(batch, check);
	}
	if (i >= argc)
		return print_usage(NULL, stderr);
	for (c = cmds; c->name; c++) {
		if (!is(argv[i], c->name))
			continue;
		if (c->fn != do_help && !(i + 1 < argc && is_help(argv[i + 1])) &&
		    need_privilege(c->name))
			return CORRAL_EXIT_FAIL;
		return c->fn(argc - i, argv + i);
	}
	corral_errorf("unknown object \"%s\" (try \"corral help\")", argv[i]);
	return CORRAL_EXIT_USAGE;
}
