/*-------------------------------------------------------------------------
 *
 * stmt_store.c
 *	  The statement store: per (userid, dbid, queryid, toplevel) counters,
 *	  a latency histogram for percentiles, and the normalized query text.
 *
 * Shared structures
 *	  - a fixed-size shared hash of mnpStmtEntry, at most
 *		medianest_perf.max_statements entries;
 *	  - a text arena of medianest_perf.query_text_memory bytes holding the
 *		query texts, so that an entry costs the same whatever its text's
 *		length; each text is a chunk (header naming its entry's key, then the
 *		bytes) appended at the end and compacted when the arena is full;
 *	  - mnpStmtShared, the store-wide counters (evictions, drops, ...);
 *	  - in each entry's tail, medianest_perf.sample_text_bytes for one
 *		executed sample of the statement (source text with its constants,
 *		or bound parameter values), encoded by stmt_sample.c and read by the
 *		index advisor.  Written under the lock in SHARED mode and the entry's
 *		spinlock, only on the sampled executions (the 1st, 2nd, 4th, ...,
 *		and the next one after a restart).  sample_len -1 means "could not
 *		be sampled".  Samples are not saved across restarts (they hold
 *		literal values).
 *
 * Locking protocol (lock MNP_LOCK_STATEMENTS, "the lock"):
 *	  - Look up an entry, update its counters, read it or its text: the lock
 *		in SHARED mode.  Counters of one entry are changed and read under
 *		that entry's spinlock, so concurrent updates of one entry are safe
 *		under the shared lock.  This is the only path taken per statement.
 *	  - Create an entry, evict entries, compact or write the text arena, reset:
 *		the lock in EXCLUSIVE mode.  Only the first execution of a statement
 *		(or the first after its eviction) pays for it.
 *	  - Store-wide counters in mnpStmtShared: its own spinlock.
 *	  Nothing is allocated, logged or raised while the lock is held in the
 *	  per-statement path; allocation failures make the sample count as
 *	  dropped instead of failing the application's statement.
 *
 * Persistence: the postmaster writes the store to
 * $PGDATA/pg_stat/medianest_perf.stat on a clean shutdown and reads it back
 * (then removes it) at start-up.  The file carries a magic number, a format
 * version, the layout sizes and a CRC-32C; any mismatch makes it ignored
 * with a WARNING.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "medianest_perf.h"
#include "statfile.h"
#include "stmt_store.h"

PG_FUNCTION_INFO_V1(mnp_statements_1_0);
PG_FUNCTION_INFO_V1(mnp_statements_info);
PG_FUNCTION_INFO_V1(mnp_statement_histogram);
PG_FUNCTION_INFO_V1(mnp_reset_statements);
PG_FUNCTION_INFO_V1(mnp_statement_indexes);
PG_FUNCTION_INFO_V1(mnp_latency_bucket);

#define MNP_STAT_FILE		"pg_stat/medianest_perf.stat"
#define MNP_STAT_FILE_TMP	MNP_STAT_FILE ".tmp"
#define MNP_STAT_MAGIC		0x4D4E5053	/* "MNPS" */
#define MNP_STAT_FORMAT		1

/* fraction of entries evicted at once when the hash is full, and decay */
#define MNP_EVICT_FRACTION	0.05
#define MNP_EVICT_MIN		10
#define MNP_USAGE_DECAY		0.99

/* sentinel for "no text stored" */
#define MNP_NO_TEXT			((Size) -1)

/* Header of one text in the arena; the text and a NUL follow. */
typedef struct mnpTextChunk
{
	mnpStmtKey	key;			/* the entry that owns this text */
	uint32		len;			/* text bytes, excluding the NUL */
} mnpTextChunk;

#define MNP_CHUNK_SIZE(len) MAXALIGN(sizeof(mnpTextChunk) + (len) + 1)

/* Store-wide state, in shared memory. */
typedef struct mnpStmtShared
{
	slock_t		mutex;			/* protects the counters below */
	int64		evictions;		/* eviction rounds */
	int64		evicted;		/* entries evicted */
	int64		text_compactions;
	int64		text_truncated;
	int64		dropped;		/* executions not recorded */
	int64		samples_stored; /* executed samples written */
	int64		samples_skipped;	/* samples that did not fit */
	TimestampTz stats_reset;
	double		new_usage;		/* usage given to a new entry */
	pg_atomic_uint64 generation;	/* bumped when entries are removed */
	/* protected by the lock: */
	Size		text_used;
	Size		text_size;
} mnpStmtShared;

/* GUCs */
static int	mnp_max_statements = 5000;
static int	mnp_text_memory_kb = 8192;
static bool mnp_save = true;
int			mnp_stmt_sample_bytes = 1024;

/* set by mnp_stmt_store_record(): the entry has no executed sample yet */
bool		mnp_stmt_wants_sample = false;

/* shared memory, set in mnp_stmt_store_shmem_startup */
static mnpStmtShared *mnp_ss = NULL;
static HTAB *mnp_stmt_htab = NULL;
static LWLock *mnp_stmt_lock = NULL;	/* mnp_lock(MNP_LOCK_STATEMENTS) */
static char *mnp_text_arena = NULL;

static mnpStmtEntry *mnp_entry_create_locked(const mnpStmtKey *key,
											 const char *text, int len,
											 int encoding);
static bool mnp_evict_locked(void);
static void mnp_text_compact_locked(void);
static void mnp_stmt_store_shutdown(int code, Datum arg);
static void mnp_count_dropped(void);
static uint32 mnp_stmt_key_hash(const void *key, Size keysize);

