/* SPDX-License-Identifier: BSD-2-Clause */
/* rule_dump.h - the IPv4 policy rules with naptd's protocol, read from the kernel's own
 * messages: libnl's rule object shows neither the flags (the "not" of FIB_RULE_INVERT) nor
 * every selector, so a leftover that only looks like one of naptd's rules is told apart. */
#ifndef RULE_DUMP_H
#define RULE_DUMP_H

#include <stddef.h>
#include <stdint.h>

struct nl_cache;
struct nl_sock;

/* The rules with protocol proto that naptd can have made (no flags, no tos, no attribute
 * beyond priority, iif, from, to, ipproto, dport, table and protocol) into *rules, a new libnl
 * rule cache. Every other rule with protocol proto is deleted from the kernel first, with a
 * log line: taken over it would stand in for naptd's rule, and the kernel, which ignores the
 * flags when it looks for a duplicate, would refuse naptd's own. Returns 0, or -1 with the
 * reason in err. */
int rule_dump_own(struct nl_sock *sk, uint8_t proto, struct nl_cache **rules, char *err,
		  size_t errlen);

#endif
