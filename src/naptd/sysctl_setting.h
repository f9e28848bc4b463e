/* SPDX-License-Identifier: BSD-2-Clause */
/* sysctl_setting.h - change one /proc/sys value and put the old one back later. */
#ifndef SYSCTL_SETTING_H
#define SYSCTL_SETTING_H

#include <stdbool.h>
#include <stddef.h>

struct sysctl_setting {
	char path[128];
	char old[256]; /* the value before we wrote, without the newline */
	bool changed;  /* we wrote a different value: restore it */
};

/* Read path into buf (newline removed). Returns 0 or -1 with the reason in err. */
int sysctl_read(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* Remember the current value of path in s and write value when it differs. */
int sysctl_change(struct sysctl_setting *s, const char *path, const char *value, char *err,
		  size_t errlen);

/* Write the remembered value back if sysctl_change() changed it. Returns 0 or -1 with the
 * reason in err. */
int sysctl_restore(struct sysctl_setting *s, char *err, size_t errlen);

/* original is path's value from before naptd: s puts it back at exit unless it is what s
 * found (s, unchanged, may not have set path: then path is taken). */
void sysctl_set_original(struct sysctl_setting *s, const char *path, const char *original);

/* s is set again over a value that before had changed: s puts back before's old value, the
 * one from before naptd. */
void sysctl_inherit(struct sysctl_setting *s, const struct sysctl_setting *before);

#endif
