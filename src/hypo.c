/*-------------------------------------------------------------------------
 *
 * hypo.c
 *	  Hypothetical btree indexes for the index advisor: their size estimated
 *	  from the table's statistics, and their injection into the planner of
 *	  the calling backend through get_relation_info_hook.
 *
 * Nothing is written to the catalogs.  A hypothetical index exists only as
 * an IndexOptInfo appended to the relation's index list while the planner
 * builds that relation's RelOptInfo, exactly as plancat.c would have built
 * one for a real btree index, with hypothetical = true so that the core
 * never opens it (get_actual_variable_range() skips such entries; the
 * btree cost estimator reads the table's column statistics, not the
 * index's, for plain column keys).  Each gets a fake OID that no relation
 * in pg_class has when it is assigned, so plans can be checked for which
 * hypothetical index they chose.
 *
 * The hook is installed by mnp_hypo_begin() and removed by mnp_hypo_end()
 * around one index_advice() call (the caller restores it in PG_FINALLY);
 * the set of indexes it injects is replaced between planner calls with
 * mnp_hypo_set() / mnp_hypo_add() / mnp_hypo_clear().
 *
 * Size model (btree, no deduplication, so an upper bound for columns with
 * many duplicates): a leaf tuple is the IndexTuple header plus the key and
 * INCLUDE columns at their average width (pg_statistic.stawidth, else the
 * type's typical width) and alignment, plus its line pointer; leaf pages
 * are filled to the default fillfactor (90%), upper pages hold key-only
 * pivot tuples at 70%; levels are added until one root page remains; one
 * metapage.  The tuple count is the table's (times the predicate's
 * selectivity for a partial index).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/itup.h"
#include "access/nbtree.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "optimizer/plancat.h"
#include "rewrite/rewriteManip.h"
#include "storage/bufpage.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "advisor.h"

/* first fake OID tried; counts down, skipping OIDs that pg_class has */
#define MNP_HYPO_FIRST_OID	((Oid) 0xFFFFFFF0)

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;
static bool mnp_hypo_installed = false;
static List *mnp_hypo_active = NIL;
static MemoryContext mnp_hypo_cxt = NULL;
static Oid	mnp_hypo_next_oid = MNP_HYPO_FIRST_OID;
static amcostestimate_function mnp_bt_costestimate = NULL;

static void mnp_hypo_get_relation_info(PlannerInfo *root, Oid relid,
									   bool inhparent, RelOptInfo *rel);

/* Install the hook for one advisor call. */
void
mnp_hypo_begin(void)
{
	IndexAmRoutine *am;

	if (mnp_hypo_installed)
		elog(ERROR, "hypothetical index hook is already installed");
	am = GetIndexAmRoutineByAmId(BTREE_AM_OID, false);
	mnp_bt_costestimate = am->amcostestimate;
	mnp_hypo_cxt = CurrentMemoryContext;
	mnp_hypo_active = NIL;
	mnp_hypo_next_oid = MNP_HYPO_FIRST_OID;
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = mnp_hypo_get_relation_info;
	mnp_hypo_installed = true;
}

/* Remove the hook (safe to call when it is not installed). */
void
mnp_hypo_end(void)
{
	if (!mnp_hypo_installed)
		return;
	get_relation_info_hook = prev_get_relation_info_hook;
	prev_get_relation_info_hook = NULL;
	mnp_hypo_active = NIL;
	mnp_hypo_cxt = NULL;
	mnp_hypo_installed = false;
}

/* Replace the set of hypothetical indexes the planner sees. */
void
mnp_hypo_set(List *cands)
{
	MemoryContext old = MemoryContextSwitchTo(mnp_hypo_cxt);

	mnp_hypo_active = list_copy(cands);
	MemoryContextSwitchTo(old);
}

/* Add one hypothetical index to the set. */
void
mnp_hypo_add(mnpAdvCand *c)
{
	MemoryContext old = MemoryContextSwitchTo(mnp_hypo_cxt);

	mnp_hypo_active = lappend(mnp_hypo_active, c);
	MemoryContextSwitchTo(old);
}

