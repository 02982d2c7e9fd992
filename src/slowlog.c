/*-------------------------------------------------------------------------
 *
 * slowlog.c
 *	  Slow-query capture: executions at or over medianest_perf.slow_query_ms
 *	  (warning) or medianest_perf.critical_query_ms (critical) are kept in a
 *	  bounded shared ring with their source text, plan and, on request,
 *	  their bound parameters; optionally also written to the server log.
 *
 * Cost model: a fast statement pays one comparison in ExecutorEnd.  Only a
 * slow one pays for EXPLAIN (built in the calling backend, inside an internal
 * subtransaction so that a failure while explaining is counted and swallowed
 * instead of failing the application's statement) and for one copy into the
 * ring.  medianest_perf.slow_query_analyze additionally turns on row
 * instrumentation (actual rows and loops, no per-node timing) for a sampled
 * fraction of statements at ExecutorStart; that is the only part that costs
 * something on fast statements, and it is off by default.
 *
 * Shared structures: mnpSlowShared (header and counters) followed by
 * slow_query_max slots of fixed size (header + text + plan + parameters);
 * sizes are fixed at start-up.  The newest entry overwrites the oldest, and
 * overwrites are counted.
 *
 * Locking protocol (lock MNP_LOCK_SLOWLOG):
 *	  - capture: EXCLUSIVE, only to copy an already built entry into its slot;
 *	  - read (view, info): SHARED;
 *	  - reset: EXCLUSIVE.
 *	  The plan and texts are built before the lock is taken; nothing is
 *	  logged or raised while it is held.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/explain.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "libpq/libpq-be.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"
#include "slowlog.h"

PG_FUNCTION_INFO_V1(mnp_slow_queries_1_0);
PG_FUNCTION_INFO_V1(mnp_slow_queries_info);
PG_FUNCTION_INFO_V1(mnp_reset_slow_queries);

#define MNP_SLOW_PARAM_BYTES	1024
#define MNP_CLIENT_ADDR_LEN		64

typedef enum mnpPlanFormat
{
	MNP_PLAN_OFF,
	MNP_PLAN_TEXT,
	MNP_PLAN_JSON
} mnpPlanFormat;

static const struct config_enum_entry mnp_plan_options[] = {
	{"off", MNP_PLAN_OFF, false},
	{"text", MNP_PLAN_TEXT, false},
	{"json", MNP_PLAN_JSON, false},
	{NULL, 0, false}
};

/* Fixed part of one ring slot; text, plan and parameters follow. */
typedef struct mnpSlowEntry
{
	int64		seq;			/* 0: empty slot */
	TimestampTz captured_at;
	int			pid;
	Oid			userid;
	Oid			dbid;
	uint64		queryid;
	uint64		top_queryid;
	int			nesting_level;
	int			severity;		/* MNP_SLOW_WARNING or MNP_SLOW_CRITICAL */
	double		duration_ms;
	int64		rows;
	int			encoding;
	char		application_name[NAMEDATALEN];
	char		client_addr[MNP_CLIENT_ADDR_LEN];
	int			text_len;
	bool		text_truncated;
	int			plan_len;		/* -1: no plan */
	bool		plan_truncated;
	bool		plan_analyzed;
	int			plan_format;
	int			params_len;		/* -1: not captured */
	bool		params_truncated;
} mnpSlowEntry;

typedef struct mnpSlowShared
{
	int64		next_seq;		/* sequence of the last capture */
	int64		overwritten;	/* captures that replaced an older entry */
	int64		explain_failures;	/* plans that could not be built */
	TimestampTz stats_reset;
	int			nslots;
	Size		slot_size;
	int			text_bytes;
	int			plan_bytes;
} mnpSlowShared;

/* GUCs */
static int	mnp_slow_ms = 1000;
static int	mnp_critical_ms = 5000;
static int	mnp_slow_max = 1000;
static int	mnp_slow_text_bytes = 4096;
static int	mnp_slow_plan_bytes = 16384;
static int	mnp_slow_plan = MNP_PLAN_TEXT;
static bool mnp_slow_analyze = false;
static double mnp_slow_sample_rate = 0.1;
static bool mnp_slow_parameters = false;
static bool mnp_log_slow = false;

