/*-------------------------------------------------------------------------
 *
 * advisor_candidates.c
 *	  Candidate indexes for the index advisor, read from the planner's own
 *	  view of each workload statement, and the DDL that creates them.
 *
 * Extraction: during each statement's baseline planning a
 * set_rel_pathlist_hook (installed only for the advisor call) looks at every
 * base table scan the planner considered, after constant folding, view
 * expansion, subquery pull-up and equivalence-class deduction:
 *	  - baserestrictinfo: "column op value" with a btree operator of the
 *		column's default operator family gives equality (=, IN lists) and
 *		range (<, <=, >, >=) columns, with the clause's selectivity;
 *	  - joininfo and the equivalence classes joining this table to others:
 *		equi-join key columns (for parameterized nested loops);
 *	  - the query, sort, grouping and DISTINCT pathkeys whose expressions are
 *		plain columns of this table: orderings, with direction and NULLS;
 *	  - the columns the scan must return and filter (reltarget and quals),
 *		for INCLUDE columns that allow an index-only scan;
 *	  - "column = constant" on a skewed, low-cardinality column (few distinct
 *		values, this one rarer than half the average): a partial-index
 *		predicate.
 * Reading the planner's structures instead of walking the parse tree means
 * views, CTEs, subqueries and DML targets are handled the way the planner
 * handles them, and the collection costs no extra planner call.
 *
 * Generation, per table scan: each equality, range and join column alone;
 * all equality columns (most selective first); equality columns followed
 * by a range column, a join key, or an ordering (equality columns first,
 * the ordering normalized so its first column is ascending); each with
 * INCLUDE columns for the rest of what the scan reads when the total fits
 * max_columns; and the same shapes under each partial predicate.
 * Candidates are de-duplicated across the workload, and a candidate that an
 * existing valid btree index already serves (the candidate's key columns
 * are its leading key columns, in the same or all-reversed directions, and
 * it has no predicate or the same one) is dropped: existing indexes are
 * never re-suggested, not even with INCLUDE columns added.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "advisor.h"

/* a column is "low cardinality" for partial indexes up to this many values */
#define MNP_PARTIAL_MAX_NDISTINCT	200
/* and the constant must keep at most this fraction of the rows */
#define MNP_PARTIAL_MAX_SEL			0.2

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;
static bool mnp_collect_installed = false;
static mnpAdvCtx *mnp_collect_ctx = NULL;

/* An existing btree index, for the "already served" check. */
typedef struct mnpExistingIndex
{
	int			nkeys;
	AttrNumber	keys[INDEX_MAX_KEYS];
	bool		desc[INDEX_MAX_KEYS];
	bool		nulls_first[INDEX_MAX_KEYS];
	List	   *pred;			/* implicit-AND predicate, or NIL */
} mnpExistingIndex;

typedef struct mnpRelIndexes
{
	Oid			relid;
	List	   *indexes;		/* mnpExistingIndex */
} mnpRelIndexes;

static void mnp_adv_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel,
									 Index rti, RangeTblEntry *rte);
static char *mnp_adv_definition(mnpAdvCand *c);

/*----------
 * Collection (set_rel_pathlist_hook).
 *----------
 */

/* Install the collecting hook for one advisor call. */
void
mnp_adv_collect_begin(mnpAdvCtx *ctx)
{
	if (mnp_collect_installed)
		elog(ERROR, "index advisor hook is already installed");
	mnp_collect_ctx = ctx;
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = mnp_adv_set_rel_pathlist;
	mnp_collect_installed = true;
}

/* Remove it (safe to call when it is not installed). */
void
mnp_adv_collect_end(void)
{
	if (!mnp_collect_installed)
		return;
	set_rel_pathlist_hook = prev_set_rel_pathlist_hook;
	prev_set_rel_pathlist_hook = NULL;
	mnp_collect_ctx = NULL;
	mnp_collect_installed = false;
}

/* The plain column of relid under any binary-compatible relabeling, or NULL. */
static Var *
mnp_adv_column(Node *n, Index relid)
{
	while (n != NULL && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n != NULL && IsA(n, Var))
	{
		Var		   *v = (Var *) n;

		if (v->varno == relid && v->varlevelsup == 0 && v->varattno > 0)
			return v;
	}
	return NULL;
}

