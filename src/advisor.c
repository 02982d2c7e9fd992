/*-------------------------------------------------------------------------
 *
 * advisor.c
 *	  The index advisor: medianest_perf.index_advice() and
 *	  medianest_perf.index_advice_skipped().
 *
 * One call, all in the calling backend, nothing executed and nothing
 * written to the catalogs:
 *	1. workload: statements from the statement store (or the caller's
 *	   array), each parsed, analyzed and planned once without new indexes
 *	   (advisor_workload.c); the planner's view of each table scan gives the
 *	   candidate columns (advisor_candidates.c);
 *	2. candidates: index shapes per table scan, de-duplicated, minus those
 *	   an existing index serves;
 *	3. probe: each statement is planned with all its candidates present as
 *	   hypothetical indexes (hypo.c), then again without the ones the plan
 *	   chose, up to MNP_PROBE_ROUNDS times; candidates no plan ever chooses
 *	   are dropped;
 *	4. selection: greedy by benefit per byte, lazily re-evaluated (a
 *	   candidate's gain only shrinks as others are selected, so the stale
 *	   gain of the best one is an upper bound: re-plan it, and select it
 *	   only if it is still the best); benefit = sum over the statements it
 *	   may help of calls x (cost with the selection so far - cost with it
 *	   added), counted only when the plan uses it, minus the write penalty;
 *	   stops when no candidate has a positive net benefit, and skips those
 *	   over the remaining budget or helping their statements by less than
 *	   min_improvement_pct of their cost without any new index.  A
 *	   candidate that would duplicate a selected index is turned into a
 *	   replacement of it: the same keys with the union of the INCLUDE
 *	   columns (index merging), or, when it serves all the selected one
 *	   serves (more key columns after the same leading ones), itself; a
 *	   replacement pays only for its extra bytes and write cost, and its
 *	   gain over the index it replaces must reach min_improvement_pct;
 *	5. prune: an index the later ones made unnecessary (its removal costs
 *	   less than its write penalty or than min_improvement_pct) is removed;
 *	6. report: the indexes are added one by one in selection order and the
 *	   statements they help are planned again, giving each row's workload
 *	   cost before and after and per-statement costs.
 * Planner calls and time are bounded (max_planner_calls, time_limit_ms):
 * when a limit is reached the search stops with what it has, which is
 * noted; the final report still plans each helped statement once per
 * recommended index.
 *
 * Write penalty of an index on table T (documented in the README), over
 * the same window as the workload's call counts:
 *	  rows written = rows inserted, deleted or merged into T by the
 *			workload's DML, plus rows updated -- fully when the UPDATE assigns
 *			a column of the index, else times the fraction of T's updates
 *			that were not HOT (pg_stat_user_tables n_tup_upd, n_tup_hot_upd);
 *			from the statement store: the rows recorded for every visible
 *			DML statement on T; for a given workload: calls x the planner's
 *			row estimate of each given DML statement
 *	  penalty = rows written x fraction of rows the index keeps (partial)
 *				x random_page_cost x write_cost_factor
 * i.e. every row written costs each new index about one random page
 * access, the price the planner puts on reading an index page.  Cumulative
 * table counters (n_tup_ins ...) are not used for the amount: they count
 * bulk loads since the last reset, which would make every index on a
 * freshly loaded table look unaffordable.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "advisor.h"
#include "stmt_sample.h"

PG_FUNCTION_INFO_V1(mnp_index_advice);
PG_FUNCTION_INFO_V1(mnp_index_advice_skipped);

/* how many times a statement is planned with all its candidates */
#define MNP_PROBE_ROUNDS	3
/* most index OIDs read from one plan */
#define MNP_MAX_USED		64
/* a cost reduction smaller than this fraction is noise */
#define MNP_COST_EPSILON	1e-6

/* an index_advice() call is running in this backend */
static bool mnp_adv_running = false;

/* the notes of this backend's last index_advice() call */
static MemoryContext mnp_adv_last_cxt = NULL;
static List *mnp_adv_last_notes = NIL;

