/*-------------------------------------------------------------------------
 *
 * nplus1_advice.c
 *	  Derive the concrete rewrite for a repeated statement from its plan:
 *	  which relation and which columns the statement looks rows up by
 *	  (an equality between a column and a parameter or constant in an
 *	  index condition or a scan filter), so that the advice can name
 *	  "WHERE author_id = ANY($1::integer[])" rather than a fixed sentence.
 *	  For write loops: the target relation, the inserted or updated
 *	  columns and the key of UPDATE / DELETE.
 *
 * Called only when a run of a statement reaches the repeat threshold (a
 * few times per unit of work at most), inside the statement's transaction,
 * so catalog lookups are allowed.  Everything is allocated in a private
 * memory context (created once per backend, reset before returning); the
 * results are copied into the caller's fixed-size buffers (clipped at a
 * character boundary).
 * Only lookups that return NULL on a missing object are used, so a
 * concurrently dropped column or type degrades the text instead of
 * raising an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/bitmapset.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "nplus1.h"

/* scratch memory of mnp_nplus1_advise(), kept for the backend's life */
static MemoryContext np1_advice_cxt = NULL;

/* at most this many key columns are named */
#define NP1_MAX_KEYS 4

/* What a scan of the plan tells: the relation and its lookup columns. */
typedef struct np1Lookup
{
	Oid			relid;			/* first relation scanned by a key, or any */
	Index		rti;
	int			nkeys;
	AttrNumber	keys[NP1_MAX_KEYS];
	bool		already_any;	/* the key is already compared with = ANY */
} np1Lookup;

/* Strip casts that do not change which rows match. */
static Node *
np1_strip(Node *node)
{
	for (;;)
	{
		if (node == NULL)
			return NULL;
		if (IsA(node, RelabelType))
			node = (Node *) ((RelabelType *) node)->arg;
		else if (IsA(node, FuncExpr) &&
				 ((FuncExpr *) node)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(((FuncExpr *) node)->args) == 1)
			node = (Node *) linitial(((FuncExpr *) node)->args);
		else
			return node;
	}
}

/* A value supplied by the client: a constant or an external parameter. */
static bool
np1_is_value(Node *node)
{
	node = np1_strip(node);
	if (node == NULL)
		return false;
	if (IsA(node, Const))
		return true;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXTERN;
	return false;
}

/*
 * The table column a Var refers to: directly for Vars of the scanned
 * relation, through the index target list for index-only scans.
 */
static AttrNumber
np1_var_attno(Node *node, Index scanrelid, List *indextlist)
{
	Var		   *var;

	node = np1_strip(node);
	if (node == NULL || !IsA(node, Var))
		return InvalidAttrNumber;
	var = (Var *) node;
	if (var->varno == INDEX_VAR && indextlist != NIL)
	{
		TargetEntry *tle;

		if (var->varattno < 1 || var->varattno > list_length(indextlist))
			return InvalidAttrNumber;
		tle = list_nth_node(TargetEntry, indextlist, var->varattno - 1);
		return np1_var_attno((Node *) tle->expr, scanrelid, NIL);
	}
	if (var->varno == (int) scanrelid && var->varattno > 0)
		return var->varattno;
	return InvalidAttrNumber;
}

static bool
np1_is_equality(Oid opno)
{
	char	   *name = get_opname(opno);

	return name != NULL && strcmp(name, "=") == 0;
}

static void
np1_add_key(np1Lookup *lk, AttrNumber attno, bool any)
{
	for (int i = 0; i < lk->nkeys; i++)
		if (lk->keys[i] == attno)
			return;
	if (lk->nkeys < NP1_MAX_KEYS)
		lk->keys[lk->nkeys++] = attno;
	if (any)
		lk->already_any = true;
}

