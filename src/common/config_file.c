/* SPDX-License-Identifier: BSD-2-Clause */
/* config_file.c - the I/O half of config loading; the parsing lives in libnapt. */
#include "config_file.h"

#include "regular_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A config with NAPT_MAX_FORWARDS forward lines is far below this. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* Fills text (CONFIG_FILE_MAX + 1 bytes) from f, NUL-terminated; NULL or why not. */
static const char *read_all(FILE *f, char *text)
{
	size_t n = fread(text, 1, CONFIG_FILE_MAX + 1, f);

	if (ferror(f))
		return strerror(errno);
	if (n > CONFIG_FILE_MAX)
		return "larger than 1 MiB";
	if (memchr(text, '\0', n))
		return "holds a NUL byte, not a text file";
	text[n] = '\0';
	return NULL;
}

int config_file_load(const char *path, struct napt_config *cfg, char *err, size_t errlen)
{
	const char *why;
	FILE *f = regular_file_open(path, &why);
	char *text;
	int rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, why);
		return -1;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	why = text ? read_all(f, text) : "out of memory";
	fclose(f);
	if (why)
		snprintf(err, errlen, "%s: cannot read: %s", path, why);
	else
		rc = napt_config_parse_text(cfg, text, path, err, errlen);
	free(text);
	return rc;
}
