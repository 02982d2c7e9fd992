/*-------------------------------------------------------------------------
 *
 * health.c
 *	  Recommendations, health score and metrics: the thresholds (GUCs) and
 *	  a backend-local cache for the expensive inputs of the recommendations
 *	  view.
 *
 * The recommendations view, health() and metrics() are SQL and plpgsql in
 * sql/medianest_perf--1.0.sql (section "Recommendations, health and
 * metrics").  This file only provides what SQL cannot:
 *	  health_settings()		every threshold below as a typed column, read from
 *							this library so that a session that has not loaded
 *							it yet cannot fail on an unknown setting
 *	  session_cache_get()	the value stored by session_cache_put() under a key,
 *	  session_cache_put()	if it is younger than a maximum age; used so that
 *							the index advisor and the bloat report run at most
 *							once per maximum age per session, however often
 *							the views are read
 *	  session_cache_clear()	forget every cached value of this session
 *
 * The GUCs are all PGC_SUSET and defined whether or not the library is
 * preloaded.  They are kept in one table (mnp_health_gucs) whose order is
 * the column order of health_settings().
 *
 * Memory: cached values live in a memory context under TopMemoryContext,
 * at most MNP_CACHE_SLOTS of them, each keyed by (role, database, key):
 * a SET ROLE or another database never sees another role's results.  No
 * shared memory and no locks are involved.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"
#include "health.h"

PG_FUNCTION_INFO_V1(mnp_health_settings);
PG_FUNCTION_INFO_V1(mnp_session_cache_get);
PG_FUNCTION_INFO_V1(mnp_session_cache_put);
PG_FUNCTION_INFO_V1(mnp_session_cache_clear);

/* How a threshold is defined and returned by health_settings(). */
typedef enum mnpGucKind
{
	MNP_GUC_REAL,				/* real; double precision column */
	MNP_GUC_INT,				/* integer; bigint column */
	MNP_GUC_KB,					/* integer in kB; bigint column (kB) */
	MNP_GUC_MS,					/* integer in ms; bigint column (ms) */
	MNP_GUC_SECS,				/* integer in s; interval column */
	MNP_GUC_MAX_AGE				/* integer in s, -1 = never; integer column */
} mnpGucKind;

typedef struct mnpHealthGuc
{
	const char *name;			/* without the medianest_perf. prefix */
	mnpGucKind	kind;
	double		boot;
	double		min;
	double		max;
	const char *short_desc;
	const char *long_desc;
	double		real_value;		/* storage for MNP_GUC_REAL */
	int			int_value;		/* storage for the integer kinds */
} mnpHealthGuc;

/*
 * Every threshold, in the column order of health_settings().  Keep in sync
 * with its OUT parameters in the install script (checked at run time).
 */
