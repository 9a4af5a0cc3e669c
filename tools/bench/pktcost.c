// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktcost - nanoseconds per packet through corral_xdp with BPF_PROG_TEST_RUN,
 * side by side with the trivial XDP_DROP program, for the scenarios pass,
 * rate-drop, shed-drop and allow at several counts of tracked sources.
 *
 * Method. The bucket map is first filled with N sources (each source's
 * packet run once through corral_xdp). Then every measurement is taken in
 * the kernel's own timer (BPF_PROG_TEST_RUN duration), in these modes:
 *   hot     one packet, repeat R (>= 1M): the source's bucket, the LPM node
 *           and the counters stay in L1 and the branch predictor learns the
 *           one path; this hides every map and cache miss (best case).
 *   cycleK  one call per source, repeat K, sources in rotation, at least
 *           T packets (and every source at least once). The first packet of
 *           a call meets the source's state cold when N outgrows the cache,
 *           the other K-1 are hot, so the miss cost shows diluted by K; the
 *           syscall between calls also cools the caches for both programs.
 * Each measurement is repeated and reported as median [min-max]; the ratio
 * is corral's median over the trivial program's median measured the same
 * way in the same block. The clock is the object's default (coarse), never
 * the fake test clock. Each corral measurement also checks the verdicts
 * from the counters: the packets must land under the scenario's reason.
 *
 *   pktcost [-n SIZES] [-f FAMILIES] [-r HOTREP] [-c CYCLEREPS] [-t TOTAL]
 *           [-k RUNS] [-C CPU] [-w DOC] [-A]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "corral_shared.h"
#include "corral.skel.h"
#include "trivial.skel.h"
#include "pkt.h"
#include "harness.h"

#define MAX_SIZES 8
#define MAX_CYCLE 4
#define MAX_RUNS 101
#define MAX_FAMILIES 2
#define V4_TRACKED_MAX 131072u   /* 10.78.0.0/15 */
#define V4_ALLOW_MAX 65536u      /* 10.77.0.0/16 */
#define V6_MAX (1u << 24)
#define SHARE_MIN 0.99           /* verdict check: share under the expected reason */

#define XDP_DROP_RC 1
#define XDP_PASS_RC 2

enum scenario {
	SC_PASS = 0,
	SC_RATE,
	SC_SHED,
	SC_ALLOW,
	SC_MAIN,                 /* the scenarios above are always measured */
	SC_ABL_PARSE = SC_MAIN,  /* -A: the pass path with stages added one by one */
	SC_ABL_LPM,
	SC_ABL_PORT,
	SC_ABL_SHED,
	SC_N,
};

static const char *const sc_name[SC_N] = { "pass", "rate-drop", "shed-drop", "allow",
					   "abl:parse", "abl:+lpm", "abl:+port", "abl:+shed" };
static const __u32 sc_reason[SC_N] = { CORRAL_R_PASS, CORRAL_R_RATE, CORRAL_R_SHED,
				       CORRAL_R_ALLOW, CORRAL_R_PASS, CORRAL_R_PASS,
				       CORRAL_R_PASS, CORRAL_R_PASS };
static const __u32 sc_retval[SC_N] = { XDP_PASS_RC, XDP_DROP_RC, XDP_DROP_RC, XDP_PASS_RC,
				       XDP_PASS_RC, XDP_PASS_RC, XDP_PASS_RC, XDP_PASS_RC };

struct opts {
	unsigned long sizes[MAX_SIZES];
	int nsizes;
	int families[MAX_FAMILIES];
	int nfamilies;
	unsigned long hot_repeat;
	unsigned long cycle_rep[MAX_CYCLE];
	int ncycle;
	unsigned long cycle_total;
	int runs;
	int cpu;
	int nsc;                     /* SC_MAIN, or SC_N with -A */
	const char *doc;
};

/* one measured cell: ns per packet of each run */
struct cell {
	double ns[MAX_RUNS];
	int n;
	double med, min, max;
};

/* one row of the result table */
struct row {
	int family;
	unsigned long sources;
	unsigned long resident;
	int mode;                    /* 0 = hot, 1.. = cycle index + 1 */
	int scenario;                /* -1 = trivial */
	struct cell c;
	double trivial_med;
	double share;                /* share of packets under the expected reason */
	int verdict_ok;
};

struct bench {
	struct opts o;
	struct harness h;
	struct trivial_bpf *ts;
	int corral_fd, trivial_fd;
	int anchored;                /* 1: both programs attached in a private netns */
	unsigned long max_sources;   /* bucket table sized for this many */
	struct row *rows;
	int nrows, caprows;
	int failed;
	char cpu_model[128];
	char kernel[160];
	char date[32];
	char load_start[64], load_end[64];   /* /proc/loadavg: 1, 5, 15 min */
	unsigned pkt_len[MAX_FAMILIES + 1];
};