/* Define the advisor's GUCs (those of its executed-statement samples). */
void
mnp_advisor_init(void)
{
	mnp_sample_init();
}

/* Record a skipped statement or a reached limit. */
void
mnp_adv_note(mnpAdvCtx *ctx, mnpAdvStmt *s, const char *reason,
			 const char *detail)
{
	MemoryContext old = MemoryContextSwitchTo(ctx->cxt);
	mnpAdvNote *n = palloc0(sizeof(mnpAdvNote));

	n->no = s ? s->no : 0;
	n->queryid = s ? s->queryid : 0;
	n->reason = pstrdup(reason);
	n->detail = detail ? pstrdup(detail) : NULL;
	n->query = s ? pstrdup(s->query) : NULL;
	ctx->notes = lappend(ctx->notes, n);
	MemoryContextSwitchTo(old);
}

static bool mnp_adv_dominated(mnpAdvCand *d, mnpAdvCand *c);

/* Whether the plan's used indexes include oid. */
static bool
mnp_adv_uses(const Oid *used, int nused, Oid oid)
{
	for (int i = 0; i < nused; i++)
		if (used[i] == oid)
			return true;
	return false;
}

/*----------
 * Probe: which candidates does the planner choose at all?
 *----------
 */
static void
mnp_adv_probe(mnpAdvCtx *ctx)
{
	List	  **per_stmt = palloc0(sizeof(List *) * Max(ctx->nstmts, 1));
	ListCell   *lc;

	foreach(lc, ctx->cands)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);
		ListCell   *ls;

		foreach(ls, c->stmts)
			per_stmt[lfirst_int(ls)] = lappend(per_stmt[lfirst_int(ls)], c);
	}

	for (int i = 0; i < ctx->nstmts; i++)
	{
		mnpAdvStmt *s = &ctx->stmts[i];
		List	   *remaining = per_stmt[i];

		for (int round = 0; round < MNP_PROBE_ROUNDS && remaining != NIL; round++)
		{
			Oid			used[MNP_MAX_USED];
			int			nused;
			double		cost;
			List	   *next = NIL;
			bool		any = false;

			mnp_hypo_set(remaining);
			if (!mnp_adv_plan_cost(ctx, s, &cost, used, MNP_MAX_USED, &nused))
				break;
			foreach(lc, remaining)
			{
				mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

				if (mnp_adv_uses(used, nused, c->hypo_oid))
				{
					elog(DEBUG1, "index advice: statement %d round %d uses %s",
						 s->no, round, c->signature);
					c->useful = true;
					any = true;
					/* the same keys without INCLUDE columns compete too */
					if (c->ncols > c->nkeys)
					{
						ListCell   *lt;

						foreach(lt, remaining)
						{
							mnpAdvCand *t = (mnpAdvCand *) lfirst(lt);

							if (t->ncols == t->nkeys && mnp_adv_dominated(t, c) &&
								t->nkeys == c->nkeys)
								t->useful = true;
						}
					}
				}
				else
					next = lappend(next, c);
			}
			if (!any || cost >= s->cur_cost * (1 - MNP_COST_EPSILON))
				break;
			remaining = next;
		}
		if (ctx->limit_hit)
			break;
	}
	mnp_hypo_clear();
}

/*----------
 * Selection.
 *----------
 */

/*
 * Fraction of a table's updates that were not HOT (and so wrote an entry
 * in every index), from its cumulative statistics; 1 when unknown.
 */
static double
mnp_adv_nonhot_fraction(Oid relid)
{
	PgStat_StatTabEntry *t = pgstat_fetch_stat_tabentry(relid);

	if (t == NULL || t->tuples_updated <= 0)
		return 1.0;
	return 1.0 - (double) t->tuples_hot_updated / (double) t->tuples_updated;
}

/* Whether an UPDATE assigning cols changes a column of the candidate. */
static bool
mnp_adv_update_touches(mnpAdvCand *c, Bitmapset *cols)
{
	Bitmapset  *pred_cols = NULL;
	int			x = -1;

	for (int i = 0; i < c->ncols; i++)
		if (bms_is_member(c->cols[i].attnum, cols))
			return true;
	if (c->pred != NULL)
	{
		pull_varattnos((Node *) c->pred, 1, &pred_cols);
		while ((x = bms_next_member(pred_cols, x)) >= 0)
			if (bms_is_member(x + FirstLowInvalidHeapAttributeNumber, cols))
				return true;
	}
	return false;
}