static mnpHealthGuc mnp_health_gucs[] = {
	{"cache_hit_ratio_warning", MNP_GUC_REAL, 0.99, 0.0, 1.0,
		"Database shared-buffer hit ratio below which a cache_hit_ratio recommendation is a warning.",
	"Also the hit ratio at which the cache sub-score of health() is 75."},
	{"cache_hit_ratio_critical", MNP_GUC_REAL, 0.90, 0.0, 1.0,
		"Database shared-buffer hit ratio below which a cache_hit_ratio recommendation is critical.",
	"Also the hit ratio at which the cache sub-score of health() reaches 0."},
	{"statement_hit_ratio_warning", MNP_GUC_REAL, 0.90, 0.0, 1.0,
		"Per-statement shared-buffer hit ratio below which a statement gets a cache_hit_ratio recommendation.",
	NULL},
	{"cache_min_blocks", MNP_GUC_INT, 1000, 0, INT_MAX,
		"Shared blocks (hit plus read) a database or statement must have touched before its hit ratio is judged.",
	NULL},
	{"temp_spill_min_kb", MNP_GUC_KB, 1024, 0, INT_MAX,
		"Temporary file data written per call from which a statement gets a temp_spill recommendation.",
	NULL},
	{"offset_min_rows", MNP_GUC_INT, 1000, 1, INT_MAX,
		"OFFSET value from which a captured slow execution gets an offset_pagination recommendation.",
	NULL},
	{"stale_stats_ratio", MNP_GUC_REAL, 0.2, 0.0, 1e6,
		"Rows modified since the last ANALYZE, as a share of the table's rows, from which its statistics are stale.",
	NULL},
	{"stale_stats_min_rows", MNP_GUC_INT, 1000, 0, INT_MAX,
		"Rows modified since the last ANALYZE from which a table's statistics can be called stale.",
	NULL},
	{"vacuum_dead_ratio", MNP_GUC_REAL, 0.2, 0.0, 1e6,
		"Dead rows as a share of live rows from which a table gets a vacuum_lag recommendation.",
	"Also the dead-row ratio at which the maintenance sub-score of health() is 75."},
	{"vacuum_dead_ratio_critical", MNP_GUC_REAL, 0.5, 0.0, 1e6,
		"Dead rows as a share of live rows from which a vacuum_lag recommendation is critical.",
	"Also the dead-row ratio at which the maintenance sub-score of health() reaches 0."},
	{"vacuum_min_dead_rows", MNP_GUC_INT, 1000, 0, INT_MAX,
		"Dead rows a table must have before it can get a vacuum_lag recommendation.",
	NULL},
	{"maintenance_max_age", MNP_GUC_SECS, 86400, 0, INT_MAX,
		"Age of the last (auto)vacuum or (auto)analyze beyond which a vacuum_lag or stale_statistics recommendation is critical.",
	"A table never vacuumed or analyzed counts as older than any age."},
	{"long_transaction_warning", MNP_GUC_SECS, 300, 0, INT_MAX,
		"Transaction age from which a long_transaction recommendation is a warning.",
	NULL},
	{"long_transaction_critical", MNP_GUC_SECS, 3600, 0, INT_MAX,
		"Transaction age from which a long_transaction recommendation is critical.",
	NULL},
	{"connection_warning_ratio", MNP_GUC_REAL, 0.8, 0.0, 1.0,
		"Share of the usable connection slots in use from which a connection_saturation recommendation is a warning.",
	"Usable slots are max_connections minus superuser_reserved_connections."},
	{"connection_critical_ratio", MNP_GUC_REAL, 0.95, 0.0, 1.0,
		"Share of the usable connection slots in use from which a connection_saturation recommendation is critical.",
	NULL},
	{"rollback_ratio_warning", MNP_GUC_REAL, 0.05, 0.0, 1.0,
		"Share of transactions rolled back at which the transactions sub-score of health() is 75.",
	NULL},
	{"rollback_ratio_critical", MNP_GUC_REAL, 0.2, 0.0, 1.0,
		"Share of transactions rolled back at which the transactions sub-score of health() reaches 0.",
	NULL},
	{"slow_call_share_warning", MNP_GUC_REAL, 0.01, 0.0, 1.0,
		"Share of calls at or over slow_query_ms at which the query performance sub-score of health() is 75.",
	NULL},
	{"slow_call_share_critical", MNP_GUC_REAL, 0.05, 0.0, 1.0,
		"Share of calls at or over slow_query_ms at which the query performance sub-score of health() reaches 0.",
	NULL},
	{"time_share_warning", MNP_GUC_REAL, 0.05, 0.0, 1.0,
		"Share of all recorded statement time from which a time-based recommendation is at least a warning.",
	"Also where the time-based sub-scores of health() are 75."},
	{"time_share_critical", MNP_GUC_REAL, 0.25, 0.0, 1.0,
		"Share of all recorded statement time from which a time-based recommendation is critical.",
	"Also where the time-based sub-scores of health() reach 0."},
	{"index_waste_warning", MNP_GUC_REAL, 0.1, 0.0, 1.0,
		"Share of index space in unused, duplicate, redundant or invalid indexes at which the indexes sub-score of health() is 75.",
	NULL},
	{"index_waste_critical", MNP_GUC_REAL, 0.5, 0.0, 1.0,
		"Share of index space in unused, duplicate, redundant or invalid indexes at which the indexes sub-score of health() reaches 0.",
	NULL},
	{"bloat_share_warning", MNP_GUC_REAL, 0.2, 0.0, 1.0,
		"Reclaimable bloat as a share of the measured relations' size at which the bloat sub-score of health() is 75.",
	NULL},
	{"bloat_share_critical", MNP_GUC_REAL, 0.5, 0.0, 1.0,
		"Reclaimable bloat as a share of the measured relations' size at which the bloat sub-score of health() reaches 0.",
	NULL},
	{"health_count_critical", MNP_GUC_INT, 5, 1, INT_MAX,
		"Number of problem objects (invalid indexes, tables with stale statistics, deadlocks, ...) at which a counting sub-score of health() reaches 0.",
	"One such object gives 75."},
	{"metrics_top_statements", MNP_GUC_INT, 50, 0, 100000,
		"How many statements, by total time, metrics() exports.",
	NULL},
	{"advice_cache_max_age", MNP_GUC_MAX_AGE, 3600, -1, INT_MAX,
		"How long the recommendations view reuses this session's last index advisor result before calling index_advice() again.",
	"-1 leaves the advisor out of the recommendations; 0 calls it on every read."},
	{"advice_time_limit_ms", MNP_GUC_MS, 2000, 1, INT_MAX,
		"Time limit of the index_advice() call the recommendations view makes.",
	"Passed as its time_limit_ms argument; the advisor returns what it found within the limit."},
	{"bloat_cache_max_age", MNP_GUC_MAX_AGE, 600, -1, INT_MAX,
		"How long recommendations, health() and metrics() reuse this session's last bloat report before reading it again.",
	"-1 leaves bloat out; 0 reads the bloat report on every call."},
};