static void die(const char *what, int err)
{
	fprintf(stderr, "pktcost: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* ---- argument parsing ------------------------------------------------ */

static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v, mul = 1;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mul = 1000, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1000000, end++;
	if (*end)
		return -EINVAL;
	if (v > ULONG_MAX / mul)
		return -ERANGE;
	v *= mul;
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

/* comma-separated list of counts; empty items are errors */
static int parse_list(const char *s, unsigned long lo, unsigned long hi, unsigned long *out,
		      int max)
{
	char buf[256], *tok, *comma;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, s);
	for (tok = buf;; tok = comma + 1) {
		comma = strchr(tok, ',');
		if (comma)
			*comma = 0;
		if (n == max)
			return -E2BIG;
		if (parse_count(tok, lo, hi, &out[n]))
			return -EINVAL;
		n++;
		if (!comma)
			break;
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pktcost [-n SIZES] [-f FAMILIES] [-r HOTREP] [-c CYCLEREPS] [-t TOTAL]\n"
		"               [-k RUNS] [-C CPU] [-w DOC] [-A]\n"
		"  -n SIZES      tracked sources, comma list, K/M suffixes (default 1K,100K,1M)\n"
		"  -f FAMILIES   6, 4 or 6,4 (default 6); IPv4 sources come from 10.78.0.0/15,\n"
		"                so IPv4 sizes above %u are skipped\n"
		"  -r HOTREP     repeat of the one-packet measurement (default 1000000)\n"
		"  -c CYCLEREPS  repeat per call when cycling sources, comma list (default 64)\n"
		"  -t TOTAL      minimum packets per cycling measurement (default 1000000)\n"
		"  -k RUNS       runs per measurement, median/min/max reported (default 3)\n"
		"  -C CPU        CPU to run on (default: the last online CPU)\n"
		"  -w DOC        also write the table into DOC between the pktcost markers\n"
		"  -A            also measure the pass path with stages added one by one\n",
		V4_TRACKED_MAX);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	unsigned long v, fam[MAX_FAMILIES];
	int c, n, i;

	o->sizes[0] = 1000;
	o->sizes[1] = 100000;
	o->sizes[2] = 1000000;
	o->nsizes = 3;
	o->families[0] = 6;
	o->nfamilies = 1;
	o->hot_repeat = 1000000;
	o->cycle_rep[0] = 64;
	o->ncycle = 1;
	o->cycle_total = 1000000;
	o->runs = 3;
	o->cpu = -1;
	o->nsc = SC_MAIN;
	o->doc = NULL;

	while ((c = getopt(argc, argv, "n:f:r:c:t:k:C:w:Ah")) != -1) {
		switch (c) {
		case 'n':
			n = parse_list(optarg, 1, V6_MAX, o->sizes, MAX_SIZES);
			if (n < 0)
				goto bad;
			o->nsizes = n;
			break;
		case 'f':
			n = parse_list(optarg, 4, 6, fam, MAX_FAMILIES);
			if (n < 0)
				goto bad;
			for (i = 0; i < n; i++) {
				if (fam[i] != 4 && fam[i] != 6)
					goto bad;
				o->families[i] = (int)fam[i];
			}
			o->nfamilies = n;
			break;
		case 'r':
			if (parse_count(optarg, 1, INT_MAX, &o->hot_repeat))
				goto bad;
			break;
		case 'c':
			n = parse_list(optarg, 1, 1000000, o->cycle_rep, MAX_CYCLE);
			if (n < 0)
				goto bad;
			o->ncycle = n;
			break;
		case 't':
			if (parse_count(optarg, 1, 1000000000, &o->cycle_total))
				goto bad;
			break;
		case 'k':
			if (parse_count(optarg, 1, MAX_RUNS, &v))
				goto bad;
			o->runs = (int)v;
			break;
		case 'C':
			if (parse_count(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			o->cpu = (int)v;
			break;
		case 'w':
			o->doc = optarg;
			break;
		case 'A':
			o->nsc = SC_N;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pktcost: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
	return;
bad:
	fprintf(stderr, "pktcost: invalid value \"%s\" for -%c\n", optarg, c);
	usage(stderr);
	exit(2);
}

/* ---- packets ---------------------------------------------------------- */

#define BENCH_DPORT 9000
#define BENCH_SPORT 40000
#define BENCH_PAYLOAD 18

/*
 * Source i of a set. Tracked sources: IPv4 10.78.0.0/15, IPv6 one /64 each
 * under fd77:0000::/24 (the default v6 aggregation is /64). Allow-listed
 * sources: IPv4 10.77.0.0/16, IPv6 under fd77:a000::/20.
 */
static int build_packet(int family, int allow, unsigned long i, __u8 *buf, size_t cap)
{
	struct pkt_spec s;

	if (family == 4) {
		__u32 src = allow ? PKT_IP4_HOST(10, 77, 0, 0) + (__u32)(i % V4_ALLOW_MAX)
				  : PKT_IP4_HOST(10, 78, 0, 0) + (__u32)(i % V4_TRACKED_MAX);

		pkt_spec_v4(&s, htonl(src), PKT_IP4(10, 77, 255, 1), PKT_UDP, BENCH_SPORT,
			    BENCH_DPORT);
	} else {
		__u8 src[16], dst[16];
		__u16 hi = (__u16)((i >> 16) & 0xff) | (allow ? 0xa000 : 0);

		pkt_ip6(src, 0xfd77, hi, (__u16)(i & 0xffff), 0, 0, 0, 0, 1);
		pkt_ip6(dst, 0xfd77, 0xffff, 0, 0, 0, 0, 0, 1);
		pkt_spec_v6(&s, src, dst, PKT_UDP, BENCH_SPORT, BENCH_DPORT);
	}
	s.payload_len = BENCH_PAYLOAD;
	return pkt_build(&s, buf, cap, NULL);
}

/* ---- BPF setup ---------------------------------------------------------- */

/*
 * The configuration every scenario shares: all stages on. The policy trie
 * holds the allow prefixes and a limit prefix that no benchmark source
 * matches, the port table holds one rule (TCP 22 -> class 0) so classify
 * does its lookup, default class 3, shed on at a level that keeps class 3,
 * packet and byte buckets with a limit no benchmark packet reaches
 * (1e9 pkt/s, 1e10 B/s, one second of burst).
 */
#define BENCH_CLASS 3

static void set_scenario(struct bench *b, int sc)
{
	struct corral_cfg cfg;

	h_cfg_get(&b->h, &cfg);
	cfg.mode = CORRAL_MODE_ENFORCE;
	cfg.tables = CORRAL_TBL_PREFIX | CORRAL_TBL_PORT;
	cfg.default_class = BENCH_CLASS;
	cfg.dflt.pkt_rate = 1000000000ULL;
	cfg.dflt.pkt_burst = 1000000000ULL;
	cfg.dflt.byte_rate = 10000000000ULL;
	cfg.dflt.byte_burst = 10000000000ULL;
	if (sc == SC_RATE) {
		/*
		 * 1 packet per second with no burst: every packet is over the
		 * limit, however long ago the source was last seen; the drop
		 * takes the same path as a source over any rate (no CAS).
		 */
		cfg.dflt.pkt_rate = 1;
		cfg.dflt.pkt_burst = 0;
	}
	if (sc >= SC_ABL_PARSE && sc <= SC_ABL_SHED) {
		/* no limit; the trie and the port table only from +lpm / +port on */
		memset(&cfg.dflt, 0, sizeof(cfg.dflt));
		cfg.tables = 0;
		if (sc >= SC_ABL_LPM)
			cfg.tables |= CORRAL_TBL_PREFIX;
		if (sc >= SC_ABL_PORT)
			cfg.tables |= CORRAL_TBL_PORT;
	}
	h_cfg_set(&b->h, &cfg);
	/* classes above the level are shed: level 2 sheds class 3, level 7 nothing */
	h_set_shed(&b->h, CORRAL_SHED_PACK(sc == SC_SHED ? 2 : 7, 0, CORRAL_SCOPE_ALL,
					   sc >= SC_ABL_PARSE && sc < SC_ABL_SHED ?
					   0 : CORRAL_SHED_ON));
}

static void setup_tables(struct bench *b)
{
	struct corral_limit lim = { .pkt_rate = 100, .pkt_burst = 100 };
	__u8 a6[16];
	__u32 a4;
	int err;

	h_port_set(&b->h, CORRAL_PI_TCP, 22, 22, 0);

	a4 = PKT_IP4(10, 77, 0, 0);
	if ((err = h_policy_allow(&b->h, 4, &a4, 16)))
		die("corral_policy: allow 10.77.0.0/16", err);
	pkt_ip6(a6, 0xfd77, 0xa000, 0, 0, 0, 0, 0, 0);
	if ((err = h_policy_allow(&b->h, 6, a6, 20)))
		die("corral_policy: allow fd77:a000::/20", err);
	/* a limit prefix near the sources, matched by none of them */
	a4 = PKT_IP4(10, 80, 0, 0);
	if ((err = h_policy_limit(&b->h, 4, &a4, 16, &lim)))
		die("corral_policy: limit 10.80.0.0/16", err);
	pkt_ip6(a6, 0xfd77, 0xb000, 0, 0, 0, 0, 0, 0);
	if ((err = h_policy_limit(&b->h, 6, a6, 20, &lim)))
		die("corral_policy: limit fd77:b000::/20", err);
}

/*
 * A fresh corral object per block: the LRU map's element pool then starts
 * in the same state for every size, instead of carrying the scatter that
 * emptying a million-entry map leaves behind.
 */
static void load_corral(struct bench *b)
{
	struct h_opts ho = { .clock_mode = CORRAL_CLOCK_COARSE };
	int err;

	/* leave room so the LRU never evicts while the set is resident */
	if (b->max_sources + b->max_sources / 8 > CORRAL_MAX_SOURCES)
		ho.buckets_max = (__u32)(b->max_sources + b->max_sources / 8);
	err = h_open(&b->h, &ho);
	if (err)
		die("corral.bpf.o: load", err);
	b->corral_fd = b->h.prog_fd[H_XDP];
	setup_tables(b);
}

static void load(struct bench *b, unsigned long max_sources)
{
	b->max_sources = max_sources;
	load_corral(b);
	b->ts = trivial_bpf__open_and_load();
	if (!b->ts)
		die("trivial.bpf.o: load", errno);
	b->trivial_fd = bpf_program__fd(b->ts->progs.trivial_drop);
}

static int xdp_attach_any(const char *ifname, int fd)
{
	int ifindex = (int)if_nametoindex(ifname), err;

	if (!ifindex)
		return -errno;
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_SKB_MODE, NULL);
	return err;
}

/*
 * BPF_PROG_TEST_RUN of an XDP program puts the program into the kernel's
 * XDP dispatcher for the call and takes it out again; when nothing else
 * holds it there, each change rebuilds the dispatcher and waits for an RCU
 * grace period (milliseconds per call). Attaching both programs to a veth
 * pair in a private network namespace of this process keeps them in the
 * dispatcher, so a call costs a syscall. The namespace, the veth and the
 * attachments disappear with the process. Returns 0 or a negative errno.
 */
static int anchor_programs(struct bench *b)
{
	static const char *const argv[] = { "ip", "link", "add", "pkc0", "type", "veth",
					    "peer", "name", "pkc1", NULL };
	int st, err, i, fds[2] = { b->corral_fd, b->trivial_fd };
	const char *names[2] = { "pkc0", "pkc1" };
	pid_t pid;

	if (unshare(CLONE_NEWNET))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return -ENODEV;
	for (i = 0; i < 2; i++) {
		err = xdp_attach_any(names[i], fds[i]);
		if (err)
			return err;
	}
	return 0;
}

/* packets counted per reason, over every class row */
static void reasons_read(struct bench *b, __u64 out[CORRAL_NREASON])
{
	static struct h_stats s, zero;
	__u32 r;
	int err;

	err = h_stats_read(&b->h, &s);
	if (err)
		die("corral_stats: read", err);
	for (r = 0; r < CORRAL_NREASON; r++) {
		__u32 row;

		out[r] = 0;
		for (row = 0; row < CORRAL_NROWS; row++)
			out[r] += h_pkts(&s, &zero, row, r);
	}
}

/* ---- measurement ---------------------------------------------------------- */

static int test_run(int fd, void *pkt, int len, unsigned long repeat, __u32 *duration,
		    __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = (__u32)len,
		    .repeat = (int)repeat);
	int err;

	do {
		err = bpf_prog_test_run_opts(fd, &t);
	} while (err == -EINTR);
	if (err)
		return err;
	*duration = t.duration;
	*retval = t.retval;
	return 0;
}

/* the packet of every source, built once per family and set */
struct pktset {
	__u8 *buf;
	int len;
	unsigned long n;
};

static void pktset_build(struct pktset *ps, int family, int allow, unsigned long n)
{
	__u8 tmp[PKT_BUF_MAX];
	unsigned long i;
	int len;

	len = build_packet(family, allow, 0, tmp, sizeof(tmp));
	if (len < 0)
		die("build packet", len);
	ps->len = len;
	ps->n = n;
	ps->buf = malloc((size_t)len * n);
	if (!ps->buf)
		die("packet set", ENOMEM);
	for (i = 0; i < n; i++) {
		if (build_packet(family, allow, i, ps->buf + (size_t)len * i, len) != len)
			die("build packet", EINVAL);
	}
}

static __u8 *pktset_at(const struct pktset *ps, unsigned long i)
{
	return ps->buf + (size_t)ps->len * (i % ps->n);
}

/* one measurement: ns per packet, or a negative error */
static double measure(struct bench *b, int fd, const struct pktset *ps, int mode,
		      __u32 *last_ret, unsigned long *pkts)
{
	__u32 dur, ret = 0;
	double total_ns = 0;
	unsigned long calls, i, rep;
	int err;

	if (mode == 0) {
		err = test_run(fd, pktset_at(ps, 0), ps->len, b->o.hot_repeat, &dur, &ret);
		if (err)
			die("BPF_PROG_TEST_RUN", err);
		*last_ret = ret;
		*pkts = b->o.hot_repeat;
		return dur;
	}
	rep = b->o.cycle_rep[mode - 1];
	calls = (b->o.cycle_total + rep - 1) / rep;
	if (calls < ps->n)
		calls = ps->n;
	for (i = 0; i < calls; i++) {
		err = test_run(fd, pktset_at(ps, i), ps->len, rep, &dur, &ret);
		if (err)
			die("BPF_PROG_TEST_RUN", err);
		total_ns += (double)dur * rep;
	}
	*last_ret = ret;
	*pkts = calls * rep;
	return total_ns / ((double)calls * rep);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void cell_finish(struct cell *c)
{
	double s[MAX_RUNS];

	memcpy(s, c->ns, sizeof(double) * c->n);
	qsort(s, c->n, sizeof(double), cmp_double);
	c->min = s[0];
	c->max = s[c->n - 1];
	c->med = c->n & 1 ? s[c->n / 2] : (s[c->n / 2 - 1] + s[c->n / 2]) / 2;
}

static struct row *row_add(struct bench *b)
{
	if (b->nrows == b->caprows) {
		int cap = b->caprows ? b->caprows * 2 : 64;
		struct row *r = realloc(b->rows, sizeof(*r) * cap);

		if (!r)
			die("rows", ENOMEM);
		b->rows = r;
		b->caprows = cap;
	}
	memset(&b->rows[b->nrows], 0, sizeof(struct row));
	return &b->rows[b->nrows++];
}

/* run every source of the set once through corral_xdp (creates buckets) */
static void populate(struct bench *b, const struct pktset *ps)
{
	unsigned long i;
	__u32 dur, ret;
	int err;

	for (i = 0; i < ps->n; i++) {
		err = test_run(b->corral_fd, pktset_at(ps, i), ps->len, 1, &dur, &ret);
		if (err)
			die("BPF_PROG_TEST_RUN", err);
	}
}

/*
 * Empty the bucket map in linear time: walk the keys first, then delete
 * them (restarting the walk after each delete rescans the empty hash
 * buckets from the start, quadratic at a million entries).
 */
static void buckets_clear(struct bench *b)
{
	struct corral_src_key *keys = NULL, k, *prev = NULL;
	size_t n = 0, cap = 0, i;
	int err;

	while (!(err = bpf_map_get_next_key(b->h.buckets_fd, prev, &k))) {
		if (n == cap) {
			struct corral_src_key *nk;

			cap = cap ? cap * 2 : 4096;
			nk = realloc(keys, cap * sizeof(*keys));
			if (!nk)
				die("corral_buckets: clear", ENOMEM);
			keys = nk;
		}
		keys[n] = k;
		prev = &keys[n++];
	}
	if (err != -ENOENT)
		die("corral_buckets: walk", err);
	for (i = 0; i < n; i++) {
		err = bpf_map_delete_elem(b->h.buckets_fd, &keys[i]);
		if (err && err != -ENOENT)
			die("corral_buckets: delete", err);
	}
	free(keys);
}

/* how many sources of the set have a bucket */
static unsigned long resident(struct bench *b, int family, unsigned long n)
{
	struct corral_src_key k;
	struct corral_bucket v;
	unsigned long i, have = 0;

	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.family = (__u8)family;
		k.class = CORRAL_CLASS_ANY;
		if (family == 4) {
			k.addr[0] = htonl(PKT_IP4_HOST(10, 78, 0, 0) + (__u32)i);
		} else {
			k.addr[0] = htonl(0xfd770000u | (__u32)((i >> 16) & 0xff));
			k.addr[1] = htonl((__u32)(i & 0xffff) << 16);
		}
		if (!bpf_map_lookup_elem(b->h.buckets_fd, &k, &v))
			have++;
	}
	return have;
}

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "pktcost: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void run_block(struct bench *b, int family, unsigned long n)
{
	struct pktset tracked, allowed;
	int nmodes = 1 + b->o.ncycle, nsc = b->o.nsc, m, sc, k, first = b->nrows;
	unsigned long res, allow_n = n;
	__u64 before[CORRAL_NREASON], after[CORRAL_NREASON];
	__u64 expect[SC_N][MAX_CYCLE + 1], total[SC_N][MAX_CYCLE + 1];
	int ret_ok[SC_N][MAX_CYCLE + 1];
	struct row *tr[MAX_CYCLE + 1], *cr[SC_N][MAX_CYCLE + 1];

	if (family == 4 && allow_n > V4_ALLOW_MAX)
		allow_n = V4_ALLOW_MAX;
	pktset_build(&tracked, family, 0, n);
	pktset_build(&allowed, family, 1, allow_n);
	b->pkt_len[family == 4] = (unsigned)tracked.len;

	buckets_clear(b);
	set_scenario(b, SC_PASS);
	progress("ipv%d %lu sources: populating", family, n);
	populate(b, &tracked);
	res = resident(b, family, n);

	for (m = 0; m < nmodes; m++) {
		tr[m] = row_add(b);
		tr[m]->scenario = -1;
		for (sc = 0; sc < nsc; sc++) {
			cr[sc][m] = row_add(b);
			cr[sc][m]->scenario = sc;
			expect[sc][m] = total[sc][m] = 0;
			ret_ok[sc][m] = 1;
		}
	}
	/* row pointers are stable from here on (no more row_add in this block) */
	for (m = 0; m < nmodes; m++) {
		tr[m] = &b->rows[first + m * (nsc + 1)];
		for (sc = 0; sc < nsc; sc++)
			cr[sc][m] = &b->rows[first + m * (nsc + 1) + 1 + sc];
	}

	for (k = 0; k < b->o.runs; k++) {
		progress("ipv%d %lu sources: run %d/%d", family, n, k + 1, b->o.runs);
		for (m = 0; m < nmodes; m++) {
			unsigned long pkts;
			__u32 ret;

			tr[m]->c.ns[tr[m]->c.n++] = measure(b, b->trivial_fd, &tracked, m, &ret, &pkts);
			for (sc = 0; sc < nsc; sc++) {
				const struct pktset *ps = sc == SC_ALLOW ? &allowed : &tracked;
				struct row *r = cr[sc][m];

				set_scenario(b, sc);
				reasons_read(b, before);
				r->c.ns[r->c.n++] = measure(b, b->corral_fd, ps, m, &ret, &pkts);
				reasons_read(b, after);
				expect[sc][m] += after[sc_reason[sc]] - before[sc_reason[sc]];
				total[sc][m] += pkts;
				if (ret != sc_retval[sc])
					ret_ok[sc][m] = 0;
			}
		}
	}
	set_scenario(b, SC_PASS);
	{
		unsigned long res_after = resident(b, family, n);

		if (res_after < res)
			res = res_after;
	}

	for (m = 0; m < nmodes; m++) {
		cell_finish(&tr[m]->c);
		tr[m]->family = family;
		tr[m]->sources = n;
		tr[m]->resident = res;
		tr[m]->mode = m;
		tr[m]->trivial_med = tr[m]->c.med;
		tr[m]->verdict_ok = 1;
		tr[m]->share = 1;
		for (sc = 0; sc < nsc; sc++) {
			struct row *r = cr[sc][m];

			cell_finish(&r->c);
			r->family = family;
			r->sources = n;
			r->resident = res;
			r->mode = m;
			r->trivial_med = tr[m]->c.med;
			r->share = total[sc][m] ? (double)expect[sc][m] / total[sc][m] : 0;
			r->verdict_ok = ret_ok[sc][m] && r->share >= SHARE_MIN;
			if (!r->verdict_ok)
				b->failed = 1;
		}
	}
	free(tracked.buf);
	free(allowed.buf);
}

/* ---- output ------------------------------------------------------------------ */

static void mode_name(const struct bench *b, int m, char *buf, size_t len)
{
	if (m == 0)
		snprintf(buf, len, "hot");
	else
		snprintf(buf, len, "cycle%lu", b->o.cycle_rep[m - 1]);
}

static void sources_name(unsigned long n, char *buf, size_t len)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, len, "%luM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%luK", n / 1000);
	else
		snprintf(buf, len, "%lu", n);
}

static const struct row *find_row(const struct bench *b, int family, unsigned long n, int mode,
				  int sc)
{
	int i;

	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		if (r->family == family && r->sources == n && r->mode == mode && r->scenario == sc)
			return r;
	}
	return NULL;
}

