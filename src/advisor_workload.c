/*-------------------------------------------------------------------------
 *
 * advisor_workload.c
 *	  The index advisor's workload: statements from the statement store or
 *	  from the caller, parsed, analyzed and planned -- never executed -- in
 *	  the calling backend.
 *
 * From the store: the entries of the current database that the caller may
 * see (its own, or all with pg_read_all_stats), merged per queryid across
 * users and nesting levels, filtered by calls and total time, the top N by
 * total time.  A statement with an executed sample (stmt_sample.c) is
 * planned from the sample's text with its parameter values bound as
 * constants, i.e. a custom plan with the values that ran; without one, the
 * normalized text is analyzed with parameter types inferred from context
 * and planned generically.  If the sample cannot be planned the normalized
 * text is tried.
 *
 * Every parse, analysis and planning runs in an internal subtransaction:
 * a statement that fails (dropped table, missing privilege, utility
 * statement, text that does not parse) is skipped and noted, never failing
 * the call; only a query cancel is re-thrown.  A successful subtransaction
 * is released, so the locks planning took stay until the end of the
 * caller's transaction, as EXPLAIN's would.  Planned statements are also
 * checked against the caller's privileges (ExecCheckRTPerms), since
 * planning alone does not check them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "parser/scansup.h"
#include "catalog/namespace.h"
#include "parser/parse_type.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "advisor.h"
#include "stmt_sample.h"
#include "stmt_store.h"

/* One statement of the store, merged over users and nesting levels. */
typedef struct mnpWlEntry
{
	uint64		queryid;		/* hash key */
	double		calls;
	double		total_ms;
	double		rows;
	mnpStmtKey	key;			/* the entry with most calls (for its sample) */
	int64		key_calls;
	char	   *text;
	int			text_len;
	int			encoding;
} mnpWlEntry;

typedef struct mnpWlCollect
{
	HTAB	   *htab;
	bool		see_all;
	Oid			me;
} mnpWlCollect;

/* mnp_stmt_store_foreach visitor: merge visible entries of this database */
static void
mnp_wl_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpWlCollect *wc = (mnpWlCollect *) arg;
	mnpWlEntry *e;
	bool		found;

	if (snap->key.dbid != MyDatabaseId || snap->counters.calls <= 0 ||
		snap->text == NULL || snap->text_len <= 0)
		return;
	if (!wc->see_all && snap->key.userid != wc->me)
		return;

	e = hash_search(wc->htab, &snap->key.queryid, HASH_ENTER, &found);
	if (!found)
	{
		e->calls = 0;
		e->total_ms = 0;
		e->rows = 0;
		e->key = snap->key;
		e->key_calls = -1;
		e->text = pnstrdup(snap->text, snap->text_len);
		e->text_len = snap->text_len;
		e->encoding = snap->encoding;
	}
	e->calls += snap->counters.calls;
	e->total_ms += snap->counters.total_ms;
	e->rows += snap->counters.rows;
	if (snap->counters.calls > e->key_calls)
	{
		e->key = snap->key;
		e->key_calls = snap->counters.calls;
	}
}

static int
mnp_wl_cmp(const void *a, const void *b)
{
	const mnpWlEntry *x = *(mnpWlEntry *const *) a;
	const mnpWlEntry *y = *(mnpWlEntry *const *) b;

	if (x->total_ms != y->total_ms)
		return (x->total_ms < y->total_ms) ? 1 : -1;
	return (x->queryid > y->queryid) - (x->queryid < y->queryid);
}

/*
 * Whether a statement text may write rows (cheap test on its first word;
 * PREPARE is looked into when the text is parsed).
 */
static bool
mnp_adv_looks_like_dml(const char *t)
{
	static const char *const words[] = {"insert", "update", "delete", "merge",
	"with", "prepare"};

	for (;;)
	{
		while (*t && scanner_isspace(*t))
			t++;
		if (t[0] == '-' && t[1] == '-')
		{
			while (*t && *t != '\n')
				t++;
		}
		else if (t[0] == '/' && t[1] == '*')
		{
			const char *end = strstr(t + 2, "*/");

			if (end == NULL)
				return false;
			t = end + 2;
		}
		else
			break;
	}
	for (int i = 0; i < lengthof(words); i++)
	{
		size_t		l = strlen(words[i]);

		if (pg_strncasecmp(t, words[i], l) == 0 && !isalnum((unsigned char) t[l]) &&
			t[l] != '_')
			return true;
	}
	return false;
}

