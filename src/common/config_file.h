/* SPDX-License-Identifier: BSD-2-Clause */
/* config_file.h - read a config file from disk and parse it (napt_config_parse_text). */
#ifndef CONFIG_FILE_H
#define CONFIG_FILE_H

#include <stddef.h>

#include "napt_config.h"

/* Returns 0, or -1 with the reason in err: "PATH: cannot open: No such file or directory",
 * or the parser's "PATH:LINE: reason". */
int config_file_load(const char *path, struct napt_config *cfg, char *err, size_t errlen);

#endif