#define MNP_HEALTH_NGUCS lengthof(mnp_health_gucs)

/* Define every threshold (called whether or not the library is preloaded). */
void
mnp_health_init(void)
{
	for (int i = 0; i < MNP_HEALTH_NGUCS; i++)
	{
		mnpHealthGuc *g = &mnp_health_gucs[i];
		char	   *name = psprintf("%s.%s", MNP_NAME, g->name);

		if (g->kind == MNP_GUC_REAL)
		{
			g->real_value = g->boot;
			DefineCustomRealVariable(name, g->short_desc, g->long_desc,
									 &g->real_value, g->boot, g->min, g->max,
									 PGC_SUSET, 0, NULL, NULL, NULL);
		}
		else
		{
			int			flags = 0;

			if (g->kind == MNP_GUC_KB)
				flags = GUC_UNIT_KB;
			else if (g->kind == MNP_GUC_MS)
				flags = GUC_UNIT_MS;
			else if (g->kind == MNP_GUC_SECS || g->kind == MNP_GUC_MAX_AGE)
				flags = GUC_UNIT_S;
			g->int_value = (int) g->boot;
			DefineCustomIntVariable(name, g->short_desc, g->long_desc,
									&g->int_value, (int) g->boot,
									(int) g->min, (int) g->max,
									PGC_SUSET, flags, NULL, NULL, NULL);
		}
	}
}