/* Define this module's GUCs. */
void
mnp_stmt_store_init(void)
{
	DefineCustomBoolVariable("medianest_perf.save",
							 "Save statistics across server shutdowns.",
							 NULL,
							 &mnp_save,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	/* sizes of shared memory can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("medianest_perf.max_statements",
							"Maximum number of statements tracked.",
							"Beyond it, the least used statements are evicted in batches.",
							&mnp_max_statements,
							5000, 100, 1000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.query_text_memory",
							"Shared memory reserved for normalized query texts.",
							NULL,
							&mnp_text_memory_kb,
							8192, 64, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.sample_text_bytes",
							"Shared memory per statement entry for one executed sample (text with constants, or parameter values) used by the index advisor.",
							"0 disables samples; the advisor then plans with generic plans.",
							&mnp_stmt_sample_bytes,
							1024, 0, 64 * 1024,
							PGC_POSTMASTER, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/* Size of one hash entry: the fixed part, then the sample. */
static Size
mnp_stmt_entry_size(void)
{
	return MAXALIGN(sizeof(mnpStmtEntry)) + MAXALIGN(mnp_stmt_sample_bytes);
}

/* The sample area of an entry. */
static inline char *
mnp_entry_sample(mnpStmtEntry *e)
{
	return (char *) e + MAXALIGN(sizeof(mnpStmtEntry));
}

/* Shared memory this module needs. */
Size
mnp_stmt_store_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(mnpStmtShared));

	size = add_size(size, hash_estimate_size(mnp_max_statements,
											 mnp_stmt_entry_size()));
	size = add_size(size, (Size) mnp_text_memory_kb * 1024);
	return size;
}

/* Create or attach the store; called under AddinShmemInitLock. */
void
mnp_stmt_store_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;
	Size		text_size = (Size) mnp_text_memory_kb * 1024;

	mnp_ss = ShmemInitStruct("medianest_perf statements",
							 sizeof(mnpStmtShared), &found);
	if (!found)
	{
		memset(mnp_ss, 0, sizeof(mnpStmtShared));
		SpinLockInit(&mnp_ss->mutex);
		mnp_ss->stats_reset = GetCurrentTimestamp();
		mnp_ss->new_usage = 1.0;
		mnp_ss->text_size = text_size;
		pg_atomic_init_u64(&mnp_ss->generation, 1);
	}

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(mnpStmtKey);
	info.entrysize = mnp_stmt_entry_size();
	info.hash = mnp_stmt_key_hash;
	mnp_stmt_htab = ShmemInitHash("medianest_perf statement hash",
								  mnp_max_statements, mnp_max_statements,
								  &info, HASH_ELEM | HASH_FUNCTION);

	mnp_text_arena = ShmemInitStruct("medianest_perf query texts",
									 text_size, &found);
	mnp_stmt_lock = mnp_lock(MNP_LOCK_STATEMENTS);

	if (!IsUnderPostmaster)
		on_shmem_exit(mnp_stmt_store_shutdown, (Datum) 0);
}

/*
 * Hash of a key.  The queryid is already a well-mixed 64-bit hash, so
 * folding it and mixing in the other fields is enough, and much cheaper
 * than hashing the 24-byte key as a blob on every statement.
 */
static uint32
mnp_stmt_key_hash(const void *key, Size keysize)
{
	const mnpStmtKey *k = (const mnpStmtKey *) key;
	uint32		h = (uint32) k->queryid ^ (uint32) (k->queryid >> 32);

	return h ^ murmurhash32(k->userid ^ (k->dbid << 1) ^ (uint32) k->toplevel);
}

/*
 * Backend-local memory of keys known to exist and of their shared entries,
 * so that parse analysis of a statement seen before skips the shared
 * lookup, and recording an execution skips the hash search.  Valid while
 * the store's generation is unchanged: entries are removed only under the
 * lock in exclusive mode, which bumps the generation before it is
 * released, and dynahash never moves an entry, so an entry found in
 * generation g still holds its key while a reader holding the lock (in any
 * mode) reads generation g.
 */
#define MNP_KNOWN_SLOTS 256

typedef struct mnpKnownKey
{
	mnpStmtKey	key;
	uint64		generation;		/* 0: empty */
	mnpStmtEntry *entry;		/* its entry, NULL if not looked up */
} mnpKnownKey;

static mnpKnownKey mnp_known[MNP_KNOWN_SLOTS];

static void
mnp_count_dropped(void)
{
	SpinLockAcquire(&mnp_ss->mutex);
	mnp_ss->dropped++;
	SpinLockRelease(&mnp_ss->mutex);
}

/*----------
 * Latency histogram.
 *
 * Bucket 0 holds [0, 0.01 ms); bucket i (1 .. MNP_HIST_FINITE) holds
 * [0.01 * r^(i-1), 0.01 * r^i) with r = 1.1; the last bucket holds the rest
 * (>= about 109 s).  Reporting the geometric middle of a bucket is within
 * sqrt(1.1) - 1 = 4.9 % of any value in it, which bounds the error of the
 * percentiles between 10 us and 100 s.
 *----------
 */
static double mnp_hist_bounds[MNP_HIST_NBUCKETS];	/* lower bounds */
static bool mnp_hist_ready = false;

/* Compute the bucket lower bounds once per process. */
static void
mnp_hist_init(void)
{
	for (int b = 0; b < MNP_HIST_NBUCKETS; b++)
		mnp_hist_bounds[b] = mnp_hist_lower(b);
	mnp_hist_ready = true;
}

/*
 * The bucket of a duration.  log2 of the ratio to the first bound is
 * approximated from the IEEE-754 exponent and mantissa bits (the linear
 * mantissa never overestimates log2, by at most 0.086); scaled to buckets
 * that is an underestimate by less than one bucket, which a comparison or
 * two with the exact bounds corrects.  No libm call on the hot path.
 */
