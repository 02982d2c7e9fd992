/*-------------------------------------------------------------------------
 *
 * nplus1.c
 *	  Backend-local detection of N+1 access patterns, repeated identical
 *	  statements and write loops.
 *
 * The detector follows one "unit of work" at a time: an explicit (or
 * implicit multi-statement) transaction, or, in autocommit, a burst of
 * statements separated by less than medianest_perf.n_plus_one_gap_ms.  A
 * unit of work that lasts longer than NP1_SEGMENT_MS is analysed in
 * segments, so that long transactions and continuous statement streams
 * report while they run.
 *
 * Per unit of work it keeps, in fixed-size static arrays reused from one
 * unit to the next:
 *	  - one slot per distinct queryid (open addressing; the first probe
 *		almost always hits): calls, time, rows, a hash of the first
 *		parameter set and whether a later one differed, a Misra-Gries
 *		summary of the most repeated parameter sets (its counts never
 *		exceed the true counts), and the candidate sources seen when the
 *		statement first ran;
 *	  - the most recent statements that returned rows (one per queryid);
 *	  - the statements started but not yet ended (cursors: a PL/pgSQL FOR
 *		loop's query ends after the statements of its body), a stack that
 *		ExecutorEnd pops from the top in the common case.
 * Parameters are hashed from the bound parameter values (extended
 * protocol, EXECUTE, PL/pgSQL variables) combined with the statement's
 * source text when that text holds literal constants (simple protocol).
 * Whether a statement has literal constants is a property of its queryid
 * (Const nodes are part of the jumble); parse analysis records the queryids
 * that have none (mnp_nplus1_note_constfree), so that the text of a
 * prepared statement is not hashed on every execution.
 *
 * When a statement's run reaches medianest_perf.n_plus_one_min_repeats,
 * its plan is analysed once for the rewrite advice (nplus1_advice.c),
 * unless the run can no longer become an incident (see np1_confirm).
 * When the unit of work ends, each such run is classified, its source is
 * chosen (see np1_find_source) and the findings are published to the
 * shared incident store (nplus1_store.c) under one exclusive lock.
 *
 * The end of a unit of work is noticed at the next statement (gap, other
 * transaction), at the end of a transaction block (transaction callback),
 * when the session reads the n_plus_one view, and at backend exit.
 *
 * Invariants of the per-statement path (mnp_nplus1_start and
 * mnp_nplus1_observe), which the overhead budget depends on:
 *	  - no allocation, no lock, no shared memory, no catalog access; the
 *		only call into the core is IsTransactionBlock(), once per
 *		transaction (cached by local transaction id, and forgotten when a
 *		transaction statement such as BEGIN runs);
 *	  - catalog access (a parameter type not in the local type cache, the
 *		plan advice) happens only inside a valid transaction
 *		(IsTransactionState()), on paths taken a few times per unit;
 *	  - an entry of the running-statements stack belongs to the transaction
 *		whose lxid it carries; executors never outlive their transaction
 *		(holdable cursors are materialized at commit), so entries of an
 *		older transaction are those of failed statements and are dropped
 *		when the next statement starts;
 *	  - a slot is valid only while its gen equals np1_gen: bumping np1_gen
 *		empties the table in O(1);
 *	  - the transaction callback is registered the first time a unit of
 *		work inside a transaction block starts, so sessions that only run
 *		autocommit statements never pay for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "nplus1.h"

bool		mnp_nplus1_enabled = true;
int			mnp_nplus1_min_repeats = 5;
int			mnp_nplus1_gap_ms = 100;

#define NP1_SLOTS			256 /* distinct statements per unit of work */
#define NP1_MAX_USED		(NP1_SLOTS * 3 / 4)
#define NP1_CANDS			8	/* candidate sources kept per statement */
#define NP1_RECENT			8	/* recent row-returning statements */
#define NP1_OPEN			16	/* statements started and not ended */
#define NP1_MG				4	/* Misra-Gries counters per statement */
#define NP1_CONFIRMED		32	/* runs over the threshold per unit */
#define NP1_SEGMENT_MS		10000
#define NP1_HASH_MAX_BYTES	2048	/* longer values are not hashed */
#define NP1_SOURCE_DEPTH	4
#define NP1_TYPE_CACHE		16
#define NP1_CONSTFREE		256 /* queryids known to have no constants */

/* A statement that may be the source of a run. */
typedef struct np1Cand
{
	uint64		queryid;
	uint64		start;			/* start sequence number */
	bool		toplevel;
	int64		rows;			/* rows of that execution; -1: still running */
} np1Cand;

/* A statement started and not yet ended. */
typedef struct np1Open
{
	QueryDesc  *qd;
	uint64		start;
	uint64		queryid;
	LocalTransactionId lxid;	/* transaction it started in */
	bool		toplevel;
	bool		returns_rows;
} np1Open;

/*
 * One distinct statement of the unit of work.  The fields every execution
 * touches come first (128 bytes); the rest is written once.
 */