/* Record the columns compared for equality with a client value. */
static void
np1_scan_quals(List *quals, Index scanrelid, List *indextlist, np1Lookup *lk)
{
	ListCell   *lc;

	foreach(lc, quals)
	{
		Node	   *q = (Node *) lfirst(lc);
		AttrNumber	attno;

		if (IsA(q, OpExpr) && list_length(((OpExpr *) q)->args) == 2 &&
			np1_is_equality(((OpExpr *) q)->opno))
		{
			Node	   *l = linitial(((OpExpr *) q)->args);
			Node	   *r = lsecond(((OpExpr *) q)->args);

			if ((attno = np1_var_attno(l, scanrelid, indextlist)) != InvalidAttrNumber &&
				np1_is_value(r))
				np1_add_key(lk, attno, false);
			else if ((attno = np1_var_attno(r, scanrelid, indextlist)) != InvalidAttrNumber &&
					 np1_is_value(l))
				np1_add_key(lk, attno, false);
		}
		else if (IsA(q, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) q)->useOr &&
				 np1_is_equality(((ScalarArrayOpExpr *) q)->opno))
		{
			ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) q;

			if ((attno = np1_var_attno(linitial(sa->args), scanrelid, indextlist)) != InvalidAttrNumber &&
				np1_is_value(lsecond(sa->args)))
				np1_add_key(lk, attno, true);
		}
	}
}

static bool np1_walk(Plan *plan, PlannedStmt *pstmt, Index want_rti,
					 np1Lookup *lk);

static bool
np1_walk_list(List *plans, PlannedStmt *pstmt, Index want_rti, np1Lookup *lk)
{
	ListCell   *lc;

	foreach(lc, plans)
		if (np1_walk((Plan *) lfirst(lc), pstmt, want_rti, lk))
			return true;
	return false;
}

/*
 * Depth-first, outer side first: stop at the first scan of a plain
 * relation (restricted to want_rti when non-zero) that compares columns
 * with client values.  Remembers the first relation scanned at all.
 */
static bool
np1_walk(Plan *plan, PlannedStmt *pstmt, Index want_rti, np1Lookup *lk)
{
	Index		scanrelid = 0;
	List	   *quals = NIL;
	List	   *indextlist = NIL;

	if (plan == NULL)
		return false;

	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
			scanrelid = ((Scan *) plan)->scanrelid;
			break;
		case T_IndexScan:
			scanrelid = ((Scan *) plan)->scanrelid;
			quals = ((IndexScan *) plan)->indexqualorig;
			break;
		case T_IndexOnlyScan:
			scanrelid = ((Scan *) plan)->scanrelid;
			quals = ((IndexOnlyScan *) plan)->indexqual;
			indextlist = ((IndexOnlyScan *) plan)->indextlist;
			break;
		case T_BitmapHeapScan:
			scanrelid = ((Scan *) plan)->scanrelid;
			quals = ((BitmapHeapScan *) plan)->bitmapqualorig;
			break;
		case T_TidScan:
			scanrelid = ((Scan *) plan)->scanrelid;
			break;
		case T_Append:
			return np1_walk_list(((Append *) plan)->appendplans, pstmt, want_rti, lk);
		case T_MergeAppend:
			return np1_walk_list(((MergeAppend *) plan)->mergeplans, pstmt, want_rti, lk);
		case T_SubqueryScan:
			if (np1_walk(((SubqueryScan *) plan)->subplan, pstmt, want_rti, lk))
				return true;
			break;
		default:
			break;
	}

	if (scanrelid > 0 && scanrelid <= (Index) list_length(pstmt->rtable) &&
		(want_rti == 0 || scanrelid == want_rti))
	{
		RangeTblEntry *rte = rt_fetch(scanrelid, pstmt->rtable);

		if (rte->rtekind == RTE_RELATION)
		{
			np1Lookup	here;

			memset(&here, 0, sizeof(here));
			np1_scan_quals(quals, scanrelid, indextlist, &here);
			np1_scan_quals(plan->qual, scanrelid, indextlist, &here);
			if (here.nkeys > 0)
			{
				here.relid = rte->relid;
				here.rti = scanrelid;
				*lk = here;
				return true;
			}
			if (!OidIsValid(lk->relid))
			{
				lk->relid = rte->relid;
				lk->rti = scanrelid;
			}
		}
	}

	if (np1_walk(plan->lefttree, pstmt, want_rti, lk))
		return true;
	return np1_walk(plan->righttree, pstmt, want_rti, lk);
}