/*
 * The workload from the statement store: the top_n statements by total
 * time among those with at least min_calls calls and min_total_ms.
 */
void
mnp_adv_workload_store(mnpAdvCtx *ctx, int64 min_calls, double min_total_ms,
					   int top_n)
{
	HASHCTL		info;
	mnpWlCollect wc;
	HASH_SEQ_STATUS hs;
	mnpWlEntry *e;
	mnpWlEntry **all;
	long		n = 0;
	int			kept = 0;

	mnp_require_shmem();
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(uint64);
	info.entrysize = sizeof(mnpWlEntry);
	info.hcxt = CurrentMemoryContext;
	wc.htab = hash_create("medianest_perf advisor workload", 256, &info,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	wc.see_all = mnp_can_see_all_stats();
	wc.me = GetUserId();
	mnp_stmt_store_foreach(mnp_wl_visit, &wc);

	all = palloc(sizeof(mnpWlEntry *) * Max(hash_get_num_entries(wc.htab), 1));
	hash_seq_init(&hs, wc.htab);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		/* every recorded write counts, whatever the workload filters */
		if (e->rows > 0 && mnp_adv_looks_like_dml(e->text))
		{
			mnpAdvWriteText *w = palloc(sizeof(mnpAdvWriteText));

			w->text = pg_any_to_server(e->text, e->text_len, e->encoding);
			w->rows = e->rows;
			ctx->write_texts = lappend(ctx->write_texts, w);
		}
		if (e->calls >= min_calls && e->total_ms >= min_total_ms)
			all[n++] = e;
	}
	ctx->from_store = true;
	qsort(all, n, sizeof(mnpWlEntry *), mnp_wl_cmp);

	ctx->stmts = palloc0(sizeof(mnpAdvStmt) * Max(Min(n, top_n), 1));
	for (long i = 0; i < n && kept < top_n; i++)
	{
		mnpAdvStmt *s = &ctx->stmts[kept];
		mnpSample	sample;
		char	   *text;

		e = all[i];
		text = pg_any_to_server(e->text, e->text_len, e->encoding);
		s->no = ++kept;
		s->queryid = e->queryid;
		s->calls = e->calls;
		s->total_ms = e->total_ms;
		s->rows = e->rows;
		s->query = text;
		if (mnp_sample_fetch(&e->key, &sample))
		{
			s->sample = palloc(sizeof(mnpSample));
			*s->sample = sample;
		}
	}
	ctx->nstmts = kept;
}

/* The workload given by the caller: statements and optional call counts. */
void
mnp_adv_workload_array(mnpAdvCtx *ctx, ArrayType *stmts, ArrayType *calls)
{
	Datum	   *texts;
	bool	   *tnulls;
	int			ntexts;
	Datum	   *counts = NULL;
	bool	   *cnulls = NULL;
	int			ncounts = 0;

	deconstruct_array(stmts, TEXTOID, -1, false, TYPALIGN_INT,
					  &texts, &tnulls, &ntexts);
	if (calls != NULL)
	{
		deconstruct_array(calls, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &counts, &cnulls, &ncounts);
		if (ncounts != ntexts)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("statement_calls must have one element per statement"),
					 errdetail("%d statements and %d call counts were given.",
							   ntexts, ncounts)));
	}

	ctx->stmts = palloc0(sizeof(mnpAdvStmt) * Max(ntexts, 1));
	for (int i = 0; i < ntexts; i++)
	{
		mnpAdvStmt *s = &ctx->stmts[i];

		if (tnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("statements must not contain NULL elements"),
					 errdetail("Element %d is NULL.", i + 1)));
		s->no = i + 1;
		s->calls = 1;
		if (counts != NULL)
		{
			if (cnulls[i] || DatumGetInt64(counts[i]) < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("statement_calls must hold non-negative numbers"),
						 errdetail("Element %d is NULL or negative.", i + 1)));
			s->calls = (double) DatumGetInt64(counts[i]);
		}
		s->query = TextDatumGetCString(texts[i]);
	}
	ctx->nstmts = ntexts;
}