typedef struct np1Slot
{
	uint32		gen;			/* valid in generation np1_gen only */
	int16		confirmed;		/* index in np1_confirmed, or NP1_UNCONFIRMED,
								 * NP1_DROPPED, NP1_HOPELESS */
	int8		mg_n;			/* Misra-Gries counters in use */
	bool		varied;			/* a parameter set differed from the first */
	uint64		queryid;
	int64		calls;
	uint64		last_start;
	double		total_ms;
	double		min_ms;
	int64		rows_total;		/* rows returned (SELECT / RETURNING) */
	int64		max_rows;		/* most rows returned by one execution */
	uint64		first_hash;
	LocalTransactionId first_lxid;
	LocalTransactionId last_lxid;	/* differs: ran in several transactions */
	int32		mg_count[NP1_MG];	/* live counters first, all > 0 */
	uint64		mg_hash[NP1_MG];
	/* set by the first execution */
	Oid			userid;
	bool		toplevel;
	CmdType		operation;
	uint64		first_start;
	int			ncand;
	np1Cand		cand[NP1_CANDS];	/* most recent first */
} np1Slot;

/* np1Slot.confirmed when the slot has no entry in np1_confirmed */
#define NP1_UNCONFIRMED		(-1)	/* below the threshold */
#define NP1_DROPPED			(-2)	/* np1_confirmed was full */
#define NP1_HOPELESS		(-3)	/* cannot become an incident */

typedef struct np1Confirmed
{
	int			slot;
	mnpNp1Advice advice;
} np1Confirmed;

typedef struct np1TypeInfo
{
	Oid			typid;
	int16		typlen;
	bool		typbyval;
} np1TypeInfo;

static np1Slot np1_slots[NP1_SLOTS];
static uint32 np1_gen = 1;
static np1Confirmed np1_confirmed[NP1_CONFIRMED];
static np1Cand np1_recent[NP1_RECENT];	/* most recent first; [0].queryid
										 * is 0 when the list is empty */
static int	np1_nrecent = 0;
static np1Open np1_open[NP1_OPEN];	/* oldest first */
static int	np1_nopen = 0;
static uint64 np1_seq = 0;		/* start sequence numbers */
static uint64 np1_unique = 0;	/* makes unhashable parameter sets differ */
static np1TypeInfo np1_types[NP1_TYPE_CACHE];
static int	np1_ntypes = 0;
static int	np1_next_type = 0;
static int	np1_last_type = 0;	/* index of the last type found */
static Oid	np1_byval_type = InvalidOid;	/* last pass-by-value type seen */
static uint64 np1_constfree[NP1_CONSTFREE];
static bool np1_xact_callback_registered = false;
static bool np1_exit_callback_registered = false;

/* transaction-block state of the transaction np1_block_lxid */
static LocalTransactionId np1_block_lxid = InvalidLocalTransactionId;
static bool np1_block = false;

/* what kind of unit of work is being followed */
typedef enum np1Mode
{
	NP1_NONE = 0,				/* none */
	NP1_AUTOCOMMIT,				/* a burst of autocommit statements */
	NP1_BLOCK					/* a transaction block */
} np1Mode;

/* the unit of work being followed */
static struct
{
	np1Mode		mode;
	LocalTransactionId lxid;	/* of the block (NP1_BLOCK) */
	TimestampTz start;
	TimestampTz seg_end;		/* start + NP1_SEGMENT_MS */
	TimestampTz last_end;
	int			nused;
	int			nconfirmed;
	int64		dropped;		/* statements not followed (table full) */
} np1_uow;

static void np1_close(bool keep_recent);

/* Define the detector's GUCs (and the store's). */
void
mnp_nplus1_init(void)
{
	DefineCustomBoolVariable("medianest_perf.n_plus_one",
							 "Detect N+1 access patterns, repeated identical statements and write loops.",
							 "Off skips the detector entirely (no per-statement work).",
							 &mnp_nplus1_enabled,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.n_plus_one_min_repeats",
							"Repeats of one statement in one unit of work that make an incident.",
							NULL,
							&mnp_nplus1_min_repeats,
							5, 2, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.n_plus_one_gap_ms",
							"In autocommit, a pause between statements at least this long ends a unit of work.",
							NULL,
							&mnp_nplus1_gap_ms,
							100, 1, 3600000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	mnp_nplus1_store_init();
}

/*----------
 * Unit-of-work boundaries outside the statement path.
 *----------
 */

/* Close a unit of work inside a transaction block when the block ends. */
static void
np1_xact_callback(XactEvent event, void *arg)
{
	if (np1_uow.mode != NP1_BLOCK)
		return;
	/* publishing needs neither catalog access nor allocation */
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE ||
		event == XACT_EVENT_ABORT)
		np1_close(false);
}

/* Publish the pending unit of work when the backend exits. */
static void
np1_exit_callback(int code, Datum arg)
{
	if (np1_uow.mode != NP1_NONE && mnp_shmem_ready())
		np1_close(false);
}