/* medianest_perf.health_settings(): every threshold, typed */
Datum
mnp_health_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[MNP_HEALTH_NGUCS];
	bool		nulls[MNP_HEALTH_NGUCS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != MNP_HEALTH_NGUCS)
		elog(ERROR, "health_settings() returns %d columns, the library defines %d settings",
			 tupdesc->natts, (int) MNP_HEALTH_NGUCS);

	memset(nulls, 0, sizeof(nulls));
	for (int i = 0; i < MNP_HEALTH_NGUCS; i++)
	{
		mnpHealthGuc *g = &mnp_health_gucs[i];

		switch (g->kind)
		{
			case MNP_GUC_REAL:
				values[i] = Float8GetDatum(g->real_value);
				break;
			case MNP_GUC_INT:
			case MNP_GUC_KB:
			case MNP_GUC_MS:
				values[i] = Int64GetDatum((int64) g->int_value);
				break;
			case MNP_GUC_MAX_AGE:
				values[i] = Int32GetDatum(g->int_value);
				break;
			case MNP_GUC_SECS:
				{
					Interval   *iv = palloc0(sizeof(Interval));

					iv->day = g->int_value / SECS_PER_DAY;
					iv->time = (int64) (g->int_value % SECS_PER_DAY) * USECS_PER_SEC;
					values[i] = IntervalPGetDatum(iv);
				}
				break;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*----------
 * Session cache
 *----------
 */

#define MNP_CACHE_SLOTS 8
#define MNP_CACHE_KEY_LEN 64

typedef struct mnpCacheSlot
{
	bool		used;
	Oid			userid;
	Oid			dbid;
	char		key[MNP_CACHE_KEY_LEN];
	TimestampTz stored_at;
	Datum		value;			/* jsonb, in mnp_cache_cxt */
} mnpCacheSlot;

static MemoryContext mnp_cache_cxt = NULL;
static mnpCacheSlot mnp_cache[MNP_CACHE_SLOTS];

/* Validate and copy a cache key argument. */
static void
mnp_cache_key(FunctionCallInfo fcinfo, char *key)
{
	char	   *k;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cache key must not be null")));
	k = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strlen(k) == 0 || strlen(k) >= MNP_CACHE_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cache key must have 1 to %d bytes", MNP_CACHE_KEY_LEN - 1)));
	strlcpy(key, k, MNP_CACHE_KEY_LEN);
}

static mnpCacheSlot *
mnp_cache_find(const char *key)
{
	for (int i = 0; i < MNP_CACHE_SLOTS; i++)
	{
		mnpCacheSlot *s = &mnp_cache[i];

		if (s->used && s->userid == GetUserId() && s->dbid == MyDatabaseId &&
			strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

/*
 * medianest_perf.session_cache_get(key text, max_age_s integer,
 *		OUT stored_at timestamptz, OUT value jsonb)
 * The value this role stored under key in this database and session, if it
 * is at most max_age_s seconds old; no row otherwise (or when max_age_s < 0).
 */
Datum
mnp_session_cache_get(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	char		key[MNP_CACHE_KEY_LEN];
	int			max_age;
	mnpCacheSlot *s;

	mnp_cache_key(fcinfo, key);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("max_age_s must not be null")));
	max_age = PG_GETARG_INT32(1);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	s = mnp_cache_find(key);
	if (s != NULL && max_age >= 0 &&
		!TimestampDifferenceExceeds(s->stored_at, GetCurrentTimestamp(),
									max_age * 1000))
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = TimestampTzGetDatum(s->stored_at);
		values[1] = s->value;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * medianest_perf.session_cache_put(key text, value jsonb): remember value
 * under key for this role, database and session; returns the time stored.
 * When every slot is taken, the oldest is replaced.
 */
Datum
mnp_session_cache_put(PG_FUNCTION_ARGS)
{
	char		key[MNP_CACHE_KEY_LEN];
	mnpCacheSlot *s;
	MemoryContext old;
	Datum		copy;

	mnp_cache_key(fcinfo, key);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cached value must not be null")));

	if (mnp_cache_cxt == NULL)
		mnp_cache_cxt = AllocSetContextCreate(TopMemoryContext,
											  "medianest_perf session cache",
											  ALLOCSET_SMALL_SIZES);

	/* copy first: nothing is changed if this runs out of memory */
	old = MemoryContextSwitchTo(mnp_cache_cxt);
	copy = PointerGetDatum(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(1)));
	MemoryContextSwitchTo(old);

	s = mnp_cache_find(key);
	if (s == NULL)
	{
		for (int i = 0; i < MNP_CACHE_SLOTS; i++)
		{
			if (!mnp_cache[i].used)
			{
				s = &mnp_cache[i];
				break;
			}
			if (s == NULL || mnp_cache[i].stored_at < s->stored_at)
				s = &mnp_cache[i];
		}
	}
	if (s->used)
		pfree(DatumGetPointer(s->value));
	s->used = true;
	s->userid = GetUserId();
	s->dbid = MyDatabaseId;
	strlcpy(s->key, key, MNP_CACHE_KEY_LEN);
	s->stored_at = GetCurrentTimestamp();
	s->value = copy;
	PG_RETURN_TIMESTAMPTZ(s->stored_at);
}

/* medianest_perf.session_cache_clear(): forget every value of this session */
Datum
mnp_session_cache_clear(PG_FUNCTION_ARGS)
{
	for (int i = 0; i < MNP_CACHE_SLOTS; i++)
		mnp_cache[i].used = false;
	if (mnp_cache_cxt != NULL)
		MemoryContextReset(mnp_cache_cxt);
	PG_RETURN_VOID();
}
