/*-------------------------------------------------------------------------
 *
 * stmt_store.h
 *	  The statement store: shared per-statement counters, latency histogram
 *	  and normalized query text.  See stmt_store.c for the locking protocol.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_STMT_STORE_H
#define MNP_STMT_STORE_H

#include "storage/spin.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"

/* latency histogram: see mnp_hist_bucket() */
#define MNP_HIST_MIN_MS		0.01
#define MNP_HIST_RATIO		1.1
#define MNP_HIST_FINITE		170 /* 0.01 ms * 1.1^170 > 100 s */
#define MNP_HIST_NBUCKETS	(MNP_HIST_FINITE + 2)

/* how many distinct indexes are remembered per statement */
#define MNP_STMT_MAX_INDEXES 8

/* Hash key.  Padding must be zero: use mnp_stmt_key_init(). */
typedef struct mnpStmtKey
{
	Oid			userid;
	Oid			dbid;
	uint64		queryid;
	bool		toplevel;
} mnpStmtKey;

typedef struct mnpStmtCounters
{
	int64		calls;
	int64		rows;
	double		total_ms;
	double		min_ms;
	double		max_ms;
	double		mean_ms;
	double		sum_var_ms;		/* Welford's running sum of squares */
	int64		shared_blks_hit;
	int64		shared_blks_read;
	int64		temp_blks_written;
	int64		slow_calls;
	int64		critical_calls;
	TimestampTz first_seen;
	TimestampTz last_seen;
	int64		hist[MNP_HIST_NBUCKETS];
} mnpStmtCounters;

typedef struct mnpStmtEntry
{
	mnpStmtKey	key;			/* hash key; must be first */
	mnpStmtCounters counters;	/* under mutex */
	double		usage;			/* eviction value; under mutex or lock excl. */
	int16		nindexes;		/* under mutex */
	bool		indexes_overflow;
	Oid			indexes[MNP_STMT_MAX_INDEXES];
	Size		text_off;		/* chunk offset in the text arena */
	int			text_len;
	int			encoding;
	int			sample_len;		/* bytes of the executed sample, 0 none yet,
								 * -1 could not be sampled; under mutex */
	slock_t		mutex;
	/* medianest_perf.sample_text_bytes of sample follow (see stmt_sample.c) */
} mnpStmtEntry;

/* A copy of one entry, handed to mnp_stmt_store_foreach() visitors. */
typedef struct mnpStmtSnapshot
{
	mnpStmtKey	key;
	mnpStmtCounters counters;
	int			nindexes;
	bool		indexes_overflow;
	Oid			indexes[MNP_STMT_MAX_INDEXES];
	const char *text;			/* in shared memory: valid during the visit */
	int			text_len;
	int			encoding;
} mnpStmtSnapshot;

typedef void (*mnpStmtVisitor) (const mnpStmtSnapshot *snap, void *arg);

/* Build a hash key; padding is zeroed because keys are compared as blobs. */
static inline void
mnp_stmt_key_init(mnpStmtKey *key, Oid userid, Oid dbid, uint64 queryid,
				  bool toplevel)
{
	memset(key, 0, sizeof(mnpStmtKey));
	key->userid = userid;
	key->dbid = dbid;
	key->queryid = queryid;
	key->toplevel = toplevel;
}

extern bool mnp_stmt_store_exists(const mnpStmtKey *key);
extern void mnp_stmt_store_prepare(const mnpStmtKey *key, const char *text,
								   int len);
extern int64 mnp_stmt_store_record(const mnpStmtKey *key,
								   const mnpExecSample *sample,
								   int slow_level);
extern void mnp_stmt_store_note_indexes(const mnpStmtKey *key,
										const Oid *oids, int n,
										bool overflow);
extern void mnp_stmt_store_foreach(mnpStmtVisitor visit, void *arg);
extern text *mnp_visible_query_text(const mnpStmtSnapshot *snap, bool see_all);
extern void mnp_stmt_store_load(void);

/* executed-statement samples (the bytes are encoded by stmt_sample.c) */
extern int	mnp_stmt_sample_bytes;
extern bool mnp_stmt_wants_sample;
extern void mnp_stmt_store_set_sample(const mnpStmtKey *key, const char *data,
									  int len);
extern int	mnp_stmt_store_get_sample(const mnpStmtKey *key, char *buf,
									  int bufsize);
extern void mnp_stmt_store_count_sample_skip(void);
extern void mnp_stmt_store_no_sample(const mnpStmtKey *key);
extern void mnp_stmt_store_sample_counters(int64 *stored, int64 *skipped);

extern int	mnp_hist_bucket(double ms);
extern double mnp_hist_lower(int b);
extern double mnp_hist_upper(int b);
extern double mnp_hist_percentile(const mnpStmtCounters *c, double p);

#endif							/* MNP_STMT_STORE_H */