/* Register the callbacks a unit of work needs (once per backend each). */
static void
np1_register_callbacks(bool block)
{
	if (!np1_exit_callback_registered)
	{
		before_shmem_exit(np1_exit_callback, (Datum) 0);
		np1_exit_callback_registered = true;
	}
	if (block && !np1_xact_callback_registered)
	{
		RegisterXactCallback(np1_xact_callback, NULL);
		np1_xact_callback_registered = true;
	}
}

/* A transaction statement ran (BEGIN may turn the transaction into a block). */
void
mnp_nplus1_xact_statement(void)
{
	np1_block_lxid = InvalidLocalTransactionId;
}

/* Parse analysis found no literal constant in the statement queryid. */
void
mnp_nplus1_note_constfree(uint64 queryid)
{
	np1_constfree[(uint32) queryid & (NP1_CONSTFREE - 1)] = queryid;
}

/* Whether the statement queryid is known to have no literal constant. */
static inline bool
np1_is_constfree(uint64 queryid)
{
	return np1_constfree[(uint32) queryid & (NP1_CONSTFREE - 1)] == queryid;
}

/*----------
 * Backend-local tables.
 *----------
 */

/* Home slot of a queryid (a well-mixed hash already: its low bits do). */
static inline uint32
np1_slot_index(uint64 queryid)
{
	return (uint32) queryid & (NP1_SLOTS - 1);
}

/* The slot of queryid in this unit of work, or NULL. */
static np1Slot *
np1_slot_find(uint64 queryid)
{
	uint32		idx = np1_slot_index(queryid);

	for (int i = 0; i < NP1_SLOTS; i++)
	{
		np1Slot    *s = &np1_slots[(idx + i) & (NP1_SLOTS - 1)];

		if (s->gen != np1_gen)
			return NULL;
		if (s->queryid == queryid)
			return s;
	}
	return NULL;
}

/*
 * The slot of queryid when its home slot holds another statement or is
 * free: found further on, or claimed; NULL when the table is full.
 */
static pg_noinline np1Slot *
np1_slot_claim(uint64 queryid)
{
	uint32		idx = np1_slot_index(queryid);

	for (int i = 0; i < NP1_SLOTS; i++)
	{
		np1Slot    *s = &np1_slots[(idx + i) & (NP1_SLOTS - 1)];

		if (s->gen != np1_gen)
		{
			if (np1_uow.nused >= NP1_MAX_USED)
				return NULL;
			s->gen = np1_gen;
			s->queryid = queryid;
			s->calls = 0;
			np1_uow.nused++;
			return s;
		}
		if (s->queryid == queryid)
			return s;
	}
	return NULL;
}

/*
 * Remember that queryid just returned rows, when it is not the most recent
 * such statement already (the list is most recent first, one per queryid).
 */
static pg_noinline void
np1_recent_note_slow(uint64 queryid, uint64 start, int64 rows, bool toplevel)
{
	int			i;

	for (i = 0; i < np1_nrecent; i++)
		if (np1_recent[i].queryid == queryid)
			break;
	if (i == np1_nrecent)
	{
		if (np1_nrecent < NP1_RECENT)
			np1_nrecent++;
		i = np1_nrecent - 1;
	}
	memmove(&np1_recent[1], &np1_recent[0], sizeof(np1Cand) * i);
	np1_recent[0].queryid = queryid;
	np1_recent[0].start = start;
	np1_recent[0].rows = rows;
	np1_recent[0].toplevel = toplevel;
}

/* Forget the recent row-returning statements. */
static inline void
np1_recent_clear(void)
{
	np1_nrecent = 0;
	np1_recent[0].queryid = 0;
}

/* Drop the running-statement entries of transactions other than lxid. */
static pg_noinline void
np1_open_purge(LocalTransactionId lxid)
{
	int			n = 0;

	for (int i = 0; i < np1_nopen; i++)
		if (np1_open[i].lxid == lxid)
			np1_open[n++] = np1_open[i];
	np1_nopen = n;
}

/*
 * Snapshot the statements that could be the source of s's run: those that
 * started before s first did and returned rows, or are still running
 * (cursors), newest first.
 */
static void
np1_snapshot_candidates(np1Slot *s, LocalTransactionId lxid)
{
	int			n = 0;
	int			oi;
	int			ri = 0;

	np1_open_purge(lxid);
	oi = np1_nopen - 1;

	/* merge the open list (newest last) and the recent list (newest first) */
	while (n < NP1_CANDS && (oi >= 0 || ri < np1_nrecent))
	{
		np1Cand		c;
		bool		dup = false;

		if (oi >= 0 && (ri >= np1_nrecent ||
						np1_open[oi].start > np1_recent[ri].start))
		{
			np1Open    *o = &np1_open[oi--];

			if (!o->returns_rows)
				continue;
			c.queryid = o->queryid;
			c.start = o->start;
			c.toplevel = o->toplevel;
			c.rows = -1;
		}
		else
			c = np1_recent[ri++];

		if (c.queryid == s->queryid || c.start >= s->first_start)
			continue;
		for (int j = 0; j < n; j++)
			if (s->cand[j].queryid == c.queryid)
				dup = true;
		if (!dup)
			s->cand[n++] = c;
	}
	s->ncand = n;
}