/* The default btree operator family of a column's type, or InvalidOid. */
static Oid
mnp_adv_column_opfamily(Oid reloid, AttrNumber attnum)
{
	Oid			opclass = GetDefaultOpClass(get_atttype(reloid, attnum),
											BTREE_AM_OID);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

/*
 * If clause is "column op expression" (either way round) where op is a
 * btree operator of the column's default family and its collation, and the
 * expression does not involve this table, return the operator's strategy
 * (normalized to the column on the left) and set *var and *other.
 */
static int
mnp_adv_btree_clause(PlannerInfo *root, Node *clause, Index relid,
					 Oid reloid, Var **var, Node **other)
{
	OpExpr	   *op;
	Node	   *left;
	Node	   *right;
	Var		   *v;
	Node	   *o;
	Oid			opno;
	Oid			family;

	if (clause == NULL || !IsA(clause, OpExpr))
		return 0;
	op = (OpExpr *) clause;
	if (list_length(op->args) != 2)
		return 0;
	left = linitial(op->args);
	right = lsecond(op->args);

	if ((v = mnp_adv_column(left, relid)) != NULL &&
		!bms_is_member(relid, pull_varnos(root, right)))
	{
		o = right;
		opno = op->opno;
	}
	else if ((v = mnp_adv_column(right, relid)) != NULL &&
			 !bms_is_member(relid, pull_varnos(root, left)))
	{
		o = left;
		opno = get_commutator(op->opno);
	}
	else
		return 0;

	if (!OidIsValid(opno) || contain_volatile_functions(o))
		return 0;
	if (OidIsValid(op->inputcollid) && op->inputcollid != v->varcollid)
		return 0;
	family = mnp_adv_column_opfamily(reloid, v->varattno);
	if (!OidIsValid(family))
		return 0;
	*var = v;
	*other = o;
	return get_op_opfamily_strategy(opno, family);
}

/* Add (or tighten) a column in an mnpAdvEq list. */
static List *
mnp_adv_add_eq(List *list, AttrNumber attnum, double sel)
{
	ListCell   *lc;
	mnpAdvEq   *e;

	foreach(lc, list)
	{
		e = (mnpAdvEq *) lfirst(lc);
		if (e->attnum == attnum)
		{
			e->sel = Min(e->sel, sel);
			return list;
		}
	}
	e = palloc(sizeof(mnpAdvEq));
	e->attnum = attnum;
	e->sel = sel;
	return lappend(list, e);
}

/*
 * A partial-index predicate from "column = constant" when the column has
 * few distinct values and this one is rare; NULL otherwise.
 */
static mnpAdvPartial *
mnp_adv_partial(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte,
				RestrictInfo *ri, Var *var, Node *other, double sel)
{
	VariableStatData vardata;
	bool		isdefault;
	double		nd;
	Expr	   *pred;
	mnpAdvPartial *p;

	if (!IsA(other, Const) || ((Const *) other)->constisnull)
		return NULL;
	if (sel <= 0 || sel > MNP_PARTIAL_MAX_SEL)
		return NULL;
	examine_variable(root, (Node *) var, 0, &vardata);
	nd = get_variable_numdistinct(&vardata, &isdefault);
	ReleaseVariableStats(vardata);
	if (isdefault || nd < 2 || nd > MNP_PARTIAL_MAX_NDISTINCT ||
		sel > 0.5 / nd)
		return NULL;

	pred = copyObject(ri->clause);
	if (contain_mutable_functions((Node *) pred))
		return NULL;
	if (rel->relid != 1)
		ChangeVarNodes((Node *) pred, rel->relid, 1, 0);

	p = palloc(sizeof(mnpAdvPartial));
	p->attnum = var->varattno;
	p->pred = pred;
	p->sel = sel;
	p->text = deparse_expression((Node *) pred,
								 deparse_context_for(get_rel_name(rte->relid),
													 rte->relid),
								 false, false);
	return p;
}

/*
 * The leading plain columns of this table in a pathkey list, with their
 * directions, normalized so that the first is ascending (an index can be
 * scanned backward).  NIL if the first pathkey is not such a column.
 */
static List *
mnp_adv_pathkey_columns(List *pathkeys, RelOptInfo *rel, Oid reloid)
{
	List	   *cols = NIL;
	ListCell   *lc;
	bool		flip = false;

	foreach(lc, pathkeys)
	{
		PathKey    *pk = (PathKey *) lfirst(lc);
		EquivalenceClass *ec = pk->pk_eclass;
		Var		   *found = NULL;
		ListCell   *lm;
		mnpAdvCol  *col;
		bool		dup = false;
		ListCell   *ld;

		if (ec->ec_has_volatile)
			break;
		foreach(lm, ec->ec_members)
		{
			EquivalenceMember *em = (EquivalenceMember *) lfirst(lm);

			if (em->em_is_child || !bms_equal(em->em_relids, rel->relids))
				continue;
			found = mnp_adv_column((Node *) em->em_expr, rel->relid);
			if (found != NULL)
				break;
		}
		if (found == NULL ||
			pk->pk_opfamily != mnp_adv_column_opfamily(reloid, found->varattno))
			break;
		if (ec->ec_collation != found->varcollid && OidIsValid(ec->ec_collation))
			break;
		foreach(ld, cols)
			if (((mnpAdvCol *) lfirst(ld))->attnum == found->varattno)
				dup = true;
		if (dup)
			continue;
		col = palloc(sizeof(mnpAdvCol));
		col->attnum = found->varattno;
		col->desc = (pk->pk_strategy == BTGreaterStrategyNumber);
		col->nulls_first = pk->pk_nulls_first;
		if (cols == NIL)
			flip = col->desc;
		if (flip)
		{
			col->desc = !col->desc;
			col->nulls_first = !col->nulls_first;
		}
		cols = lappend(cols, col);
	}
	return cols;
}

/* Whether two orderings are the same. */
static bool
mnp_adv_same_order(List *a, List *b)
{
	ListCell   *la;
	ListCell   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
	{
		mnpAdvCol  *x = (mnpAdvCol *) lfirst(la);
		mnpAdvCol  *y = (mnpAdvCol *) lfirst(lb);

		if (x->attnum != y->attnum || x->desc != y->desc ||
			x->nulls_first != y->nulls_first)
			return false;
	}
	return true;
}

static void
mnp_adv_add_order(mnpAdvUse *use, List *pathkeys, RelOptInfo *rel, Oid reloid)
{
	List	   *cols;
	ListCell   *lc;

	if (pathkeys == NIL)
		return;
	cols = mnp_adv_pathkey_columns(pathkeys, rel, reloid);
	if (cols == NIL)
		return;
	foreach(lc, use->orders)
		if (mnp_adv_same_order((List *) lfirst(lc), cols))
			return;
	use->orders = lappend(use->orders, cols);
}

/* Add the columns of expr (Vars of relid) to the read set. */
static void
mnp_adv_add_read(mnpAdvUse *use, Node *expr, Index relid)
{
	Bitmapset  *attrs = NULL;
	int			x = -1;

	pull_varattnos(expr, relid, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	attnum = x + FirstLowInvalidHeapAttributeNumber;

		if (attnum <= 0)
			use->covering_ok = false;	/* whole row or system column */
		else
			use->read = bms_add_member(use->read, attnum);
	}
}

/* Whether a relation may get an index suggestion. */
static bool
mnp_adv_table_ok(RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_RELATION || rte->inh)
		return false;
	if (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW)
		return false;
	if (IsCatalogRelationOid(rte->relid))
		return false;
	if (get_rel_persistence(rte->relid) == RELPERSISTENCE_TEMP)
		return false;
	return true;
}