/*
 * Write penalty of a candidate (see the header comment): the rows the
 * workload writes to its table, an UPDATE counting fully when it assigns a
 * column of the index (the index then gets a new entry and the update
 * cannot be HOT) and otherwise as often as the table's updates were not HOT.
 */
static double
mnp_adv_cand_penalty(mnpAdvCtx *ctx, mnpAdvCand *c)
{
	double		rows = 0;
	double		nonhot = -1;
	ListCell   *lw;

	if (ctx->write_cost_factor <= 0)
		return 0;
	foreach(lw, ctx->writes)
	{
		mnpAdvWrite *w = (mnpAdvWrite *) lfirst(lw);

		if (w->relid != c->relid)
			continue;
		if (w->cmd != CMD_UPDATE || mnp_adv_update_touches(c, w->cols))
			rows += w->rows;
		else
		{
			if (nonhot < 0)
				nonhot = mnp_adv_nonhot_fraction(c->relid);
			rows += w->rows * nonhot;
		}
	}
	return rows * c->pred_sel * random_page_cost * ctx->write_cost_factor;
}

/* Write penalty of every useful candidate. */
static void
mnp_adv_penalties(mnpAdvCtx *ctx)
{
	ListCell   *lc;

	foreach(lc, ctx->cands)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

		c->penalty = c->useful ? mnp_adv_cand_penalty(ctx, c) : 0;
	}
}

/*
 * Plan the statements c may help with the selection so far plus c (for an
 * index replacing a selected one -- merged INCLUDE columns, or more key
 * columns -- instead of that one); keep the costs in c->eval_cost and
 * compute c's gain, improvement and ratio.  Returns false if a limit
 * stopped it.
 */
static bool
mnp_adv_evaluate(mnpAdvCtx *ctx, List *selected, mnpAdvCand *c)
{
	ListCell   *lc;
	int			k = 0;
	double		gain = 0;
	double		before = 0;
	double		extra_bytes = c->size_bytes;
	double		extra_penalty = c->penalty;

	if (c->eval_cost == NULL)
	{
		c->eval_cost = palloc(sizeof(double) * Max(list_length(c->stmts), 1));
		c->eval_used = palloc(sizeof(bool) * Max(list_length(c->stmts), 1));
	}
	mnp_hypo_set(c->replaces ? list_delete_ptr(list_copy(selected), c->replaces)
				 : selected);
	mnp_hypo_add(c);
	foreach(lc, c->stmts)
	{
		mnpAdvStmt *s = &ctx->stmts[lfirst_int(lc)];
		Oid			used[MNP_MAX_USED];
		int			nused;
		double		cost;

		if (!mnp_adv_plan_cost(ctx, s, &cost, used, MNP_MAX_USED, &nused))
		{
			if (ctx->limit_hit)
				return false;
			cost = s->cur_cost;		/* planning failed: no change */
			nused = 0;
		}
		c->eval_used[k] = mnp_adv_uses(used, nused, c->hypo_oid) &&
			cost < (c->replaces ? s->base_cost : s->cur_cost) * (1 - MNP_COST_EPSILON);
		if (c->eval_used[k])
			before += s->calls * s->base_cost;
		if (c->eval_used[k] || c->replaces != NULL)
		{
			/* a merged index may also make its predecessor's users dearer */
			gain += s->calls * (s->cur_cost - cost);
			c->eval_cost[k] = cost;
		}
		else
			c->eval_cost[k] = s->cur_cost;
		k++;
	}
	if (c->replaces != NULL)
	{
		extra_bytes -= c->replaces->size_bytes;
		extra_penalty -= c->replaces->penalty;
	}
	/*
	 * What this step saves on the statements it helps, relative to their
	 * cost without any new index (also for a replacement: its gain over
	 * the index it replaces).
	 */
	c->gain = gain;
	c->improvement = before > 0 ? 100.0 * gain / before : 0;
	c->ratio = (gain - extra_penalty) / Max(extra_bytes, 1.0);
	elog(DEBUG1, "index advice: evaluated %s%s: gain %.2f, penalty %.2f, size %.0f, improvement %.1f%%",
		 c->signature, c->replaces ? " (merged)" : "", gain, c->penalty,
		 c->size_bytes, c->improvement);
	return true;
}