/* No hypothetical index. */
void
mnp_hypo_clear(void)
{
	mnp_hypo_active = NIL;
}

/* Alignment padding of a column of the given typalign. */
static double
mnp_hypo_align(double off, char typalign)
{
	int			a;

	switch (typalign)
	{
		case TYPALIGN_DOUBLE:
			a = ALIGNOF_DOUBLE;
			break;
		case TYPALIGN_INT:
			a = ALIGNOF_INT;
			break;
		case TYPALIGN_SHORT:
			a = ALIGNOF_SHORT;
			break;
		default:
			a = 1;
			break;
	}
	return ceil(off / a) * a;
}

/* Estimate pages, height and bytes of the candidate (see the header). */
static bool
mnp_hypo_estimate(mnpAdvCand *c)
{
	double		leaf_data = 0;
	double		key_data = 0;
	double		leaf_item;
	double		pivot_item;
	double		space = BLCKSZ - SizeOfPageHeaderData -
		MAXALIGN(sizeof(BTPageOpaqueData));
	double		leaf_cap;
	double		inner_cap;
	double		level;
	double		pages;
	int			height = 0;

	for (int i = 0; i < c->ncols; i++)
	{
		int32		width = get_attavgwidth(c->relid, c->cols[i].attnum);
		int16		typlen;
		bool		typbyval;
		char		typalign;

		if (width <= 0)
			width = get_typavgwidth(c->atttype[i], c->atttypmod[i]);
		get_typlenbyvalalign(c->atttype[i], &typlen, &typbyval, &typalign);
		leaf_data = mnp_hypo_align(leaf_data, typalign) + width;
		if (i < c->nkeys)
			key_data = mnp_hypo_align(key_data, typalign) + width;
	}
	leaf_item = MAXALIGN(sizeof(IndexTupleData) + (Size) ceil(leaf_data)) +
		sizeof(ItemIdData);
	/* pivot tuples keep the key columns and a heap TID */
	pivot_item = MAXALIGN(sizeof(IndexTupleData) + (Size) ceil(key_data) +
						  sizeof(ItemPointerData)) + sizeof(ItemIdData);

	/* tuples this wide would make the build fail on larger values */
	if (leaf_item > space / 4)
		return false;

	leaf_cap = Max(1.0, floor(space * BTREE_DEFAULT_FILLFACTOR / 100.0 / leaf_item));
	inner_cap = Max(2.0, floor(space * BTREE_NONLEAF_FILLFACTOR / 100.0 / pivot_item));
	level = Max(1.0, ceil(Max(c->tuples, 0.0) / leaf_cap));
	pages = level;
	while (level > 1)
	{
		level = ceil(level / inner_cap);
		pages += level;
		height++;
	}
	pages += 1;					/* metapage */

	c->pages = (BlockNumber) Min(pages, (double) MaxBlockNumber);
	c->tree_height = height;
	c->size_bytes = pages * BLCKSZ;
	return true;
}

/*
 * Fill in the catalog data of a candidate (types, default btree operator
 * classes, a fake OID) and its size.  c->relid, cols, nkeys, ncols and
 * tuples must be set.  Returns false if a key column has no default btree
 * operator class or the tuples would be too wide.
 */
bool
mnp_hypo_fill(mnpAdvCand *c)
{
	for (int i = 0; i < c->ncols; i++)
	{
		get_atttypetypmodcoll(c->relid, c->cols[i].attnum, &c->atttype[i],
							  &c->atttypmod[i], &c->attcoll[i]);
		if (i < c->nkeys)
		{
			Oid			opclass = GetDefaultOpClass(c->atttype[i], BTREE_AM_OID);

			if (!OidIsValid(opclass))
				return false;
			c->opfamily[i] = get_opclass_family(opclass);
			c->opcintype[i] = get_opclass_input_type(opclass);
			c->keycoll[i] = c->attcoll[i];
		}
	}
	if (!mnp_hypo_estimate(c))
		return false;

	/* an OID no relation has now; nothing ever opens it */
	while (mnp_hypo_next_oid > FirstNormalObjectId &&
		   SearchSysCacheExists1(RELOID, ObjectIdGetDatum(mnp_hypo_next_oid)))
		mnp_hypo_next_oid--;
	c->hypo_oid = mnp_hypo_next_oid--;
	return true;
}

