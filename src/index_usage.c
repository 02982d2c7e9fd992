/*-------------------------------------------------------------------------
 *
 * index_usage.c
 *	  Index usage scoring: the thresholds of the index_usage and table_scans
 *	  views, and the C helpers that join the statement store's "which
 *	  statements used which index" to the catalogs of the current database.
 *
 * The scoring itself is SQL (sql/medianest_perf--1.0.sql, section "Index
 * usage scoring") over pg_index, the cumulative statistics functions and the
 * helpers here:
 *	  is_preloaded()			whether the statement store exists (the views
 *								degrade to "no statement evidence" without it)
 *	  index_usage_settings()	the GUCs below, read from this library so that
 *								a session that has not loaded it yet cannot
 *								fail on an unknown setting
 *	  index_statement_counts()	per index of this database: how many recorded
 *								statements used it; a partitioned index counts
 *								each statement that used any of its partitions
 *								once
 *	  index_queries(regclass)	the statements that used one index (or, for a
 *								partitioned index, any of its partitions), with
 *								the usual text visibility rules
 *
 * Index OIDs are only meaningful inside one database, so every helper looks
 * at the statement entries of MyDatabaseId only.
 *
 * Locking and memory: the statement store is read through
 * mnp_stmt_store_foreach() (its lock in shared mode, see stmt_store.c).  The
 * visitors only copy what they need into the caller's memory context; the
 * catalog lookups (partition ancestors) happen after the lock is released.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

#include "medianest_perf.h"
#include "stmt_store.h"
#include "index_usage.h"

PG_FUNCTION_INFO_V1(mnp_is_preloaded);
PG_FUNCTION_INFO_V1(mnp_index_usage_settings);
PG_FUNCTION_INFO_V1(mnp_index_statement_counts);
PG_FUNCTION_INFO_V1(mnp_index_queries);

/* GUCs (PGC_SUSET thresholds) */
static int	mnp_unused_index_min_age = 7 * SECS_PER_DAY;	/* seconds */
static double mnp_rarely_used_scans_per_day = 1.0;
static double mnp_write_heavy_ratio = 1000.0;
static int	mnp_seq_scan_min_rows = 10000;
static int	mnp_seq_scan_min_count = 50;