/* Misra-Gries, every counter taken: decrement all, keep the positive ones. */
static pg_noinline void
np1_mg_decrement(np1Slot *s)
{
	int			n = 0;

	/* every count 1 (distinct parameter sets, the usual N+1 loop) */
	if ((s->mg_count[0] | s->mg_count[1] | s->mg_count[2] | s->mg_count[3]) == 1)
	{
		s->mg_n = 0;
		return;
	}
	for (int i = 0; i < NP1_MG; i++)
	{
		if (s->mg_count[i] > 1)
		{
			s->mg_hash[n] = s->mg_hash[i];
			s->mg_count[n] = s->mg_count[i] - 1;
			n++;
		}
	}
	s->mg_n = n;
}

/*
 * Misra-Gries summary of the parameter sets with NP1_MG counters: the
 * counts are lower bounds of the true counts.  The live counters are kept
 * at the front, so a stream of distinct sets (the usual N+1 loop) compares
 * with the few live ones only.
 */
static inline void
np1_mg_add(np1Slot *s, uint64 h)
{
	int			n = s->mg_n;
	int			i;

	StaticAssertStmt(NP1_MG == 4, "np1_mg_add scans four counters");
	/* the live counters, newest first (fall through) */
	switch (n)
	{
		case 4:
			if (s->mg_hash[i = 3] == h)
				goto hit;
			/* FALLTHROUGH */
		case 3:
			if (s->mg_hash[i = 2] == h)
				goto hit;
			/* FALLTHROUGH */
		case 2:
			if (s->mg_hash[i = 1] == h)
				goto hit;
			/* FALLTHROUGH */
		case 1:
			if (s->mg_hash[i = 0] == h)
				goto hit;
			/* FALLTHROUGH */
		default:
			break;
	}
	if (n < NP1_MG)
	{
		s->mg_hash[n] = h;
		s->mg_count[n] = 1;
		s->mg_n = n + 1;
	}
	else
		np1_mg_decrement(s);
	return;

hit:
	s->mg_count[i]++;
}

/* The highest count of the Misra-Gries summary. */
static int64
np1_mg_max(const np1Slot *s)
{
	int64		m = 0;

	for (int i = 0; i < s->mg_n; i++)
		m = Max(m, s->mg_count[i]);
	return m;
}

/*----------
 * Parameter hashing.
 *----------
 */

/*
 * typlen and typbyval of a parameter type, from a small local cache.
 * Returns false when the type is not cached and the catalog cannot be read
 * (outside a valid transaction).
 */
static inline bool
np1_type_info(Oid typid, int16 *typlen, bool *typbyval)
{
	np1TypeInfo *t = &np1_types[np1_last_type];

	if (likely(t->typid == typid))
	{
		*typlen = t->typlen;
		*typbyval = t->typbyval;
		if (t->typbyval)
			np1_byval_type = typid;
		return true;
	}
	for (int i = 0; i < np1_ntypes; i++)
		if (np1_types[i].typid == typid)
		{
			np1_last_type = i;
			*typlen = np1_types[i].typlen;
			*typbyval = np1_types[i].typbyval;
			if (*typbyval)
				np1_byval_type = typid;
			return true;
		}
	if (!IsTransactionState())
		return false;
	get_typlenbyval(typid, typlen, typbyval);
	np1_types[np1_next_type].typid = typid;
	np1_types[np1_next_type].typlen = *typlen;
	np1_types[np1_next_type].typbyval = *typbyval;
	np1_last_type = np1_next_type;
	if (*typbyval)
		np1_byval_type = typid;
	np1_next_type = (np1_next_type + 1) % NP1_TYPE_CACHE;
	np1_ntypes = Max(np1_ntypes, np1_next_type == 0 ? NP1_TYPE_CACHE : np1_next_type);
	return true;
}

