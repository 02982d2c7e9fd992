/*-------------------------------------------------------------------------
 *
 * medianest_perf.h
 *	  Declarations shared by every module of the medianest_perf extension.
 *
 * Each module (collector, statement store, slow-query log, ...) owns its
 * GUCs, its shared memory and its SQL-callable functions; this header only
 * carries what crosses module boundaries: the module entry points called
 * from _PG_init and the shared-memory hooks, the lock assignments, and the
 * execution sample the collector hands to the stores.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MEDIANEST_PERF_H
#define MEDIANEST_PERF_H

#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/pg_list.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#define MNP_NAME "medianest_perf"

/*
 * One named LWLock tranche holds every lock of the extension; each shared
 * structure owns one of them.  The locking protocol of each structure is
 * documented at the top of the file that owns it.
 */
typedef enum mnpLockId
{
	MNP_LOCK_STATEMENTS = 0,	/* stmt_store.c */
	MNP_LOCK_SLOWLOG,			/* slowlog.c */
	MNP_LOCK_NPLUS1,			/* nplus1.c */
	MNP_NUM_LOCKS
} mnpLockId;

/* medianest_perf.track */
typedef enum mnpTrackLevel
{
	MNP_TRACK_NONE,
	MNP_TRACK_TOP,
	MNP_TRACK_ALL
} mnpTrackLevel;

/*
 * What the collector knows about one finished execution.  Built in
 * ExecutorEnd and passed to every store; the stores copy what they keep.
 */
typedef struct mnpExecSample
{
	uint64		queryid;
	Oid			userid;
	Oid			dbid;
	bool		toplevel;
	int			nesting_level;
	CmdType		operation;
	double		duration_ms;
	uint64		rows;
	int64		shared_blks_hit;
	int64		shared_blks_read;
	int64		temp_blks_written;
	TimestampTz now;			/* start of the current client statement
								 * (cheap; not the exact end time) */
	QueryDesc  *query_desc;		/* plan, source text and parameters */
} mnpExecSample;

/* medianest_perf.c */
extern bool mnp_shmem_attached;

/* Whether this process can use the extension's shared memory. */
static inline bool
mnp_shmem_ready(void)
{
	return mnp_shmem_attached;
}

extern LWLock *mnp_lock(mnpLockId id);
extern void mnp_require_shmem(void);

/* advisor.c (index advisor; see advisor.h) */
extern void mnp_advisor_init(void);

/* collector.c */
extern int	mnp_track;
extern void mnp_collector_init_gucs(void);
extern void mnp_collector_install_hooks(void);
extern int	mnp_collector_nesting_level(void);

/* normalize.c */
extern char *mnp_normalize_query(const char *query, int query_loc,
								 int *query_len_p, void *jstate);
extern const char *mnp_clean_query_text(const char *query, int *location,
										int *len);

/* plan_indexes.c */
extern int	mnp_plan_collect_indexes(PlannedStmt *pstmt, Oid *oids, int max,
									 bool *overflow);

/* stmt_store.c (see stmt_store.h for the rest) */
extern void mnp_stmt_store_init(void);
extern Size mnp_stmt_store_shmem_size(void);
extern void mnp_stmt_store_shmem_startup(void);
extern void mnp_stmt_store_load(void);
extern void mnp_stmt_store_reset_all(void);
extern bool mnp_can_see_all_stats(void);

#endif							/* MEDIANEST_PERF_H */