int
mnp_hist_bucket(double ms)
{
	double		r;
	uint64		bits;
	double		log2r;
	int			b;

	if (unlikely(!mnp_hist_ready))
		mnp_hist_init();
	if (!(ms >= MNP_HIST_MIN_MS))	/* also catches NaN */
		return 0;
	if (ms >= mnp_hist_bounds[MNP_HIST_NBUCKETS - 1])
		return MNP_HIST_NBUCKETS - 1;

	r = ms / MNP_HIST_MIN_MS;
	memcpy(&bits, &r, sizeof(bits));
	log2r = (double) ((int) ((bits >> 52) & 0x7FF) - 1023) +
		(double) (bits & UINT64CONST(0xFFFFFFFFFFFFF)) / 4503599627370496.0;
	/* buckets per doubling: 1 / log2(1.1) */
	b = 1 + (int) (log2r * 7.272540897341713);
	if (b < 1)
		b = 1;
	while (b < MNP_HIST_NBUCKETS - 1 && mnp_hist_bounds[b + 1] <= ms)
		b++;
	while (b > 1 && mnp_hist_bounds[b] > ms)
		b--;
	return b;
}

double
mnp_hist_lower(int b)
{
	return b == 0 ? 0.0 : MNP_HIST_MIN_MS * pow(MNP_HIST_RATIO, b - 1);
}

double
mnp_hist_upper(int b)
{
	return b >= MNP_HIST_NBUCKETS - 1 ? get_float8_infinity() :
		MNP_HIST_MIN_MS * pow(MNP_HIST_RATIO, b);
}

/*
 * Estimate the p-quantile (0 < p <= 1) from a histogram: the geometric
 * middle of the bucket holding the nearest-rank value, clamped to the
 * observed minimum and maximum.
 */
double
mnp_hist_percentile(const mnpStmtCounters *c, double p)
{
	int64		rank;
	int64		seen = 0;
	double		est = c->max_ms;

	if (c->calls <= 0)
		return 0.0;
	rank = (int64) ceil(p * (double) c->calls);
	rank = Max(rank, 1);

	for (int b = 0; b < MNP_HIST_NBUCKETS; b++)
	{
		seen += c->hist[b];
		if (seen >= rank)
		{
			if (b == 0)
				est = c->min_ms;
			else if (b == MNP_HIST_NBUCKETS - 1)
				est = c->max_ms;
			else
				est = sqrt(mnp_hist_lower(b) * mnp_hist_upper(b));
			break;
		}
	}
	if (est < c->min_ms)
		est = c->min_ms;
	if (est > c->max_ms)
		est = c->max_ms;
	return est;
}

/*----------
 * Text arena.
 *----------
 */

/* The text of an entry, or NULL; the lock must be held (any mode). */
static const char *
mnp_entry_text(const mnpStmtEntry *e)
{
	if (e->text_off == MNP_NO_TEXT)
		return NULL;
	return mnp_text_arena + e->text_off + sizeof(mnpTextChunk);
}

/*
 * Slide the live texts to the start of the arena, dropping those whose entry
 * is gone or points elsewhere.  Lock held exclusively.
 */
static void
mnp_text_compact_locked(void)
{
	Size		off = 0;
	Size		dst = 0;

	while (off < mnp_ss->text_used)
	{
		mnpTextChunk *chunk = (mnpTextChunk *) (mnp_text_arena + off);
		Size		size = MNP_CHUNK_SIZE(chunk->len);
		mnpStmtEntry *e;

		e = hash_search(mnp_stmt_htab, &chunk->key, HASH_FIND, NULL);
		if (e != NULL && e->text_off == off)
		{
			if (dst != off)
				memmove(mnp_text_arena + dst, chunk, size);
			e->text_off = dst;
			dst += size;
		}
		off += size;
	}
	mnp_ss->text_used = dst;

	SpinLockAcquire(&mnp_ss->mutex);
	mnp_ss->text_compactions++;
	SpinLockRelease(&mnp_ss->mutex);
}

/*
 * Append a text for key to the arena, compacting or evicting to make room
 * and truncating (at a character boundary) as a last resort.  Returns the
 * chunk offset or MNP_NO_TEXT, and the stored length in *len.  Lock held
 * exclusively.
 */
static Size
mnp_text_store_locked(const mnpStmtKey *key, const char *text, int *len,
					  int encoding)
{
	Size		limit = mnp_ss->text_size / 4;	/* no text may crowd out the rest */
	int			l = *len;
	bool		truncated = false;
	Size		off;
	mnpTextChunk *chunk;

	if (text == NULL)
		return MNP_NO_TEXT;

	if (MNP_CHUNK_SIZE(l) > limit)
	{
		l = pg_encoding_mbcliplen(encoding, text, l,
								  (int) (limit - MNP_CHUNK_SIZE(0)));
		truncated = true;
	}

	if (mnp_ss->text_used + MNP_CHUNK_SIZE(l) > mnp_ss->text_size)
		mnp_text_compact_locked();
	if (mnp_ss->text_used + MNP_CHUNK_SIZE(l) > mnp_ss->text_size &&
		mnp_evict_locked())
		mnp_text_compact_locked();
	if (mnp_ss->text_used + MNP_CHUNK_SIZE(l) > mnp_ss->text_size)
	{
		Size		room = mnp_ss->text_size - mnp_ss->text_used;

		if (room < MNP_CHUNK_SIZE(16))
		{
			*len = 0;
			SpinLockAcquire(&mnp_ss->mutex);
			mnp_ss->text_truncated++;
			SpinLockRelease(&mnp_ss->mutex);
			return MNP_NO_TEXT;
		}
		l = pg_encoding_mbcliplen(encoding, text, l,
								  (int) (room - MNP_CHUNK_SIZE(0)));
		truncated = true;
	}

	off = mnp_ss->text_used;
	chunk = (mnpTextChunk *) (mnp_text_arena + off);
	chunk->key = *key;
	chunk->len = l;
	memcpy(mnp_text_arena + off + sizeof(mnpTextChunk), text, l);
	mnp_text_arena[off + sizeof(mnpTextChunk) + l] = '\0';
	mnp_ss->text_used += MNP_CHUNK_SIZE(l);

	if (truncated)
	{
		SpinLockAcquire(&mnp_ss->mutex);
		mnp_ss->text_truncated++;
		SpinLockRelease(&mnp_ss->mutex);
	}
	*len = l;
	return off;
}