/* Rotate left by r bits (0 < r < 64). */
static inline uint64
np1_rotl64(uint64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Final avalanche of a 64-bit value (so that every input bit matters). */
static inline uint64
np1_mix64(uint64 x)
{
	x ^= x >> 31;
	x *= UINT64CONST(0x7FB5D329728EA185);
	x ^= x >> 27;
	x *= UINT64CONST(0x81DADEF4BC2DD44D);
	x ^= x >> 33;
	return x;
}

/*
 * Mix one 64-bit word into h.  For a fixed h this is a bijection of w, so
 * one pass-by-value parameter never collides with another value.
 */
static inline uint64
np1_mix_word(uint64 h, uint64 w)
{
	return (np1_rotl64(h, 27) ^ w) * UINT64CONST(0x9E3779B97F4A7C15);
}

/*
 * Hash a byte string eight bytes at a time.  Not for hash tables (no
 * adversary here): it only has to tell the parameter sets of one statement
 * apart, and it is on the per-statement path, so it trades the quality of
 * hash_bytes_extended() for a fraction of its instructions.  A string of
 * eight bytes or more ends with its last eight bytes (overlapping the word
 * before; the length is mixed in), so no call to memcpy is needed for the
 * tail.
 */
static uint64
np1_hash_bytes(const char *p, Size len, uint64 h)
{
	uint64		w;

	h ^= len * UINT64CONST(0x9E3779B97F4A7C15);
	if (len >= 8)
	{
		const char *last = p + len - 8;

		while (p < last)
		{
			memcpy(&w, p, 8);
			h = np1_rotl64((h ^ w) * UINT64CONST(0xC2B2AE3D27D4EB4F), 31);
			p += 8;
		}
		memcpy(&w, last, 8);
	}
	else
	{
		w = 0;
		for (Size i = 0; i < len; i++)
			w |= (uint64) (unsigned char) p[i] << (8 * i);
	}
	h = np1_rotl64((h ^ w) * UINT64CONST(0x165667B19E3779F9), 29);
	return np1_mix64(h);
}

/*
 * Mix one parameter value into h.  Returns false when the value cannot be
 * hashed cheaply (too long, expanded in memory, type unknown): the caller
 * then treats the execution as different from every other.
 */
static inline bool
np1_hash_value(uint64 *h, const ParamExternData *prm)
{
	int16		typlen;
	bool		typbyval;
	const char *p;
	Size		len;

	if (prm->isnull)
	{
		*h = np1_mix_word(*h ^ UINT64CONST(0x5851F42D4C957F2D), 1);
		return true;
	}
	if (!np1_type_info(prm->ptype, &typlen, &typbyval))
		return false;
	if (typbyval)
	{
		*h = np1_mix_word(*h, (uint64) prm->value);
		return true;
	}
	p = DatumGetPointer(prm->value);
	if (p == NULL)
		return false;
	if (typlen == -1)
	{
		if (VARATT_IS_EXTERNAL_EXPANDED(p))
			return false;
		/* a TOAST pointer stands for its value: hash the pointer itself */
		len = VARSIZE_ANY(p);
	}
	else if (typlen == -2)
		len = strnlen(p, NP1_HASH_MAX_BYTES + 1) + 1;
	else
		len = typlen;
	if (len > NP1_HASH_MAX_BYTES)
		return false;
	*h = np1_hash_bytes(p, len, *h);
	return true;
}

/* Whether c is white space between statements. */
static inline bool
np1_is_space(char c)
{
	/* space, or one of \t \n \v \f \r (9 to 13) */
	return c == ' ' || (unsigned char) (c - '\t') <= '\r' - '\t';
}

/*
 * Hash of the statement's own text (it holds literal constants), without
 * the white space around it: in a multi-statement query a statement's
 * slice starts right after the previous semicolon.
 */
static pg_noinline uint64
np1_hash_text(QueryDesc *qd)
{
	int			loc = qd->plannedstmt->stmt_location;
	int			len = qd->plannedstmt->stmt_len;
	const char *p = qd->sourceText;

	if (loc > 0)
		p += loc;
	if (len <= 0)
		len = strlen(p);
	while (len > 0 && np1_is_space(*p))
	{
		p++;
		len--;
	}
	while (len > 0 && np1_is_space(p[len - 1]))
		len--;
	return np1_hash_bytes(p, len, 0);
}

/* Mix the bound parameter values into h (the general case). */
static pg_noinline uint64
np1_hash_params(ParamListInfo params, uint64 h)
{
	for (int i = 0; i < params->numParams; i++)
	{
		ParamExternData ws;
		const ParamExternData *prm;

		if (params->paramFetch != NULL)
			prm = params->paramFetch(params, i + 1, true, &ws);
		else
			prm = &params->params[i];
		if (!OidIsValid(prm->ptype))
			continue;			/* not used by this statement */
		if (!np1_hash_value(&h, prm))
			return np1_mix64(h ^ ++np1_unique);
	}
	return h;
}

/*
 * Hash of the statement's parameter set: its bound parameter values, and
 * its source text when that holds literal constants (the text of a
 * statement without constants is the same for every execution).
 */
static inline uint64
np1_param_hash(QueryDesc *qd, uint64 queryid)
{
	uint64		h = 0;
	ParamListInfo params = qd->params;

	if (unlikely(!np1_is_constfree(queryid)) && qd->sourceText != NULL)
		h = np1_hash_text(qd);
	if (params != NULL)
	{
		const ParamExternData *prm = &params->params[0];

		/* one pass-by-value parameter of the pass-by-value type seen last */
		if (params->numParams == 1 && params->paramFetch == NULL &&
			prm->ptype == np1_byval_type && !prm->isnull)
			return np1_mix_word(h, (uint64) prm->value);
		if (params->numParams > 0)
			h = np1_hash_params(params, h);
	}
	return h;
}

/*----------
 * Source attribution and publication.
 *----------
 */

/*
 * The source of s's run, or NULL.  Candidates are the statements that
 * started before s first did, newest first.  A candidate that ran at least
 * as often as s is a sibling (another per-row statement of the same loop,
 * e.g. the author lookup alternating with the comment count) and is
 * passed over.
 *	 1. the newest candidate one execution of which returned at least as
 *		many rows as s ran (the classic "1 query, then N");
 *	 2. else, for nested loops, the newest candidate that itself ran
 *		several times, fewer than s, also after s first ran (the loops
 *		interleave), returned at least as many rows in all as s ran, and
 *		either drove min_repeats executions of s per execution on average
 *		or has a source itself (it is the middle statement of an N+1
 *		inside an N+1).
 */
static np1Cand *
np1_find_source(np1Slot *s, int depth)
{
	int64		n = s->calls;

	for (int i = 0; i < s->ncand; i++)
	{
		np1Cand    *c = &s->cand[i];
		np1Slot    *p = np1_slot_find(c->queryid);
		int64		rows = c->rows;

		if (p != NULL && p->calls >= 2 && n <= p->calls)
			continue;
		if (p != NULL)
			rows = Max(rows, p->max_rows);
		if (rows >= n)
			return c;
	}

	for (int i = 0; i < s->ncand; i++)
	{
		np1Cand    *c = &s->cand[i];
		np1Slot    *p = np1_slot_find(c->queryid);

		if (p == NULL || p->first_start >= s->first_start ||
			p->last_start <= s->first_start ||
			p->calls < 2 || n <= p->calls || p->rows_total < n)
			continue;
		if (n >= (int64) mnp_nplus1_min_repeats * p->calls)
			return c;
		if (depth < NP1_SOURCE_DEPTH && np1_find_source(p, depth + 1) != NULL)
			return c;
	}
	return NULL;
}

/* Whether the operation writes rows. */
static inline bool
np1_is_write(CmdType op)
{
	return op == CMD_INSERT || op == CMD_UPDATE || op == CMD_DELETE ||
		op == CMD_MERGE;
}

/*
 * End the unit of work: classify every run that reached the threshold and
 * publish the findings.  keep_recent carries the recent row-returning
 * statements into the next segment of the same unit of work.
 */
static void
np1_close(bool keep_recent)
{
	mnpNp1Incident inc[NP1_CONFIRMED * 2];
	int			n = 0;
	int64		thr = mnp_nplus1_min_repeats;

	np1_uow.mode = NP1_NONE;

	for (int i = 0; i < np1_uow.nconfirmed; i++)
	{
		np1Confirmed *cf = &np1_confirmed[i];
		np1Slot    *s = &np1_slots[cf->slot];
		np1Cand    *src;
		double		mean_ms;
		mnpNp1Incident base;

		if (s->gen != np1_gen || s->calls < thr)
			continue;
		src = np1_find_source(s, 0);
		mean_ms = s->total_ms / s->calls;

		memset(&base, 0, sizeof(base));
		base.userid = s->userid;
		base.dbid = MyDatabaseId;
		base.repeated_queryid = s->queryid;
		base.repeated_toplevel = s->toplevel;
		base.source_queryid = src ? src->queryid : 0;
		base.source_toplevel = src ? src->toplevel : false;
		base.when = np1_uow.last_end;

		if (np1_is_write(s->operation) ||
			(s->operation == CMD_SELECT && s->varied && src != NULL))
		{
			/* one batched statement pays the per-call cost once */
			inc[n] = base;
			inc[n].kind = np1_is_write(s->operation) ? MNP_NP1_WRITE_LOOP :
				MNP_NP1_N_PLUS_ONE;
			inc[n].repeats = s->calls;
			inc[n].time_ms = s->total_ms;
			inc[n].saving_ms = (s->calls - 1) * s->min_ms;
			inc[n].suggestion = cf->advice.batch;
			n++;
		}
		/*
		 * Identical reads spread over several autocommit transactions without
		 * a source are as likely separate requests through one pooled
		 * connection as one request's loop: not reported.
		 */
		if (s->operation == CMD_SELECT && !cf->advice.has_volatile &&
			(s->first_lxid == s->last_lxid || src != NULL))
		{
			int64		same = np1_mg_max(s);

			if (same >= thr)
			{
				/* a cache avoids every call but the first */
				inc[n] = base;
				inc[n].kind = MNP_NP1_REPEATED_IDENTICAL;
				inc[n].repeats = same;
				inc[n].time_ms = same * mean_ms;
				inc[n].saving_ms = (same - 1) * mean_ms;
				inc[n].suggestion = cf->advice.cache;
				n++;
			}
		}
	}

	mnp_nplus1_store_publish(inc, n, np1_uow.dropped);

	np1_uow.nused = 0;
	np1_uow.nconfirmed = 0;
	np1_uow.dropped = 0;
	if (++np1_gen == 0)
	{
		/* after 2^32 units of work: make every old slot look unused */
		for (int i = 0; i < NP1_SLOTS; i++)
			np1_slots[i].gen = 0;
		np1_gen = 1;
	}
	if (!keep_recent)
		np1_recent_clear();
}


/* Publish what this backend is following (the view calls this first). */
void
mnp_nplus1_flush(void)
{
	if (np1_uow.mode != NP1_NONE)
		np1_close(false);
}

/* Drop what this backend is following without publishing it (reset). */
void
mnp_nplus1_forget_local(void)
{
	np1_uow.mode = NP1_NONE;
	np1_uow.nconfirmed = 0;
	np1_uow.dropped = 0;
	np1_uow.nused = 0;
	np1_recent_clear();
	if (++np1_gen == 0)
	{
		for (int i = 0; i < NP1_SLOTS; i++)
			np1_slots[i].gen = 0;
		np1_gen = 1;
	}
}

/*----------
 * The statement path.
 *----------
 */

/* Fill a running-statement entry. */
static inline void
np1_open_fill(np1Open *o, QueryDesc *queryDesc, bool toplevel,
			  LocalTransactionId lxid)
{
	o->qd = queryDesc;
	o->start = ++np1_seq;
	o->queryid = queryDesc->plannedstmt->queryId;
	o->lxid = lxid;
	o->toplevel = toplevel;
	o->returns_rows = queryDesc->operation == CMD_SELECT ||
		queryDesc->plannedstmt->hasReturning;
}

/*
 * Push a running statement when the stack is full or holds entries of an
 * earlier transaction.
 */
static pg_noinline void
np1_open_push_slow(QueryDesc *queryDesc, bool toplevel, LocalTransactionId lxid)
{
	np1_open_purge(lxid);
	if (np1_nopen == NP1_OPEN)
	{
		/* only statements that failed can pile up: drop the oldest */
		memmove(&np1_open[0], &np1_open[1], sizeof(np1Open) * (NP1_OPEN - 1));
		np1_nopen--;
	}
	np1_open_fill(&np1_open[np1_nopen++], queryDesc, toplevel, lxid);
}

/* ExecutorStart: remember that the statement is running, and since when. */
void
mnp_nplus1_start(QueryDesc *queryDesc, bool toplevel)
{
	LocalTransactionId lxid;
	int			n;

	if (!mnp_nplus1_enabled)
		return;
	lxid = MyProc->lxid;
	n = np1_nopen;
	if (unlikely(n > 0 && (np1_open[n - 1].lxid != lxid || n == NP1_OPEN)))
	{
		np1_open_push_slow(queryDesc, toplevel, lxid);
		return;
	}
	np1_open_fill(&np1_open[n], queryDesc, toplevel, lxid);
	np1_nopen = n + 1;
}

/* Take queryDesc off the running stack, not from the top; its start. */
static pg_noinline uint64
np1_open_take_slow(QueryDesc *qd)
{
	for (int i = np1_nopen - 1; i >= 0; i--)
	{
		if (np1_open[i].qd == qd)
		{
			uint64		start = np1_open[i].start;

			memmove(&np1_open[i], &np1_open[i + 1],
					sizeof(np1Open) * (np1_nopen - i - 1));
			np1_nopen--;
			return start;
		}
	}
	return ++np1_seq;			/* started before the detector was on */
}

/*
 * A unit-of-work boundary may lie before this statement (none is active,
 * the transaction or its block state changed, a gap in autocommit, a long
 * segment): close the unit if it ended, and open one if none is active.
 */
static pg_noinline void
np1_boundary(bool block, LocalTransactionId lxid, TimestampTz start_ts,
			 TimestampTz end_ts)
{
	if (np1_uow.mode != NP1_NONE)
	{
		bool		boundary;

		if (block != (np1_uow.mode == NP1_BLOCK))
			boundary = true;
		else if (block)
			boundary = (lxid != np1_uow.lxid);
		else
			boundary = (start_ts - np1_uow.last_end >=
						(TimestampTz) mnp_nplus1_gap_ms * 1000);
		if (boundary)
			np1_close(false);
		else if (end_ts >= np1_uow.seg_end)
			np1_close(true);
	}
	if (np1_uow.mode == NP1_NONE)
	{
		np1_register_callbacks(block);
		np1_uow.mode = block ? NP1_BLOCK : NP1_AUTOCOMMIT;
		np1_uow.lxid = block ? lxid : InvalidLocalTransactionId;
		np1_uow.start = start_ts;
		np1_uow.seg_end = start_ts + (TimestampTz) NP1_SEGMENT_MS * 1000;
		np1_uow.last_end = end_ts;
	}
}

/* First execution of s in this unit of work. */
static pg_noinline void
np1_slot_first(np1Slot *s, const mnpExecSample *x, uint64 start, uint64 h,
			   LocalTransactionId lxid)
{
	s->userid = x->userid;
	s->toplevel = x->toplevel;
	s->operation = x->operation;
	s->first_start = start;
	s->first_hash = h;
	s->varied = false;
	s->first_lxid = lxid;
	s->confirmed = NP1_UNCONFIRMED;
	s->calls = 0;
	s->rows_total = 0;
	s->max_rows = 0;
	s->total_ms = 0.0;
	s->min_ms = x->duration_ms;
	s->mg_n = 0;
	np1_snapshot_candidates(s, lxid);
}

/*
 * The run of s reached the threshold: analyse the plan once, unless the run
 * can no longer become an incident.  That is the case of a read whose
 * candidate sources (fixed at its first execution) are none and which
 * already ran in more than one transaction: n_plus_one needs a source, and
 * repeated_identical needs a source or a single transaction (np1_close).
 * Pooled autocommit lookup streams are such runs; they are spared the plan
 * walk and its catalog lookups.
 */
static pg_noinline void
np1_confirm(np1Slot *s, QueryDesc *qd, CmdType operation,
			LocalTransactionId lxid)
{
	if (!np1_is_write(operation) && s->ncand == 0 && s->first_lxid != lxid)
	{
		s->confirmed = NP1_HOPELESS;
		return;
	}
	if (np1_uow.nconfirmed < NP1_CONFIRMED && IsTransactionState())
	{
		np1Confirmed *cf = &np1_confirmed[np1_uow.nconfirmed];

		cf->slot = (int) (s - np1_slots);
		mnp_nplus1_advise(qd->plannedstmt, operation, &cf->advice);
		s->confirmed = (int16) np1_uow.nconfirmed++;
	}
	else
	{
		s->confirmed = NP1_DROPPED;
		np1_uow.dropped++;
	}
}

/*
 * The detector is switched off: forget qd if it started while the detector
 * was on, and publish what the detector was following.
 */
static pg_noinline void
np1_disabled(QueryDesc *qd)
{
	if (np1_nopen > 0)
		(void) np1_open_take_slow(qd);
	if (np1_uow.mode != NP1_NONE)
		np1_close(false);
}

/* Account one finished execution (the detector is on). */
static pg_noinline void
np1_observe(const mnpExecSample *x)
{
	QueryDesc  *qd = x->query_desc;
	uint64		queryid = x->queryid;
	int			nopen = np1_nopen;
	uint64		start;
	TimestampTz end_ts;
	LocalTransactionId lxid;
	np1Slot    *s;
	uint64		h;

	/* pop the statement off the running stack (the top, usually) */
	if (likely(nopen > 0 && np1_open[nopen - 1].qd == qd))
	{
		start = np1_open[nopen - 1].start;
		np1_nopen = nopen - 1;
	}
	else
		start = np1_open_take_slow(qd);

	/* the transaction-block state, read once per transaction */
	lxid = MyProc->lxid;
	if (lxid != np1_block_lxid)
	{
		np1_block = IsTransactionBlock();
		np1_block_lxid = lxid;
	}

	/*
	 * x->now is the start of the client statement (no clock is read per
	 * statement); for a client statement that is its own start, and its end
	 * follows from its duration.  Nested statements run inside their client
	 * statement's transaction, where only transaction boundaries matter.
	 */
	end_ts = x->now + (TimestampTz) (x->duration_ms * 1000.0);
	/* still the same block, or an autocommit burst within the gap */
	if (unlikely((np1_block ?
				  np1_uow.mode != NP1_BLOCK || lxid != np1_uow.lxid :
				  np1_uow.mode != NP1_AUTOCOMMIT ||
				  x->now - np1_uow.last_end >=
				  (TimestampTz) mnp_nplus1_gap_ms * 1000) ||
				 end_ts >= np1_uow.seg_end))
		np1_boundary(np1_block, lxid, x->now, end_ts);
	if (end_ts > np1_uow.last_end)
		np1_uow.last_end = end_ts;

	/* the statement's slot: the first probe, usually */
	s = &np1_slots[np1_slot_index(queryid)];
	if (unlikely(s->gen != np1_gen || s->queryid != queryid))
	{
		s = np1_slot_claim(queryid);
		if (unlikely(s == NULL))
		{
			np1_uow.dropped++;
			return;
		}
	}

	h = np1_param_hash(qd, queryid);
	if (unlikely(s->calls == 0))
		np1_slot_first(s, x, start, h, lxid);
	else
	{
		if (h != s->first_hash)
			s->varied = true;
		if (x->duration_ms < s->min_ms)
			s->min_ms = x->duration_ms;
	}
	s->calls++;
	s->last_start = start;
	s->last_lxid = lxid;
	s->total_ms += x->duration_ms;
	np1_mg_add(s, h);

	if (x->operation == CMD_SELECT || qd->plannedstmt->hasReturning)
	{
		/*
		 * The rows of every ExecutorRun call (a cursor, such as a PL/pgSQL
		 * FOR loop's query, fetches in batches, and es_processed only counts
		 * the last one): the collector samples only statements with
		 * total-time instrumentation, and has closed its loop already.
		 */
		int64		rows = (int64) qd->totaltime->ntuples;

		s->rows_total += rows;
		if (rows > s->max_rows)
			s->max_rows = rows;
		if (rows > 0)
		{
			if (np1_recent[0].queryid == queryid)
			{
				np1_recent[0].start = start;
				np1_recent[0].rows = rows;
			}
			else
				np1_recent_note_slow(queryid, start, rows, x->toplevel);
		}
	}

	if (unlikely(s->calls == mnp_nplus1_min_repeats) &&
		s->confirmed == NP1_UNCONFIRMED)
		np1_confirm(s, qd, x->operation, lxid);
}

/* ExecutorEnd: account one finished execution. */
void
mnp_nplus1_observe(const mnpExecSample *x)
{
	if (likely(mnp_nplus1_enabled))
		np1_observe(x);
	else
		np1_disabled(x->query_desc);
}