/* Whether any expression of the plan calls a volatile function. */
static bool
np1_plan_volatile(Plan *plan)
{
	if (plan == NULL)
		return false;
	if (contain_volatile_functions((Node *) plan->targetlist) ||
		contain_volatile_functions((Node *) plan->qual))
		return true;
	switch (nodeTag(plan))
	{
		case T_FunctionScan:
			if (contain_volatile_functions((Node *) ((FunctionScan *) plan)->functions))
				return true;
			break;
		case T_Append:
			{
				ListCell   *lc;

				foreach(lc, ((Append *) plan)->appendplans)
					if (np1_plan_volatile((Plan *) lfirst(lc)))
						return true;
			}
			break;
		case T_SubqueryScan:
			if (np1_plan_volatile(((SubqueryScan *) plan)->subplan))
				return true;
			break;
		default:
			break;
	}
	return np1_plan_volatile(plan->lefttree) ||
		np1_plan_volatile(plan->righttree);
}

/* "schema"."table", or NULL if the relation is gone. */
static char *
np1_relname(Oid relid)
{
	char	   *rel = get_rel_name(relid);
	char	   *nsp;

	if (rel == NULL)
		return NULL;
	nsp = get_namespace_name(get_rel_namespace(relid));
	return nsp ? quote_qualified_identifier(nsp, rel) : pstrdup(quote_identifier(rel));
}

/* Quoted column name, or NULL. */
static const char *
np1_colname(Oid relid, AttrNumber attno)
{
	char	   *att = get_attname(relid, attno, true);

	return att ? quote_identifier(att) : NULL;
}

/* Type name of a column, for "$1::integer[]". */
static char *
np1_coltype(Oid relid, AttrNumber attno)
{
	return format_type_extended(get_atttype(relid, attno), -1,
								FORMAT_TYPE_ALLOW_INVALID);
}

/*
 * Append "c1, c2" (with_types false) or "$1::t1[], $2::t2[]" (true) for the
 * given columns, starting at parameter number first_param.  Returns false
 * if a column is gone.
 */
static bool
np1_append_cols(StringInfo buf, Oid relid, const AttrNumber *cols, int n,
				bool with_types, int first_param)
{
	for (int i = 0; i < n; i++)
	{
		const char *col = np1_colname(relid, cols[i]);

		if (col == NULL)
			return false;
		if (i > 0)
			appendStringInfoString(buf, ", ");
		if (with_types)
			appendStringInfo(buf, "$%d::%s[]", first_param + i,
							 np1_coltype(relid, cols[i]));
		else
			appendStringInfoString(buf, col);
	}
	return true;
}

/* Columns of a bitmap of attribute numbers (offset as in RTE column sets). */
static int
np1_cols_from_set(Bitmapset *set, AttrNumber *cols, int max)
{
	int			n = 0;
	int			m = -1;

	while ((m = bms_next_member(set, m)) >= 0 && n < max)
	{
		AttrNumber	attno = m + FirstLowInvalidHeapAttributeNumber;

		if (attno > 0)
			cols[n++] = attno;
	}
	return n;
}

/* Whether the top of a read plan is a plain (ungrouped) aggregate. */
static bool
np1_plain_agg(Plan *plan)
{
	while (plan != NULL && IsA(plan, Result) && plan->lefttree != NULL)
		plan = plan->lefttree;
	return plan != NULL && IsA(plan, Agg) &&
		((Agg *) plan)->aggstrategy == AGG_PLAIN;
}

