/*-------------------------------------------------------------------------
 *
 * statfile.c
 *	  Save and load files under $PGDATA/pg_stat/ that keep a shared store
 *	  across a clean restart (the statement store, the N+1 incident store).
 *
 * A file is the store's own header and records followed by a CRC-32C of
 * everything before it.  It is written under a temporary name by the
 * postmaster at a clean shutdown and renamed durably at the end, so a crash
 * while writing leaves no half file under the real name.  It is read whole
 * at start-up; the caller checks its own header (magic number, format, sizes)
 * and the CRC, and rejects the file with a WARNING when anything is off.
 * Nothing here raises an error: failures are logged (writing) or returned
 * with a reason (reading), because a failed start-up or shutdown is worse
 * than lost statistics.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "storage/fd.h"
#include "utils/memutils.h"

#include "statfile.h"

/* Start writing; false (after a LOG message) if the file cannot be created. */
bool
mnp_statfile_open(mnpStatFileWriter *w, const char *path,
				  const char *tmp_path, const char *what)
{
	w->path = path;
	w->tmp_path = tmp_path;
	w->what = what;
	w->ok = true;
	INIT_CRC32C(w->crc);
	w->f = AllocateFile(tmp_path, PG_BINARY_W);
	if (w->f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write medianest_perf %s file \"%s\": %m",
						what, tmp_path)));
		return false;
	}
	return true;
}

/* Append bytes and fold them into the CRC; a failure is remembered. */
void
mnp_statfile_put(mnpStatFileWriter *w, const void *data, size_t len)
{
	if (!w->ok)
		return;
	COMP_CRC32C(w->crc, data, len);
	w->ok = fwrite(data, 1, len, w->f) == len;
}

/* Append the CRC, close, and rename over the final name (or log and remove). */
void
mnp_statfile_close(mnpStatFileWriter *w)
{
	if (w->ok)
	{
		FIN_CRC32C(w->crc);
		w->ok = fwrite(&w->crc, 1, sizeof(w->crc), w->f) == sizeof(w->crc);
	}
	if (FreeFile(w->f) != 0)
		w->ok = false;
	w->f = NULL;
	if (!w->ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write medianest_perf %s file \"%s\": %m",
						w->what, w->tmp_path)));
		unlink(w->tmp_path);
		return;
	}
	(void) durable_rename(w->tmp_path, w->path, LOG);
}

/*
 * Read a whole file.  Returns the palloc'd contents, *payload_len bytes
 * before the CRC, and whether the CRC matches.  Returns NULL with *why NULL
 * when there is no file (the usual case), or NULL with *why set when it
 * cannot be used (impossible size, out of memory, unreadable); the caller
 * then rejects it.
 */
char *
mnp_statfile_read(const char *path, size_t min_payload, size_t *payload_len,
				  bool *crc_ok, const char **why)
{
	struct stat st;
	FILE	   *f;
	char	   *buf;
	size_t		size;
	pg_crc32c	crc;
	pg_crc32c	stored;

	*why = NULL;
	if (stat(path, &st) != 0)
		return NULL;

	if (st.st_size < (off_t) (min_payload + sizeof(pg_crc32c)) ||
		st.st_size > (off_t) MaxAllocSize)
	{
		*why = "the file has an impossible size";
		return NULL;
	}
	size = (size_t) st.st_size;
	buf = palloc_extended(size, MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
	{
		*why = "out of memory";
		return NULL;
	}
	f = AllocateFile(path, PG_BINARY_R);
	if (f == NULL || fread(buf, 1, size, f) != size)
	{
		if (f)
			FreeFile(f);
		pfree(buf);
		*why = "it could not be read";
		return NULL;
	}
	FreeFile(f);

	*payload_len = size - sizeof(pg_crc32c);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf, *payload_len);
	FIN_CRC32C(crc);
	memcpy(&stored, buf + *payload_len, sizeof(stored));
	*crc_ok = EQ_CRC32C(crc, stored);
	return buf;
}
