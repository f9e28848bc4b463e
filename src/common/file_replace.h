/* SPDX-License-Identifier: BSD-2-Clause */
/* file_replace.h - write a file whole, so that a crash or kill -9 at any point leaves either
 * the old file or the new one, never a mix: a temporary file PATH.tmp, fsync'ed and renamed
 * over the old one, then an fsync of the directory so the rename itself survives a power
 * loss. */
#ifndef FILE_REPLACE_H
#define FILE_REPLACE_H

#include <stddef.h>

/* Returns 0; -1 with the reason (errno text) in err when the old file stays; 1 with the
 * reason in err when the new file is in place but the fsync of its directory failed. The
 * new file has mode 0600. */
int file_replace(const char *path, const char *text, size_t len, char *err, size_t errlen);

#endif