/* Whether the call may still plan: the planner-call and time limits. */
bool
mnp_adv_limits_ok(mnpAdvCtx *ctx)
{
	if (ctx->ignore_limits)
		return true;
	if (ctx->limit_hit)
		return false;
	if (ctx->planner_calls >= ctx->max_planner_calls)
	{
		ctx->limit_hit = true;
		mnp_adv_note(ctx, NULL, "planner call limit reached",
					 psprintf("The search stopped after %d planner calls (max_planner_calls); the advice covers what was evaluated by then.",
							  ctx->planner_calls));
		return false;
	}
	if (GetCurrentTimestamp() >= ctx->deadline)
	{
		ctx->limit_hit = true;
		mnp_adv_note(ctx, NULL, "time limit reached",
					 psprintf("The search stopped after %d planner calls (time_limit_ms); the advice covers what was evaluated by then.",
							  ctx->planner_calls));
		return false;
	}
	return true;
}

/*
 * Bound parameter values of a sample, as constants for a custom plan; a
 * value that was not kept stays an unknown parameter.
 */
static ParamListInfo
mnp_adv_sample_params(mnpSample *sample)
{
	ParamListInfo params;

	if (sample->nparams == 0)
		return NULL;
	params = makeParamList(sample->nparams);
	for (int i = 0; i < sample->nparams; i++)
	{
		ParamExternData *p = &params->params[i];

		p->ptype = sample->types[i];
		p->isnull = true;
		p->value = (Datum) 0;
		p->pflags = 0;
		if (!sample->kept[i])
			continue;
		p->pflags = PARAM_FLAG_CONST;
		if (sample->values[i] != NULL)
		{
			Oid			input;
			Oid			ioparam;

			getTypeInputInfo(p->ptype, &input, &ioparam);
			p->value = OidInputFunctionCall(input, sample->values[i], ioparam, -1);
			p->isnull = false;
		}
	}
	return params;
}

/*
 * Plan each query of s once (the caller provides the subtransaction):
 * returns the summed total cost and, in used[], the indexes the plans use.
 */
static double
mnp_adv_plan_queries(mnpAdvCtx *ctx, mnpAdvStmt *s, bool check_perms,
					 Oid *used, int max_used, int *nused, double *write_rows)
{
	double		cost = 0;
	ListCell   *lc;

	if (nused)
		*nused = 0;
	if (write_rows)
		*write_rows = 0;
	foreach(lc, s->queries)
	{
		Query	   *q = copyObject((Query *) lfirst(lc));
		PlannedStmt *pstmt;

		ctx->planner_calls++;
		pstmt = pg_plan_query(q, s->plan_text, CURSOR_OPT_PARALLEL_OK, s->params);
		if (check_perms && !ExecCheckRTPerms(pstmt->rtable, false))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for a relation the statement reads or writes")));
		cost += pstmt->planTree->total_cost;
		if (write_rows != NULL && IsA(pstmt->planTree, ModifyTable))
		{
			Plan	   *input = outerPlan(pstmt->planTree);

			*write_rows += input ? input->plan_rows : pstmt->planTree->plan_rows;
		}
		if (used != NULL && *nused < max_used)
		{
			bool		overflow;

			*nused += mnp_plan_collect_indexes(pstmt, used + *nused,
											   max_used - *nused, &overflow);
		}
	}
	return cost;
}

/*
 * The statement to plan inside PREPARE name(types) AS ... (its declared
 * parameter types in *types, palloc'd as parse_analyze_varparams wants
 * them) and DECLARE ... CURSOR FOR ...; other statements unchanged.  The
 * statement store records statements run by EXECUTE under the PREPARE
 * text, like pg_stat_statements.
 */
static RawStmt *
mnp_adv_unwrap(RawStmt *rs, Oid **types, int *ntypes)
{
	RawStmt    *inner;
	Node	   *query;

	if (IsA(rs->stmt, PrepareStmt))
	{
		PrepareStmt *ps = (PrepareStmt *) rs->stmt;
		ListCell   *lc;
		int			i = 0;

		query = ps->query;
		*ntypes = list_length(ps->argtypes);
		*types = palloc0(sizeof(Oid) * Max(*ntypes, 1));
		foreach(lc, ps->argtypes)
			(*types)[i++] = typenameTypeId(NULL, lfirst_node(TypeName, lc));
	}
	else if (IsA(rs->stmt, DeclareCursorStmt))
		query = ((DeclareCursorStmt *) rs->stmt)->query;
	else
		return rs;
	inner = makeNode(RawStmt);
	inner->stmt = query;
	inner->stmt_location = rs->stmt_location;
	inner->stmt_len = rs->stmt_len;
	return inner;
}

/*
 * The two ends of the internal subtransactions that keep a recorded
 * statement's parse, analysis or planning error from failing the advice:
 * commit, or roll back (the error copied into err_cxt and returned; a
 * query cancel is thrown again), each back in old with owner current.
 */
