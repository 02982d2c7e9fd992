/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  The statement part of metrics(): the top statements by total time with
 *	  their latency histogram folded into cumulative Prometheus buckets.
 *
 * metrics() itself (sql/medianest_perf--1.0.sql) formats the text
 * exposition; this file only provides statement_metrics_1_0(top_n, le_ms),
 * because the per-entry histogram is not exposed by the statements view.
 *
 * Visibility: a statement is returned only when the caller may see its
 * queryid (its own statements, or all of them for superusers and members of
 * pg_read_all_stats), so that every series has a distinct, meaningful label
 * set.  No query text is returned (label cardinality, privacy).
 *
 * Locking and memory: the statement store is read with
 * mnp_stmt_store_foreach() (its lock in shared mode, see stmt_store.c); the
 * visitor only copies a few numbers and the cumulative counts into the
 * caller's memory context.  Sorting and output happen after the lock is
 * released.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "medianest_perf.h"
#include "stmt_store.h"
#include "health.h"

PG_FUNCTION_INFO_V1(mnp_statement_metrics_1_0);

/* at most this many bucket boundaries per call */
#define MNP_METRICS_MAX_LE 64

/* One visible statement entry, copied out of the store. */
typedef struct mnpMetricItem
{
	mnpStmtKey	key;
	int64		calls;
	int64		rows;
	double		total_ms;
	double		p95_ms;
	double		p99_ms;
	int64		slow_calls;
	int64		critical_calls;
	int64		cum[FLEXIBLE_ARRAY_MEMBER];	/* one per boundary */
} mnpMetricItem;

typedef struct mnpMetricsCtx
{
	bool		see_all;
	Oid			me;
	int			nle;
	int			upto[MNP_METRICS_MAX_LE];	/* last bucket counted per le */
	mnpMetricItem **items;
	int			n;
	int			max;
} mnpMetricsCtx;

static void
mnp_metrics_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpMetricsCtx *ctx = (mnpMetricsCtx *) arg;
	const mnpStmtCounters *c = &snap->counters;
	mnpMetricItem *it;
	int64		run = 0;
	int			b = 0;

	if (c->calls <= 0 || (!ctx->see_all && snap->key.userid != ctx->me))
		return;
	if (ctx->n >= ctx->max)
	{
		ctx->max *= 2;
		ctx->items = repalloc(ctx->items, sizeof(mnpMetricItem *) * ctx->max);
	}
	it = palloc(offsetof(mnpMetricItem, cum) + sizeof(int64) * Max(ctx->nle, 1));
	it->key = snap->key;
	it->calls = c->calls;
	it->rows = c->rows;
	it->total_ms = c->total_ms;
	it->p95_ms = mnp_hist_percentile(c, 0.95);
	it->p99_ms = mnp_hist_percentile(c, 0.99);
	it->slow_calls = c->slow_calls;
	it->critical_calls = c->critical_calls;
	/* boundaries are ascending: one pass over the buckets */
	for (int i = 0; i < ctx->nle; i++)
	{
		for (; b <= ctx->upto[i]; b++)
			run += c->hist[b];
		it->cum[i] = run;
	}
	ctx->items[ctx->n++] = it;
}

/* Larger total time first; ties by key so that the order is stable. */
static int
mnp_metric_cmp(const void *a, const void *b)
{
	const mnpMetricItem *x = *(mnpMetricItem *const *) a;
	const mnpMetricItem *y = *(mnpMetricItem *const *) b;

	if (x->total_ms != y->total_ms)
		return x->total_ms > y->total_ms ? -1 : 1;
	if (x->key.queryid != y->key.queryid)
		return x->key.queryid < y->key.queryid ? -1 : 1;
	if (x->key.userid != y->key.userid)
		return x->key.userid < y->key.userid ? -1 : 1;
	if (x->key.dbid != y->key.dbid)
		return x->key.dbid < y->key.dbid ? -1 : 1;
	return (int) x->key.toplevel - (int) y->key.toplevel;
}