static void read_load(char *buf, size_t len)
{
	double l1, l5, l15;
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", l1, l5, l15);
	fclose(f);
}

static void read_env(struct bench *b)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	char line[256];
	FILE *f;

	snprintf(b->cpu_model, sizeof(b->cpu_model), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *p = strchr(line, ':');

			if (!strncmp(line, "model name", 10) && p) {
				p++;
				while (*p == ' ' || *p == '\t')
					p++;
				p[strcspn(p, "\n")] = 0;
				snprintf(b->cpu_model, sizeof(b->cpu_model), "%s", p);
				break;
			}
		}
		fclose(f);
	}
	if (!uname(&u))
		snprintf(b->kernel, sizeof(b->kernel), "%s %s", u.sysname, u.release);
	else
		snprintf(b->kernel, sizeof(b->kernel), "unknown");
	read_load(b->load_start, sizeof(b->load_start));
	gmtime_r(&now, &tm);
	strftime(b->date, sizeof(b->date), "%Y-%m-%d %H:%M UTC", &tm);
}

static void print_report(struct bench *b, FILE *f)
{
	char mname[32], sname[32], cyc[128] = "";
	double worst_ratio[MAX_CYCLE + 1] = { 0 }, worst_growth[MAX_CYCLE + 1] = { 0 };
	int fi, si, m, sc, i, nmodes = 1 + b->o.ncycle;
	size_t off = 0;

	for (i = 0; i < b->o.ncycle; i++)
		off += snprintf(cyc + off, sizeof(cyc) - off, "%s%lu", i ? ", " : "",
				b->o.cycle_rep[i]);

	fprintf(f, "Per-packet cost of `corral_xdp` against the trivial XDP_DROP program "
		   "(`trivial_drop`), BPF_PROG_TEST_RUN, same run.\n\n");
	fprintf(f, "- date: %s; kernel: %s; CPU: %s (%d possible CPUs), pinned to CPU %d\n",
		b->date, b->kernel, b->cpu_model, b->h.ncpu, b->o.cpu);
	fprintf(f, "- load average (1, 5, 15 min) at start: %s; at end: %s; "
		   "other work on the machine shows as spread and drift between blocks\n",
		b->load_start, b->load_end);
	fprintf(f, "- clock: %s (the object's default; not the fake test clock)\n",
		b->h.skel->rodata->clock_mode == CORRAL_CLOCK_COARSE ? "coarse, bpf_ktime_get_coarse_ns()"
		: b->h.skel->rodata->clock_mode == CORRAL_CLOCK_PRECISE ? "precise, bpf_ktime_get_ns()"
		: "FAKE");
	fprintf(f, "- %s\n", b->anchored ?
		"both programs stay attached to a veth in a private netns during the run, so "
		"BPF_PROG_TEST_RUN does not rebuild the XDP dispatcher on each call" :
		"WARNING: programs not attached: each call rebuilt the XDP dispatcher");
	fprintf(f, "- packets: UDP to port %d, %u bytes (IPv6) / %u bytes (IPv4); every stage on: "
		   "policy trie (allow + limit prefixes), port class table, shed word on, "
		   "packet and byte buckets\n", BENCH_DPORT, b->pkt_len[0], b->pkt_len[1]);
	fprintf(f, "- scenarios: pass (limit never reached), rate-drop (packet limit 1/s, burst 0: every packet over the limit), "
		   "shed-drop (shed level 2, packets are class 3), allow (source in an allow prefix)\n");
	if (b->o.nsc > SC_MAIN)
		fprintf(f, "- stage costs (abl:*): the pass path with stages added one at a time: "
			   "parse = config words, parse and counters only (no trie, no port table, "
			   "shed off, no limit); +lpm = plus the policy trie lookup; +port = plus the "
			   "port class lookup; +shed = plus the shed word on (reads the clock); "
			   "pass = plus the packet and byte buckets\n");
	fprintf(f, "- modes: hot = one packet, repeat %lu (hides map and cache misses: best case); "
		   "cycleK = one call per source in rotation, repeat K (%s), >= %lu packets and "
		   "every source once (only the first packet of a call meets cold state, so misses "
		   "show diluted by K)\n", b->o.hot_repeat, cyc, b->o.cycle_total);
	fprintf(f, "- each cell: median [min-max] of %d runs, ns per packet as the kernel timed it; "
		   "x triv = corral median / trivial median of the same mode and block; "
		   "+ns = corral median - trivial median; "
		   "verdict = share of packets counted under the scenario's reason\n\n",
		b->o.runs);

	fprintf(f, "| family | sources | mode | scenario | ns/pkt median [min-max] | trivial ns/pkt | x triv | +ns | verdict |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		if (r->scenario < 0)
			continue;
		mode_name(b, r->mode, mname, sizeof(mname));
		sources_name(r->sources, sname, sizeof(sname));
		if (r->resident != r->sources)
			snprintf(sname + strlen(sname), sizeof(sname) - strlen(sname),
				 " (%lu resident)", r->resident);
		fprintf(f, "| ipv%d | %s | %s | %s | %.1f [%.1f-%.1f] | %.1f | %.2f | %.1f | %.2f%%%s |\n",
			r->family, sname, mname, sc_name[r->scenario], r->c.med, r->c.min,
			r->c.max, r->trivial_med, r->trivial_med > 0 ? r->c.med / r->trivial_med : 0,
			r->c.med - r->trivial_med, 100.0 * r->share, r->verdict_ok ? "" : " FAIL");
		if (r->scenario < SC_MAIN && r->trivial_med > 0 &&
		    r->c.med / r->trivial_med > worst_ratio[r->mode])
			worst_ratio[r->mode] = r->c.med / r->trivial_med;
	}

	fprintf(f, "\nGrowth with tracked sources: median ns/pkt at the largest size over the "
		   "smallest; the last column divides out the trivial program measured in the same "
		   "blocks, which cancels most of the machine's drift between blocks:\n\n");
	fprintf(f, "| family | mode | scenario | smallest | largest | growth | growth of x triv |\n");
	fprintf(f, "|---|---|---|---|---|---|---|\n");
	for (fi = 0; fi < b->o.nfamilies; fi++) {
		int fam = b->o.families[fi];
		unsigned long lo = 0, hi = 0;

		for (si = 0; si < b->o.nsizes; si++) {
			if (!find_row(b, fam, b->o.sizes[si], 0, SC_PASS))
				continue;
			if (!lo || b->o.sizes[si] < lo)
				lo = b->o.sizes[si];
			if (b->o.sizes[si] > hi)
				hi = b->o.sizes[si];
		}
		if (!lo || lo == hi)
			continue;
		for (m = 0; m < nmodes; m++) {
			for (sc = -1; sc < b->o.nsc; sc++) {
				const struct row *a = find_row(b, fam, lo, m, sc);
				const struct row *z = find_row(b, fam, hi, m, sc);
				char l1[16], l2[16];
				double g;

				if (!a || !z || a->c.med <= 0)
					continue;
				g = z->c.med / a->c.med;
				if (sc >= 0 && sc < SC_MAIN && g > worst_growth[m])
					worst_growth[m] = g;
				mode_name(b, m, mname, sizeof(mname));
				sources_name(lo, l1, sizeof(l1));
				sources_name(hi, l2, sizeof(l2));
				fprintf(f, "| ipv%d | %s | %s | %s: %.1f | %s: %.1f | %.2f | ", fam,
					mname, sc < 0 ? "trivial" : sc_name[sc], l1, a->c.med, l2,
					z->c.med, g);
				if (sc < 0 || a->trivial_med <= 0 || z->trivial_med <= 0)
					fprintf(f, "- |\n");
				else
					fprintf(f, "%.2f |\n", (z->c.med / z->trivial_med) /
						(a->c.med / a->trivial_med));
			}
		}
	}

	fprintf(f, "\nTargets (worst scenario of each mode): full pipeline <= 2.00x trivial; "
		   "growth <= 1.50x from the smallest to the largest size.\n\n");
	fprintf(f, "| mode | worst x triv | ratio target | worst growth | growth target |\n");
	fprintf(f, "|---|---|---|---|---|\n");
	for (m = 0; m < nmodes; m++) {
		mode_name(b, m, mname, sizeof(mname));
		fprintf(f, "| %s | %.2f | %s | ", mname, worst_ratio[m],
			worst_ratio[m] <= 2.0 ? "met" : "MISSED");
		if (worst_growth[m] > 0)
			fprintf(f, "%.2f | %s |\n", worst_growth[m],
				worst_growth[m] <= 1.5 ? "met" : "MISSED");
		else
			fprintf(f, "- | not measured |\n");
	}
	if (b->failed)
		fprintf(f, "\nVERDICT CHECK FAILED: some scenario did not produce its verdict.\n");
}

