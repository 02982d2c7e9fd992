/*-------------------------------------------------------------------------
 *
 * advisor.h
 *	  The index advisor: declarations shared by its files.
 *
 *	  advisor.c				SQL functions, the selection across the workload
 *	  advisor_workload.c	gathering the workload, parsing and planning it
 *	  advisor_candidates.c	candidate indexes from the planner's view of each
 *							statement (set_rel_pathlist_hook), existing-index
 *							check, DDL text
 *	  hypo.c				hypothetical btree indexes: size estimate and
 *							injection into the planner (get_relation_info_hook)
 *
 * Everything here lives in the calling backend, in the memory context of
 * one index_advice() call, and both planner hooks are installed only for
 * the duration of that call.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MNP_ADVISOR_H
#define MNP_ADVISOR_H

#include "postgres.h"

#include "nodes/params.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "storage/block.h"
#include "utils/array.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"

/* One column of a candidate index: key columns carry a direction. */
typedef struct mnpAdvCol
{
	AttrNumber	attnum;
	bool		desc;
	bool		nulls_first;
} mnpAdvCol;

/*
 * What the planner showed about one base-table scan of one statement:
 * the columns it filters on, joins on, sorts by and reads.  Collected in
 * set_rel_pathlist_hook during the statement's baseline planning.
 */
typedef struct mnpAdvEq
{
	AttrNumber	attnum;
	double		sel;			/* selectivity of its clause */
} mnpAdvEq;

typedef struct mnpAdvPartial
{
	AttrNumber	attnum;			/* the skewed column */
	Expr	   *pred;			/* column = constant, Vars with varno 1 */
	char	   *text;			/* deparsed predicate */
	double		sel;			/* fraction of rows it keeps */
} mnpAdvPartial;

typedef struct mnpAdvUse
{
	Oid			relid;
	double		tuples;			/* planner's row estimate of the table */
	List	   *eq;				/* mnpAdvEq: equality and IN-list columns */
	List	   *range;			/* mnpAdvEq: <, <=, >, >= columns */
	List	   *join;			/* mnpAdvEq: equi-join key columns */
	List	   *orders;			/* List of (List of mnpAdvCol): orderings */
	List	   *partials;		/* mnpAdvPartial */
	Bitmapset  *read;			/* attnums read (key, include candidates) */
	bool		covering_ok;	/* no whole-row or system column needed */
} mnpAdvUse;

/*
 * Rows written to a table over the workload's window, by one recorded or
 * given INSERT, UPDATE, DELETE or MERGE statement.
 */
typedef struct mnpAdvWrite
{
	Oid			relid;
	CmdType		cmd;
	double		rows;			/* total over the window */
	Bitmapset  *cols;			/* UPDATE: attnums it assigns */
} mnpAdvWrite;

/* A recorded DML statement's text and rows, before it is resolved. */
typedef struct mnpAdvWriteText
{
	char	   *text;
	double		rows;
} mnpAdvWriteText;

/* One workload statement. */
typedef struct mnpAdvStmt
{
	int			no;				/* 1-based position in the workload */
	uint64		queryid;		/* 0 when unknown */
	double		calls;			/* weight */
	double		total_ms;
	double		rows;			/* rows returned or written, from the store */
	char	   *query;			/* text shown in reports */
	char	   *plan_text;		/* text that is planned */
	bool		sampled;		/* planned with an executed sample's values */
	struct mnpSample *sample;	/* the statement's executed sample, or NULL */
	List	   *queries;		/* rewritten Query trees, kept pristine */
	ParamListInfo params;		/* sample's parameter values, or NULL */
	List	   *uses;			/* mnpAdvUse */
	List	   *relids;			/* tables scanned (OID list) */
	bool		ok;				/* planned successfully */
	double		base_cost;		/* planner cost per call, no new index */
	double		cur_cost;		/* with the indexes selected so far */
} mnpAdvStmt;

