/*-------------------------------------------------------------------------
 *
 * nplus1_store.c
 *	  The shared incident store of the N+1 detector and its SQL functions:
 *	  one entry per (userid, dbid, kind, source_queryid, repeated_queryid),
 *	  aggregating every unit of work in which the pattern was confirmed.
 *
 * Shared structures
 *	  - a fixed-size shared hash of mnpNp1Entry, at most
 *		medianest_perf.n_plus_one_max entries; when it is full the entry
 *		seen least recently is evicted and counted;
 *	  - mnpNp1Shared, the store-wide counters.
 *
 * Locking protocol (lock MNP_LOCK_NPLUS1):
 *	  - Publish the findings of a unit of work, reset: EXCLUSIVE.  Only
 *		units of work with a confirmed finding get here (plus, rarely, a
 *		unit of work whose backend-local table overflowed, to count it):
 *		never the per-statement path.
 *	  - Read the entries and counters: SHARED, copying them out and
 *		releasing the lock before anything else (query texts are looked up
 *		afterwards in the statement store, under its own lock).
 *	  Nothing is allocated, logged or raised while the lock is held.
 *
 * Persistence: like the statement store, the postmaster writes the
 * incidents to $PGDATA/pg_stat/medianest_perf_nplus1.stat at a clean
 * shutdown (when medianest_perf.save is on) and loads them at start-up;
 * a file that does not check out is ignored with a WARNING.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "nplus1.h"
#include "statfile.h"
#include "stmt_store.h"

PG_FUNCTION_INFO_V1(mnp_n_plus_one_1_0);
PG_FUNCTION_INFO_V1(mnp_n_plus_one_info);
PG_FUNCTION_INFO_V1(mnp_reset_n_plus_one);

#define NP1_FILE		"pg_stat/medianest_perf_nplus1.stat"
#define NP1_FILE_TMP	NP1_FILE ".tmp"
#define NP1_FILE_MAGIC	0x4D4E504E	/* "MNPN" */
#define NP1_FILE_FORMAT 1

const char *const mnp_nplus1_kind_names[MNP_NP1_NKINDS] = {
	"n_plus_one",
	"repeated_identical",
	"write_loop"
};

/* Hash key.  Padding must be zero: built with memset. */
typedef struct mnpNp1Key
{
	Oid			userid;
	Oid			dbid;
	uint64		source_queryid;
	uint64		repeated_queryid;
	int32		kind;
	int32		pad;
} mnpNp1Key;

typedef struct mnpNp1Entry
{
	mnpNp1Key	key;			/* hash key; must be first */
	bool		source_toplevel;
	bool		repeated_toplevel;
	int64		occurrences;	/* units of work in which it was confirmed */
	int64		max_repeats;
	int64		total_repeated_calls;
	double		total_time_ms;
	double		estimated_saving_ms;
	TimestampTz first_seen;
	TimestampTz last_seen;
	char		application_name[NAMEDATALEN];
	char		suggestion[MNP_NP1_SUGGESTION_LEN];
} mnpNp1Entry;

/* Store-wide counters; all under the lock. */
typedef struct mnpNp1Shared
{
	int64		evicted;		/* incidents evicted to make room */
	int64		dropped;		/* statements the detector could not follow */
	int64		published;		/* findings published since the reset */
	TimestampTz stats_reset;
} mnpNp1Shared;

static int	np1_max_entries = 1000;

static mnpNp1Shared *np1_shared = NULL;
static HTAB *np1_htab = NULL;

static void np1_store_shutdown(int code, Datum arg);

/* Define the store's GUC. */
void
mnp_nplus1_store_init(void)
{
	/* sizes of shared memory can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("medianest_perf.n_plus_one_max",
							"Maximum number of N+1 / repeated-statement incidents kept.",
							"Beyond it, the incident seen least recently is evicted (counted in n_plus_one_info).",
							&np1_max_entries,
							1000, 10, 100000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
}

/* Shared memory the store needs. */
Size
mnp_nplus1_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(mnpNp1Shared)),
					hash_estimate_size(np1_max_entries, sizeof(mnpNp1Entry)));
}