static void
np1_advise_select(PlannedStmt *pstmt, StringInfo batch, StringInfo cache)
{
	np1Lookup	lk;
	char	   *rel = NULL;

	memset(&lk, 0, sizeof(lk));
	(void) np1_walk(pstmt->planTree, pstmt, 0, &lk);
	if (OidIsValid(lk.relid))
		rel = np1_relname(lk.relid);

	if (rel != NULL && lk.nkeys == 1)
	{
		const char *col = np1_colname(lk.relid, lk.keys[0]);
		char	   *typ = np1_coltype(lk.relid, lk.keys[0]);

		if (col != NULL && np1_plain_agg(pstmt->planTree))
			appendStringInfo(batch,
							 "aggregate all keys in one statement: SELECT %s, <aggregates> FROM %s WHERE %s = ANY($1::%s[]) GROUP BY %s, "
							 "passing the keys of all source rows as one array (or join that grouped query into the source query)",
							 col, rel, col, typ, col);
		else if (col != NULL && lk.already_any)
			appendStringInfo(batch,
							 "merge the repeated batches into one statement: SELECT ... FROM %s WHERE %s = ANY($1::%s[]) with the keys of all source rows",
							 rel, col, typ);
		else if (col != NULL)
			appendStringInfo(batch,
							 "fetch all rows in one statement: SELECT ... FROM %s WHERE %s = ANY($1::%s[]), "
							 "passing the keys of all source rows as one array, or JOIN %s ON %s.%s = <source key> in the source query",
							 rel, col, typ, rel, quote_identifier(get_rel_name(lk.relid)), col);
		if (col != NULL)
			appendStringInfo(cache,
							 "reuse the first result: the same lookup of %s by %s ran again with the same value in one unit of work; "
							 "keep it in a request-level cache or the ORM identity map, or hoist it out of the loop",
							 rel, col);
	}
	else if (rel != NULL && lk.nkeys > 1)
	{
		StringInfoData cols;
		StringInfoData params;

		initStringInfo(&cols);
		initStringInfo(&params);
		if (np1_append_cols(&cols, lk.relid, lk.keys, lk.nkeys, false, 1) &&
			np1_append_cols(&params, lk.relid, lk.keys, lk.nkeys, true, 1))
		{
			appendStringInfo(batch,
							 "fetch all rows in one statement: SELECT ... FROM %s WHERE (%s) IN (SELECT * FROM unnest(%s)), "
							 "passing each key column of all source rows as one array, or JOIN %s ON (%s) in the source query",
							 rel, cols.data, params.data, rel, cols.data);
			appendStringInfo(cache,
							 "reuse the first result: the same lookup of %s by (%s) ran again with the same values in one unit of work; "
							 "keep it in a request-level cache or the ORM identity map, or hoist it out of the loop",
							 rel, cols.data);
		}
	}

	if (batch->len == 0)
	{
		if (rel != NULL)
			appendStringInfo(batch,
							 "read %s once for all source rows: JOIN it (or a LATERAL subquery) into the source query instead of running this statement per row",
							 rel);
		else
			appendStringInfoString(batch,
								   "run one set-based statement for all source rows (JOIN or LATERAL subquery in the source query) instead of one statement per row");
	}
	if (cache->len == 0)
		appendStringInfoString(cache,
							   "reuse the first result: the statement ran again with identical parameters in one unit of work; "
							   "run it once and keep its rows (request-level cache, ORM identity map, or hoist it out of the loop)");
}