/*----------
 * Entries.
 *----------
 */

/* qsort comparator: entries by ascending usage */
static int
mnp_usage_cmp(const void *a, const void *b)
{
	double		ua = (*(mnpStmtEntry *const *) a)->usage;
	double		ub = (*(mnpStmtEntry *const *) b)->usage;

	return (ua > ub) - (ua < ub);
}

/*
 * Evict the least valuable entries (lowest usage: calls weighted by their
 * duration, decayed at every round) and decay the others.  Returns false if
 * nothing could be evicted.  Lock held exclusively.
 */
static bool
mnp_evict_locked(void)
{
	HASH_SEQ_STATUS hs;
	mnpStmtEntry **entries;
	mnpStmtEntry *e;
	long		n = hash_get_num_entries(mnp_stmt_htab);
	long		i = 0;
	long		nvictims;

	if (n == 0)
		return false;
	entries = palloc_extended(n * sizeof(mnpStmtEntry *), MCXT_ALLOC_NO_OOM);
	if (entries == NULL)
		return false;

	hash_seq_init(&hs, mnp_stmt_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		entries[i++] = e;
		e->usage *= MNP_USAGE_DECAY;
	}
	n = i;
	qsort(entries, n, sizeof(mnpStmtEntry *), mnp_usage_cmp);

	nvictims = Max(MNP_EVICT_MIN, (long) (n * MNP_EVICT_FRACTION));
	nvictims = Min(nvictims, n);
	for (i = 0; i < nvictims; i++)
		hash_search(mnp_stmt_htab, &entries[i]->key, HASH_REMOVE, NULL);

	SpinLockAcquire(&mnp_ss->mutex);
	/* new entries start at the median usage of the survivors */
	if (nvictims < n)
		mnp_ss->new_usage = entries[nvictims + (n - nvictims) / 2]->usage;
	mnp_ss->evictions++;
	pg_atomic_fetch_add_u64(&mnp_ss->generation, 1);
	mnp_ss->evicted += nvictims;
	SpinLockRelease(&mnp_ss->mutex);

	pfree(entries);
	return true;
}

/*
 * Create an entry with its text (already normalized by the caller) or
 * return the existing one.  NULL when it cannot be created.  Lock held
 * exclusively.
 */
static mnpStmtEntry *
mnp_entry_create_locked(const mnpStmtKey *key, const char *text, int len,
						int encoding)
{
	mnpStmtEntry *e;
	bool		found;
	Size		text_off;

	e = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL);
	if (e != NULL)
		return e;

	if (hash_get_num_entries(mnp_stmt_htab) >= mnp_max_statements)
		mnp_evict_locked();

	text_off = mnp_text_store_locked(key, text, &len, encoding);

	e = hash_search(mnp_stmt_htab, key, HASH_ENTER_NULL, &found);
	if (e == NULL)
		return NULL;
	Assert(!found);

	memset(&e->counters, 0, sizeof(mnpStmtCounters));
	SpinLockInit(&e->mutex);
	SpinLockAcquire(&mnp_ss->mutex);
	e->usage = mnp_ss->new_usage;
	SpinLockRelease(&mnp_ss->mutex);
	e->text_off = text_off;
	e->text_len = (text_off == MNP_NO_TEXT) ? 0 : len;
	e->encoding = encoding;
	e->nindexes = 0;
	e->indexes_overflow = false;
	e->sample_len = 0;
	e->counters.first_seen = GetCurrentStatementStartTimestamp();
	return e;
}

/*
 * Make sure an entry exists for this statement, with the given (normalized)
 * text.  Called at parse analysis, where the normalized text is known.
 */
void
mnp_stmt_store_prepare(const mnpStmtKey *key, const char *text, int len)
{
	mnpStmtEntry *e;

	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_EXCLUSIVE);
	e = mnp_entry_create_locked(key, text, len, GetDatabaseEncoding());
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
	if (e == NULL)
		mnp_count_dropped();
}

/* Whether an entry exists for key (a shared-lock lookup). */
bool
mnp_stmt_store_exists(const mnpStmtKey *key)
{
	bool		found;
	uint64		gen = pg_atomic_read_u64(&mnp_ss->generation);
	mnpKnownKey *slot = &mnp_known[mnp_stmt_key_hash(key, 0) % MNP_KNOWN_SLOTS];

	/* seen in this backend since the last eviction or reset: it exists */
	if (slot->generation == gen && memcmp(&slot->key, key, sizeof(mnpStmtKey)) == 0)
		return true;

	LWLockAcquire(mnp_stmt_lock, LW_SHARED);
	found = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL) != NULL;
	LWLockRelease(mnp_stmt_lock);
	if (found)
	{
		/* gen was read before the lock: older, so never wrongly current */
		slot->key = *key;
		slot->generation = gen;
		slot->entry = NULL;
	}
	return found;
}

/*
 * Add one execution to its statement's entry.  If the entry is missing
 * (evicted since parse analysis, or the statement was parsed before the
 * library was loaded), it is created with the statement's source text.
 * Returns the entry's call count, 0 if the execution could not be recorded.
 */