static void
mnp_adv_subxact_commit(MemoryContext old, ResourceOwner owner)
{
	ReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
}

static ErrorData *
mnp_adv_subxact_abort(MemoryContext err_cxt, MemoryContext old, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(err_cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(old);
	CurrentResourceOwner = owner;
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}

/*
 * Parse, analyze and rewrite s (from its sample or its text) and plan it
 * with no hypothetical index, collecting its candidate columns.  Returns
 * false with *err set on failure.
 */
static bool
mnp_adv_try_prepare(mnpAdvCtx *ctx, mnpAdvStmt *s, bool use_sample,
					char **err)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;
	mnpAdvWrite *volatile s_write = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(ctx->cxt);
	PG_TRY();
	{
		const char *text = use_sample ? s->sample->text : s->query;
		List	   *raw = raw_parser(text, RAW_PARSE_DEFAULT);
		RawStmt    *rs;
		Query	   *query;
		List	   *rewritten;
		ListCell   *lc;
		ParamListInfo params = NULL;
		Oid		   *types;
		int			ntypes;
		double		write_rows;

		if (list_length(raw) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("expected exactly one statement, found %d",
							list_length(raw))));
		rs = linitial_node(RawStmt, raw);
		types = NULL;
		ntypes = 0;
		rs = mnp_adv_unwrap(rs, &types, &ntypes);
		if (use_sample)
		{
			query = parse_analyze_fixedparams(rs, text, s->sample->types,
											  s->sample->nparams, NULL);
			params = mnp_adv_sample_params(s->sample);
		}
		else
			query = parse_analyze_varparams(rs, text, &types, &ntypes, NULL);
		if (query->commandType == CMD_UTILITY)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("utility statements are not planned")));
		if (s->queryid == 0)
			s->queryid = query->queryId;

		rewritten = pg_rewrite_query(query);
		s->queries = NIL;
		foreach(lc, rewritten)
		{
			Query	   *q = (Query *) lfirst(lc);

			if (q->commandType != CMD_UTILITY)
				s->queries = lappend(s->queries, q);
		}
		if (s->queries == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the statement rewrites to utility statements only")));
		s->params = params;
		s->plan_text = (char *) text;
		s->sampled = use_sample;

		/* baseline: no hypothetical index; the hook collects the columns */
		s->uses = NIL;
		s->relids = NIL;
		ctx->collecting = s;
		MemoryContextSwitchTo(ctx->plan_cxt);
		s->base_cost = mnp_adv_plan_queries(ctx, s, true, NULL, 0, NULL,
											&write_rows);
		ctx->collecting = NULL;

		/* a given DML statement's writes: calls x the planner's rows */
		if (!ctx->from_store && query->resultRelation > 0 &&
			(query->commandType == CMD_INSERT || query->commandType == CMD_UPDATE ||
			 query->commandType == CMD_DELETE || query->commandType == CMD_MERGE))
		{
			mnpAdvWrite *w;

			MemoryContextSwitchTo(ctx->cxt);
			w = palloc0(sizeof(mnpAdvWrite));
			w->relid = rt_fetch(query->resultRelation, query->rtable)->relid;
			w->cmd = query->commandType;
			w->rows = write_rows * s->calls;
			if (query->commandType == CMD_UPDATE)
			{
				foreach(lc, query->targetList)
				{
					TargetEntry *te = (TargetEntry *) lfirst(lc);

					if (!te->resjunk)
						w->cols = bms_add_member(w->cols, te->resno);
				}
			}
			s_write = w;
		}

		mnp_adv_subxact_commit(old, owner);
	}
	PG_CATCH();
	{
		ctx->collecting = NULL;
		*err = mnp_adv_subxact_abort(ctx->cxt, old, owner)->message;
		s->uses = NIL;
		s->relids = NIL;
		s->queries = NIL;
		ok = false;
	}
	PG_END_TRY();
	MemoryContextReset(ctx->plan_cxt);
	if (ok && s_write != NULL)
	{
		MemoryContext o = MemoryContextSwitchTo(ctx->cxt);

		ctx->writes = lappend(ctx->writes, s_write);
		MemoryContextSwitchTo(o);
	}
	return ok;
}

/*
 * Prepare one workload statement: from its sample when it has one (falling
 * back to its text), noting it as skipped when it cannot be planned.
 */
