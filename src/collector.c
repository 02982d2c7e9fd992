/*-------------------------------------------------------------------------
 *
 * collector.c
 *	  The executor hooks: time every tracked execution and hand one
 *	  mnpExecSample to each store at ExecutorEnd.
 *
 * Hooks (all chained to the previous ones, installed only when preloaded):
 *	  post_parse_analyze  normalize the text of a statement not yet in the
 *						  statement store (only then: it needs the scanner)
 *	  ExecutorStart		  ask for total-time and buffer instrumentation
 *	  ExecutorRun/Finish  track the nesting depth
 *	  ProcessUtility	  nesting depth of statements run by utility commands
 *						  (DO, CALL, CREATE TABLE AS, ...)
 *	  ExecutorEnd		  build the sample and dispatch it
 *
 * Rules: parallel workers are skipped; statements whose queryId is 0 are
 * skipped (EnableQueryId() makes the core compute it); nothing here raises
 * an error because of the extension's own trouble -- the stores degrade and
 * count what they could not record.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "parser/analyze.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/queryjumble.h"

#include "medianest_perf.h"
#include "slowlog.h"
#include "nplus1.h"
#include "stmt_sample.h"
#include "stmt_store.h"

int			mnp_track = MNP_TRACK_TOP;

static const struct config_enum_entry mnp_track_options[] = {
	{"none", MNP_TRACK_NONE, false},
	{"top", MNP_TRACK_TOP, false},
	{"all", MNP_TRACK_ALL, false},
	{NULL, 0, false}
};

/* current nesting depth of executor and utility calls */
static int	mnp_nesting_level = 0;

/* queryid of the client's statement that is executing (for nested ones) */
static uint64 mnp_top_queryid = 0;

static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void mnp_post_parse_analyze(ParseState *pstate, Query *query,
								   JumbleState *jstate);
static void mnp_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void mnp_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
							uint64 count, bool execute_once);
static void mnp_ExecutorFinish(QueryDesc *queryDesc);
static void mnp_ExecutorEnd(QueryDesc *queryDesc);
static void mnp_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							   bool readOnlyTree, ProcessUtilityContext context,
							   ParamListInfo params, QueryEnvironment *queryEnv,
							   DestReceiver *dest, QueryCompletion *qc);

/* Whether statements at this nesting level are tracked. */
static inline bool
mnp_enabled(int level)
{
	return mnp_shmem_ready() && !IsParallelWorker() &&
		(mnp_track == MNP_TRACK_ALL ||
		 (mnp_track == MNP_TRACK_TOP && level == 0));
}

/* Define the collector's GUCs. */
void
mnp_collector_init_gucs(void)
{
	DefineCustomEnumVariable("medianest_perf.track",
							 "Which statements are tracked: top (issued by clients), all (also those inside functions), none.",
							 NULL,
							 &mnp_track,
							 MNP_TRACK_TOP,
							 mnp_track_options,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

/* Install the hooks (preload only). */
void
mnp_collector_install_hooks(void)
{
	EnableQueryId();

	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = mnp_post_parse_analyze;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = mnp_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = mnp_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = mnp_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = mnp_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = mnp_ProcessUtility;
}

/* Current executor nesting depth (0 = a statement issued by the client). */
int
mnp_collector_nesting_level(void)
{
	return mnp_nesting_level;
}

/*
 * Parse analysis: the only moment the constants' locations are known, so a
 * statement seen for the first time gets its normalized text stored here.
 * Statements without constants are left to ExecutorEnd, whose source text
 * is already in normal form; the N+1 detector is told about them, so that
 * it hashes only their parameters.
 */
static void
mnp_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	mnpStmtKey	key;
	char	   *norm;
	int			loc;
	int			len;

	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	if (query->utilityStmt != NULL || query->queryId == UINT64CONST(0) ||
		jstate == NULL || pstate->p_sourcetext == NULL ||
		!mnp_enabled(mnp_nesting_level))
		return;
	if (jstate->clocations_count <= 0)
	{
		/* the N+1 detector need not hash this statement's text */
		mnp_nplus1_note_constfree(query->queryId);
		return;
	}

	mnp_stmt_key_init(&key, GetUserId(), MyDatabaseId, query->queryId,
					  mnp_nesting_level == 0);
	if (mnp_stmt_store_exists(&key))
		return;

	loc = query->stmt_location;
	len = query->stmt_len;
	(void) mnp_clean_query_text(pstate->p_sourcetext, &loc, &len);
	norm = mnp_normalize_query(pstate->p_sourcetext, loc, &len, jstate);
	mnp_stmt_store_prepare(&key, norm, norm ? len : 0);
	if (norm)
		pfree(norm);
}

static void
mnp_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	bool		tracked = mnp_enabled(mnp_nesting_level) &&
		queryDesc->plannedstmt->queryId != UINT64CONST(0);

	if (mnp_nesting_level == 0)
		mnp_top_queryid = queryDesc->plannedstmt->queryId;

	/* row instrumentation for an analyzed slow-query plan (sampled) */
	if (tracked)
		queryDesc->instrument_options |= mnp_slowlog_instrument_options();

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (tracked && queryDesc->totaltime == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(queryDesc->estate->es_query_cxt);

		queryDesc->totaltime = InstrAlloc(1, INSTRUMENT_TIMER | INSTRUMENT_BUFFERS,
										  false);
		MemoryContextSwitchTo(old);
	}

	if (tracked)
		mnp_nplus1_start(queryDesc, mnp_nesting_level == 0);
}