/* Whether candidate d adds nothing to c (same table, predicate, prefix). */
static bool
mnp_adv_dominated(mnpAdvCand *d, mnpAdvCand *c)
{
	if (d->relid != c->relid || d->nkeys > c->nkeys)
		return false;
	if ((d->pred_text == NULL) != (c->pred_text == NULL) ||
		(d->pred_text != NULL && strcmp(d->pred_text, c->pred_text) != 0))
		return false;
	for (int i = 0; i < d->nkeys; i++)
		if (d->cols[i].attnum != c->cols[i].attnum ||
			d->cols[i].desc != c->cols[i].desc ||
			d->cols[i].nulls_first != c->cols[i].nulls_first)
			return false;
	for (int i = d->nkeys; i < d->ncols; i++)
	{
		bool		found = false;

		for (int j = 0; j < c->ncols; j++)
			if (c->cols[j].attnum == d->cols[i].attnum)
				found = true;
		if (!found)
			return false;
	}
	return true;
}

/* Let c also cover the statements of the selected index it would replace. */
static void
mnp_adv_add_stmts(mnpAdvCtx *ctx, mnpAdvCand *c, mnpAdvCand *old)
{
	List	   *stmts = NIL;

	for (int i = 0; i < ctx->nstmts; i++)
		if (list_member_int(c->stmts, i) || list_member_int(old->stmts, i))
			stmts = lappend_int(stmts, i);
	c->stmts = stmts;
	c->eval_cost = NULL;
	c->eval_used = NULL;
}

/* Greedy selection by net benefit per byte (see the header comment). */
static List *
mnp_adv_select(mnpAdvCtx *ctx, double budget_bytes, double min_pct)
{
	List	   *selected = NIL;
	double		used_bytes = 0;
	int			round = 0;
	ListCell   *lc;

	/* unevaluated candidates go first: their bound is infinite */
	foreach(lc, ctx->cands)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

		c->stamp = -1;
		c->ratio = get_float8_infinity();
		if (!c->useful)
			c->dropped = true;
	}

	for (;;)
	{
		mnpAdvCand *best = NULL;

		CHECK_FOR_INTERRUPTS();
		foreach(lc, ctx->cands)
		{
			mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

			if (!c->chosen && !c->dropped && (best == NULL || c->ratio > best->ratio))
				best = c;
		}
		if (best == NULL || best->ratio <= 0)
			break;

		/*
		 * Same keys and predicate as a selected index: consider that index
		 * with this one's INCLUDE columns added, instead of a second copy.
		 */
		if (best->replaces == NULL)
		{
			mnpAdvCand *x = NULL;
			mnpAdvCand *sub = NULL;

			foreach(lc, selected)
			{
				mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);

				if (mnp_adv_dominated(c, best))
					sub = c;
				else if (mnp_adv_same_keys(c, best))
					x = c;
			}

			/*
			 * It serves all that a selected index serves (whose keys are its
			 * leading keys): consider it instead of that one.
			 */
			if (sub != NULL)
			{
				mnp_adv_add_stmts(ctx, best, sub);
				best->replaces = sub;
				best->stamp = -1;
				best->ratio = get_float8_infinity();
				continue;
			}
			if (x != NULL)
			{
				mnpAdvCand *m = mnp_adv_merge(ctx, x, best);

				if (m != best)
					best->dropped = true;
				if (m != NULL)
				{
					m->replaces = x;
					m->useful = true;
					m->stamp = -1;
					m->ratio = get_float8_infinity();
					m->penalty = mnp_adv_cand_penalty(ctx, m);
				}
				continue;
			}
		}
		else if (!best->replaces->chosen)
		{
			/* what it would replace was replaced: look again */
			best->replaces = NULL;
			best->stamp = -1;
			best->ratio = get_float8_infinity();
			continue;
		}

		if (used_bytes + best->size_bytes -
			(best->replaces ? best->replaces->size_bytes : 0) > budget_bytes)
		{
			best->dropped = true;
			continue;
		}
		if (best->stamp != round)
		{
			if (!mnp_adv_evaluate(ctx, selected, best))
				break;
			best->stamp = round;
			continue;
		}
		if (best->improvement < min_pct)
		{
			best->dropped = true;
			continue;
		}

		/* select it */
		elog(DEBUG1, "index advice: selected %s", best->signature);
		best->chosen = true;
		used_bytes += best->size_bytes;
		if (best->replaces != NULL)
		{
			foreach(lc, selected)
				if (lfirst(lc) == best->replaces)
					lfirst(lc) = best;
			best->replaces->chosen = false;
			best->replaces->dropped = true;
			used_bytes -= best->replaces->size_bytes;
		}
		else
			selected = lappend(selected, best);
		{
			int			k = 0;

			foreach(lc, best->stmts)
			{
				ctx->stmts[lfirst_int(lc)].cur_cost = best->eval_cost[k];
				k++;
			}
		}
		round++;
		foreach(lc, ctx->cands)
		{
			mnpAdvCand *d = (mnpAdvCand *) lfirst(lc);

			if (!d->chosen && !d->dropped && mnp_adv_dominated(d, best))
				d->dropped = true;
		}
	}
	mnp_hypo_clear();
	return selected;
}