void
mnp_adv_prepare(mnpAdvCtx *ctx, mnpAdvStmt *s)
{
	char	   *err = NULL;

	s->ok = false;
	if (!mnp_adv_limits_ok(ctx))
	{
		mnp_adv_note(ctx, s, "not planned", "A limit was reached before this statement.");
		return;
	}
	if (s->sample != NULL && mnp_adv_try_prepare(ctx, s, true, &err))
		s->ok = true;
	else if (mnp_adv_try_prepare(ctx, s, false, &err))
		s->ok = true;
	if (s->ok)
		s->cur_cost = s->base_cost;
	else
		mnp_adv_note(ctx, s, "could not be planned", err);
}

/*
 * Plan s with the current hypothetical indexes.  Returns false if a limit
 * was reached or planning failed (then the statement counts as unchanged).
 */
bool
mnp_adv_plan_cost(mnpAdvCtx *ctx, mnpAdvStmt *s, double *cost, Oid *used,
				  int max_used, int *nused)
{
	MemoryContext old = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	CHECK_FOR_INTERRUPTS();
	if (nused)
		*nused = 0;
	if (!mnp_adv_limits_ok(ctx))
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(ctx->plan_cxt);
	PG_TRY();
	{
		*cost = mnp_adv_plan_queries(ctx, s, false, used, max_used, nused,
									 NULL);
		mnp_adv_subxact_commit(old, owner);
	}
	PG_CATCH();
	{
		mnp_adv_subxact_abort(ctx->cxt, old, owner);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextReset(ctx->plan_cxt);
	return ok;
}

/*
 * The table, command and assigned columns of one recorded DML text, or
 * NULL.  Raw parsing only: the text is not analyzed or planned.
 */
static mnpAdvWrite *
mnp_adv_parse_write(const char *text)
{
	List	   *raw = raw_parser(text, RAW_PARSE_DEFAULT);
	Node	   *stmt;
	RangeVar   *rv = NULL;
	List	   *targets = NIL;
	mnpAdvWrite *w;
	ListCell   *lc;

	if (list_length(raw) != 1)
		return NULL;
	stmt = linitial_node(RawStmt, raw)->stmt;
	if (IsA(stmt, PrepareStmt))
		stmt = ((PrepareStmt *) stmt)->query;

	w = palloc0(sizeof(mnpAdvWrite));
	if (IsA(stmt, InsertStmt))
	{
		rv = ((InsertStmt *) stmt)->relation;
		w->cmd = CMD_INSERT;
	}
	else if (IsA(stmt, UpdateStmt))
	{
		rv = ((UpdateStmt *) stmt)->relation;
		targets = ((UpdateStmt *) stmt)->targetList;
		w->cmd = CMD_UPDATE;
	}
	else if (IsA(stmt, DeleteStmt))
	{
		rv = ((DeleteStmt *) stmt)->relation;
		w->cmd = CMD_DELETE;
	}
	else if (IsA(stmt, MergeStmt))
	{
		rv = ((MergeStmt *) stmt)->relation;
		w->cmd = CMD_MERGE;
	}
	else
		return NULL;

	w->relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(w->relid))
		return NULL;
	foreach(lc, targets)
	{
		AttrNumber	a = get_attnum(w->relid, lfirst_node(ResTarget, lc)->name);

		if (a > 0)
			w->cols = bms_add_member(w->cols, a);
	}
	return w;
}

/*
 * Resolve the recorded DML texts of a store workload into tables and
 * columns (each in a subtransaction; a text that does not parse is left
 * out).
 */
void
mnp_adv_resolve_writes(mnpAdvCtx *ctx)
{
	ListCell   *lc;

	foreach(lc, ctx->write_texts)
	{
		mnpAdvWriteText *wt = (mnpAdvWriteText *) lfirst(lc);
		MemoryContext old = CurrentMemoryContext;
		ResourceOwner owner = CurrentResourceOwner;
		mnpAdvWrite *volatile w = NULL;

		CHECK_FOR_INTERRUPTS();
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(ctx->cxt);
		PG_TRY();
		{
			w = mnp_adv_parse_write(wt->text);
			mnp_adv_subxact_commit(old, owner);
		}
		PG_CATCH();
		{
			mnp_adv_subxact_abort(ctx->cxt, old, owner);
			w = NULL;
		}
		PG_END_TRY();
		if (w != NULL)
		{
			w->rows = wt->rows;
			ctx->writes = lappend(ctx->writes, w);
		}
	}
}