int64
mnp_stmt_store_record(const mnpStmtKey *key, const mnpExecSample *s,
					  int slow_level)
{
	mnpStmtEntry *e;
	int64		calls;
	int			b = mnp_hist_bucket(s->duration_ms);
	double		d = s->duration_ms;
	uint32		hashvalue = mnp_stmt_key_hash(key, sizeof(mnpStmtKey));
	mnpKnownKey *slot = &mnp_known[hashvalue % MNP_KNOWN_SLOTS];
	uint64		gen;

	LWLockAcquire(mnp_stmt_lock, LW_SHARED);
	gen = pg_atomic_read_u64(&mnp_ss->generation);
	if (slot->generation == gen && slot->entry != NULL &&
		memcmp(&slot->key, key, sizeof(mnpStmtKey)) == 0)
		e = slot->entry;
	else
	{
		e = hash_search_with_hash_value(mnp_stmt_htab, key, hashvalue,
										HASH_FIND, NULL);
		if (e != NULL)
		{
			slot->key = *key;
			slot->generation = gen;
			slot->entry = e;
		}
	}
	if (e == NULL)
	{
		const char *text = NULL;
		int			loc = -1;
		int			len = 0;

		LWLockRelease(mnp_stmt_lock);
		if (s->query_desc != NULL && s->query_desc->sourceText != NULL)
		{
			loc = s->query_desc->plannedstmt->stmt_location;
			len = s->query_desc->plannedstmt->stmt_len;
			text = mnp_clean_query_text(s->query_desc->sourceText, &loc, &len);
		}
		LWLockAcquire(mnp_stmt_lock, LW_EXCLUSIVE);
		e = mnp_entry_create_locked(key, text, len, GetDatabaseEncoding());
		if (e == NULL)
		{
			LWLockRelease(mnp_stmt_lock);
			mnp_count_dropped();
			return 0;
		}
	}

	SpinLockAcquire(&e->mutex);
	{
		mnpStmtCounters *c = &e->counters;

		c->calls++;
		if (c->calls == 1)
		{
			c->min_ms = c->max_ms = c->mean_ms = d;
			c->sum_var_ms = 0.0;
		}
		else
		{
			double		old_mean = c->mean_ms;

			c->mean_ms += (d - old_mean) / c->calls;
			c->sum_var_ms += (d - old_mean) * (d - c->mean_ms);
			if (d < c->min_ms)
				c->min_ms = d;
			if (d > c->max_ms)
				c->max_ms = d;
		}
		c->total_ms += d;
		c->rows += s->rows;
		c->shared_blks_hit += s->shared_blks_hit;
		c->shared_blks_read += s->shared_blks_read;
		c->temp_blks_written += s->temp_blks_written;
		if (slow_level >= 1)
			c->slow_calls++;
		if (slow_level >= 2)
			c->critical_calls++;
		c->hist[b]++;
		c->last_seen = s->now;
		e->usage += 1.0 + Min(d / 100.0, 10.0);
		calls = c->calls;
		/* no executed sample yet (new, or restored after a restart) */
		mnp_stmt_wants_sample = (e->sample_len == 0);
	}
	SpinLockRelease(&e->mutex);

	LWLockRelease(mnp_stmt_lock);
	return calls;
}

/*
 * Remember which indexes a statement's plan used (bounded per entry; the
 * overflow is flagged).  Called occasionally, not on every execution.
 */
void
mnp_stmt_store_note_indexes(const mnpStmtKey *key, const Oid *oids, int n,
							bool overflow)
{
	mnpStmtEntry *e;

	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	e = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		for (int i = 0; i < n; i++)
		{
			int			j;

			for (j = 0; j < e->nindexes; j++)
				if (e->indexes[j] == oids[i])
					break;
			if (j < e->nindexes)
				continue;
			if (e->nindexes < MNP_STMT_MAX_INDEXES)
				e->indexes[e->nindexes++] = oids[i];
			else
				e->indexes_overflow = true;
		}
		if (overflow)
			e->indexes_overflow = true;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
}

/*----------
 * Executed-statement samples (for the index advisor, see stmt_sample.c).
 *----------
 */

/*
 * Replace the executed sample of a statement (already encoded, at most
 * medianest_perf.sample_text_bytes).  Called on sampled executions only.
 */
void
mnp_stmt_store_set_sample(const mnpStmtKey *key, const char *data, int len)
{
	mnpStmtEntry *e;
	bool		stored = false;

	if (len <= 0 || len > mnp_stmt_sample_bytes)
		return;
	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	e = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		memcpy(mnp_entry_sample(e), data, len);
		e->sample_len = len;
		SpinLockRelease(&e->mutex);
		stored = true;
	}
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));

	if (stored)
	{
		SpinLockAcquire(&mnp_ss->mutex);
		mnp_ss->samples_stored++;
		SpinLockRelease(&mnp_ss->mutex);
	}
}

/*
 * Copy a statement's executed sample into buf; returns its length, 0 when
 * there is none (or it does not fit in bufsize).
 */
int
mnp_stmt_store_get_sample(const mnpStmtKey *key, char *buf, int bufsize)
{
	mnpStmtEntry *e;
	int			len = 0;

	mnp_require_shmem();
	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	e = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		if (e->sample_len > 0 && e->sample_len <= bufsize)
		{
			len = e->sample_len;
			memcpy(buf, mnp_entry_sample(e), len);
		}
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
	return len;
}

/*
 * Note that the statement's executions cannot be sampled (too long, or
 * parameters that are not kept), so that it is not tried on every
 * execution; it is tried again on the regular sampled executions.
 */
void
mnp_stmt_store_no_sample(const mnpStmtKey *key)
{
	mnpStmtEntry *e;

	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	e = hash_search(mnp_stmt_htab, key, HASH_FIND, NULL);
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		if (e->sample_len == 0)
			e->sample_len = -1;
		SpinLockRelease(&e->mutex);
	}
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
}

/* Count a sample that was not kept (too long for sample_text_bytes). */
void
mnp_stmt_store_count_sample_skip(void)
{
	SpinLockAcquire(&mnp_ss->mutex);
	mnp_ss->samples_skipped++;
	SpinLockRelease(&mnp_ss->mutex);
}

/* The store-wide sample counters. */
void
mnp_stmt_store_sample_counters(int64 *stored, int64 *skipped)
{
	mnp_require_shmem();
	SpinLockAcquire(&mnp_ss->mutex);
	*stored = mnp_ss->samples_stored;
	*skipped = mnp_ss->samples_skipped;
	SpinLockRelease(&mnp_ss->mutex);
}

/* Whether the caller may see every user's query texts. */
bool
mnp_can_see_all_stats(void)
{
	return superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
}

