/*-------------------------------------------------------------------------
 *
 * nplus1.h
 *	  N+1 and repeated-statement detection: the backend-local detector
 *	  (nplus1.c), the rewrite advice derived from a plan (nplus1_advice.c)
 *	  and the shared incident store with its SQL functions
 *	  (nplus1_store.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_NPLUS1_H
#define MNP_NPLUS1_H

#include "executor/execdesc.h"
#include "nodes/plannodes.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"

/* incident kinds, in the order of mnp_nplus1_kind_names[] */
typedef enum mnpNp1Kind
{
	MNP_NP1_N_PLUS_ONE = 0,
	MNP_NP1_REPEATED_IDENTICAL,
	MNP_NP1_WRITE_LOOP,
	MNP_NP1_NKINDS
} mnpNp1Kind;

extern const char *const mnp_nplus1_kind_names[MNP_NP1_NKINDS];

/* bytes kept of a suggestion, NUL included */
#define MNP_NP1_SUGGESTION_LEN 512

/* GUCs (nplus1.c) */
extern bool mnp_nplus1_enabled;
extern int	mnp_nplus1_min_repeats;
extern int	mnp_nplus1_gap_ms;

/* One finding of one unit of work, handed to the shared store. */
typedef struct mnpNp1Incident
{
	Oid			userid;
	Oid			dbid;
	mnpNp1Kind	kind;
	uint64		source_queryid; /* 0: no source statement */
	uint64		repeated_queryid;
	bool		source_toplevel;
	bool		repeated_toplevel;
	int64		repeats;		/* repeated calls in this unit of work */
	double		time_ms;		/* their executor time */
	double		saving_ms;		/* see estimated_saving_ms in the docs */
	TimestampTz when;
	const char *suggestion;
} mnpNp1Incident;

/* What the child statement's plan says about batching or caching it. */
typedef struct mnpNp1Advice
{
	bool		has_volatile;	/* results may differ between identical calls */
	char		batch[MNP_NP1_SUGGESTION_LEN];	/* n_plus_one / write_loop */
	char		cache[MNP_NP1_SUGGESTION_LEN];	/* repeated_identical */
} mnpNp1Advice;

/* nplus1.c: the detector */
extern void mnp_nplus1_init(void);
extern void mnp_nplus1_start(QueryDesc *queryDesc, bool toplevel);
extern void mnp_nplus1_observe(const mnpExecSample *s);
extern void mnp_nplus1_note_constfree(uint64 queryid);
extern void mnp_nplus1_xact_statement(void);
extern void mnp_nplus1_flush(void);
extern void mnp_nplus1_forget_local(void);

/* nplus1_advice.c */
extern void mnp_nplus1_advise(PlannedStmt *pstmt, CmdType operation,
							  mnpNp1Advice *advice);

/* nplus1_store.c: the shared incident store */
extern void mnp_nplus1_store_init(void);
extern Size mnp_nplus1_shmem_size(void);
extern void mnp_nplus1_shmem_startup(void);
extern void mnp_nplus1_load(void);
extern void mnp_nplus1_store_publish(const mnpNp1Incident *incidents, int n,
									 int64 dropped);

#endif							/* MNP_NPLUS1_H */