/* Create or attach the store; called under AddinShmemInitLock. */
void
mnp_nplus1_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	np1_shared = ShmemInitStruct("medianest_perf n_plus_one",
								 sizeof(mnpNp1Shared), &found);
	if (!found)
	{
		memset(np1_shared, 0, sizeof(mnpNp1Shared));
		np1_shared->stats_reset = GetCurrentTimestamp();
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(mnpNp1Key);
	info.entrysize = sizeof(mnpNp1Entry);
	np1_htab = ShmemInitHash("medianest_perf n_plus_one hash",
							 np1_max_entries, np1_max_entries,
							 &info, HASH_ELEM | HASH_BLOBS);

	if (!IsUnderPostmaster)
		on_shmem_exit(np1_store_shutdown, (Datum) 0);
}

/* Remove the entry seen least recently.  Lock held exclusively. */
static void
np1_evict_locked(void)
{
	HASH_SEQ_STATUS hs;
	mnpNp1Entry *e;
	mnpNp1Entry *victim = NULL;

	hash_seq_init(&hs, np1_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
		if (victim == NULL || e->last_seen < victim->last_seen)
			victim = e;
	if (victim != NULL)
	{
		hash_search(np1_htab, &victim->key, HASH_REMOVE, NULL);
		np1_shared->evicted++;
	}
}

/*
 * Add the findings of one unit of work (and the count of statements the
 * detector had to skip) to the store.  Never raises an error.
 */
void
mnp_nplus1_store_publish(const mnpNp1Incident *incidents, int n, int64 dropped)
{
	char		appname[NAMEDATALEN];

	if (!mnp_shmem_ready() || np1_htab == NULL || (n == 0 && dropped == 0))
		return;

	/* copy what is needed before taking the lock */
	strlcpy(appname, application_name ? application_name : "", sizeof(appname));

	LWLockAcquire(mnp_lock(MNP_LOCK_NPLUS1), LW_EXCLUSIVE);
	np1_shared->dropped += dropped;
	for (int i = 0; i < n; i++)
	{
		const mnpNp1Incident *inc = &incidents[i];
		mnpNp1Key	key;
		mnpNp1Entry *e;
		bool		found;

		memset(&key, 0, sizeof(key));
		key.userid = inc->userid;
		key.dbid = inc->dbid;
		key.source_queryid = inc->source_queryid;
		key.repeated_queryid = inc->repeated_queryid;
		key.kind = (int32) inc->kind;

		e = hash_search(np1_htab, &key, HASH_FIND, NULL);
		if (e == NULL)
		{
			if (hash_get_num_entries(np1_htab) >= np1_max_entries)
				np1_evict_locked();
			e = hash_search(np1_htab, &key, HASH_ENTER_NULL, &found);
			if (e == NULL)
			{
				np1_shared->dropped++;
				continue;
			}
			e->occurrences = 0;
			e->max_repeats = 0;
			e->total_repeated_calls = 0;
			e->total_time_ms = 0.0;
			e->estimated_saving_ms = 0.0;
			e->first_seen = inc->when;
		}
		e->source_toplevel = inc->source_toplevel;
		e->repeated_toplevel = inc->repeated_toplevel;
		e->occurrences++;
		e->max_repeats = Max(e->max_repeats, inc->repeats);
		e->total_repeated_calls += inc->repeats;
		e->total_time_ms += inc->time_ms;
		e->estimated_saving_ms += inc->saving_ms;
		e->last_seen = inc->when;
		memcpy(e->application_name, appname, NAMEDATALEN);
		strlcpy(e->suggestion, inc->suggestion ? inc->suggestion : "",
				MNP_NP1_SUGGESTION_LEN);
		np1_shared->published++;
	}
	LWLockRelease(mnp_lock(MNP_LOCK_NPLUS1));
}

/*----------
 * Reading: the incidents view.
 *----------
 */

/* key of the query-text lookup */
typedef struct np1TextKey
{
	Oid			userid;
	Oid			dbid;
	uint64		queryid;
	bool		toplevel;
} np1TextKey;

typedef struct np1TextEntry
{
	np1TextKey	key;
	text	   *query;			/* NULL until found */
} np1TextEntry;

typedef struct np1TextCtx
{
	HTAB	   *texts;
	bool		see_all;
} np1TextCtx;

static void
np1_text_key(np1TextKey *k, Oid userid, Oid dbid, uint64 queryid, bool toplevel)
{
	memset(k, 0, sizeof(*k));
	k->userid = userid;
	k->dbid = dbid;
	k->queryid = queryid;
	k->toplevel = toplevel;
}

/* Statement-store visitor: keep the texts of the statements asked for. */
static void
np1_text_visit(const mnpStmtSnapshot *snap, void *arg)
{
	np1TextCtx *ctx = (np1TextCtx *) arg;
	np1TextKey	k;
	np1TextEntry *te;

	np1_text_key(&k, snap->key.userid, snap->key.dbid, snap->key.queryid,
				 snap->key.toplevel);
	te = hash_search(ctx->texts, &k, HASH_FIND, NULL);
	if (te != NULL && te->query == NULL)
		te->query = mnp_visible_query_text(snap, ctx->see_all);
}

/* Ask for the text of a statement (both nesting levels, exact one first). */
static void
np1_want_text(HTAB *texts, Oid userid, Oid dbid, uint64 queryid)
{
	np1TextKey	k;
	np1TextEntry *te;
	bool		found;

	for (int top = 0; top <= 1; top++)
	{
		np1_text_key(&k, userid, dbid, queryid, top == 1);
		te = hash_search(texts, &k, HASH_ENTER, &found);
		if (!found)
			te->query = NULL;
	}
}

static Datum
np1_found_text(HTAB *texts, Oid userid, Oid dbid, uint64 queryid,
			   bool toplevel)
{
	np1TextKey	k;
	np1TextEntry *te;

	np1_text_key(&k, userid, dbid, queryid, toplevel);
	te = hash_search(texts, &k, HASH_FIND, NULL);
	if (te == NULL || te->query == NULL)
	{
		np1_text_key(&k, userid, dbid, queryid, !toplevel);
		te = hash_search(texts, &k, HASH_FIND, NULL);
	}
	if (te != NULL && te->query != NULL)
		return PointerGetDatum(te->query);
	return CStringGetTextDatum("<query text unavailable>");
}

#define NP1_VIEW_COLS 16

/*
 * medianest_perf.n_plus_one_1_0(showtext): the rows of the n_plus_one view.
 * The calling session's own pending unit of work is published first, so
 * that a session sees what it just did.
 */
Datum
mnp_n_plus_one_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		showtext = PG_GETARG_BOOL(0);
	bool		see_all;
	mnpNp1Entry *copy;
	long		n = 0;
	HASH_SEQ_STATUS hs;
	mnpNp1Entry *e;
	HTAB	   *texts = NULL;

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	see_all = mnp_can_see_all_stats();

	mnp_nplus1_flush();

	copy = palloc(sizeof(mnpNp1Entry) * (Size) np1_max_entries);
	LWLockAcquire(mnp_lock(MNP_LOCK_NPLUS1), LW_SHARED);
	hash_seq_init(&hs, np1_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		if (n >= np1_max_entries)
		{
			hash_seq_term(&hs);
			break;
		}
		copy[n++] = *e;
	}
	LWLockRelease(mnp_lock(MNP_LOCK_NPLUS1));

	if (showtext && n > 0)
	{
		HASHCTL		info;
		np1TextCtx	ctx;

		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(np1TextKey);
		info.entrysize = sizeof(np1TextEntry);
		info.hcxt = CurrentMemoryContext;
		texts = hash_create("medianest_perf n_plus_one texts", 2 * n + 2, &info,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (long i = 0; i < n; i++)
		{
			if (copy[i].key.source_queryid != 0)
				np1_want_text(texts, copy[i].key.userid, copy[i].key.dbid,
							  copy[i].key.source_queryid);
			np1_want_text(texts, copy[i].key.userid, copy[i].key.dbid,
						  copy[i].key.repeated_queryid);
		}
		ctx.texts = texts;
		ctx.see_all = see_all;
		mnp_stmt_store_foreach(np1_text_visit, &ctx);
	}

	for (long i = 0; i < n; i++)
	{
		mnpNp1Entry *x = &copy[i];
		Datum		values[NP1_VIEW_COLS];
		bool		nulls[NP1_VIEW_COLS];
		bool		visible = see_all || x->key.userid == GetUserId();
		int			c = 0;

		memset(nulls, 0, sizeof(nulls));
		values[c++] = ObjectIdGetDatum(x->key.userid);
		values[c++] = ObjectIdGetDatum(x->key.dbid);
		values[c++] = CStringGetTextDatum(mnp_nplus1_kind_names[x->key.kind]);
		values[c++] = CStringGetTextDatum(x->application_name);

		if (visible && x->key.source_queryid != 0)
			values[c++] = Int64GetDatum((int64) x->key.source_queryid);
		else
			nulls[c++] = true;
		if (showtext && x->key.source_queryid != 0)
			values[c++] = np1_found_text(texts, x->key.userid, x->key.dbid,
										 x->key.source_queryid,
										 x->source_toplevel);
		else
			nulls[c++] = true;

		if (visible)
			values[c++] = Int64GetDatum((int64) x->key.repeated_queryid);
		else
			nulls[c++] = true;
		if (showtext)
			values[c++] = np1_found_text(texts, x->key.userid, x->key.dbid,
										 x->key.repeated_queryid,
										 x->repeated_toplevel);
		else
			nulls[c++] = true;

		values[c++] = Int64GetDatum(x->occurrences);
		values[c++] = Int64GetDatum(x->max_repeats);
		values[c++] = Int64GetDatum(x->total_repeated_calls);
		values[c++] = Float8GetDatum(x->total_time_ms);
		values[c++] = Float8GetDatum(x->estimated_saving_ms);
		if (visible)
			values[c++] = CStringGetTextDatum(x->suggestion);
		else
			values[c++] = CStringGetTextDatum("<insufficient privilege>");
		values[c++] = TimestampTzGetDatum(x->first_seen);
		values[c++] = TimestampTzGetDatum(x->last_seen);
		Assert(c == NP1_VIEW_COLS);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* medianest_perf.n_plus_one_info(): store-wide counters */
Datum
mnp_n_plus_one_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6];
	mnpNp1Shared snap;
	int64		entries;

	mnp_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	mnp_nplus1_flush();

	LWLockAcquire(mnp_lock(MNP_LOCK_NPLUS1), LW_SHARED);
	entries = hash_get_num_entries(np1_htab);
	snap = *np1_shared;
	LWLockRelease(mnp_lock(MNP_LOCK_NPLUS1));

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(entries);
	values[1] = Int32GetDatum(np1_max_entries);
	values[2] = Int64GetDatum(snap.evicted);
	values[3] = Int64GetDatum(snap.dropped);
	values[4] = Int64GetDatum(snap.published);
	values[5] = TimestampTzGetDatum(snap.stats_reset);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* medianest_perf.reset_n_plus_one(): forget every incident */
Datum
mnp_reset_n_plus_one(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS hs;
	mnpNp1Entry *e;
	TimestampTz now = GetCurrentTimestamp();

	mnp_require_shmem();
	/* what this session was following belongs to the old period too */
	mnp_nplus1_forget_local();

	LWLockAcquire(mnp_lock(MNP_LOCK_NPLUS1), LW_EXCLUSIVE);
	hash_seq_init(&hs, np1_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
		hash_search(np1_htab, &e->key, HASH_REMOVE, NULL);
	np1_shared->evicted = 0;
	np1_shared->dropped = 0;
	np1_shared->published = 0;
	np1_shared->stats_reset = now;
	LWLockRelease(mnp_lock(MNP_LOCK_NPLUS1));
	PG_RETURN_VOID();
}

/*----------
 * Persistence.
 *
 * File layout: np1FileHeader, nentries mnpNp1Entry images, CRC-32C of
 * everything before it.
 *----------
 */
typedef struct np1FileHeader
{
	uint32		magic;
	uint32		format;
	uint32		pg_version;
	uint32		entry_size;
	int64		nentries;
	mnpNp1Shared counters;
} np1FileHeader;

/* Whether medianest_perf.save is on (the statement store owns the GUC). */
static bool
np1_save_enabled(void)
{
	const char *v = GetConfigOption("medianest_perf.save", true, false);
	bool		on = true;

	if (v != NULL)
		(void) parse_bool(v, &on);
	return on;
}

/* on_shmem_exit callback of the postmaster: save the incidents. */
static void
np1_store_shutdown(int code, Datum arg)
{
	mnpStatFileWriter w;
	HASH_SEQ_STATUS hs;
	mnpNp1Entry *e;
	np1FileHeader hdr;

	if (code != 0 || np1_shared == NULL || np1_htab == NULL ||
		!np1_save_enabled())
		return;

	if (!mnp_statfile_open(&w, NP1_FILE, NP1_FILE_TMP, "incidents"))
		return;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = NP1_FILE_MAGIC;
	hdr.format = NP1_FILE_FORMAT;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.entry_size = sizeof(mnpNp1Entry);
	hdr.nentries = hash_get_num_entries(np1_htab);
	hdr.counters = *np1_shared;
	mnp_statfile_put(&w, &hdr, sizeof(hdr));

	hash_seq_init(&hs, np1_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
		mnp_statfile_put(&w, e, sizeof(mnpNp1Entry));
	mnp_statfile_close(&w);
}

static void
np1_file_reject(const char *why)
{
	ereport(WARNING,
			(errmsg("ignoring medianest_perf incidents file \"%s\": %s",
					NP1_FILE, why),
			 errdetail("N+1 incidents start empty.")));
}

/*
 * Load the incidents saved at the last clean shutdown, then remove the
 * file.  Runs in the postmaster at start-up; never raises an error.
 */
void
mnp_nplus1_load(void)
{
	char	   *buf;
	size_t		len;
	bool		crc_ok;
	const char *why;
	np1FileHeader hdr;
	int64		loaded = 0;

	buf = mnp_statfile_read(NP1_FILE, sizeof(np1FileHeader), &len, &crc_ok,
							&why);
	if (buf == NULL)
	{
		if (why != NULL)
		{
			np1_file_reject(why);
			unlink(NP1_FILE);
		}
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));

	if (hdr.magic != NP1_FILE_MAGIC)
		np1_file_reject("it is not a medianest_perf incidents file");
	else if (hdr.format != NP1_FILE_FORMAT ||
			 hdr.pg_version != PG_VERSION_NUM / 100 ||
			 hdr.entry_size != sizeof(mnpNp1Entry))
		np1_file_reject("it was written by another version");
	else if (!crc_ok || hdr.nentries < 0 ||
			 len != sizeof(hdr) + hdr.nentries * sizeof(mnpNp1Entry))
		np1_file_reject("its checksum or length does not match (truncated or corrupt)");
	else
	{
		const char *p = buf + sizeof(hdr);

		LWLockAcquire(mnp_lock(MNP_LOCK_NPLUS1), LW_EXCLUSIVE);
		*np1_shared = hdr.counters;
		for (int64 i = 0; i < hdr.nentries; i++, p += sizeof(mnpNp1Entry))
		{
			mnpNp1Entry fe;
			mnpNp1Entry *e;
			bool		found;

			memcpy(&fe, p, sizeof(fe));
			if (fe.key.kind < 0 || fe.key.kind >= MNP_NP1_NKINDS ||
				hash_get_num_entries(np1_htab) >= np1_max_entries)
			{
				np1_shared->evicted++;
				continue;
			}
			fe.application_name[NAMEDATALEN - 1] = '\0';
			fe.suggestion[MNP_NP1_SUGGESTION_LEN - 1] = '\0';
			e = hash_search(np1_htab, &fe.key, HASH_ENTER_NULL, &found);
			if (e == NULL)
			{
				np1_shared->evicted++;
				continue;
			}
			*e = fe;
			loaded++;
		}
		LWLockRelease(mnp_lock(MNP_LOCK_NPLUS1));
		ereport(LOG,
				(errmsg("medianest_perf loaded " INT64_FORMAT " N+1 incidents from \"%s\"",
						loaded, NP1_FILE)));
	}
	pfree(buf);
	unlink(NP1_FILE);
}
