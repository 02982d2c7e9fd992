/*-------------------------------------------------------------------------
 *
 * stmt_sample.c
 *	  One executed sample per statement: the statement's source text as it
 *	  ran (simple protocol: constants inline) and, for statements with bound
 *	  parameters (extended protocol, EXECUTE), the parameter values as text
 *	  with their types.  Normalized text loses the constants that
 *	  selectivity depends on; the index advisor plans with these real values
 *	  when a statement has a sample.
 *
 * Cost model: nothing per execution but a flag the store sets under the
 * entry's spinlock it already holds.  The collector calls
 * mnp_sample_capture() only on the executions it already samples for the
 * plan's index list (the 1st, 2nd, 4th, 8th ... and every 1024th), plus
 * the first execution of a statement that has no sample (restored after a
 * restart); a statement that cannot be sampled is marked so that it is not
 * retried on every execution.  The encoded sample is built in
 * local memory and copied into the statement's entry by the store (lock in
 * SHARED mode plus the entry's spinlock; see stmt_store.c).
 *
 * Bounds: at most medianest_perf.sample_text_bytes per entry (fixed at
 * start-up); a sample that does not fit is not kept and is counted.  A
 * parameter value is kept only for built-in types, enums and domains over
 * them (their output functions cannot fail for a valid value) and only if
 * its text fits; otherwise that parameter is marked "not kept" and the
 * advisor leaves it as a generic parameter.
 *
 * Privacy: samples contain literal values.  They are shown (and used by the
 * advisor) only for the caller's own statements, or for everyone's when the
 * caller is a superuser or a member of pg_read_all_stats -- the rule of the
 * slow-query log's text and parameters.  medianest_perf.sample_parameters =
 * off keeps bound parameter values out of samples altogether (statements
 * with parameters then get no sample; their constants inline in the text
 * still do).
 *
 * Encoding of a sample (all fields copied with memcpy, no alignment):
 *	  mnpSampleHeader, text bytes, NUL,
 *	  then per parameter: mnpSampleParam, and when len >= 0: len bytes, NUL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/execdesc.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "medianest_perf.h"
#include "stmt_sample.h"
#include "stmt_store.h"

PG_FUNCTION_INFO_V1(mnp_statement_samples);
PG_FUNCTION_INFO_V1(mnp_statement_samples_info);

/* GUC */
static bool mnp_sample_parameters = true;

#define MNP_PARAM_NULL		(-1)
#define MNP_PARAM_NOT_KEPT	(-2)

typedef struct mnpSampleHeader
{
	int32		text_len;
	int32		encoding;
	int32		nparams;
} mnpSampleHeader;

typedef struct mnpSampleParam
{
	Oid			type;
	int32		len;			/* bytes, or MNP_PARAM_NULL / _NOT_KEPT */
} mnpSampleParam;

