/* SPDX-License-Identifier: BSD-2-Clause */
/* regular_file.h - open a file to read only when it is a regular file. */
#ifndef REGULAR_FILE_H
#define REGULAR_FILE_H

#include <stdio.h>

/* fopen(path, "r") for a regular file, without waiting: a FIFO nobody writes to would block
 * the open, and a device (/dev/zero) never ends. NULL with errno set and the reason in *why
 * ("not a regular file" or strerror). */
FILE *regular_file_open(const char *path, const char **why);

#endif