/* Define this module's GUCs (called whether or not the library is preloaded). */
void
mnp_index_usage_init(void)
{
	DefineCustomIntVariable("medianest_perf.unused_index_min_age",
							"How long an index's zero scan count must have been observed before it is called unused.",
							"Also the minimum observation for rarely_used and write_heavy. 0 judges at once.",
							&mnp_unused_index_min_age,
							7 * SECS_PER_DAY, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomRealVariable("medianest_perf.rarely_used_scans_per_day",
							 "Scans per day below which an index is called rarely used.",
							 "0 disables the rarely_used verdict.",
							 &mnp_rarely_used_scans_per_day,
							 1.0, 0.0, 1e9,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("medianest_perf.write_heavy_ratio",
							 "Index-maintaining table writes per index scan above which an index is called write heavy.",
							 "0 disables the write_heavy verdict.",
							 &mnp_write_heavy_ratio,
							 1000.0, 0.0, 1e12,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.seq_scan_min_rows",
							"Average rows read per sequential scan from which table_scans suspects a missing index.",
							NULL,
							&mnp_seq_scan_min_rows,
							10000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.seq_scan_min_count",
							"Sequential scans since the statistics reset from which table_scans suspects a missing index.",
							NULL,
							&mnp_seq_scan_min_count,
							50, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* medianest_perf.is_preloaded(): whether the statement store is available */
Datum
mnp_is_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(mnp_shmem_ready());
}

/* medianest_perf.index_usage_settings(): the thresholds, as typed values */
Datum
mnp_index_usage_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	Interval   *min_age = palloc0(sizeof(Interval));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	min_age->day = mnp_unused_index_min_age / SECS_PER_DAY;
	min_age->time = (int64) (mnp_unused_index_min_age % SECS_PER_DAY) * USECS_PER_SEC;

	values[0] = IntervalPGetDatum(min_age);
	values[1] = Float8GetDatum(mnp_rarely_used_scans_per_day);
	values[2] = Float8GetDatum(mnp_write_heavy_ratio);
	values[3] = Int64GetDatum((int64) mnp_seq_scan_min_rows);
	values[4] = Int64GetDatum((int64) mnp_seq_scan_min_count);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*----------
 * index_statement_counts()
 *----------
 */

/* One statement entry of this database that used indexes, copied out. */
typedef struct mnpUsedIndexes
{
	int64		calls;
	int			n;
	Oid			oids[MNP_STMT_MAX_INDEXES];
} mnpUsedIndexes;

typedef struct mnpCountsCollect
{
	mnpUsedIndexes *items;
	int			n;
	int			max;
} mnpCountsCollect;

/* Per index (or partitioned ancestor) totals. */
typedef struct mnpIndexCount
{
	Oid			indexrelid;		/* hash key */
	int64		statements;
	int64		calls;
	int			last_item;		/* last statement counted, to count once */
	bool		ancestors_known;
	List	   *ancestors;		/* partitioned indexes above this one */
} mnpIndexCount;

static void
mnp_counts_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpCountsCollect *c = (mnpCountsCollect *) arg;
	mnpUsedIndexes *item;

	if (snap->key.dbid != MyDatabaseId || snap->counters.calls <= 0 ||
		snap->nindexes <= 0)
		return;
	if (c->n >= c->max)
	{
		c->max *= 2;
		c->items = repalloc(c->items, sizeof(mnpUsedIndexes) * c->max);
	}
	item = &c->items[c->n++];
	item->calls = snap->counters.calls;
	item->n = Min(snap->nindexes, MNP_STMT_MAX_INDEXES);
	memcpy(item->oids, snap->indexes, sizeof(Oid) * item->n);
}

/* Count statement 'item' once for index 'oid'; returns the hash entry. */
static mnpIndexCount *
mnp_count_one(HTAB *h, Oid oid, int item, int64 calls)
{
	mnpIndexCount *e;
	bool		found;

	e = hash_search(h, &oid, HASH_ENTER, &found);
	if (!found)
	{
		e->statements = 0;
		e->calls = 0;
		e->last_item = -1;
		e->ancestors_known = false;
		e->ancestors = NIL;
	}
	if (e->last_item != item)
	{
		e->statements++;
		e->calls += calls;
		e->last_item = item;
	}
	return e;
}

/*
 * medianest_perf.index_statement_counts(): per index of this database, the
 * number of recorded statements whose sampled plans used it and their calls.
 * A partitioned index counts every statement that used one of its
 * partitions, once.  Returns no rows when the library is not preloaded.
 */
Datum
mnp_index_statement_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mnpCountsCollect collect;
	HASHCTL		ctl;
	HTAB	   *h;
	HASH_SEQ_STATUS hs;
	mnpIndexCount *e;

	InitMaterializedSRF(fcinfo, 0);
	if (!mnp_shmem_ready())
		return (Datum) 0;

	collect.n = 0;
	collect.max = 64;
	collect.items = palloc(sizeof(mnpUsedIndexes) * collect.max);
	mnp_stmt_store_foreach(mnp_counts_visit, &collect);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(mnpIndexCount);
	ctl.hcxt = CurrentMemoryContext;
	h = hash_create("medianest_perf index counts", 256, &ctl,
					HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	for (int i = 0; i < collect.n; i++)
	{
		mnpUsedIndexes *item = &collect.items[i];

		for (int j = 0; j < item->n; j++)
		{
			ListCell   *lc;

			e = mnp_count_one(h, item->oids[j], i, item->calls);
			if (!e->ancestors_known)
			{
				/* plans name leaf indexes: credit their partitioned parents */
				e->ancestors = get_partition_ancestors(item->oids[j]);
				e->ancestors_known = true;
			}
			foreach(lc, e->ancestors)
				(void) mnp_count_one(h, lfirst_oid(lc), i, item->calls);
		}
	}

	hash_seq_init(&hs, h);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = ObjectIdGetDatum(e->indexrelid);
		values[1] = Int64GetDatum(e->statements);
		values[2] = Int64GetDatum(e->calls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*----------
 * index_queries(regclass)
 *----------
 */

typedef struct mnpIndexQueriesCtx
{
	ReturnSetInfo *rsinfo;
	bool		see_all;
	Oid		   *targets;		/* sorted */
	int			ntargets;
} mnpIndexQueriesCtx;

static int
mnp_oid_cmp(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

	return (x > y) - (x < y);
}

static void
mnp_index_queries_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpIndexQueriesCtx *ctx = (mnpIndexQueriesCtx *) arg;
	bool		used = false;
	bool		visible;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (snap->key.dbid != MyDatabaseId || snap->counters.calls <= 0)
		return;
	for (int i = 0; i < snap->nindexes && !used; i++)
		used = bsearch(&snap->indexes[i], ctx->targets, ctx->ntargets,
					   sizeof(Oid), mnp_oid_cmp) != NULL;
	if (!used)
		return;

	visible = ctx->see_all || snap->key.userid == GetUserId();
	values[0] = ObjectIdGetDatum(snap->key.userid);
	values[1] = BoolGetDatum(snap->key.toplevel);
	if (visible)
		values[2] = Int64GetDatum((int64) snap->key.queryid);
	else
		nulls[2] = true;
	values[3] = Int64GetDatum(snap->counters.calls);
	values[4] = PointerGetDatum(mnp_visible_query_text(snap, ctx->see_all));
	tuplestore_putvalues(ctx->rsinfo->setResult, ctx->rsinfo->setDesc,
						 values, nulls);
}

/*
 * medianest_perf.index_queries(index regclass): the recorded statements of
 * this database whose sampled plans used the index (for a partitioned index:
 * any of its partitions).  Other users' statements show no queryid and
 * "<insufficient privilege>" unless the caller may see all statistics.
 */
Datum
mnp_index_queries(PG_FUNCTION_ARGS)
{
	mnpIndexQueriesCtx ctx;
	Oid			indexid;
	char		relkind;
	List	   *members;
	ListCell   *lc;
	int			n = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("index must not be null"),
				 errhint("Pass an index name, for example index_queries('my_table_pkey').")));
	indexid = PG_GETARG_OID(0);
	relkind = get_rel_relkind(indexid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("index with OID %u does not exist", indexid),
				 errdetail("It may have been dropped.")));
	if (relkind != RELKIND_INDEX && relkind != RELKIND_PARTITIONED_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexid)),
				 errhint("List a table's indexes with: SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'my_table'::regclass.")));

	mnp_require_shmem();

	if (relkind == RELKIND_PARTITIONED_INDEX)
		members = find_all_inheritors(indexid, NoLock, NULL);
	else
		members = list_make1_oid(indexid);

	ctx.targets = palloc(sizeof(Oid) * list_length(members));
	foreach(lc, members)
		ctx.targets[n++] = lfirst_oid(lc);
	qsort(ctx.targets, n, sizeof(Oid), mnp_oid_cmp);
	ctx.ntargets = n;

	InitMaterializedSRF(fcinfo, 0);
	ctx.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ctx.see_all = mnp_can_see_all_stats();
	mnp_stmt_store_foreach(mnp_index_queries_visit, &ctx);
	return (Datum) 0;
}