/* What one base table scan of the statement being collected needs. */
static void
mnp_adv_collect_rel(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte,
					mnpAdvStmt *s)
{
	mnpAdvUse  *use = palloc0(sizeof(mnpAdvUse));
	Oid			reloid = rte->relid;
	Index		relid = rel->relid;
	ListCell   *lc;

	use->relid = reloid;
	use->tuples = rel->tuples;
	use->covering_ok = true;

	/* restriction clauses */
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *ri = (RestrictInfo *) lfirst(lc);
		Node	   *clause = (Node *) ri->clause;
		Var		   *var;
		Node	   *other;
		int			strategy;
		double		sel;

		mnp_adv_add_read(use, clause, relid);
		strategy = mnp_adv_btree_clause(root, clause, relid, reloid, &var, &other);
		if (strategy != 0)
		{
			sel = clause_selectivity(root, (Node *) ri, 0, JOIN_INNER, NULL);
			if (strategy == BTEqualStrategyNumber)
			{
				mnpAdvPartial *p;

				use->eq = mnp_adv_add_eq(use->eq, var->varattno, sel);
				p = mnp_adv_partial(root, rel, rte, ri, var, other, sel);
				if (p != NULL)
					use->partials = lappend(use->partials, p);
			}
			else
				use->range = mnp_adv_add_eq(use->range, var->varattno, sel);
		}
		else if (IsA(clause, ScalarArrayOpExpr))
		{
			ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) clause;
			Var		   *v = mnp_adv_column(linitial(sa->args), relid);
			Oid			family;

			if (v != NULL && sa->useOr &&
				!bms_is_member(relid, pull_varnos(root, lsecond(sa->args))) &&
				OidIsValid(family = mnp_adv_column_opfamily(reloid, v->varattno)) &&
				get_op_opfamily_strategy(sa->opno, family) == BTEqualStrategyNumber &&
				(!OidIsValid(sa->inputcollid) || sa->inputcollid == v->varcollid))
			{
				sel = clause_selectivity(root, (Node *) ri, 0, JOIN_INNER, NULL);
				use->eq = mnp_adv_add_eq(use->eq, v->varattno, sel);
			}
		}
	}

	/* join clauses that are not equivalences */
	foreach(lc, rel->joininfo)
	{
		RestrictInfo *ri = (RestrictInfo *) lfirst(lc);
		Var		   *var;
		Node	   *other;

		if (mnp_adv_btree_clause(root, (Node *) ri->clause, relid, reloid,
								 &var, &other) == BTEqualStrategyNumber)
			use->join = mnp_adv_add_eq(use->join, var->varattno, 1.0);
	}

	/* equi-joins held in equivalence classes */
	if (rel->has_eclass_joins)
	{
		foreach(lc, root->eq_classes)
		{
			EquivalenceClass *ec = (EquivalenceClass *) lfirst(lc);
			ListCell   *lm;

			if (ec->ec_has_const || ec->ec_has_volatile || ec->ec_merged != NULL ||
				!bms_is_member(relid, ec->ec_relids) ||
				bms_membership(ec->ec_relids) != BMS_MULTIPLE)
				continue;
			foreach(lm, ec->ec_members)
			{
				EquivalenceMember *em = (EquivalenceMember *) lfirst(lm);
				Var		   *v;

				if (em->em_is_child || !bms_equal(em->em_relids, rel->relids))
					continue;
				v = mnp_adv_column((Node *) em->em_expr, relid);
				if (v != NULL &&
					list_member_oid(ec->ec_opfamilies,
									mnp_adv_column_opfamily(reloid, v->varattno)))
				{
					use->join = mnp_adv_add_eq(use->join, v->varattno, 1.0);
					break;
				}
			}
		}
	}

	/* orderings */
	mnp_adv_add_order(use, root->query_pathkeys, rel, reloid);
	mnp_adv_add_order(use, root->sort_pathkeys, rel, reloid);
	mnp_adv_add_order(use, root->group_pathkeys, rel, reloid);
	mnp_adv_add_order(use, root->distinct_pathkeys, rel, reloid);

	/* columns the scan returns */
	mnp_adv_add_read(use, (Node *) rel->reltarget->exprs, relid);

	if (use->eq == NIL && use->range == NIL && use->join == NIL &&
		use->orders == NIL)
		return;					/* nothing an index could serve */

	s->uses = lappend(s->uses, use);
	if (!list_member_oid(s->relids, reloid))
		s->relids = lappend_oid(s->relids, reloid);
}