static void
mnp_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
				bool execute_once)
{
	mnp_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		mnp_nesting_level--;
	}
	PG_END_TRY();
}

static void
mnp_ExecutorFinish(QueryDesc *queryDesc)
{
	mnp_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		mnp_nesting_level--;
	}
	PG_END_TRY();
}

static void
mnp_ExecutorEnd(QueryDesc *queryDesc)
{
	uint64		queryid = queryDesc->plannedstmt->queryId;

	if (queryid != UINT64CONST(0) && queryDesc->totaltime != NULL &&
		mnp_enabled(mnp_nesting_level))
	{
		mnpExecSample s;
		mnpStmtKey	key;
		int64		calls;
		int			severity;
		Instrumentation *t = queryDesc->totaltime;

		/* make sure the totals are complete (as pg_stat_statements does) */
		InstrEndLoop(t);

		s.queryid = queryid;
		s.userid = GetUserId();
		s.dbid = MyDatabaseId;
		s.nesting_level = mnp_nesting_level;
		s.toplevel = (mnp_nesting_level == 0);
		s.operation = queryDesc->operation;
		s.duration_ms = t->total * 1000.0;
		s.rows = queryDesc->estate->es_processed;
		s.shared_blks_hit = t->bufusage.shared_blks_hit;
		s.shared_blks_read = t->bufusage.shared_blks_read;
		s.temp_blks_written = t->bufusage.temp_blks_written;
		s.now = GetCurrentStatementStartTimestamp();
		s.query_desc = queryDesc;

		severity = mnp_slowlog_level(s.duration_ms);

		mnp_stmt_key_init(&key, s.userid, s.dbid, queryid, s.toplevel);
		calls = mnp_stmt_store_record(&key, &s, severity);
		if (severity != MNP_SLOW_NONE)
			mnp_slowlog_capture(&s, severity,
								s.toplevel ? queryid : mnp_top_queryid);
		mnp_nplus1_observe(&s);

		/*
		 * Which indexes the plan used, and the statement as executed (its
		 * constants or parameter values, for the index advisor): sampled at
		 * the 1st, 2nd, 4th, 8th ... execution and every 1024th (and the
		 * first after a restart, which has no sample), so both follow
		 * changes without any work on the other executions.
		 */
		if (calls > 0 && ((calls & (calls - 1)) == 0 || calls % 1024 == 0 ||
						  mnp_stmt_wants_sample))
		{
			Oid			oids[MNP_STMT_MAX_INDEXES];
			bool		overflow;
			int			n;

			n = mnp_plan_collect_indexes(queryDesc->plannedstmt, oids,
										 MNP_STMT_MAX_INDEXES, &overflow);
			if (n > 0 || overflow)
				mnp_stmt_store_note_indexes(&key, oids, n, overflow);

			/* the statement as executed, for the index advisor */
			mnp_sample_capture(&key, queryDesc);
		}
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*
 * Utility commands that run statements (DO, CALL, CREATE TABLE AS, ...)
 * make those statements nested.  EXECUTE, PREPARE and DEALLOCATE do not:
 * the statement run by EXECUTE is the client's own, at the top level.
 */
static void
mnp_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		nests = !IsA(parsetree, ExecuteStmt) &&
		!IsA(parsetree, PrepareStmt) &&
		!IsA(parsetree, DeallocateStmt);

	if (mnp_nesting_level == 0)
		mnp_top_queryid = pstmt->queryId;

	if (!nests)
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
		return;
	}

	/* BEGIN can make the running transaction a block */
	if (IsA(parsetree, TransactionStmt))
		mnp_nplus1_xact_statement();

	mnp_nesting_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		mnp_nesting_level--;
	}
	PG_END_TRY();
}
