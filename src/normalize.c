/*-------------------------------------------------------------------------
 *
 * normalize.c
 *	  Turn a statement's source text into its normalized form, with every
 *	  constant the query jumble recorded replaced by $n, the way users know
 *	  it from pg_stat_statements.
 *
 * The jumble only records where each constant starts; the length of each
 * constant token is found by running the core SQL scanner over the text.
 * Everything here runs in the calling backend's current memory context and
 * never touches shared memory.  Allocation failures return NULL rather than
 * raising an error, because callers run inside hooks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "parser/scansup.h"
#include "parser/scanner.h"
#include "utils/queryjumble.h"

#include "medianest_perf.h"

static void mnp_fill_constant_lengths(JumbleState *jstate, const char *query);
static int	mnp_location_cmp(const void *a, const void *b);

/*
 * Narrow a possibly multi-statement source string to one statement and trim
 * surrounding white space.  *location and *len are updated to describe the
 * returned substring of query (which is not copied).
 */
const char *
mnp_clean_query_text(const char *query, int *location, int *len)
{
	int			loc = *location;
	int			l = *len;

	if (loc >= 0)
	{
		Assert(loc <= strlen(query));
		query += loc;
		/* a length of 0 (or -1) means "rest of string" */
		if (l <= 0)
			l = strlen(query);
		else
			Assert(l <= strlen(query));
	}
	else
	{
		loc = 0;
		l = strlen(query);
	}

	while (l > 0 && scanner_isspace(query[0]))
	{
		query++;
		loc++;
		l--;
	}
	while (l > 0 && scanner_isspace(query[l - 1]))
		l--;

	*location = loc;
	*len = l;
	return query;
}

/* qsort comparator: LocationLen by location. */
static int
mnp_location_cmp(const void *a, const void *b)
{
	int			la = ((const LocationLen *) a)->location;
	int			lb = ((const LocationLen *) b)->location;

	return (la > lb) - (la < lb);
}

/*
 * Find the length of each constant the jumble recorded, scanning the whole
 * source string (locations are offsets into it).  A constant that the scan
 * cannot find, or a duplicate location, gets length -1 and is left alone.
 */
static void
mnp_fill_constant_lengths(JumbleState *jstate, const char *query)
{
	LocationLen *locs = jstate->clocations;
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			last = -1;
	bool		eof = false;

	if (jstate->clocations_count > 1)
		qsort(locs, jstate->clocations_count, sizeof(LocationLen),
			  mnp_location_cmp);

	scanner = scanner_init(query, &extra, &ScanKeywords, ScanKeywordTokens);
	/* the statement was already parsed; its warnings were already given */
	extra.escape_string_warning = false;

	for (int i = 0; i < jstate->clocations_count; i++)
	{
		int			loc = locs[i].location;

		locs[i].length = -1;
		if (loc < 0 || loc == last || eof)
			continue;

		for (;;)
		{
			int			tok = core_yylex(&yylval, &yylloc, scanner);

			if (tok == 0)
			{
				eof = true;
				break;
			}
			if (yylloc < loc)
				continue;
			if (yylloc > loc)
				break;			/* no token starts there: leave it alone */

			/* a negative number is the '-' token followed by the number */
			if (query[loc] == '-')
			{
				tok = core_yylex(&yylval, &yylloc, scanner);
				if (tok == 0)
				{
					eof = true;
					break;
				}
			}

			/*
			 * The scanner leaves a NUL after the token it just returned, so
			 * the remaining string at the constant's start is exactly the
			 * constant (including a leading '-').
			 */
			locs[i].length = strlen(extra.scanbuf + loc);
			break;
		}
		last = loc;
	}

	scanner_finish(scanner);
}

/*
 * Return the normalized text of the statement at query[query_loc .. +len],
 * palloc'd, and its length in *query_len_p; NULL if out of memory.
 * jstate is the JumbleState from post_parse_analyze_hook.
 */
char *
mnp_normalize_query(const char *query, int query_loc, int *query_len_p,
					void *jstate_p)
{
	JumbleState *jstate = (JumbleState *) jstate_p;
	int			query_len = *query_len_p;
	char	   *norm;
	Size		maxlen;
	int			out = 0;
	int			last_off = 0;
	int			next_param;

	mnp_fill_constant_lengths(jstate, query);

	/* "$" + up to 10 digits may be longer than the constant it replaces */
	maxlen = (Size) query_len + (Size) jstate->clocations_count * 11 + 1;
	norm = palloc_extended(maxlen, MCXT_ALLOC_NO_OOM);
	if (norm == NULL)
		return NULL;

	next_param = jstate->highest_extern_param_id + 1;
	for (int i = 0; i < jstate->clocations_count; i++)
	{
		int			off = jstate->clocations[i].location - query_loc;
		int			tok_len = jstate->clocations[i].length;

		/* constants of other statements in the string, or unresolved ones */
		if (tok_len < 0 || off < last_off || off + tok_len > query_len)
			continue;

		memcpy(norm + out, query + query_loc + last_off, off - last_off);
		out += off - last_off;
		out += snprintf(norm + out, maxlen - out, "$%d", next_param++);
		last_off = off + tok_len;
	}
	memcpy(norm + out, query + query_loc + last_off, query_len - last_off);
	out += query_len - last_off;
	norm[out] = '\0';

	*query_len_p = out;
	return norm;
}