/* set_rel_pathlist_hook: collect while a baseline planning is running. */
static void
mnp_adv_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
						 RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (mnp_collect_ctx != NULL && mnp_collect_ctx->collecting != NULL &&
		rel->reloptkind == RELOPT_BASEREL && mnp_adv_table_ok(rte))
	{
		MemoryContext old = MemoryContextSwitchTo(mnp_collect_ctx->cxt);

		mnp_adv_collect_rel(root, rel, rte, mnp_collect_ctx->collecting);
		MemoryContextSwitchTo(old);
	}
}

/*----------
 * Existing indexes.
 *----------
 */

/* The valid plain-column btree indexes of a table. */
static List *
mnp_adv_existing_indexes(Oid relid)
{
	Relation	heap = table_open(relid, AccessShareLock);
	List	   *oids = RelationGetIndexList(heap);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, oids)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index idx = irel->rd_index;
		mnpExistingIndex *x;
		bool		plain = true;

		if (!idx->indisvalid || !idx->indisready || !idx->indislive ||
			irel->rd_rel->relam != BTREE_AM_OID)
		{
			index_close(irel, AccessShareLock);
			continue;
		}
		x = palloc0(sizeof(mnpExistingIndex));
		x->nkeys = idx->indnkeyatts;
		for (int i = 0; i < idx->indnatts; i++)
		{
			AttrNumber	a = idx->indkey.values[i];

			if (a <= 0)
				plain = false;
			if (i < x->nkeys)
			{
				x->keys[i] = a;
				x->desc[i] = (irel->rd_indoption[i] & INDOPTION_DESC) != 0;
				x->nulls_first[i] = (irel->rd_indoption[i] & INDOPTION_NULLS_FIRST) != 0;
			}
		}
		if (plain)
		{
			x->pred = RelationGetIndexPredicate(irel);
			result = lappend(result, x);
		}
		index_close(irel, AccessShareLock);
	}
	table_close(heap, AccessShareLock);
	return result;
}

/* Whether an existing index already serves the candidate. */
static bool
mnp_adv_served(mnpAdvCand *c, mnpExistingIndex *x)
{
	bool		flip;

	if (x->nkeys < c->nkeys)
		return false;
	flip = (x->desc[0] != c->cols[0].desc);
	for (int i = 0; i < c->nkeys; i++)
	{
		if (x->keys[i] != c->cols[i].attnum ||
			x->desc[i] != (c->cols[i].desc != flip) ||
			x->nulls_first[i] != (c->cols[i].nulls_first != flip))
			return false;
	}
	/*
	 * INCLUDE columns are not compared: a second index repeating an
	 * existing one's keys only to add INCLUDE columns is not suggested.
	 */
	if (x->pred == NIL)
		return true;
	return c->pred != NULL && equal(x->pred, list_make1(c->pred));
}