/* Remove every entry and text, and restart the counters. */
void
mnp_stmt_store_reset_all(void)
{
	HASH_SEQ_STATUS hs;
	mnpStmtEntry *e;

	mnp_require_shmem();
	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_EXCLUSIVE);
	hash_seq_init(&hs, mnp_stmt_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
		hash_search(mnp_stmt_htab, &e->key, HASH_REMOVE, NULL);
	mnp_ss->text_used = 0;
	SpinLockAcquire(&mnp_ss->mutex);
	mnp_ss->evictions = 0;
	mnp_ss->evicted = 0;
	mnp_ss->text_compactions = 0;
	mnp_ss->text_truncated = 0;
	mnp_ss->dropped = 0;
	mnp_ss->samples_stored = 0;
	mnp_ss->samples_skipped = 0;
	mnp_ss->new_usage = 1.0;
	mnp_ss->stats_reset = GetCurrentTimestamp();
	SpinLockRelease(&mnp_ss->mutex);
	pg_atomic_fetch_add_u64(&mnp_ss->generation, 1);
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
}

/*
 * Visit every entry under the shared lock with a snapshot of its counters
 * taken under its spinlock.  The callback must not raise errors other than
 * out-of-memory (the lock is released by error recovery in that case).
 */
void
mnp_stmt_store_foreach(mnpStmtVisitor visit, void *arg)
{
	HASH_SEQ_STATUS hs;
	mnpStmtEntry *e;

	mnp_require_shmem();
	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	hash_seq_init(&hs, mnp_stmt_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		mnpStmtSnapshot snap;

		snap.key = e->key;
		SpinLockAcquire(&e->mutex);
		snap.counters = e->counters;
		snap.nindexes = e->nindexes;
		memcpy(snap.indexes, e->indexes, sizeof(Oid) * e->nindexes);
		snap.indexes_overflow = e->indexes_overflow;
		SpinLockRelease(&e->mutex);
		snap.text = mnp_entry_text(e);
		snap.text_len = e->text_len;
		snap.encoding = e->encoding;
		visit(&snap, arg);
	}
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));
}

/*
 * A statement's query text as the caller may see it: its own statements
 * always, others' only with pg_read_all_stats.  Returns a text datum copy.
 */
text *
mnp_visible_query_text(const mnpStmtSnapshot *snap, bool see_all)
{
	if (!see_all && snap->key.userid != GetUserId())
		return cstring_to_text("<insufficient privilege>");
	if (snap->text == NULL)
		return cstring_to_text("<query text unavailable>");
	{
		char	   *conv;
		text	   *t;

		conv = pg_any_to_server(snap->text, snap->text_len, snap->encoding);
		t = cstring_to_text(conv);
		if (conv != snap->text)
			pfree(conv);
		return t;
	}
}

/*----------
 * SQL-callable functions.
 *----------
 */

typedef struct mnpStatementsCtx
{
	ReturnSetInfo *rsinfo;
	bool		showtext;
	bool		see_all;
} mnpStatementsCtx;

#define MNP_STATEMENTS_COLS 23

static void
mnp_statements_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpStatementsCtx *ctx = (mnpStatementsCtx *) arg;
	const mnpStmtCounters *c = &snap->counters;
	Datum		values[MNP_STATEMENTS_COLS];
	bool		nulls[MNP_STATEMENTS_COLS];
	bool		visible = ctx->see_all || snap->key.userid == GetUserId();
	int			i = 0;
	int64		blks;

	/* entries created at parse analysis but never executed */
	if (c->calls == 0)
		return;

	memset(nulls, 0, sizeof(nulls));
	values[i++] = ObjectIdGetDatum(snap->key.userid);
	values[i++] = ObjectIdGetDatum(snap->key.dbid);
	values[i++] = BoolGetDatum(snap->key.toplevel);
	if (visible)
		values[i++] = Int64GetDatumFast((int64) snap->key.queryid);
	else
		nulls[i++] = true;
	if (ctx->showtext)
		values[i++] = PointerGetDatum(mnp_visible_query_text(snap, ctx->see_all));
	else
		nulls[i++] = true;
	values[i++] = Int64GetDatumFast(c->calls);
	values[i++] = Int64GetDatumFast(c->rows);
	values[i++] = Float8GetDatumFast(c->total_ms);
	values[i++] = Float8GetDatumFast(c->mean_ms);
	values[i++] = Float8GetDatumFast(c->min_ms);
	values[i++] = Float8GetDatumFast(c->max_ms);
	values[i++] = Float8GetDatumFast(c->calls > 0 ? sqrt(c->sum_var_ms / c->calls) : 0.0);
	values[i++] = Float8GetDatumFast(mnp_hist_percentile(c, 0.50));
	values[i++] = Float8GetDatumFast(mnp_hist_percentile(c, 0.95));
	values[i++] = Float8GetDatumFast(mnp_hist_percentile(c, 0.99));
	values[i++] = Int64GetDatumFast(c->shared_blks_hit);
	values[i++] = Int64GetDatumFast(c->shared_blks_read);
	blks = c->shared_blks_hit + c->shared_blks_read;
	if (blks > 0)
		values[i++] = Float8GetDatumFast((double) c->shared_blks_hit / blks);
	else
		nulls[i++] = true;
	values[i++] = Int64GetDatumFast(c->temp_blks_written);
	values[i++] = Int64GetDatumFast(c->slow_calls);
	values[i++] = Int64GetDatumFast(c->critical_calls);
	values[i++] = TimestampTzGetDatum(c->first_seen);
	values[i++] = TimestampTzGetDatum(c->last_seen);
	Assert(i == MNP_STATEMENTS_COLS);

	tuplestore_putvalues(ctx->rsinfo->setResult, ctx->rsinfo->setDesc,
						 values, nulls);
}