/* replace the text between the pktcost markers of doc (append them if absent) */
static int write_doc(struct bench *b, const char *path)
{
	static const char beg[] = "<!-- pktcost:begin -->", end[] = "<!-- pktcost:end -->";
	char *old = NULL, *body = NULL, *p, *q, tmp[PATH_MAX];
	size_t oldlen = 0, bodylen = 0;
	FILE *f, *mem;
	int err = 0;

	f = fopen(path, "r");
	if (f) {
		mem = open_memstream(&old, &oldlen);
		if (!mem) {
			fclose(f);
			return -errno;
		}
		for (int c; (c = fgetc(f)) != EOF;)
			fputc(c, mem);
		fclose(f);
		fclose(mem);
	} else if (errno != ENOENT) {
		return -errno;
	}
	mem = open_memstream(&body, &bodylen);
	if (!mem) {
		free(old);
		return -errno;
	}
	print_report(b, mem);
	fclose(mem);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	p = old ? strstr(old, beg) : NULL;
	q = p ? strstr(p, end) : NULL;
	if (p && q) {
		fwrite(old, 1, p - old, f);
		fprintf(f, "%s\n%s%s", beg, body, end);
		fputs(q + strlen(end), f);
	} else {
		if (old && oldlen) {
			fputs(old, f);
			if (old[oldlen - 1] != '\n')
				fputc('\n', f);
			fputc('\n', f);
		} else {
			fputs("# corral benchmarks\n\n", f);
		}
		fprintf(f, "## Per-packet cost (pktcost)\n\n%s\n%s%s\n", beg, body, end);
	}
	if (ferror(f) | fclose(f)) {
		err = -EIO;
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
	}
out:
	free(old);
	free(body);
	return err;
}

