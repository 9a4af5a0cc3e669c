/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * compile.h - compile the operator's rules into the tables the data plane
 * reads. Pure functions, no kernel access.
 *
 * Source policy: for the set P of all rule prefixes, the compiled entry for
 * p in P merges the longest allow/deny rule containing p (list), the
 * longest class rule containing p (class) and the longest limit rule
 * containing p (limit). Containment is bitwise on the 128-bit LPM key, the
 * same relation the kernel's LPM trie uses, so a longest-prefix match of a
 * source on the compiled table yields, for each of the three, the longest
 * rule that contains the source.
 *
 * Port classes: the table [proto_idx * 65536 + port] -> class is filled
 * from the widest range to the narrowest (ties: lower start first), so a
 * narrower range wins inside a wider one. Unset entries are
 * CORRAL_CLASS_ANY.
 */
#ifndef CORRAL_COMPILE_H
#define CORRAL_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "corral_shared.h"

struct corral_prule {
	struct corral_prefix_rule_key key;
	struct corral_prefix_rule val;
};

struct corral_ptrule {
	struct corral_port_rule_key key;
	__u8 cls;
};

struct corral_pol_entry {
	struct corral_lpm_key key;
	struct corral_policy val;
};

/* true when prefix a contains prefix b (a shorter or equal, same leading bits) */
bool corral_lpm_contains(const struct corral_lpm_key *a, const struct corral_lpm_key *b);

/*
 * Compile n rules into *out (malloc'd, *nout entries, sorted by key).
 * Rules must have zero host bits. 0 or -ENOMEM.
 */
int corral_policy_compile(const struct corral_prule *rules, size_t n,
			  struct corral_pol_entry **out, size_t *nout);

/* Fill table[CORRAL_PORT_TABLE_SIZE] from n rules. 0 or -ENOMEM. */
int corral_port_compile(const struct corral_ptrule *rules, size_t n, __u8 *table);

/* qsort order of port rules: protocol, then first port, then last port */
int corral_ptrule_cmp(const void *a, const void *b);

#endif /* CORRAL_COMPILE_H */