/*
 * Remove selected indexes that later ones made unnecessary: an index is
 * kept only if, planned without it, the statements it may help cost more
 * than its write penalty more, and at least min_improvement_pct of their
 * cost without any new index more.
 */
static List *
mnp_adv_prune(mnpAdvCtx *ctx, List *selected, double min_pct)
{
	for (int i = list_length(selected) - 1; i >= 0 && list_length(selected) > 1; i--)
	{
		mnpAdvCand *c = (mnpAdvCand *) list_nth(selected, i);
		List	   *others = list_delete_ptr(list_copy(selected), c);
		double	   *without = palloc(sizeof(double) * Max(list_length(c->stmts), 1));
		double		loss = 0;
		double		base = 0;
		bool		complete = true;
		ListCell   *lc;
		int			k = 0;

		mnp_hypo_set(others);
		foreach(lc, c->stmts)
		{
			mnpAdvStmt *s = &ctx->stmts[lfirst_int(lc)];
			double		cost;

			if (!mnp_adv_plan_cost(ctx, s, &cost, NULL, 0, NULL))
			{
				complete = false;
				break;
			}
			without[k++] = cost;
			if (cost > s->cur_cost * (1 + MNP_COST_EPSILON))
			{
				loss += s->calls * (cost - s->cur_cost);
				base += s->calls * s->base_cost;
			}
		}
		if (!complete)
			break;
		if (loss - c->penalty <= 0 || (base > 0 && 100.0 * loss / base < min_pct) ||
			base == 0)
		{
			k = 0;
			foreach(lc, c->stmts)
				ctx->stmts[lfirst_int(lc)].cur_cost = without[k++];
			selected = others;
		}
	}
	mnp_hypo_clear();
	return selected;
}

/*----------
 * Report.
 *----------
 */

typedef struct mnpAdvRow
{
	mnpAdvCand *cand;
	double		before;
	double		after;
	double		improvement;
	char	   *queries;		/* JSON text */
} mnpAdvRow;

/*
 * Add the selected indexes one by one and plan the statements each may
 * help, for the workload cost before and after each and the statements
 * it helps.
 */