/* A candidate index, also the hypothetical index given to the planner. */
typedef struct mnpAdvCand
{
	Oid			relid;
	int			nkeys;
	int			ncols;			/* key columns, then INCLUDE columns */
	mnpAdvCol	cols[INDEX_MAX_KEYS];
	Expr	   *pred;			/* partial-index predicate (varno 1) or NULL */
	char	   *pred_text;		/* deparsed predicate */
	double		pred_sel;		/* fraction of the rows indexed */
	char	   *signature;		/* identity, for de-duplication */

	/* catalog data for the hypothetical IndexOptInfo */
	Oid			hypo_oid;
	Oid			opfamily[INDEX_MAX_KEYS];
	Oid			opcintype[INDEX_MAX_KEYS];
	Oid			keycoll[INDEX_MAX_KEYS];
	Oid			atttype[INDEX_MAX_KEYS];
	int32		atttypmod[INDEX_MAX_KEYS];
	Oid			attcoll[INDEX_MAX_KEYS];
	double		tuples;
	BlockNumber pages;
	int			tree_height;
	double		size_bytes;

	/* selection state */
	List	   *stmts;			/* int: workload statements it may help */
	bool		useful;			/* some plan used it */
	bool		dropped;
	bool		chosen;
	int			stamp;			/* selection round of its last evaluation */
	double		gain;			/* weighted cost reduction, last evaluation */
	double		penalty;		/* write cost */
	double		ratio;			/* (gain - penalty) / size */
	double		improvement;	/* % of its statements' cost saved */
	struct mnpAdvCand *replaces;	/* a merged index: the selected one it
									 * would replace */
	double	   *eval_cost;		/* per statement in stmts: last evaluation */
	bool	   *eval_used;		/* ... and whether that plan used it */
} mnpAdvCand;

/* State of one index_advice() call. */
typedef struct mnpAdvCtx
{
	MemoryContext cxt;			/* lives for the call */
	MemoryContext plan_cxt;		/* reset after every planning */
	mnpAdvStmt *stmts;
	int			nstmts;
	List	   *cands;			/* mnpAdvCand */
	int			max_columns;
	double		write_cost_factor;
	int			planner_calls;
	int			max_planner_calls;
	TimestampTz deadline;
	bool		limit_hit;
	bool		ignore_limits;	/* final report: plan regardless */
	List	   *notes;			/* mnpAdvNote */
	bool		from_store;
	List	   *write_texts;	/* mnpAdvWriteText: store DML to resolve */
	List	   *writes;			/* mnpAdvWrite */
	mnpAdvStmt *collecting;		/* baseline planning in progress */
} mnpAdvCtx;

/* A statement that was skipped, or a limit that was hit. */
typedef struct mnpAdvNote
{
	int			no;				/* statement, 0 for the whole call */
	uint64		queryid;
	char	   *reason;
	char	   *detail;
	char	   *query;
} mnpAdvNote;

/* advisor.c */
extern void mnp_adv_note(mnpAdvCtx *ctx, mnpAdvStmt *s, const char *reason,
						 const char *detail);

/* advisor_workload.c */
extern void mnp_adv_workload_store(mnpAdvCtx *ctx, int64 min_calls,
								   double min_total_ms, int top_n);
extern void mnp_adv_workload_array(mnpAdvCtx *ctx, ArrayType *stmts,
								   ArrayType *calls);
extern void mnp_adv_prepare(mnpAdvCtx *ctx, mnpAdvStmt *s);
extern bool mnp_adv_plan_cost(mnpAdvCtx *ctx, mnpAdvStmt *s, double *cost,
							  Oid *used, int max_used, int *nused);
extern bool mnp_adv_limits_ok(mnpAdvCtx *ctx);
extern void mnp_adv_resolve_writes(mnpAdvCtx *ctx);

/* advisor_candidates.c */
extern void mnp_adv_collect_begin(mnpAdvCtx *ctx);
extern void mnp_adv_collect_end(void);
extern void mnp_adv_generate(mnpAdvCtx *ctx);
extern char *mnp_adv_ddl(mnpAdvCand *c, const char *name);
extern char *mnp_adv_index_name(mnpAdvCand *c, List *taken_names);
extern List *mnp_adv_column_names(mnpAdvCand *c, bool keys);
extern bool mnp_adv_same_keys(mnpAdvCand *a, mnpAdvCand *b);
extern List *mnp_adv_redundant_indexes(mnpAdvCand *c);
extern mnpAdvCand *mnp_adv_merge(mnpAdvCtx *ctx, mnpAdvCand *x, mnpAdvCand *y);

/* hypo.c */
extern void mnp_hypo_begin(void);
extern void mnp_hypo_end(void);
extern bool mnp_hypo_fill(mnpAdvCand *c);
extern void mnp_hypo_set(List *cands);
extern void mnp_hypo_add(mnpAdvCand *c);
extern void mnp_hypo_clear(void);

#endif							/* MNP_ADVISOR_H */