/*
 * medianest_perf.statement_metrics_1_0(top_n integer, le_ms float8[]):
 * the top_n statements by total time whose queryid the caller may see, each
 * with cumulative bucket counts: counts[i] is the number of calls that fell
 * in histogram buckets whose upper bound is at most le_ms[i] (le_ms must be
 * ascending and finite; choose store bucket boundaries, 0.01 * 1.1^k ms, to
 * make the counts exact).  No rows when the library is not preloaded.
 */
Datum
mnp_statement_metrics_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	mnpMetricsCtx ctx;
	int			top_n;
	ArrayType  *arr;
	Datum	   *le_datums;
	bool	   *le_nulls;
	double		le[MNP_METRICS_MAX_LE];
	int			nle;
	Datum	   *le_out;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("top_n and le_ms must not be null")));
	top_n = PG_GETARG_INT32(0);
	if (top_n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_n must not be negative")));
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("le_ms must be a one-dimensional array")));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &le_datums, &le_nulls, &nle);
	if (nle > MNP_METRICS_MAX_LE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("at most %d bucket boundaries are allowed", MNP_METRICS_MAX_LE)));
	for (int i = 0; i < nle; i++)
	{
		if (le_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("le_ms must not contain nulls")));
		le[i] = DatumGetFloat8(le_datums[i]);
		if (!isfinite(le[i]) || le[i] <= 0 || (i > 0 && le[i] <= le[i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("le_ms must hold finite, positive, strictly ascending values"),
					 errdetail("The +Inf bucket is implied: it is the number of calls.")));
	}

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	if (!mnp_shmem_ready() || top_n == 0)
		return (Datum) 0;

	/* the last store bucket wholly at or below each boundary */
	ctx.nle = nle;
	for (int i = 0; i < nle; i++)
	{
		int			b = -1;

		/* allow for rounding when le is given as 0.01 * 1.1^k */
		while (b + 1 < MNP_HIST_NBUCKETS - 1 &&
			   mnp_hist_upper(b + 1) <= le[i] * (1.0 + 1e-9))
			b++;
		ctx.upto[i] = b;
	}
	ctx.see_all = mnp_can_see_all_stats();
	ctx.me = GetUserId();
	ctx.n = 0;
	ctx.max = 64;
	ctx.items = palloc(sizeof(mnpMetricItem *) * ctx.max);
	mnp_stmt_store_foreach(mnp_metrics_visit, &ctx);

	qsort(ctx.items, ctx.n, sizeof(mnpMetricItem *), mnp_metric_cmp);

	le_out = palloc(sizeof(Datum) * Max(nle, 1));
	for (int i = 0; i < nle; i++)
		le_out[i] = Float8GetDatum(le[i]);

	for (int k = 0; k < ctx.n && k < top_n; k++)
	{
		mnpMetricItem *it = ctx.items[k];
		Datum		values[13];
		bool		nulls[13];
		Datum	   *cum = palloc(sizeof(Datum) * Max(nle, 1));
		int			i = 0;

		memset(nulls, 0, sizeof(nulls));
		for (int j = 0; j < nle; j++)
			cum[j] = Int64GetDatum(it->cum[j]);
		values[i++] = ObjectIdGetDatum(it->key.userid);
		values[i++] = ObjectIdGetDatum(it->key.dbid);
		values[i++] = BoolGetDatum(it->key.toplevel);
		values[i++] = Int64GetDatum((int64) it->key.queryid);
		values[i++] = Int64GetDatum(it->calls);
		values[i++] = Int64GetDatum(it->rows);
		values[i++] = Float8GetDatum(it->total_ms);
		values[i++] = Float8GetDatum(it->p95_ms);
		values[i++] = Float8GetDatum(it->p99_ms);
		values[i++] = Int64GetDatum(it->slow_calls);
		values[i++] = Int64GetDatum(it->critical_calls);
		values[i++] = PointerGetDatum(construct_array(le_out, nle, FLOAT8OID,
													  sizeof(float8), FLOAT8PASSBYVAL,
													  TYPALIGN_DOUBLE));
		values[i++] = PointerGetDatum(construct_array(cum, nle, INT8OID,
													  sizeof(int64), FLOAT8PASSBYVAL,
													  TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