static List *
mnp_adv_report(mnpAdvCtx *ctx, List *selected)
{
	double	   *cost = palloc(sizeof(double) * Max(ctx->nstmts, 1));
	double		total = 0;
	List	   *rows = NIL;
	List	   *active = NIL;
	ListCell   *lc;

	ctx->ignore_limits = true;
	for (int i = 0; i < ctx->nstmts; i++)
	{
		cost[i] = ctx->stmts[i].base_cost;
		if (ctx->stmts[i].ok)
			total += ctx->stmts[i].calls * cost[i];
	}

	foreach(lc, selected)
	{
		mnpAdvCand *c = (mnpAdvCand *) lfirst(lc);
		mnpAdvRow  *row = palloc0(sizeof(mnpAdvRow));
		StringInfoData js;
		double		hb = 0;
		double		ha = 0;
		ListCell   *ls;
		bool		first = true;

		active = lappend(active, c);
		mnp_hypo_set(active);
		row->cand = c;
		row->before = total;
		initStringInfo(&js);
		appendStringInfoChar(&js, '[');
		foreach(ls, c->stmts)
		{
			int			i = lfirst_int(ls);
			mnpAdvStmt *s = &ctx->stmts[i];
			Oid			used[MNP_MAX_USED];
			int			nused;
			double		after;

			if (!mnp_adv_plan_cost(ctx, s, &after, used, MNP_MAX_USED, &nused))
				continue;
			if (mnp_adv_uses(used, nused, c->hypo_oid) &&
				after < cost[i] * (1 - MNP_COST_EPSILON))
			{
				if (!first)
					appendStringInfoString(&js, ", ");
				first = false;
				if (s->queryid != 0)
					appendStringInfo(&js, "{\"queryid\": " INT64_FORMAT ", ",
									 (int64) s->queryid);
				else
					appendStringInfoString(&js, "{\"queryid\": null, ");
				appendStringInfo(&js, "\"statement\": %d, \"calls\": %.0f, \"sampled\": %s, \"cost_before\": %.2f, \"cost_after\": %.2f}",
								 s->no, s->calls, s->sampled ? "true" : "false",
								 cost[i], after);
				hb += s->calls * cost[i];
				ha += s->calls * after;
			}
			total -= s->calls * (cost[i] - after);
			cost[i] = after;
		}
		appendStringInfoChar(&js, ']');
		row->queries = js.data;
		row->after = total;
		row->improvement = hb > 0 ? 100.0 * (hb - ha) / hb : 0;
		rows = lappend(rows, row);
	}
	mnp_hypo_clear();
	return rows;
}

/* Argument n, or an error naming it when NULL. */
static Datum
mnp_adv_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_DATUM(n);
}

static void
mnp_adv_check(bool ok, const char *name, const char *what)
{
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is out of range", name),
				 errdetail("%s", what)));
}

#define MNP_ADVICE_COLS 14

/*
 * medianest_perf.index_advice(budget_mb, min_improvement_pct, max_columns,
 *	   statements, statement_calls, min_calls, min_total_ms, top_n,
 *	   write_cost_factor, max_planner_calls, time_limit_ms)
 */
