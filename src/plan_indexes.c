/*-------------------------------------------------------------------------
 *
 * plan_indexes.c
 *	  List the indexes a plan scans (index scans, index-only scans and bitmap
 *	  index scans, in every subplan), for "which statements use this index".
 *
 * Pure function of the plan tree: no shared memory, no allocation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/plannodes.h"

#include "medianest_perf.h"

typedef struct mnpIndexList
{
	Oid		   *oids;
	int			max;
	int			n;
	bool		overflow;
} mnpIndexList;

static void mnp_walk_plan(Plan *plan, mnpIndexList *list);

static void
mnp_add_index(mnpIndexList *list, Oid indexid)
{
	for (int i = 0; i < list->n; i++)
		if (list->oids[i] == indexid)
			return;
	if (list->n < list->max)
		list->oids[list->n++] = indexid;
	else
		list->overflow = true;
}

static void
mnp_walk_plan_list(List *plans, mnpIndexList *list)
{
	ListCell   *lc;

	foreach(lc, plans)
		mnp_walk_plan((Plan *) lfirst(lc), list);
}

static void
mnp_walk_plan(Plan *plan, mnpIndexList *list)
{
	if (plan == NULL)
		return;

	switch (nodeTag(plan))
	{
		case T_IndexScan:
			mnp_add_index(list, ((IndexScan *) plan)->indexid);
			break;
		case T_IndexOnlyScan:
			mnp_add_index(list, ((IndexOnlyScan *) plan)->indexid);
			break;
		case T_BitmapIndexScan:
			mnp_add_index(list, ((BitmapIndexScan *) plan)->indexid);
			break;
		case T_Append:
			mnp_walk_plan_list(((Append *) plan)->appendplans, list);
			break;
		case T_MergeAppend:
			mnp_walk_plan_list(((MergeAppend *) plan)->mergeplans, list);
			break;
		case T_BitmapAnd:
			mnp_walk_plan_list(((BitmapAnd *) plan)->bitmapplans, list);
			break;
		case T_BitmapOr:
			mnp_walk_plan_list(((BitmapOr *) plan)->bitmapplans, list);
			break;
		case T_SubqueryScan:
			mnp_walk_plan(((SubqueryScan *) plan)->subplan, list);
			break;
		case T_CustomScan:
			mnp_walk_plan_list(((CustomScan *) plan)->custom_plans, list);
			break;
		default:
			break;
	}
	mnp_walk_plan(plan->lefttree, list);
	mnp_walk_plan(plan->righttree, list);
}

/*
 * Fill oids[0 .. max-1] with the distinct indexes the statement's plan and
 * its subplans scan; return how many, and set *overflow if there were more.
 */
int
mnp_plan_collect_indexes(PlannedStmt *pstmt, Oid *oids, int max,
						 bool *overflow)
{
	mnpIndexList list = {oids, max, 0, false};

	mnp_walk_plan(pstmt->planTree, &list);
	mnp_walk_plan_list(pstmt->subplans, &list);
	*overflow = list.overflow;
	return list.n;
}