/*
 * The existing indexes a candidate makes redundant: valid, non-unique,
 * plain-column btree indexes whose key columns are the candidate's leading
 * keys (same or all-reversed directions), whose other columns are among the
 * candidate's columns, with the same predicate or none on both.
 */
List *
mnp_adv_redundant_indexes(mnpAdvCand *c)
{
	Relation	heap = table_open(c->relid, AccessShareLock);
	List	   *oids = RelationGetIndexList(heap);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, oids)
	{
		Relation	irel = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index idx = irel->rd_index;
		bool		ok = idx->indisvalid && idx->indisready && idx->indislive &&
			!idx->indisunique && !idx->indisexclusion &&
			irel->rd_rel->relam == BTREE_AM_OID &&
			idx->indnkeyatts <= c->nkeys &&
			RelationGetIndexExpressions(irel) == NIL;
		bool		flip = false;

		for (int i = 0; ok && i < idx->indnatts; i++)
		{
			AttrNumber	a = idx->indkey.values[i];

			if (i < idx->indnkeyatts)
			{
				bool		desc = (irel->rd_indoption[i] & INDOPTION_DESC) != 0;
				bool		nf = (irel->rd_indoption[i] & INDOPTION_NULLS_FIRST) != 0;

				if (i == 0)
					flip = (desc != c->cols[0].desc);
				ok = (a == c->cols[i].attnum &&
					  desc == (c->cols[i].desc != flip) &&
					  nf == (c->cols[i].nulls_first != flip));
			}
			else
			{
				bool		found = false;

				for (int j = 0; j < c->ncols; j++)
					if (c->cols[j].attnum == a)
						found = true;
				ok = found;
			}
		}
		if (ok)
		{
			List	   *pred = RelationGetIndexPredicate(irel);

			ok = (pred == NIL && c->pred == NULL) ||
				(pred != NIL && c->pred != NULL && equal(pred, list_make1(c->pred)));
		}
		if (ok)
			result = lappend_oid(result, RelationGetRelid(irel));
		index_close(irel, AccessShareLock);
	}
	table_close(heap, AccessShareLock);
	return result;
}

/*----------
 * Generation.
 *----------
 */

typedef struct mnpGenState
{
	mnpAdvCtx  *ctx;
	List	   *existing;		/* mnpRelIndexes */
} mnpGenState;

static List *
mnp_adv_existing_for(mnpGenState *gs, Oid relid)
{
	ListCell   *lc;
	mnpRelIndexes *ri;

	foreach(lc, gs->existing)
	{
		ri = (mnpRelIndexes *) lfirst(lc);
		if (ri->relid == relid)
			return ri->indexes;
	}
	ri = palloc(sizeof(mnpRelIndexes));
	ri->relid = relid;
	ri->indexes = mnp_adv_existing_indexes(relid);
	gs->existing = lappend(gs->existing, ri);
	return ri->indexes;
}

/* A stable text identity of a candidate. */
static char *
mnp_adv_signature(mnpAdvCand *c)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%u", c->relid);
	for (int i = 0; i < c->ncols; i++)
		appendStringInfo(&buf, "%s%d%s%s", i == c->nkeys ? "|" : ",",
						 c->cols[i].attnum,
						 i < c->nkeys && c->cols[i].desc ? "d" : "",
						 i < c->nkeys && c->cols[i].nulls_first ? "n" : "");
	if (c->pred_text)
		appendStringInfo(&buf, "|%s", c->pred_text);
	return buf.data;
}

/*
 * Add one candidate: keys (with directions), INCLUDE columns, optional
 * predicate.  Skips duplicates, too-wide or unsupported shapes and those an
 * existing index serves.
 */
static void
mnp_adv_add_candidate(mnpGenState *gs, mnpAdvUse *use, List *keys,
					  Bitmapset *include, mnpAdvPartial *part)
{
	mnpAdvCtx  *ctx = gs->ctx;
	mnpAdvCand *c = palloc0(sizeof(mnpAdvCand));
	ListCell   *lc;
	int			x = -1;

	if (keys == NIL)
		return;
	c->relid = use->relid;
	foreach(lc, keys)
	{
		mnpAdvCol  *k = (mnpAdvCol *) lfirst(lc);
		bool		dup = false;

		for (int i = 0; i < c->nkeys; i++)
			if (c->cols[i].attnum == k->attnum)
				dup = true;
		if (dup)
			continue;
		if (c->nkeys >= ctx->max_columns)
			break;
		c->cols[c->nkeys++] = *k;
	}
	c->ncols = c->nkeys;
	while ((x = bms_next_member(include, x)) >= 0)
	{
		bool		dup = false;

		for (int i = 0; i < c->nkeys; i++)
			if (c->cols[i].attnum == x)
				dup = true;
		if (dup)
			continue;
		if (c->ncols >= ctx->max_columns)
			return;				/* the covering shape does not fit */
		c->cols[c->ncols].attnum = x;
		c->cols[c->ncols].desc = false;
		c->cols[c->ncols].nulls_first = false;
		c->ncols++;
	}
	if (include != NULL && c->ncols == c->nkeys)
		return;					/* nothing left to include */
	if (part != NULL)
	{
		c->pred = part->pred;
		c->pred_text = part->text;
		c->pred_sel = part->sel;
	}
	else
		c->pred_sel = 1.0;
	c->signature = mnp_adv_signature(c);

	foreach(lc, ctx->cands)
		if (strcmp(((mnpAdvCand *) lfirst(lc))->signature, c->signature) == 0)
			return;

	foreach(lc, mnp_adv_existing_for(gs, c->relid))
		if (mnp_adv_served(c, (mnpExistingIndex *) lfirst(lc)))
			return;

	c->tuples = Max(use->tuples, 1.0) * c->pred_sel;
	if (!mnp_hypo_fill(c))
		return;
	ctx->cands = lappend(ctx->cands, c);
}