/* Define this module's GUCs. */
void
mnp_sample_init(void)
{
	DefineCustomBoolVariable("medianest_perf.sample_parameters",
							 "Keep bound parameter values in executed-statement samples.",
							 "Off: statements with bound parameters get no sample, and the index advisor plans them generically.",
							 &mnp_sample_parameters,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

/* Append len bytes to the buffer if they fit; false otherwise. */
static inline bool
mnp_put(char *buf, int *used, int max, const void *data, int len)
{
	if (*used + len > max)
		return false;
	memcpy(buf + *used, data, len);
	*used += len;
	return true;
}

/*
 * Whether a parameter of this type may be printed from inside the
 * executor hook: its output function must not be able to fail.
 */
static bool
mnp_sample_type_ok(Oid type)
{
	char		typtype;

	if (!OidIsValid(type))
		return false;
	if (type < FirstGenbkiObjectId)
		return true;
	typtype = get_typtype(type);
	if (typtype == TYPTYPE_ENUM)
		return true;
	if (typtype == TYPTYPE_DOMAIN)
		return mnp_sample_type_ok(getBaseType(type));
	return false;
}

/*
 * The text of one parameter value, or NULL when it is not kept (type not
 * allowed, value too large).
 */
static char *
mnp_sample_param_text(ParamExternData *p, int room)
{
	Oid			typoutput;
	bool		isvarlena;
	int16		typlen;

	if (room <= 0 || !mnp_sample_type_ok(p->ptype))
		return NULL;
	typlen = get_typlen(p->ptype);
	if (typlen == -1)
	{
		struct varlena *v = (struct varlena *) DatumGetPointer(p->value);

		/* out-of-line values are not fetched from inside the hook */
		if (VARATT_IS_EXTERNAL(v) || VARSIZE_ANY(v) > (Size) room)
			return NULL;
	}
	else if (typlen == -2 && strlen(DatumGetCString(p->value)) > (Size) room)
		return NULL;
	getTypeOutputInfo(p->ptype, &typoutput, &isvarlena);
	return OidOutputFunctionCall(typoutput, p->value);
}

/*
 * Record the executing statement as its entry's sample.  Called from
 * ExecutorEnd on sampled executions; never raises an error of its own.
 */
void
mnp_sample_capture(const mnpStmtKey *key, QueryDesc *qd)
{
	int			max = mnp_stmt_sample_bytes;
	ParamListInfo params = qd->params;
	const char *text;
	int			loc;
	int			len;
	char	   *buf;
	int			used = 0;
	mnpSampleHeader hdr;
	char		nul = '\0';

	if (max <= 0 || qd->sourceText == NULL || qd->plannedstmt == NULL)
	{
		mnp_stmt_store_no_sample(key);
		return;
	}
	/*
	 * Parameters behind a fetch hook (PL/pgSQL) cannot be read safely, and
	 * parameter values may be kept out by configuration.
	 */
	if (params != NULL && params->numParams > 0 &&
		(params->paramFetch != NULL || !mnp_sample_parameters))
	{
		mnp_stmt_store_no_sample(key);
		return;
	}

	loc = qd->plannedstmt->stmt_location;
	len = qd->plannedstmt->stmt_len;
	text = mnp_clean_query_text(qd->sourceText, &loc, &len);
	if (len <= 0 || (Size) len + sizeof(hdr) + 1 > (Size) max)
	{
		if (len > 0)
			mnp_stmt_store_count_sample_skip();
		mnp_stmt_store_no_sample(key);
		return;
	}

	hdr.text_len = len;
	hdr.encoding = GetDatabaseEncoding();
	hdr.nparams = (params != NULL) ? params->numParams : 0;

	buf = palloc(max);
	mnp_put(buf, &used, max, &hdr, sizeof(hdr));
	mnp_put(buf, &used, max, text, len);
	mnp_put(buf, &used, max, &nul, 1);

	for (int i = 0; i < hdr.nparams; i++)
	{
		ParamExternData *p = &params->params[i];
		mnpSampleParam sp;
		char	   *val = NULL;
		int			room = max - used - (int) sizeof(sp) - 1;

		sp.type = p->ptype;
		if (p->isnull)
			sp.len = MNP_PARAM_NULL;
		else
		{
			val = mnp_sample_param_text(p, room);
			if (val != NULL && (int) strlen(val) <= room)
				sp.len = strlen(val);
			else
				sp.len = MNP_PARAM_NOT_KEPT;
		}
		if (!mnp_put(buf, &used, max, &sp, sizeof(sp)))
		{
			/* no room even for the parameter's header: give up */
			mnp_stmt_store_count_sample_skip();
			mnp_stmt_store_no_sample(key);
			pfree(buf);
			return;
		}
		if (sp.len >= 0)
		{
			mnp_put(buf, &used, max, val, sp.len);
			mnp_put(buf, &used, max, &nul, 1);
		}
		if (val != NULL)
			pfree(val);
	}

	mnp_stmt_store_set_sample(key, buf, used);
	pfree(buf);
}

/*
 * Read and decode a statement's sample into palloc'd memory.  Returns false
 * when the statement has none (or it is damaged).
 */
bool
mnp_sample_fetch(const mnpStmtKey *key, mnpSample *out)
{
	char	   *buf;
	int			len;
	int			off = 0;
	mnpSampleHeader hdr;

	memset(out, 0, sizeof(*out));
	if (mnp_stmt_sample_bytes <= 0)
		return false;
	buf = palloc(mnp_stmt_sample_bytes);
	len = mnp_stmt_store_get_sample(key, buf, mnp_stmt_sample_bytes);
	if (len < (int) sizeof(hdr))
	{
		pfree(buf);
		return false;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	off = sizeof(hdr);
	if (hdr.text_len <= 0 || hdr.nparams < 0 || hdr.nparams > PG_UINT16_MAX ||
		off + hdr.text_len + 1 > len || !PG_VALID_ENCODING(hdr.encoding))
	{
		pfree(buf);
		return false;
	}
	out->text = pg_any_to_server(buf + off, hdr.text_len, hdr.encoding);
	if (out->text == buf + off)
		out->text = pnstrdup(buf + off, hdr.text_len);
	off += hdr.text_len + 1;

	out->nparams = hdr.nparams;
	out->types = palloc0(sizeof(Oid) * Max(hdr.nparams, 1));
	out->values = palloc0(sizeof(char *) * Max(hdr.nparams, 1));
	out->kept = palloc0(sizeof(bool) * Max(hdr.nparams, 1));
	for (int i = 0; i < hdr.nparams; i++)
	{
		mnpSampleParam sp;

		if (off + (int) sizeof(sp) > len)
		{
			pfree(buf);
			return false;
		}
		memcpy(&sp, buf + off, sizeof(sp));
		off += sizeof(sp);
		out->types[i] = sp.type;
		if (sp.len == MNP_PARAM_NULL)
			out->kept[i] = true;
		else if (sp.len >= 0)
		{
			if (off + sp.len + 1 > len)
			{
				pfree(buf);
				return false;
			}
			out->values[i] = pnstrdup(buf + off, sp.len);
			out->kept[i] = true;
			off += sp.len + 1;
		}
	}
	pfree(buf);
	return true;
}

/*----------
 * SQL-callable functions.
 *----------
 */

typedef struct mnpSampleKeys
{
	List	   *keys;			/* palloc'd mnpStmtKey */
} mnpSampleKeys;

static void
mnp_sample_keys_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpSampleKeys *ctx = (mnpSampleKeys *) arg;
	mnpStmtKey *k;

	if (snap->counters.calls == 0)
		return;
	k = palloc(sizeof(mnpStmtKey));
	*k = snap->key;
	ctx->keys = lappend(ctx->keys, k);
}

/*
 * medianest_perf.statement_samples(): the executed sample of every statement
 * that has one; text and values only for the caller's own statements unless
 * the caller may see all statistics.
 */
Datum
mnp_statement_samples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mnpSampleKeys ctx = {NIL};
	bool		see_all;
	ListCell   *lc;

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	see_all = mnp_can_see_all_stats();
	mnp_stmt_store_foreach(mnp_sample_keys_visit, &ctx);

	foreach(lc, ctx.keys)
	{
		mnpStmtKey *k = (mnpStmtKey *) lfirst(lc);
		mnpSample	s;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		bool		visible = see_all || k->userid == GetUserId();

		if (!mnp_sample_fetch(k, &s))
			continue;
		values[0] = ObjectIdGetDatum(k->userid);
		values[1] = ObjectIdGetDatum(k->dbid);
		values[2] = BoolGetDatum(k->toplevel);
		if (visible)
		{
			Datum	   *types = palloc(sizeof(Datum) * Max(s.nparams, 1));
			Datum	   *vals = palloc(sizeof(Datum) * Max(s.nparams, 1));
			bool	   *vnulls = palloc(sizeof(bool) * Max(s.nparams, 1));
			int			dims[1] = {s.nparams};
			int			lbs[1] = {1};

			for (int i = 0; i < s.nparams; i++)
			{
				types[i] = ObjectIdGetDatum(s.types[i]);
				vnulls[i] = (s.values[i] == NULL);
				vals[i] = vnulls[i] ? (Datum) 0 : CStringGetTextDatum(s.values[i]);
			}
			values[3] = Int64GetDatum((int64) k->queryid);
			values[4] = CStringGetTextDatum(s.text);
			values[5] = PointerGetDatum(construct_md_array(types, NULL, s.nparams > 0 ? 1 : 0,
														   dims, lbs, REGTYPEOID,
														   sizeof(Oid), true, TYPALIGN_INT));
			values[6] = PointerGetDatum(construct_md_array(vals, vnulls, s.nparams > 0 ? 1 : 0,
														   dims, lbs, TEXTOID,
														   -1, false, TYPALIGN_INT));
		}
		else
		{
			nulls[3] = true;
			values[4] = CStringGetTextDatum("<insufficient privilege>");
			nulls[5] = true;
			nulls[6] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* medianest_perf.statement_samples_info(): sample memory and counters */
Datum
mnp_statement_samples_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		stored;
	int64		skipped;

	mnp_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	mnp_stmt_store_sample_counters(&stored, &skipped);
	values[0] = Int32GetDatum(mnp_stmt_sample_bytes);
	values[1] = Int64GetDatum(stored);
	values[2] = Int64GetDatum(skipped);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