static void
np1_advise_write(PlannedStmt *pstmt, CmdType op, StringInfo batch)
{
	Index		rti = 0;
	RangeTblEntry *rte = NULL;
	char	   *rel = NULL;

	if (pstmt->resultRelations != NIL)
		rti = linitial_int(pstmt->resultRelations);
	if (rti > 0 && rti <= (Index) list_length(pstmt->rtable))
	{
		rte = rt_fetch(rti, pstmt->rtable);
		if (rte->rtekind == RTE_RELATION)
			rel = np1_relname(rte->relid);
	}

	if (rel != NULL && op == CMD_INSERT)
	{
		AttrNumber	cols[64];
		int			n = np1_cols_from_set(rte->insertedCols, cols, lengthof(cols));
		StringInfoData names;
		StringInfoData params;

		initStringInfo(&names);
		initStringInfo(&params);
		if (n > 0 && np1_append_cols(&names, rte->relid, cols, n, false, 1) &&
			np1_append_cols(&params, rte->relid, cols, n, true, 1))
			appendStringInfo(batch,
							 "insert all rows in one statement: INSERT INTO %s (%s) SELECT * FROM unnest(%s), "
							 "or one multi-row VALUES list, or COPY %s (%s) FROM STDIN for large batches",
							 rel, names.data, params.data, rel, names.data);
		else
			appendStringInfo(batch,
							 "insert all rows in one statement: one multi-row VALUES list or INSERT INTO %s SELECT ... FROM unnest(...), or COPY %s FROM STDIN",
							 rel, rel);
	}
	else if (rel != NULL && (op == CMD_UPDATE || op == CMD_DELETE))
	{
		np1Lookup	lk;
		const char *key = NULL;
		char	   *ktyp = NULL;

		memset(&lk, 0, sizeof(lk));
		if (np1_walk(pstmt->planTree, pstmt, rti, &lk) && lk.nkeys >= 1)
		{
			key = np1_colname(rte->relid, lk.keys[0]);
			ktyp = np1_coltype(rte->relid, lk.keys[0]);
		}

		if (op == CMD_DELETE && key != NULL)
			appendStringInfo(batch,
							 "delete all rows in one statement: DELETE FROM %s WHERE %s = ANY($1::%s[])",
							 rel, key, ktyp);
		else if (op == CMD_DELETE)
			appendStringInfo(batch,
							 "delete all rows in one statement: DELETE FROM %s USING unnest(...) AS v(...) WHERE <key> = v.<key>",
							 rel);
		else
		{
			AttrNumber	cols[64];
			int			n = np1_cols_from_set(rte->updatedCols, cols, lengthof(cols));
			StringInfoData set;

			initStringInfo(&set);
			for (int i = 0; i < n; i++)
			{
				const char *c = np1_colname(rte->relid, cols[i]);

				if (c == NULL)
					continue;
				appendStringInfo(&set, "%s%s = v.%s", set.len > 0 ? ", " : "", c, c);
			}
			if (key != NULL && set.len > 0)
			{
				StringInfoData params;
				StringInfoData vcols;
				int			nparam = 1;

				initStringInfo(&params);
				initStringInfo(&vcols);
				appendStringInfo(&params, "$1::%s[]", ktyp);
				appendStringInfoString(&vcols, key);
				for (int i = 0; i < n; i++)
				{
					const char *c = np1_colname(rte->relid, cols[i]);

					if (c == NULL)
						continue;
					appendStringInfo(&params, ", $%d::%s[]", ++nparam,
									 np1_coltype(rte->relid, cols[i]));
					appendStringInfo(&vcols, ", %s", c);
				}
				appendStringInfo(batch,
								 "update all rows in one statement: UPDATE %s SET ... WHERE %s = ANY($1::%s[]) when every row gets the same values, "
								 "otherwise UPDATE %s AS t SET %s FROM unnest(%s) AS v(%s) WHERE t.%s = v.%s",
								 rel, key, ktyp, rel, set.data, params.data, vcols.data, key, key);
			}
			else
				appendStringInfo(batch,
								 "update all rows in one statement: UPDATE %s AS t SET ... FROM unnest(...) AS v(...) WHERE t.<key> = v.<key>",
								 rel);
		}
	}
	else
		appendStringInfoString(batch,
							   "batch the writes into one statement over arrays (unnest), a multi-row VALUES list, or COPY");
}

/* Copy a string into a fixed buffer, cut at a character boundary. */
static void
np1_copy_clipped(char *dst, const char *src, int srclen)
{
	int			len = srclen;

	if (len > MNP_NP1_SUGGESTION_LEN - 1)
		len = pg_mbcliplen(src, srclen, MNP_NP1_SUGGESTION_LEN - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * The scratch context of mnp_nplus1_advise(), created at the first analysis
 * of the process.  Its first block holds a usual analysis and it is reset
 * after each use, so an analysis neither takes memory from malloc nor
 * returns any (such churn in the middle of a statement stream moves the
 * top of malloc's heap and slows the allocations of later statements).
 */
static MemoryContext
np1_advice_context(void)
{
	if (np1_advice_cxt == NULL)
		np1_advice_cxt = AllocSetContextCreate(TopMemoryContext,
											   "medianest_perf advice",
											   0, 32 * 1024, 64 * 1024);
	return np1_advice_cxt;
}

/*
 * Fill *advice for a statement that runs repeatedly: the batching rewrite
 * (for n_plus_one and write_loop), the caching advice (repeated_identical)
 * and whether identical calls may legitimately return different results.
 */
void
mnp_nplus1_advise(PlannedStmt *pstmt, CmdType operation, mnpNp1Advice *advice)
{
	MemoryContext old;
	StringInfoData batch;
	StringInfoData cache;

	old = MemoryContextSwitchTo(np1_advice_context());

	initStringInfo(&batch);
	initStringInfo(&cache);
	advice->has_volatile = np1_plan_volatile(pstmt->planTree);
	if (operation == CMD_SELECT)
		np1_advise_select(pstmt, &batch, &cache);
	else
	{
		np1_advise_write(pstmt, operation, &batch);
		appendStringInfoString(&cache,
							   "the same write ran again with identical values in one unit of work: apply it once");
	}
	np1_copy_clipped(advice->batch, batch.data, batch.len);
	np1_copy_clipped(advice->cache, cache.data, cache.len);

	MemoryContextSwitchTo(old);
	MemoryContextReset(np1_advice_cxt);
}