/* The IndexOptInfo of a hypothetical index on rel, as plancat.c builds one. */
static IndexOptInfo *
mnp_hypo_index_info(mnpAdvCand *c, RelOptInfo *rel)
{
	IndexOptInfo *info = makeNode(IndexOptInfo);
	int			ncols = c->ncols;
	int			nkeys = c->nkeys;

	info->indexoid = c->hypo_oid;
	info->reltablespace = rel->reltablespace;
	info->rel = rel;
	info->pages = c->pages;
	info->tuples = (c->pred != NULL) ? Min(c->tuples, rel->tuples) : rel->tuples;
	info->tree_height = c->tree_height;

	info->ncolumns = ncols;
	info->nkeycolumns = nkeys;
	info->indexkeys = palloc(sizeof(int) * ncols);
	info->canreturn = palloc(sizeof(bool) * ncols);
	info->opclassoptions = palloc0(sizeof(bytea *) * ncols);
	info->indexcollations = palloc(sizeof(Oid) * nkeys);
	info->opfamily = palloc(sizeof(Oid) * nkeys);
	info->opcintype = palloc(sizeof(Oid) * nkeys);
	info->reverse_sort = palloc(sizeof(bool) * nkeys);
	info->nulls_first = palloc(sizeof(bool) * nkeys);

	for (int i = 0; i < ncols; i++)
	{
		Var		   *var;

		info->indexkeys[i] = c->cols[i].attnum;
		info->canreturn[i] = true;	/* btree returns every column */
		var = makeVar(rel->relid, c->cols[i].attnum, c->atttype[i],
					  c->atttypmod[i], c->attcoll[i], 0);
		info->indextlist = lappend(info->indextlist,
								   makeTargetEntry((Expr *) var, i + 1, NULL,
												   false));
	}
	for (int i = 0; i < nkeys; i++)
	{
		info->indexcollations[i] = c->keycoll[i];
		info->opfamily[i] = c->opfamily[i];
		info->opcintype[i] = c->opcintype[i];
		info->reverse_sort[i] = c->cols[i].desc;
		info->nulls_first[i] = c->cols[i].nulls_first;
	}
	/* a btree's opfamilies are its sort orderings */
	info->sortopfamily = info->opfamily;
	info->relam = BTREE_AM_OID;

	info->indexprs = NIL;
	info->indpred = NIL;
	if (c->pred != NULL)
	{
		Node	   *pred = copyObject((Node *) c->pred);

		if (rel->relid != 1)
			ChangeVarNodes(pred, 1, rel->relid, 0);
		info->indpred = list_make1(pred);
	}
	info->indrestrictinfo = NIL;	/* set by the planner */
	info->predOK = false;		/* set by the planner */
	info->unique = false;
	info->immediate = true;
	info->hypothetical = true;

	info->amcanorderbyop = false;
	info->amoptionalkey = true;
	info->amsearcharray = true;
	info->amsearchnulls = true;
	info->amhasgettuple = true;
	info->amhasgetbitmap = true;
	info->amcanparallel = true;
	info->amcanmarkpos = true;
	info->amcostestimate = (void (*) ()) mnp_bt_costestimate;
	return info;
}

/* get_relation_info_hook: add the active hypothetical indexes of relid. */
static void
mnp_hypo_get_relation_info(PlannerInfo *root, Oid relid, bool inhparent,
						   RelOptInfo *rel)
{
	ListCell   *lc;

	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relid, inhparent, rel);

	if (inhparent)
		return;
	foreach(lc, mnp_hypo_active)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

		if (c->relid == relid)
			rel->indexlist = lappend(rel->indexlist,
									 mnp_hypo_index_info(c, rel));
	}
}