/* Whether two candidates have the same table, key columns and predicate. */
bool
mnp_adv_same_keys(mnpAdvCand *a, mnpAdvCand *b)
{
	if (a->relid != b->relid || a->nkeys != b->nkeys)
		return false;
	if ((a->pred_text == NULL) != (b->pred_text == NULL) ||
		(a->pred_text != NULL && strcmp(a->pred_text, b->pred_text) != 0))
		return false;
	for (int i = 0; i < a->nkeys; i++)
		if (a->cols[i].attnum != b->cols[i].attnum ||
			a->cols[i].desc != b->cols[i].desc ||
			a->cols[i].nulls_first != b->cols[i].nulls_first)
			return false;
	return true;
}

/*
 * Index merging: the index x (already selected) with the INCLUDE columns of
 * y added, which has the same keys and predicate; the statements of both.
 * When that index is already a candidate (y itself, when x has no INCLUDE
 * column) that candidate is returned, re-armed; NULL when it would be wider
 * than max_columns, adds nothing, or was already selected.  The caller
 * marks what it replaces.
 */
mnpAdvCand *
mnp_adv_merge(mnpAdvCtx *ctx, mnpAdvCand *x, mnpAdvCand *y)
{
	mnpAdvCand *m;
	ListCell   *lc;
	int			added = 0;

	if (!mnp_adv_same_keys(x, y))
		return NULL;
	m = palloc(sizeof(mnpAdvCand));
	*m = *x;
	m->stmts = NIL;
	m->useful = m->dropped = m->chosen = false;
	m->replaces = NULL;
	m->eval_cost = NULL;
	m->eval_used = NULL;
	for (int i = y->nkeys; i < y->ncols; i++)
	{
		bool		have = false;

		for (int j = 0; j < m->ncols; j++)
			if (m->cols[j].attnum == y->cols[i].attnum)
				have = true;
		if (have)
			continue;
		if (m->ncols >= ctx->max_columns)
			return NULL;
		m->cols[m->ncols++] = y->cols[i];
		added++;
	}
	if (added == 0)
		return NULL;
	m->signature = mnp_adv_signature(m);
	foreach(lc, ctx->cands)
	{
		mnpAdvCand *e = (mnpAdvCand *) lfirst(lc);

		if (strcmp(e->signature, m->signature) == 0)
		{
			if (e->chosen)
				return NULL;
			e->dropped = false;
			e->eval_cost = NULL;
			e->eval_used = NULL;
			m = e;
			break;
		}
	}
	if (m->hypo_oid == x->hypo_oid && !mnp_hypo_fill(m))
		return NULL;

	/* the statements of both, in workload order */
	{
		List	   *stmts = NIL;

		for (int i = 0; i < ctx->nstmts; i++)
			if (list_member_int(x->stmts, i) || list_member_int(y->stmts, i) ||
				list_member_int(m->stmts, i))
				stmts = lappend_int(stmts, i);
		m->stmts = stmts;
	}
	if (!list_member_ptr(ctx->cands, m))
		ctx->cands = lappend(ctx->cands, m);
	return m;
}

/* A one-element key list. */
static List *
mnp_adv_key(AttrNumber attnum)
{
	mnpAdvCol  *k = palloc0(sizeof(mnpAdvCol));

	k->attnum = attnum;
	return list_make1(k);
}

/* Key list of the equality columns, skipping one. */
static List *
mnp_adv_eq_keys(List *eq, AttrNumber skip)
{
	List	   *keys = NIL;
	ListCell   *lc;

	foreach(lc, eq)
	{
		mnpAdvEq   *e = (mnpAdvEq *) lfirst(lc);

		if (e->attnum != skip)
			keys = list_concat(keys, mnp_adv_key(e->attnum));
	}
	return keys;
}

