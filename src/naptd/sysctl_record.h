/* SPDX-License-Identifier: BSD-2-Clause */
/* sysctl_record.h - the values the namespace-wide sysctls naptd changes had before it, kept
 * in a file that outlives naptd (SIGKILL, a crash): the next naptd puts back those at exit,
 * not the values the killed one left in force. One file per network namespace, in
 * SYSCTL_RECORD_DIR (not a systemd RuntimeDirectory: that one goes when the service dies).
 * The TUN's own sysctls (rp_filter, accept_local) need none: they go with the device. */
#ifndef SYSCTL_RECORD_H
#define SYSCTL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSCTL_RECORD_DIR "/run/naptd"

enum sysctl_record_key {
	SYSCTL_IP_FORWARD,
	SYSCTL_LOCAL_PORTS,
	SYSCTL_TCP_DEMUX,
	SYSCTL_UDP_DEMUX,
	SYSCTL_RECORD_KEYS
};

struct sysctl_record {
	char path[64]; /* SYSCTL_RECORD_DIR/sysctls.INODE of the network namespace */
	/* The namespace's cookie, in the file: an inode number is given again to a later
	 * namespace, a cookie never (0 on kernels before 5.14, which have none). */
	uint64_t netns;
	char value[SYSCTL_RECORD_KEYS][16]; /* as the kernel prints them */
	bool loaded;                        /* from a file a naptd that did not exit left */
	bool owned; /* the file is this naptd's: removed once the values are back */
};

/* The /proc/sys file of key. */
const char *sysctl_record_proc(enum sysctl_record_key key);

/* Parse the text of a record file for the namespace with cookie netns into r->value: a line
 * "netns COOKIE" and one "KEY VALUE" per key, each once, the values in the form the kernel
 * prints ("0" or "1"; "LO\tHI" for the port range). Returns 0, or -1 with the reason in err
 * (r->value then partly set). */
int sysctl_record_parse(struct sysctl_record *r, const char *text, uint64_t netns, char *err,
			size_t errlen);

/* At start, before naptd changes any of these sysctls: the values from this namespace's file
 * when a valid one is there (a file that is not is ignored, with a log line), else the
 * values now, written to the file first. Returns 0, or -1 with the reason in err when the
 * values cannot be read or the file cannot be written. */
int sysctl_record_open(struct sysctl_record *r, char *err, size_t errlen);

/* Remove the file, once the values are back, if it is this naptd's (r->owned). */
void sysctl_record_remove(struct sysctl_record *r);

#endif