static int pick_cpu(int want)
{
	cpu_set_t set;
	int cpu;

	if (want < 0) {
		if (sched_getaffinity(0, sizeof(set), &set))
			return -errno;
		for (cpu = CPU_SETSIZE - 1; cpu >= 0; cpu--)
			if (CPU_ISSET(cpu, &set))
				break;
		if (cpu < 0)
			return -EINVAL;
		want = cpu;
	}
	CPU_ZERO(&set);
	CPU_SET(want, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return want;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b;
	unsigned long maxn = 0;
	int fi, si, cpu, err, nblocks = 0;

	memset(&b, 0, sizeof(b));
	parse_args(argc, argv, &b.o);
	libbpf_set_print(libbpf_quiet);

	cpu = pick_cpu(b.o.cpu);
	if (cpu < 0)
		die("pin to CPU", cpu);
	b.o.cpu = cpu;
	read_env(&b);

	for (si = 0; si < b.o.nsizes; si++)
		if (b.o.sizes[si] > maxn)
			maxn = b.o.sizes[si];
	load(&b, maxn);
	err = anchor_programs(&b);
	if (err)
		progress("warning: cannot attach the programs in a private netns (%s): "
			 "every call waits for an XDP dispatcher update", strerror(-err));
	b.anchored = !err;

	for (fi = 0; fi < b.o.nfamilies; fi++) {
		for (si = 0; si < b.o.nsizes; si++) {
			unsigned long n = b.o.sizes[si];

			if (b.o.families[fi] == 4 && n > V4_TRACKED_MAX) {
				progress("ipv4 %lu sources: skipped (more than 10.78.0.0/15 holds)", n);
				continue;
			}
			if (nblocks++) {
				/* a fresh object (and map) for every block */
				h_close(&b.h);
				load_corral(&b);
				if (b.anchored && (err = xdp_attach_any("pkc0", b.corral_fd)))
					die("attach corral_xdp to pkc0", err);
			}
			run_block(&b, b.o.families[fi], n);
		}
	}

	read_load(b.load_end, sizeof(b.load_end));
	print_report(&b, stdout);
	if (b.o.doc) {
		err = write_doc(&b, b.o.doc);
		if (err)
			die(b.o.doc, err);
		progress("wrote %s", b.o.doc);
	}
	trivial_bpf__destroy(b.ts);
	h_close(&b.h);
	free(b.rows);
	return b.failed ? 3 : 0;
}