/* Order mnpAdvEq by selectivity, most selective first. */
static int
mnp_adv_eq_cmp(const ListCell *a, const ListCell *b)
{
	double		x = ((mnpAdvEq *) lfirst(a))->sel;
	double		y = ((mnpAdvEq *) lfirst(b))->sel;

	return (x > y) - (x < y);
}

/* Add a key shape with and without INCLUDE columns. */
static void
mnp_adv_add_shape(mnpGenState *gs, mnpAdvUse *use, List *keys,
				  mnpAdvPartial *part)
{
	mnp_adv_add_candidate(gs, use, keys, NULL, part);
	if (use->covering_ok && use->read != NULL)
		mnp_adv_add_candidate(gs, use, keys, use->read, part);
}

/* Every key shape of one table scan, optionally under a predicate. */
static void
mnp_adv_shapes(mnpGenState *gs, mnpAdvUse *use, mnpAdvPartial *part)
{
	AttrNumber	skip = part ? part->attnum : InvalidAttrNumber;
	List	   *eqkeys = mnp_adv_eq_keys(use->eq, skip);
	ListCell   *lc;

	if (part == NULL)
	{
		/* single columns */
		foreach(lc, use->eq)
			mnp_adv_add_shape(gs, use, mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum), NULL);
		foreach(lc, use->join)
			mnp_adv_add_shape(gs, use, mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum), NULL);
		foreach(lc, use->range)
			mnp_adv_add_shape(gs, use, mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum), NULL);
		foreach(lc, use->orders)
			mnp_adv_add_shape(gs, use, (List *) lfirst(lc), NULL);
	}
	else
		mnp_adv_add_shape(gs, use, mnp_adv_key(part->attnum), part);

	if (eqkeys == NIL)
	{
		if (part != NULL)
		{
			foreach(lc, use->range)
				mnp_adv_add_shape(gs, use, mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum), part);
			foreach(lc, use->orders)
				mnp_adv_add_shape(gs, use, (List *) lfirst(lc), part);
		}
		return;
	}

	/* equality columns, then a range column, join key or ordering */
	if (list_length(eqkeys) > 1 || part != NULL)
		mnp_adv_add_shape(gs, use, eqkeys, part);
	foreach(lc, use->range)
		mnp_adv_add_shape(gs, use,
						  lappend(list_copy(eqkeys),
								  linitial(mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum))),
						  part);
	foreach(lc, use->join)
		mnp_adv_add_shape(gs, use,
						  lappend(list_copy(eqkeys),
								  linitial(mnp_adv_key(((mnpAdvEq *) lfirst(lc))->attnum))),
						  part);
	foreach(lc, use->orders)
		mnp_adv_add_shape(gs, use,
						  list_concat(list_copy(eqkeys), (List *) lfirst(lc)),
						  part);
}

/* Whether column attnum is one the scan filters, joins or sorts on. */
static bool
mnp_adv_use_wants(mnpAdvUse *use, AttrNumber attnum)
{
	ListCell   *lc;

	foreach(lc, use->eq)
		if (((mnpAdvEq *) lfirst(lc))->attnum == attnum)
			return true;
	foreach(lc, use->range)
		if (((mnpAdvEq *) lfirst(lc))->attnum == attnum)
			return true;
	foreach(lc, use->join)
		if (((mnpAdvEq *) lfirst(lc))->attnum == attnum)
			return true;
	foreach(lc, use->orders)
		if (((mnpAdvCol *) linitial((List *) lfirst(lc)))->attnum == attnum)
			return true;
	return false;
}

/* Whether the scan filters on the candidate's predicate. */
static bool
mnp_adv_use_has_pred(mnpAdvUse *use, const char *text)
{
	ListCell   *lc;

	foreach(lc, use->partials)
		if (strcmp(((mnpAdvPartial *) lfirst(lc))->text, text) == 0)
			return true;
	return false;
}

/*
 * Build the candidates of the whole workload from the statements' uses and
 * note, for each, the statements it may help.
 */
void
mnp_adv_generate(mnpAdvCtx *ctx)
{
	mnpGenState gs = {ctx, NIL};
	ListCell   *lc;

	for (int i = 0; i < ctx->nstmts; i++)
	{
		mnpAdvStmt *s = &ctx->stmts[i];

		if (!s->ok)
			continue;
		foreach(lc, s->uses)
		{
			mnpAdvUse  *use = (mnpAdvUse *) lfirst(lc);
			ListCell   *lp;

			list_sort(use->eq, mnp_adv_eq_cmp);
			mnp_adv_shapes(&gs, use, NULL);
			foreach(lp, use->partials)
				mnp_adv_shapes(&gs, use, (mnpAdvPartial *) lfirst(lp));
		}
	}

	foreach(lc, ctx->cands)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

		for (int i = 0; i < ctx->nstmts; i++)
		{
			mnpAdvStmt *s = &ctx->stmts[i];
			ListCell   *lu;

			if (!s->ok || !list_member_oid(s->relids, c->relid))
				continue;
			foreach(lu, s->uses)
			{
				mnpAdvUse  *use = (mnpAdvUse *) lfirst(lu);

				if (use->relid == c->relid &&
					mnp_adv_use_wants(use, c->cols[0].attnum) &&
					(c->pred_text == NULL || mnp_adv_use_has_pred(use, c->pred_text)))
				{
					c->stmts = lappend_int(c->stmts, i);
					break;
				}
			}
		}
	}
}