/* medianest_perf.statements_1_0(showtext): the rows of the statements view */
Datum
mnp_statements_1_0(PG_FUNCTION_ARGS)
{
	mnpStatementsCtx ctx;

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	ctx.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ctx.showtext = PG_GETARG_BOOL(0);
	ctx.see_all = mnp_can_see_all_stats();
	mnp_stmt_store_foreach(mnp_statements_visit, &ctx);
	return (Datum) 0;
}

/* medianest_perf.statements_info(): store-wide counters */
Datum
mnp_statements_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10];
	mnpStmtShared snap;
	int64		entries;
	Size		text_used;

	mnp_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_SHARED);
	entries = hash_get_num_entries(mnp_stmt_htab);
	text_used = mnp_ss->text_used;
	SpinLockAcquire(&mnp_ss->mutex);
	snap = *mnp_ss;
	SpinLockRelease(&mnp_ss->mutex);
	LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(entries);
	values[1] = Int32GetDatum(mnp_max_statements);
	values[2] = Int64GetDatum(snap.evictions);
	values[3] = Int64GetDatum(snap.evicted);
	values[4] = Int64GetDatum((int64) text_used);
	values[5] = Int64GetDatum((int64) snap.text_size);
	values[6] = Int64GetDatum(snap.text_compactions);
	values[7] = Int64GetDatum(snap.text_truncated);
	values[8] = Int64GetDatum(snap.dropped);
	values[9] = TimestampTzGetDatum(snap.stats_reset);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

typedef struct mnpHistCtx
{
	uint64		queryid;
	bool		see_all;
	int64		hist[MNP_HIST_NBUCKETS];
	bool		any;
} mnpHistCtx;

static void
mnp_histogram_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpHistCtx *ctx = (mnpHistCtx *) arg;

	if (snap->key.queryid != ctx->queryid)
		return;
	if (!ctx->see_all && snap->key.userid != GetUserId())
		return;
	for (int b = 0; b < MNP_HIST_NBUCKETS; b++)
		ctx->hist[b] += snap->counters.hist[b];
	ctx->any = true;
}

/*
 * medianest_perf.statement_histogram(queryid): the non-empty latency buckets
 * of one statement, summed over the users, databases and nesting levels
 * the caller may see.
 */