Datum
mnp_index_advice(PG_FUNCTION_ARGS)
{
	double		budget_mb = DatumGetFloat8(mnp_adv_arg(fcinfo, 0, "budget_mb"));
	double		min_pct = DatumGetFloat8(mnp_adv_arg(fcinfo, 1, "min_improvement_pct"));
	int			max_columns = DatumGetInt32(mnp_adv_arg(fcinfo, 2, "max_columns"));
	ArrayType  *stmts = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	ArrayType  *calls = PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4);
	int64		min_calls = DatumGetInt64(mnp_adv_arg(fcinfo, 5, "min_calls"));
	double		min_total_ms = DatumGetFloat8(mnp_adv_arg(fcinfo, 6, "min_total_ms"));
	int			top_n = DatumGetInt32(mnp_adv_arg(fcinfo, 7, "top_n"));
	double		write_factor = DatumGetFloat8(mnp_adv_arg(fcinfo, 8, "write_cost_factor"));
	int			max_calls = DatumGetInt32(mnp_adv_arg(fcinfo, 9, "max_planner_calls"));
	int			time_ms = DatumGetInt32(mnp_adv_arg(fcinfo, 10, "time_limit_ms"));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mnpAdvCtx  *ctx;
	MemoryContext old;
	List	   *selected = NIL;
	List	   *rows = NIL;
	List	   *names = NIL;
	ListCell   *lc;
	int			rank = 0;

	mnp_adv_check(budget_mb > 0 && !isinf(budget_mb), "budget_mb",
				  "The storage budget must be a positive number of megabytes.");
	mnp_adv_check(min_pct >= 0 && min_pct <= 100, "min_improvement_pct",
				  "The minimum improvement must be between 0 and 100 percent.");
	mnp_adv_check(max_columns >= 1 && max_columns <= INDEX_MAX_KEYS, "max_columns",
				  psprintf("An index has between 1 and %d columns.", INDEX_MAX_KEYS));
	mnp_adv_check(top_n >= 1, "top_n", "At least one statement must be considered.");
	mnp_adv_check(min_calls >= 0 && min_total_ms >= 0, "min_calls or min_total_ms",
				  "The workload filters must not be negative.");
	mnp_adv_check(write_factor >= 0 && !isinf(write_factor), "write_cost_factor",
				  "The write cost factor must be zero or a positive number.");
	mnp_adv_check(max_calls >= 1 && time_ms >= 1, "max_planner_calls or time_limit_ms",
				  "The limits must be positive.");
	if (stmts != NULL && ARR_NDIM(stmts) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("statements must be a one-dimensional array")));
	if (calls != NULL && stmts == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statement_calls requires statements"),
				 errhint("Pass the statements the call counts belong to, or neither to use the statement store.")));

	if (mnp_adv_running)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index_advice() cannot be called while index_advice() is running")));

	InitMaterializedSRF(fcinfo, 0);

	ctx = palloc0(sizeof(mnpAdvCtx));
	ctx->cxt = AllocSetContextCreate(CurrentMemoryContext, "medianest_perf advisor",
									 ALLOCSET_DEFAULT_SIZES);
	ctx->plan_cxt = AllocSetContextCreate(ctx->cxt, "medianest_perf advisor planning",
										  ALLOCSET_DEFAULT_SIZES);
	ctx->max_columns = max_columns;
	ctx->write_cost_factor = write_factor;
	ctx->max_planner_calls = max_calls;
	ctx->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), time_ms);

	old = MemoryContextSwitchTo(ctx->cxt);
	if (stmts == NULL)
		mnp_adv_workload_store(ctx, min_calls, min_total_ms, top_n);
	else
		mnp_adv_workload_array(ctx, stmts, calls);

	PG_TRY();
	{
		mnp_adv_running = true;
		mnp_hypo_begin();
		mnp_adv_collect_begin(ctx);
		for (int i = 0; i < ctx->nstmts; i++)
		{
			CHECK_FOR_INTERRUPTS();
			mnp_adv_prepare(ctx, &ctx->stmts[i]);
		}
		mnp_adv_collect_end();

		mnp_adv_generate(ctx);
		mnp_adv_resolve_writes(ctx);
		mnp_adv_probe(ctx);
		mnp_adv_penalties(ctx);
		selected = mnp_adv_select(ctx, budget_mb * 1024.0 * 1024.0, min_pct);
		selected = mnp_adv_prune(ctx, selected, min_pct);
		rows = mnp_adv_report(ctx, selected);
	}
	PG_FINALLY();
	{
		mnp_adv_collect_end();
		mnp_hypo_end();
		mnp_adv_running = false;
	}
	PG_END_TRY();

	/* the rows */
	foreach(lc, rows)
	{
		mnpAdvRow  *row = (mnpAdvRow *) lfirst(lc);
		mnpAdvCand *c = row->cand;
		Datum		values[MNP_ADVICE_COLS];
		bool		nulls[MNP_ADVICE_COLS];
		List	   *keys = mnp_adv_column_names(c, true);
		List	   *incl = mnp_adv_column_names(c, false);
		Datum	   *kd = palloc(sizeof(Datum) * Max(list_length(keys), 1));
		Datum	   *id = palloc(sizeof(Datum) * Max(list_length(incl), 1));
		char	   *name = mnp_adv_index_name(c, names);
		int			k = 0;
		ListCell   *ln;

		names = lappend(names, name);
		memset(nulls, 0, sizeof(nulls));
		foreach(ln, keys)
			kd[k++] = CStringGetTextDatum((char *) lfirst(ln));
		k = 0;
		foreach(ln, incl)
			id[k++] = CStringGetTextDatum((char *) lfirst(ln));

		values[0] = Int32GetDatum(++rank);
		values[1] = ObjectIdGetDatum(c->relid);
		values[2] = CStringGetTextDatum(quote_qualified_identifier(
																   get_namespace_name(get_rel_namespace(c->relid)),
																   get_rel_name(c->relid)));
		values[3] = PointerGetDatum(construct_array(kd, list_length(keys), TEXTOID,
													-1, false, TYPALIGN_INT));
		values[4] = PointerGetDatum(construct_array(id, list_length(incl), TEXTOID,
													-1, false, TYPALIGN_INT));
		if (c->pred_text != NULL)
			values[5] = CStringGetTextDatum(c->pred_text);
		else
			nulls[5] = true;
		values[6] = Int64GetDatum((int64) c->size_bytes);
		values[7] = Float8GetDatum(row->before);
		values[8] = Float8GetDatum(row->after);
		values[9] = Float8GetDatum(row->improvement);
		values[10] = Float8GetDatum(c->penalty);
		values[11] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->queries));
		values[12] = CStringGetTextDatum(mnp_adv_ddl(c, name));
		{
			List	   *red = mnp_adv_redundant_indexes(c);
			Datum	   *rd = palloc(sizeof(Datum) * Max(list_length(red), 1));

			k = 0;
			foreach(ln, red)
				rd[k++] = ObjectIdGetDatum(lfirst_oid(ln));
			values[13] = PointerGetDatum(construct_array(rd, k, REGCLASSOID,
														 sizeof(Oid), true,
														 TYPALIGN_INT));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	/* keep the notes for index_advice_skipped() */
	if (mnp_adv_last_cxt == NULL)
		mnp_adv_last_cxt = AllocSetContextCreate(TopMemoryContext,
												 "medianest_perf advisor notes",
												 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(mnp_adv_last_cxt);
	mnp_adv_last_notes = NIL;
	MemoryContextSwitchTo(mnp_adv_last_cxt);
	foreach(lc, ctx->notes)
	{
		mnpAdvNote *n = (mnpAdvNote *) lfirst(lc);
		mnpAdvNote *copy = palloc(sizeof(mnpAdvNote));

		copy->no = n->no;
		copy->queryid = n->queryid;
		copy->reason = pstrdup(n->reason);
		copy->detail = n->detail ? pstrdup(n->detail) : NULL;
		copy->query = n->query ? pstrdup(n->query) : NULL;
		mnp_adv_last_notes = lappend(mnp_adv_last_notes, copy);
	}
	MemoryContextSwitchTo(old);

	if (ctx->notes != NIL)
		ereport(NOTICE,
				(errmsg("index advice: %d note%s (skipped statements or limits)",
						list_length(ctx->notes), list_length(ctx->notes) == 1 ? "" : "s"),
				 errhint("See medianest_perf.index_advice_skipped().")));

	MemoryContextDelete(ctx->cxt);
	return (Datum) 0;
}

/*
 * medianest_perf.index_advice_skipped(): the statements this session's last
 * index_advice() call could not plan, and the limits it reached.
 */
Datum
mnp_index_advice_skipped(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, mnp_adv_last_notes)
	{
		mnpAdvNote *n = (mnpAdvNote *) lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		if (n->no > 0)
			values[0] = Int32GetDatum(n->no);
		else
			nulls[0] = true;
		if (n->queryid != 0)
			values[1] = Int64GetDatum((int64) n->queryid);
		else
			nulls[1] = true;
		values[2] = CStringGetTextDatum(n->reason);
		if (n->detail)
			values[3] = CStringGetTextDatum(n->detail);
		else
			nulls[3] = true;
		if (n->query)
			values[4] = CStringGetTextDatum(n->query);
		else
			nulls[4] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