/*----------
 * DDL.
 *----------
 */

/* Column names of the keys (keys = true) or of the INCLUDE columns. */
List *
mnp_adv_column_names(mnpAdvCand *c, bool keys)
{
	List	   *names = NIL;
	int			from = keys ? 0 : c->nkeys;
	int			to = keys ? c->nkeys : c->ncols;

	for (int i = from; i < to; i++)
		names = lappend(names, get_attname(c->relid, c->cols[i].attnum, false));
	return names;
}

/*
 * A deterministic index name: <table>_<columns>_mnp_idx when it fits and is
 * free, else <table>_<columns> cut at a character boundary followed by
 * _mnp_ and an 8-hex-digit hash of its definition text (so the same index
 * always gets the same name).  At most NAMEDATALEN - 1
 * bytes; never the name of an existing relation in the table's schema or of
 * another recommendation (taken_names).
 */
char *
mnp_adv_index_name(mnpAdvCand *c, List *taken_names)
{
	StringInfoData base;
	Oid			nsp = get_rel_namespace(c->relid);
	char	   *def = mnp_adv_definition(c);
	uint32		h = hash_bytes((const unsigned char *) def, strlen(def));
	ListCell   *lc;
	List	   *names = mnp_adv_column_names(c, true);
	char	   *name = NULL;

	initStringInfo(&base);
	appendStringInfoString(&base, get_rel_name(c->relid));
	foreach(lc, names)
		appendStringInfo(&base, "_%s", (char *) lfirst(lc));

	for (int attempt = 0; attempt < 100; attempt++)
	{
		char		suffix[32];
		int			keep;
		bool		taken = false;

		/* the plain form only when nothing has to be cut */
		if (attempt == 0 && base.len + strlen("_mnp_idx") > NAMEDATALEN - 1)
			continue;
		if (attempt == 0)
			snprintf(suffix, sizeof(suffix), "_mnp_idx");
		else
			snprintf(suffix, sizeof(suffix), "_mnp_%08x", h + attempt - 1);
		keep = pg_mbcliplen(base.data, base.len,
							NAMEDATALEN - 1 - (int) strlen(suffix));
		name = psprintf("%.*s%s", keep, base.data, suffix);

		if (OidIsValid(get_relname_relid(name, nsp)))
			taken = true;
		foreach(lc, taken_names)
			if (strcmp((char *) lfirst(lc), name) == 0)
				taken = true;
		if (!taken)
			break;
	}
	return name;
}

/*
 * The definition of a candidate after its name: ON <table> USING btree
 * (<keys>) [INCLUDE (...)] [WHERE ...], every identifier quoted.
 */
static char *
mnp_adv_definition(mnpAdvCand *c)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "ON %s USING btree (",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(c->relid)),
												get_rel_name(c->relid)));
	for (int i = 0; i < c->nkeys; i++)
	{
		mnpAdvCol  *k = &c->cols[i];

		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
						 quote_identifier(get_attname(c->relid, k->attnum, false)));
		if (k->desc)
			appendStringInfoString(&buf, " DESC");
		if (k->desc && !k->nulls_first)
			appendStringInfoString(&buf, " NULLS LAST");
		else if (!k->desc && k->nulls_first)
			appendStringInfoString(&buf, " NULLS FIRST");
	}
	appendStringInfoChar(&buf, ')');
	if (c->ncols > c->nkeys)
	{
		appendStringInfoString(&buf, " INCLUDE (");
		for (int i = c->nkeys; i < c->ncols; i++)
			appendStringInfo(&buf, "%s%s", i > c->nkeys ? ", " : "",
							 quote_identifier(get_attname(c->relid, c->cols[i].attnum, false)));
		appendStringInfoChar(&buf, ')');
	}
	if (c->pred_text != NULL)
		appendStringInfo(&buf, " WHERE %s", c->pred_text);
	return buf.data;
}

/*
 * CREATE INDEX CONCURRENTLY IF NOT EXISTS for a candidate under the given
 * index name, every identifier quoted, ready for \gexec.
 */
char *
mnp_adv_ddl(mnpAdvCand *c, const char *name)
{
	return psprintf("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s %s;",
					quote_identifier(name), mnp_adv_definition(c));
}