static mnpSlowShared *mnp_slow = NULL;
static char *mnp_slow_ring = NULL;

static bool mnp_check_threshold(int *newval, void **extra, GucSource source);

/* Reject negative thresholds with a message saying what is accepted. */
static bool
mnp_check_threshold(int *newval, void **extra, GucSource source)
{
	if (*newval < 0)
	{
		GUC_check_errdetail("The threshold must be 0 (disabled) or a positive number of milliseconds.");
		return false;
	}
	return true;
}

/* Define this module's GUCs. */
void
mnp_slowlog_init(void)
{
	DefineCustomIntVariable("medianest_perf.slow_query_ms",
							"Executions at or over this duration are recorded as slow (severity warning).",
							"0 disables slow-query capture.",
							&mnp_slow_ms,
							1000, INT_MIN, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS,
							mnp_check_threshold, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.critical_query_ms",
							"Executions at or over this duration are recorded with severity critical.",
							"0 disables the critical severity.",
							&mnp_critical_ms,
							5000, INT_MIN, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS,
							mnp_check_threshold, NULL, NULL);
	DefineCustomEnumVariable("medianest_perf.slow_query_plan",
							 "Plan captured with each slow execution: off, text or json.",
							 NULL,
							 &mnp_slow_plan,
							 MNP_PLAN_TEXT, mnp_plan_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("medianest_perf.slow_query_analyze",
							 "Add actual rows and loops to captured plans by instrumenting a sample of statements.",
							 "Costs row counting in every plan node of the sampled statements, fast or slow.",
							 &mnp_slow_analyze,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("medianest_perf.slow_query_sample_rate",
							 "Fraction of statements instrumented when slow_query_analyze is on.",
							 NULL,
							 &mnp_slow_sample_rate,
							 0.1, 0.0, 1.0,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("medianest_perf.slow_query_parameters",
							 "Capture bound parameter values of slow executions.",
							 "Off by default: parameter values may be sensitive.",
							 &mnp_slow_parameters,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("medianest_perf.log_slow_queries",
							 "Also write one LOG line with the plan for each slow execution.",
							 NULL,
							 &mnp_log_slow,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("medianest_perf.slow_query_max",
							"Number of slow executions kept (the oldest is overwritten).",
							NULL,
							&mnp_slow_max,
							1000, 10, 100000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.slow_query_text_bytes",
							"Bytes of source text kept per slow execution (longer texts are truncated).",
							NULL,
							&mnp_slow_text_bytes,
							4096, 128, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.slow_query_plan_bytes",
							"Bytes of plan kept per slow execution (longer plans are truncated).",
							NULL,
							&mnp_slow_plan_bytes,
							16384, 256, 4 * 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

static Size
mnp_slot_size(void)
{
	return MAXALIGN(sizeof(mnpSlowEntry) + mnp_slow_text_bytes + 1 +
					mnp_slow_plan_bytes + 1 + MNP_SLOW_PARAM_BYTES + 1);
}

/* Shared memory this module needs. */
Size
mnp_slowlog_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(mnpSlowShared)),
					mul_size(mnp_slot_size(), mnp_slow_max));
}

/* Create or attach the ring; called under AddinShmemInitLock. */
void
mnp_slowlog_shmem_startup(void)
{
	bool		found;

	mnp_slow = ShmemInitStruct("medianest_perf slow queries",
							   mnp_slowlog_shmem_size(), &found);
	mnp_slow_ring = (char *) mnp_slow + MAXALIGN(sizeof(mnpSlowShared));
	if (!found)
	{
		memset(mnp_slow, 0, mnp_slowlog_shmem_size());
		mnp_slow->nslots = mnp_slow_max;
		mnp_slow->slot_size = mnp_slot_size();
		mnp_slow->text_bytes = mnp_slow_text_bytes;
		mnp_slow->plan_bytes = mnp_slow_plan_bytes;
		mnp_slow->stats_reset = GetCurrentTimestamp();
	}
}

static inline mnpSlowEntry *
mnp_slot(int i)
{
	return (mnpSlowEntry *) (mnp_slow_ring + (Size) i * mnp_slow->slot_size);
}

static inline char *
mnp_slot_text(mnpSlowEntry *e)
{
	return (char *) e + sizeof(mnpSlowEntry);
}

static inline char *
mnp_slot_plan(mnpSlowEntry *e)
{
	return mnp_slot_text(e) + mnp_slow->text_bytes + 1;
}

static inline char *
mnp_slot_params(mnpSlowEntry *e)
{
	return mnp_slot_plan(e) + mnp_slow->plan_bytes + 1;
}

/*
 * Severity of an execution of this duration: MNP_SLOW_NONE, _WARNING or
 * _CRITICAL.  The per-statement hot path: two comparisons.
 */
int
mnp_slowlog_level(double duration_ms)
{
	if (mnp_critical_ms > 0 && duration_ms >= mnp_critical_ms)
		return MNP_SLOW_CRITICAL;
	if (mnp_slow_ms > 0 && duration_ms >= mnp_slow_ms)
		return MNP_SLOW_WARNING;
	return MNP_SLOW_NONE;
}

/*
 * At ExecutorStart, before the standard one: the instrument options this
 * statement needs for an analyzed plan, should it turn out slow.
 */
int
mnp_slowlog_instrument_options(void)
{
	if (!mnp_slow_analyze || mnp_slow_plan == MNP_PLAN_OFF ||
		(mnp_slow_ms <= 0 && mnp_critical_ms <= 0))
		return 0;
	if (mnp_slow_sample_rate >= 1.0 ||
		pg_prng_double(&pg_global_prng_state) < mnp_slow_sample_rate)
		return INSTRUMENT_ROWS;
	return 0;
}

/* Copy at most max bytes of src into dst at a character boundary. */
static int
mnp_clip_copy(char *dst, const char *src, int len, int max, bool *truncated)
{
	int			l = len;

	*truncated = false;
	if (l > max)
	{
		l = pg_mbcliplen(src, len, max);
		*truncated = true;
	}
	memcpy(dst, src, l);
	dst[l] = '\0';
	return l;
}

/*
 * Build the EXPLAIN text of the executing plan (and the parameter string)
 * inside an internal subtransaction, so that any error is swallowed and
 * counted.  Results are allocated in the caller's memory context.
 */
static bool
mnp_build_plan(QueryDesc *qd, char **plan, bool *analyzed, char **params)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	*plan = NULL;
	*params = NULL;
	*analyzed = false;

	if (IsInParallelMode() || !IsTransactionState())
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (mnp_slow_plan != MNP_PLAN_OFF)
		{
			ExplainState *es = NewExplainState();

			es->analyze = (qd->instrument_options & INSTRUMENT_ROWS) != 0 &&
				qd->planstate != NULL && qd->planstate->instrument != NULL;
			es->timing = false;
			es->buffers = false;
			es->summary = false;
			es->verbose = false;
			es->costs = true;
			es->format = (mnp_slow_plan == MNP_PLAN_JSON) ?
				EXPLAIN_FORMAT_JSON : EXPLAIN_FORMAT_TEXT;

			ExplainBeginOutput(es);
			ExplainOpenGroup("Query", NULL, true, es);
			ExplainPrintPlan(es, qd);
			ExplainCloseGroup("Query", NULL, true, es);
			ExplainEndOutput(es);
			while (es->str->len > 0 && es->str->data[es->str->len - 1] == '\n')
				es->str->data[--es->str->len] = '\0';
			*plan = es->str->data;
			*analyzed = es->analyze;
		}
		if (mnp_slow_parameters && qd->params != NULL && qd->params->numParams > 0)
			*params = BuildParamLogString(qd->params, NULL, MNP_SLOW_PARAM_BYTES);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		*plan = NULL;
		*params = NULL;
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/*
 * Record one slow execution.  Called from ExecutorEnd (before the standard
 * ExecutorEnd, while the plan state is still alive).
 */
void
mnp_slowlog_capture(const mnpExecSample *s, int severity, uint64 top_queryid)
{
	QueryDesc  *qd = s->query_desc;
	char	   *plan = NULL;
	char	   *params = NULL;
	bool		analyzed = false;
	bool		plan_ok;
	const char *text;
	int			loc;
	int			len;
	mnpSlowEntry *e;
	int64		seq;

	if (mnp_slow == NULL)
		return;

	plan_ok = mnp_build_plan(qd, &plan, &analyzed, &params);

	loc = qd->plannedstmt->stmt_location;
	len = qd->plannedstmt->stmt_len;
	text = qd->sourceText ? mnp_clean_query_text(qd->sourceText, &loc, &len) : "";
	if (qd->sourceText == NULL)
		len = 0;

	if (mnp_log_slow)
		ereport(LOG,
				(errmsg("medianest_perf: %s query: duration: %.3f ms  queryid: " INT64_FORMAT "  rows: " UINT64_FORMAT "%s%s",
						severity == MNP_SLOW_CRITICAL ? "critical" : "slow",
						s->duration_ms, (int64) s->queryid, s->rows,
						plan ? "  plan:\n" : "", plan ? plan : ""),
				 errhidestmt(true)));

	LWLockAcquire(mnp_lock(MNP_LOCK_SLOWLOG), LW_EXCLUSIVE);
	seq = ++mnp_slow->next_seq;
	e = mnp_slot((int) ((seq - 1) % mnp_slow->nslots));
	if (e->seq != 0)
		mnp_slow->overwritten++;
	if (!plan_ok)
		mnp_slow->explain_failures++;

	e->seq = seq;
	e->captured_at = GetCurrentTimestamp();
	e->pid = MyProcPid;
	e->userid = s->userid;
	e->dbid = s->dbid;
	e->queryid = s->queryid;
	e->top_queryid = top_queryid;
	e->nesting_level = s->nesting_level;
	e->severity = severity;
	e->duration_ms = s->duration_ms;
	e->rows = (int64) s->rows;
	e->encoding = GetDatabaseEncoding();
	e->application_name[0] = '\0';
	if (application_name)
		strlcpy(e->application_name, application_name, NAMEDATALEN);
	e->client_addr[0] = '\0';
	if (MyProcPort && MyProcPort->remote_host &&
		strcmp(MyProcPort->remote_host, "[local]") != 0)
		strlcpy(e->client_addr, MyProcPort->remote_host, MNP_CLIENT_ADDR_LEN);
	e->text_len = mnp_clip_copy(mnp_slot_text(e), text, len,
								mnp_slow->text_bytes, &e->text_truncated);
	e->plan_format = mnp_slow_plan;
	e->plan_analyzed = analyzed;
	if (plan)
		e->plan_len = mnp_clip_copy(mnp_slot_plan(e), plan, strlen(plan),
									mnp_slow->plan_bytes, &e->plan_truncated);
	else
	{
		e->plan_len = -1;
		e->plan_truncated = false;
	}
	if (params)
		e->params_len = mnp_clip_copy(mnp_slot_params(e), params, strlen(params),
									  MNP_SLOW_PARAM_BYTES, &e->params_truncated);
	else
	{
		e->params_len = -1;
		e->params_truncated = false;
	}
	LWLockRelease(mnp_lock(MNP_LOCK_SLOWLOG));

	if (plan)
		pfree(plan);
	if (params)
		pfree(params);
}

/* Text datum of a slot string, converted from the slot's encoding. */
static Datum
mnp_slot_string(const char *s, int len, int encoding)
{
	char	   *conv = pg_any_to_server(s, len, encoding);
	Datum		d = CStringGetTextDatum(conv);

	if (conv != s)
		pfree(conv);
	return d;
}

#define MNP_SLOW_COLS 21

/* medianest_perf.slow_queries_1_0(): rows of the slow_queries view */
Datum
mnp_slow_queries_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		see_all = mnp_can_see_all_stats();
	Oid			me = GetUserId();

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);

	LWLockAcquire(mnp_lock(MNP_LOCK_SLOWLOG), LW_SHARED);
	for (int i = 0; i < mnp_slow->nslots; i++)
	{
		mnpSlowEntry *e = mnp_slot(i);
		Datum		values[MNP_SLOW_COLS];
		bool		nulls[MNP_SLOW_COLS];
		bool		visible;
		int			c = 0;

		if (e->seq == 0)
			continue;
		visible = see_all || e->userid == me;
		memset(nulls, 0, sizeof(nulls));

		values[c++] = Int64GetDatum(e->seq);
		values[c++] = TimestampTzGetDatum(e->captured_at);
		values[c++] = Int32GetDatum(e->pid);
		values[c++] = ObjectIdGetDatum(e->userid);
		values[c++] = ObjectIdGetDatum(e->dbid);
		values[c++] = CStringGetTextDatum(e->application_name);
		if (e->client_addr[0] != '\0')
			values[c++] = CStringGetTextDatum(e->client_addr);
		else
			nulls[c++] = true;
		if (visible)
		{
			values[c++] = Int64GetDatum((int64) e->queryid);
			values[c++] = Int64GetDatum((int64) e->top_queryid);
		}
		else
		{
			nulls[c++] = true;
			nulls[c++] = true;
		}
		values[c++] = Int32GetDatum(e->nesting_level);
		values[c++] = CStringGetTextDatum(e->severity == MNP_SLOW_CRITICAL ?
										  "critical" : "warning");
		values[c++] = Float8GetDatum(e->duration_ms);
		values[c++] = Int64GetDatum(e->rows);
		if (visible)
			values[c++] = mnp_slot_string(mnp_slot_text(e), e->text_len, e->encoding);
		else
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
		values[c++] = BoolGetDatum(e->text_truncated);
		if (visible && e->plan_len >= 0)
			values[c++] = mnp_slot_string(mnp_slot_plan(e), e->plan_len, e->encoding);
		else
			nulls[c++] = true;
		if (e->plan_len >= 0)
			values[c++] = CStringGetTextDatum(e->plan_format == MNP_PLAN_JSON ? "json" : "text");
		else
			nulls[c++] = true;
		values[c++] = BoolGetDatum(e->plan_truncated);
		values[c++] = BoolGetDatum(e->plan_analyzed);
		if (visible && e->params_len >= 0)
			values[c++] = mnp_slot_string(mnp_slot_params(e), e->params_len, e->encoding);
		else
			nulls[c++] = true;
		values[c++] = BoolGetDatum(e->params_truncated);
		Assert(c == MNP_SLOW_COLS);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(mnp_lock(MNP_LOCK_SLOWLOG));
	return (Datum) 0;
}

/* medianest_perf.slow_queries_info(): ring size and counters */
Datum
mnp_slow_queries_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	int64		captured;

	mnp_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	LWLockAcquire(mnp_lock(MNP_LOCK_SLOWLOG), LW_SHARED);
	captured = mnp_slow->next_seq;
	values[0] = Int64GetDatum(Min(captured, (int64) mnp_slow->nslots));
	values[1] = Int32GetDatum(mnp_slow->nslots);
	values[2] = Int64GetDatum(captured);
	values[3] = Int64GetDatum(mnp_slow->overwritten);
	values[4] = Int64GetDatum(mnp_slow->explain_failures);
	values[5] = TimestampTzGetDatum(mnp_slow->stats_reset);
	LWLockRelease(mnp_lock(MNP_LOCK_SLOWLOG));

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* medianest_perf.reset_slow_queries(): empty the ring */
Datum
mnp_reset_slow_queries(PG_FUNCTION_ARGS)
{
	mnp_require_shmem();
	LWLockAcquire(mnp_lock(MNP_LOCK_SLOWLOG), LW_EXCLUSIVE);
	for (int i = 0; i < mnp_slow->nslots; i++)
		mnp_slot(i)->seq = 0;
	mnp_slow->next_seq = 0;
	mnp_slow->overwritten = 0;
	mnp_slow->explain_failures = 0;
	mnp_slow->stats_reset = GetCurrentTimestamp();
	LWLockRelease(mnp_lock(MNP_LOCK_SLOWLOG));
	PG_RETURN_VOID();
}