Datum
mnp_statement_histogram(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	mnpHistCtx *ctx;

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);

	ctx = palloc0(sizeof(mnpHistCtx));
	ctx->queryid = (uint64) PG_GETARG_INT64(0);
	ctx->see_all = mnp_can_see_all_stats();
	mnp_stmt_store_foreach(mnp_histogram_visit, ctx);

	for (int b = 0; b < MNP_HIST_NBUCKETS; b++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (ctx->hist[b] == 0)
			continue;
		values[0] = Float8GetDatum(mnp_hist_lower(b));
		values[1] = Float8GetDatum(mnp_hist_upper(b));
		values[2] = Int64GetDatum(ctx->hist[b]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * medianest_perf.latency_bucket(ms): the histogram bucket a duration falls
 * in, with its bounds (to read statement_histogram, and to test the
 * bucketing).
 */
Datum
mnp_latency_bucket(PG_FUNCTION_ARGS)
{
	double		ms = PG_GETARG_FLOAT8(0);
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			b;

	if (isnan(ms) || ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be a non-negative number of milliseconds")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	b = mnp_hist_bucket(ms);
	values[0] = Int32GetDatum(b);
	values[1] = Float8GetDatum(mnp_hist_lower(b));
	values[2] = Float8GetDatum(mnp_hist_upper(b));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* medianest_perf.reset_statements() */
Datum
mnp_reset_statements(PG_FUNCTION_ARGS)
{
	mnp_stmt_store_reset_all();
	PG_RETURN_VOID();
}

typedef struct mnpIndexesCtx
{
	ReturnSetInfo *rsinfo;
	bool		see_all;
} mnpIndexesCtx;

static void
mnp_indexes_visit(const mnpStmtSnapshot *snap, void *arg)
{
	mnpIndexesCtx *ctx = (mnpIndexesCtx *) arg;
	bool		visible = ctx->see_all || snap->key.userid == GetUserId();

	if (snap->counters.calls == 0)
		return;
	for (int i = 0; i < snap->nindexes; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = ObjectIdGetDatum(snap->key.userid);
		values[1] = ObjectIdGetDatum(snap->key.dbid);
		values[2] = BoolGetDatum(snap->key.toplevel);
		if (visible)
			values[3] = Int64GetDatum((int64) snap->key.queryid);
		else
			nulls[3] = true;
		values[4] = ObjectIdGetDatum(snap->indexes[i]);
		values[5] = Int64GetDatum(snap->counters.calls);
		values[6] = BoolGetDatum(snap->indexes_overflow);
		tuplestore_putvalues(ctx->rsinfo->setResult, ctx->rsinfo->setDesc,
							 values, nulls);
	}
}

/*
 * medianest_perf.statement_indexes(): which recorded statements used which
 * index in their plans.
 */
Datum
mnp_statement_indexes(PG_FUNCTION_ARGS)
{
	mnpIndexesCtx ctx;

	mnp_require_shmem();
	InitMaterializedSRF(fcinfo, 0);
	ctx.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ctx.see_all = mnp_can_see_all_stats();
	mnp_stmt_store_foreach(mnp_indexes_visit, &ctx);
	return (Datum) 0;
}

/*----------
 * Persistence.
 *
 * File layout: mnpStatFileHeader, then per entry an mnpStatFileEntry
 * followed by text_len text bytes, then a CRC-32C of everything before it.
 *----------
 */
typedef struct mnpStatFileHeader
{
	uint32		magic;
	uint32		format;
	uint32		pg_version;
	uint32		entry_size;		/* sizeof(mnpStatFileEntry) */
	uint32		nbuckets;
	uint32		unused;
	int64		nentries;
	TimestampTz stats_reset;
} mnpStatFileHeader;

typedef struct mnpStatFileEntry
{
	mnpStmtKey	key;
	mnpStmtCounters counters;
	double		usage;
	int32		encoding;
	int32		text_len;		/* -1: no text */
	int32		nindexes;
	bool		indexes_overflow;
	Oid			indexes[MNP_STMT_MAX_INDEXES];
} mnpStatFileEntry;

/* on_shmem_exit callback of the postmaster: save the store. */
static void
mnp_stmt_store_shutdown(int code, Datum arg)
{
	mnpStatFileWriter w;
	HASH_SEQ_STATUS hs;
	mnpStmtEntry *e;
	mnpStatFileHeader hdr;

	/* not after a crash or a failed start-up, and only if asked to */
	if (code != 0 || mnp_ss == NULL || mnp_stmt_htab == NULL || !mnp_save)
		return;

	if (!mnp_statfile_open(&w, MNP_STAT_FILE, MNP_STAT_FILE_TMP, "statistics"))
		return;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = MNP_STAT_MAGIC;
	hdr.format = MNP_STAT_FORMAT;
	hdr.pg_version = PG_VERSION_NUM / 100;
	hdr.entry_size = sizeof(mnpStatFileEntry);
	hdr.nbuckets = MNP_HIST_NBUCKETS;
	hdr.nentries = hash_get_num_entries(mnp_stmt_htab);
	hdr.stats_reset = mnp_ss->stats_reset;
	mnp_statfile_put(&w, &hdr, sizeof(hdr));

	hash_seq_init(&hs, mnp_stmt_htab);
	while ((e = hash_seq_search(&hs)) != NULL)
	{
		mnpStatFileEntry fe;
		const char *text = mnp_entry_text(e);

		memset(&fe, 0, sizeof(fe));
		fe.key = e->key;
		fe.counters = e->counters;
		fe.usage = e->usage;
		fe.encoding = e->encoding;
		fe.text_len = text ? e->text_len : -1;
		fe.nindexes = e->nindexes;
		fe.indexes_overflow = e->indexes_overflow;
		memcpy(fe.indexes, e->indexes, sizeof(fe.indexes));
		mnp_statfile_put(&w, &fe, sizeof(fe));
		if (text)
			mnp_statfile_put(&w, text, e->text_len);
	}
	mnp_statfile_close(&w);
}

/* Ignore the statistics file with a WARNING saying why. */
static void
mnp_stat_file_reject(const char *why)
{
	ereport(WARNING,
			(errmsg("ignoring medianest_perf statistics file \"%s\": %s",
					MNP_STAT_FILE, why),
			 errdetail("Statement statistics start empty.")));
}

/*
 * Load the statistics saved at the last clean shutdown, then remove the
 * file.  Runs in the postmaster at start-up; never raises an error.
 */
void
mnp_stmt_store_load(void)
{
	char	   *buf;
	size_t		len;
	bool		crc_ok;
	const char *why;
	const char *p;
	const char *end;
	mnpStatFileHeader hdr;
	int64		loaded = 0;
	int64		skipped = 0;

	buf = mnp_statfile_read(MNP_STAT_FILE, sizeof(mnpStatFileHeader), &len,
							&crc_ok, &why);
	if (buf == NULL)
	{
		if (why != NULL)		/* else nothing saved: the usual case */
		{
			mnp_stat_file_reject(why);
			unlink(MNP_STAT_FILE);
		}
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));

	if (hdr.magic != MNP_STAT_MAGIC)
		mnp_stat_file_reject("it is not a medianest_perf statistics file");
	else if (hdr.format != MNP_STAT_FORMAT ||
			 hdr.pg_version != PG_VERSION_NUM / 100 ||
			 hdr.entry_size != sizeof(mnpStatFileEntry) ||
			 hdr.nbuckets != MNP_HIST_NBUCKETS)
		mnp_stat_file_reject("it was written by another version");
	else if (!crc_ok)
		mnp_stat_file_reject("its checksum does not match (truncated or corrupt)");
	else
	{
		p = buf + sizeof(hdr);
		end = buf + len;

		LWLockAcquire(mnp_lock(MNP_LOCK_STATEMENTS), LW_EXCLUSIVE);
		for (int64 i = 0; i < hdr.nentries; i++)
		{
			mnpStatFileEntry fe;
			mnpStmtEntry *e;
			const char *text = NULL;

			if (end - p < (ptrdiff_t) sizeof(fe))
				break;
			memcpy(&fe, p, sizeof(fe));
			p += sizeof(fe);
			if (fe.text_len > 0)
			{
				if (end - p < fe.text_len)
					break;
				text = p;
				p += fe.text_len;
			}
			if (fe.nindexes < 0 || fe.nindexes > MNP_STMT_MAX_INDEXES ||
				!PG_VALID_ENCODING(fe.encoding))
			{
				skipped++;
				continue;
			}
			if (hash_get_num_entries(mnp_stmt_htab) >= mnp_max_statements)
			{
				skipped++;
				continue;
			}
			e = mnp_entry_create_locked(&fe.key, text,
										fe.text_len > 0 ? fe.text_len : 0,
										fe.encoding);
			if (e == NULL)
			{
				skipped++;
				continue;
			}
			e->counters = fe.counters;
			e->usage = fe.usage;
			e->nindexes = fe.nindexes;
			e->indexes_overflow = fe.indexes_overflow;
			memcpy(e->indexes, fe.indexes, sizeof(e->indexes));
			loaded++;
		}
		mnp_ss->stats_reset = hdr.stats_reset;
		SpinLockAcquire(&mnp_ss->mutex);
		mnp_ss->evicted += skipped;
		SpinLockRelease(&mnp_ss->mutex);
		LWLockRelease(mnp_lock(MNP_LOCK_STATEMENTS));

		ereport(LOG,
				(errmsg("medianest_perf loaded " INT64_FORMAT " statement entries from \"%s\"",
						loaded, MNP_STAT_FILE),
				 skipped > 0 ?
				 errdetail(INT64_FORMAT " entries did not fit and were dropped.", skipped) : 0));
	}

	pfree(buf);
	unlink(MNP_STAT_FILE);
}
