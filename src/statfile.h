/*-------------------------------------------------------------------------
 *
 * statfile.h
 *	  Files under $PGDATA/pg_stat/ that keep a store across a clean restart:
 *	  written whole with a trailing CRC-32C, read back whole.  See statfile.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_STATFILE_H
#define MNP_STATFILE_H

#include <stdio.h>

#include "port/pg_crc32c.h"

typedef struct mnpStatFileWriter
{
	FILE	   *f;
	const char *path;			/* final name */
	const char *tmp_path;		/* written first, renamed at the end */
	const char *what;			/* for messages: "statistics", "incidents" */
	pg_crc32c	crc;
	bool		ok;
} mnpStatFileWriter;

extern bool mnp_statfile_open(mnpStatFileWriter *w, const char *path,
							  const char *tmp_path, const char *what);
extern void mnp_statfile_put(mnpStatFileWriter *w, const void *data,
							 size_t len);
extern void mnp_statfile_close(mnpStatFileWriter *w);
extern char *mnp_statfile_read(const char *path, size_t min_payload,
							   size_t *payload_len, bool *crc_ok,
							   const char **why);

#endif							/* MNP_STATFILE_H */
