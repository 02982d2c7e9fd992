/*-------------------------------------------------------------------------
 *
 * bloat.c
 *	  How much of a table, materialized view, TOAST table or btree index is
 *	  bloat, what a VACUUM or a rewrite would give back, and which command
 *	  to run: medianest_perf.bloat() and the bloat_report view.
 *
 * Modes
 *	  sample	at most sample_pages pages, every page equally likely, read
 *				in block order: stratified along the relation in up to three
 *				passes that stop once the bound is within
 *				medianest_perf.bloat_target_error points, or, for a sample
 *				of a quarter of the relation or more, a simple random sample
 *				like ANALYZE's (see "The sampler").  Totals are the per-page
 *				means scaled to the whole relation; the bloat ratio comes
 *				with a ~95% bound (1.96 standard errors).  A relation no
 *				larger than the sample is read whole and reported as exact.
 *	  exact		every page.
 *	  estimate	pg_class, pg_statistic and the cumulative statistics only;
 *				no page of the relation is read.  The result says it is
 *				unreliable when one of the known failure cases applies:
 *				statistics missing or stale, dropped columns, TOAST tables,
 *				btree indexes that deduplication makes smaller than the
 *				statistics suggest.
 *
 * What is counted
 *	  Heap (tables, materialized views, TOAST tables): every line pointer of
 *	  every page read; normal tuples are classified with
 *	  HeapTupleSatisfiesVacuum: live (also insert or delete in progress, as
 *	  pgstattuple counts them) or dead (dead or recently dead).  Free space
 *	  is PageGetHeapFreeSpace(); a new (all-zero) page is wholly free
 *	  (pgstattuple counts it as 0).
 *	  Btree: leaf pages' items (live, or LP_DEAD-flagged), free space,
 *	  density like pgstatindex; deleted and half-dead pages are wholly free.
 *
 * The size after a rewrite (expected_bytes) is simulated, not assumed: the
 * live rows read are packed one after the other into pages the way
 * VACUUM FULL writes them (raw_heap_insert: fillfactor reserve, line
 * pointers, MaxHeapTuplesPerPage), shortened by the dropped-column values
 * a rewrite sets to NULL -- so space held back by the fillfactor is not
 * bloat.  For a btree, the live items are packed the way the index build
 * packs leaves (_bt_buildadd: fillfactor soft limit plus the posting-list
 * bytes suffix truncation leaves out of the high key, the last item moving
 * to the next page), after merging equal keys into posting lists as the
 * build does when deduplication applies (non-unique index,
 * deduplicate_items on, all columns "equalimage"); runs of a key at the
 * edges of pages are summed by key first, since the build merges all of a
 * key's TIDs.  Internal pages keep today's proportion to leaves.  Exact
 * mode thus predicts the size VACUUM FULL or REINDEX produces; sample mode
 * scales the packing of the sampled rows.  The bloat ratio is linear in
 * each page's packed bytes, which gives its variance.
 *
 * Actions: VACUUM when dead rows (or line pointers left by pruning, or
 * index entries of dead rows) reach the thresholds, else VACUUM FULL or
 * REINDEX INDEX CONCURRENTLY when the reclaimable space does; never from an
 * unreliable result.  Names are quoted with quote_qualified_identifier().
 *
 * Locking and memory: AccessShareLock on the relation during one
 * measurement (released at its end, like pgstattuple; the report takes it
 * only if it is free at once), a pin and a share content lock on one buffer
 * at a time, a BAS_BULKREAD ring so the scan does not evict the cache, and
 * CHECK_FOR_INTERRUPTS between pages.  Memory, in the caller's context: the
 * block list of one pass of the sample (4 bytes a page) and, for a
 * stratified sample, two doubles per stratum; per-relation arrays;
 * and for a deduplicated btree a hash of the key runs at page edges (at
 * most MNP_BT_MAX_EDGE_KEYS keys; beyond, runs are packed as they come).
 * No shared memory, so nothing here needs the library to be preloaded.
 *
 * Privileges: superuser or pg_stat_scan_tables, like pgstattuple.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_statistic.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/sampling.h"
#include "utils/spccache.h"
#include "utils/syscache.h"

#include "bloat.h"
#include "medianest_perf.h"

PG_FUNCTION_INFO_V1(mnp_bloat_1_0);
PG_FUNCTION_INFO_V1(mnp_bloat_report_1_0);

/* largest sample_pages accepted: 2^24 pages, 128 GB with 8 kB pages */
#define MNP_BLOAT_MAX_SAMPLE	(1 << 24)

/* below this many pages read a sample is too small for the bound */
#define MNP_BLOAT_MIN_SAMPLE	30

/* z for a two-sided ~95% bound */
#define MNP_BLOAT_Z95			1.96

/* posting-list size limit of the btree build (nbtsort.c) */
#define MNP_BT_BUILD_MAXPOSTING (MAXALIGN_DOWN(BLCKSZ * 10 / 100) - sizeof(ItemIdData))

/* runs of equal keys at page edges merged by key: at most this many keys (~10 MB) */
#define MNP_BT_MAX_EDGE_KEYS	(1 << 18)

/* GUCs */
static double mnp_bloat_min_ratio = 0.2;
static int	mnp_bloat_min_kb = 10 * 1024;
static int	mnp_bloat_report_sample_pages = 1000;
static int	mnp_bloat_report_max_pages = 50000;
static double mnp_bloat_target_error = 1.0;

typedef enum mnpBloatMode
{
	MNP_BLOAT_SAMPLE,
	MNP_BLOAT_EXACT,
	MNP_BLOAT_ESTIMATE
} mnpBloatMode;

typedef enum mnpBloatKind
{
	MNP_KIND_TABLE,
	MNP_KIND_MATVIEW,
	MNP_KIND_TOAST,
	MNP_KIND_BTREE
} mnpBloatKind;

static const char *const mnp_kind_names[] = {
	"table", "materialized view", "toast table", "btree index"
};

/*
 * Result columns, in the order of the SQL definition.  Numeric columns are
 * kept as doubles in mnpBloatRow.num, NaN meaning NULL.
 */
typedef enum mnpBloatCol
{
	BC_RELID,
	BC_SCHEMANAME,
	BC_RELNAME,
	BC_KIND,
	BC_METHOD,
	BC_PAGES,
	BC_PAGES_READ,
	BC_TOTAL_BYTES,
	BC_LIVE_BYTES,
	BC_DEAD_BYTES,
	BC_FREE_BYTES,
	BC_RESERVED_BYTES,
	BC_DROPPED_BYTES,
	BC_LIVE_TUPLES,
	BC_DEAD_TUPLES,
	BC_DEAD_LINE_POINTERS,
	BC_HEAP_TIDS,
	BC_LEAF_DENSITY,
	BC_DELETED_PAGES,
	BC_HALF_DEAD_PAGES,
	BC_FILLFACTOR,
	BC_EXPECTED_BYTES,
	BC_RECLAIMABLE_BYTES,
	BC_BLOAT_PCT,
	BC_BLOAT_PCT_ERROR,
	BC_RELIABLE,
	BC_NOTE,
	BC_ACTION,
	BC_NCOLS
} mnpBloatCol;

/* One result row while it is being built. */
typedef struct mnpBloatRow
{
	Oid			relid;
	char	   *nspname;
	char	   *relname;
	mnpBloatKind kind;
	const char *method;			/* sample, exact, estimate, skipped */
	double		num[BC_NCOLS];	/* numeric columns; NaN = NULL */
	bool		reliable;
	StringInfoData note;
	char	   *action;
	double		vacuum_bytes;	/* bytes VACUUM would free: dead rows, or index entries of dead rows */
	char	   *vacuum_target;	/* quoted name VACUUM / VACUUM FULL act on */
} mnpBloatRow;

/* Sums over the heap pages read. */
typedef struct mnpHeapSums
{
	double		live_bytes;
	double		dead_bytes;
	double		recently_dead_bytes;
	double		free_bytes;
	double		reserved_bytes;
	double		dropped_bytes;
	double		live_tuples;
	double		dead_tuples;
	double		dead_lp;
	double		new_pages;
} mnpHeapSums;

/* Sums over the btree pages read. */
typedef struct mnpBtreeSums
{
	double		leaf_pages;
	double		internal_pages;
	double		deleted_pages;
	double		half_dead_pages;
	double		new_pages;
	double		other_pages;
	double		live_bytes;
	double		dead_bytes;
	double		free_bytes;		/* as pgstattuple: leaf free + empty pages */
	double		leaf_free;
	double		leaf_avail;
	double		reserved_bytes;
	double		live_items;
	double		dead_items;
	double		heap_tids;
} mnpBtreeSums;

/*
 * What a rewrite or an index build does with the rows it keeps: it fills
 * one page after the other, in order, and starts a new page when the next
 * row does not fit.  Simulating that on the rows read gives the size after
 * the rewrite, without assuming that rows have one size: exact for exact
 * mode, and an estimate that does not jump at a page-capacity boundary for
 * sample mode.
 */
typedef struct mnpPacker
{
	double		capacity;		/* heap: bytes a page takes (fillfactor) */
	double		avail;			/* btree: pd_special - page header */
	double		soft_free;		/* btree: free space that ends a page */
	int			max_items;		/* heap: MaxHeapTuplesPerPage */
	bool		btree;
	double		used;			/* bytes (with line pointers) on this page */
	int			items;			/* items on this page */
	double		last;			/* btree: size of the last item */
	double		last_extra;		/* btree: its posting list's bytes */
	double		pages;			/* pages finished */
	double		bytes;			/* bytes packed, in all */
} mnpPacker;

/*
 * A run of equal keys at the edge of a leaf page (its first or last run),
 * which may go on in the neighbour page.  A rebuild merges all the TIDs of
 * a key, wherever they are, so these runs are summed by key (a 64-bit hash
 * of the key's bytes) and packed at the end.  Runs inside a page hold all
 * the TIDs of their key and are packed at once.
 */
typedef struct mnpBtEdgeRun
{
	uint64		keyhash;		/* hash key */
	Size		keysz;
	double		tids;
} mnpBtEdgeRun;

static void mnp_pack(mnpPacker *pk, double size, double posting_bytes);
static double mnp_pack_pages(const mnpPacker *pk, bool exact);
static void mnp_bloat_check_privileges(void);
static bool mnp_bloat_measure(Oid relid, mnpBloatMode mode, int sample_pages,
							  bool for_report, int64 budget, mnpBloatRow *row);
static void mnp_bloat_row_to_values(mnpBloatRow *row, Datum *values,
									bool *nulls);

/* Define the bloat GUCs (no shared memory: also when not preloaded). */
void
mnp_bloat_init(void)
{
	DefineCustomRealVariable("medianest_perf.bloat_min_ratio",
							 "Share of a relation (0-1) that must be reclaimable before bloat() proposes an action.",
							 "Compared with dead_bytes / total_bytes for VACUUM and with reclaimable_bytes / total_bytes for VACUUM FULL and REINDEX.",
							 &mnp_bloat_min_ratio,
							 0.2, 0.0, 1.0,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.bloat_min_bytes",
							"Reclaimable bytes below which bloat() proposes no action.",
							"Both this and medianest_perf.bloat_min_ratio must be reached.",
							&mnp_bloat_min_kb,
							10 * 1024, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomRealVariable("medianest_perf.bloat_target_error",
							 "Error bound, in percentage points, at which sample mode stops reading early.",
							 "A stratified sample (relation over 4 times sample_pages, at least 90 pages) is read in up to three passes over the relation; after the first and the second it stops when its ~95% error bound is within this many points. 0 always reads every pass.",
							 &mnp_bloat_target_error,
							 1.0, 0.0, 100.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.bloat_report_sample_pages",
							"Pages the bloat_report view samples from each relation.",
							NULL,
							&mnp_bloat_report_sample_pages,
							1000, 1, MNP_BLOAT_MAX_SAMPLE,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("medianest_perf.bloat_report_max_pages",
							"Pages one query of the bloat_report view may read in all; relations beyond it are estimated from the catalog.",
							"Relations are visited largest first; 0 makes the whole report a catalog estimate.",
							&mnp_bloat_report_max_pages,
							50000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------
 */

/* Superuser or pg_stat_scan_tables, like pgstattuple. */
static void
mnp_bloat_check_privileges(void)
{
	if (!superuser() && !has_privs_of_role(GetUserId(), ROLE_PG_STAT_SCAN_TABLES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to measure bloat"),
				 errdetail("Measuring bloat reads the pages of any table, which needs the privileges of pg_stat_scan_tables."),
				 errhint("Grant the pg_stat_scan_tables role to this user.")));
}

/* Append one sentence to the row's note. */
static void
mnp_bloat_note(mnpBloatRow *row, const char *sentence)
{
	if (row->note.len > 0)
		appendStringInfoChar(&row->note, ' ');
	appendStringInfoString(&row->note, sentence);
}

static void
mnp_bloat_row_init(mnpBloatRow *row, Oid relid)
{
	memset(row, 0, sizeof(*row));
	row->relid = relid;
	for (int i = 0; i < BC_NCOLS; i++)
		row->num[i] = get_float8_nan();
	row->reliable = true;
	initStringInfo(&row->note);
	row->action = "none";
}

/*
 * Prefetching of the sampled blocks.  posix_fadvise() for a block the
 * kernel already caches costs more than it saves (3000 cached pages of a
 * 1 GB table: 11 ms without, 27-36 ms with), and for blocks on disk it is
 * what makes sampling fast (90 ms instead of 330 ms).  Whether a relation
 * is cached is fairly uniform, so sampling starts without prefetching,
 * times its reads, and once half of a window of reads had to wait for the
 * disk it prefetches maintenance_io_concurrency blocks ahead (the
 * tablespace's setting, as ANALYZE uses) for the rest of the sample.
 * (Half, because on a busy machine a cached read is now and then preempted
 * and looks slow: at load 2.3 on 2 cores, up to 3 of 16 cached reads did.)
 * (Adapting the distance read by read does not work here: a prefetched
 * block reads as fast as a cached one.)  A full read needs none of this:
 * it is sequential and the kernel reads ahead.
 */
#define MNP_READ_WAITED_US	50		/* a read this slow went to the disk */
#define MNP_READ_WINDOW		16

typedef struct mnpPrefetch
{
	const BlockNumber *blocks;	/* the sample, or NULL */
	BlockNumber n;
	BlockNumber next;			/* next block to prefetch */
	int			distance;		/* blocks to keep requested ahead */
	bool		on;				/* prefetching */
	int			reads;			/* reads timed in this window */
	int			waited;			/* of which went to the disk */
	instr_time	start;
} mnpPrefetch;

/* Before reading block i: keep the next blocks requested, or time the read. */
static inline void
mnp_prefetch_before(mnpPrefetch *pf, Relation rel, BlockNumber i)
{
	if (pf->blocks == NULL)
		return;
	if (pf->on)
	{
#ifdef USE_PREFETCH
		if (pf->next <= i)
			pf->next = i + 1;
		while (pf->next < pf->n && pf->next <= i + pf->distance)
			PrefetchBuffer(rel, MAIN_FORKNUM, pf->blocks[pf->next++]);
#endif
		return;
	}
	INSTR_TIME_SET_CURRENT(pf->start);
}

/* After reading a block: decide whether to start prefetching. */
static inline void
mnp_prefetch_after(mnpPrefetch *pf)
{
	instr_time	now;

	if (pf->blocks == NULL || pf->on)
		return;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, pf->start);
	pf->reads++;
	if (INSTR_TIME_GET_MICROSEC(now) >= MNP_READ_WAITED_US)
		pf->waited++;
	if (pf->reads == MNP_READ_WINDOW)
	{
		pf->on = pf->waited * 2 >= MNP_READ_WINDOW && pf->distance > 0;
		pf->reads = pf->waited = 0;
	}
}

/* ---------------------------------------------------------------------
 * The sampler
 * ---------------------------------------------------------------------
 */

/*
 * Which pages are read.  mnp_sample_read() reads the npop blocks starting
 * at first, or a sample of at most max_pages of them, calls a page function
 * for each page read and keeps the spread of the value it returns (a heap
 * page's live bytes after a rewrite, a btree page's bytes after a rebuild),
 * from which mnp_sample_bound() derives the error bound of the ratio.
 *
 * A sample of a large fraction (max_pages >= npop / 4) is a simple random
 * sample from Knuth's Algorithm S (the BlockSampler ANALYZE uses), read in
 * one pass; its variance is the sample variance with the finite population
 * correction.
 *
 * A smaller sample is stratified and read in up to MNP_BLOAT_PASSES passes
 * (one when max_pages is too small to stop early).  The blocks are cut into
 * H = max_pages / passes strata (rounded down) of equal, fractional length
 * npop / H; each pass draws one point uniformly in every
 * stratum and reads the block under it, in block order.  Every block is
 * then drawn, on average, exactly as often as every other (a block that
 * straddles two strata, or is drawn again in a later pass, is read and
 * counted again), so the estimates keep the simple scale factor npop / n.
 * Bloat is rarely spread at random over a relation: deletes of a key
 * range, updates that move rows to the end and retention by age leave it
 * in long stretches, which strata that follow the block order measure far
 * more precisely than a simple random sample of the same size.  After a
 * pass the sampler stops when the bound is already within
 * medianest_perf.bloat_target_error points, so a large relation whose bloat
 * is even or in long stretches is measured from a third of the pages one
 * with bloat at random needs.  (Because the stop depends on what the first
 * pass saw, the estimate is unbiased only approximately; the bound's floor
 * for unseen kinds of pages, see mnp_sample_bound, keeps a pass that met
 * no spread from stopping on a bound of 0.)
 *
 * Variance: with k >= 2 points per stratum, the variance within each
 * stratum.  With one, there is none to measure, so neighbouring strata are
 * taken in pairs (a trailing odd one joins the last pair) and a pair's
 * spread stands for the variance of its two strata: the collapsed-strata
 * estimator, which overstates the variance by the difference between
 * neighbouring strata's means -- small except where the bloat changes along
 * the relation -- so the bound errs on the safe side.  Points are drawn on a
 * line, in effect with replacement, so there is no finite population
 * correction.
 */
#define MNP_BLOAT_PASSES	3

typedef struct mnpSample
{
	bool		sampled;		/* false: every block read once */
	bool		strata;			/* stratified (else a simple random sample) */
	int			nstrata;		/* stratified: strata, points per pass */
	int			passes;			/* stratified: passes read */
	BlockNumber npop;
	BlockNumber n;				/* pages read (a page drawn twice counts twice) */
	double		sum;			/* of the values */
	double		sum_sq;
	double		range;			/* the largest value a page can have */
	double	   *st_sum;			/* stratified: per stratum */
	double	   *st_sq;
} mnpSample;

/* Counts one page (pinned and share-locked); returns its value. */
typedef double (*mnpPageFn) (void *arg, Buffer buf, BlockNumber blkno);

/* Ratio units per unit of the mean value, from the pages read so far. */
typedef double (*mnpScaleFn) (void *arg);

/*
 * ~95% bound, in percentage points, of a ratio estimated as scale times the
 * mean of the values over all npop pages.  0 when every page was read, NaN
 * when the sample is too small to tell.
 *
 * The spread of the pages read says nothing about pages of a kind the
 * sample never met (a few empty pages scattered among full ones): when
 * every page read looks alike, the variance is 0.  By the rule of three,
 * pages of an unseen kind may still make up to 3/n of the relation (~95%),
 * and each can differ from the others by up to a full page, so the bound is
 * never below 3/n of a page's worth (with the finite population correction
 * of a simple random sample): about 0.3 points at 1000 pages.
 */
static double
mnp_sample_bound(const mnpSample *smp, double scale)
{
	double		var_mean;
	double		unseen;

	if (!smp->sampled)
		return 0.0;
	if (smp->n < 2)
		return get_float8_nan();
	if (!smp->strata)
	{
		double		n = smp->n;
		double		mean = smp->sum / n;
		double		var = (smp->sum_sq - n * mean * mean) / (n - 1);

		var_mean = Max(var, 0.0) / n * (1.0 - n / smp->npop);	/* Max: rounding */
		unseen = 3.0 / n * (1.0 - n / smp->npop);
	}
	else
	{
		int			h = smp->nstrata;
		double		k = smp->passes;
		double		total = 0;

		if (k >= 2)
		{
			for (int i = 0; i < h; i++)
				total += (smp->st_sq[i] - smp->st_sum[i] * smp->st_sum[i] / k) / (k - 1) / k;
		}
		else
		{
			const double *y = smp->st_sum;

			if (h < 2)
				return get_float8_nan();
			for (int i = 0; i + 1 < h; i += 2)
				total += (y[i] - y[i + 1]) * (y[i] - y[i + 1]);
			if (h % 2 == 1 && h >= 3)
			{
				/* the last pair and the odd stratum form a group of three */
				double		a = y[h - 3],
							b = y[h - 2],
							c = y[h - 1],
							m = (a + b + c) / 3;

				total -= (a - b) * (a - b);
				total += 1.5 * ((a - m) * (a - m) + (b - m) * (b - m) + (c - m) * (c - m));
			}
		}
		var_mean = Max(total, 0.0) / ((double) h * h);
		unseen = 3.0 / smp->n;
	}
	return Max(MNP_BLOAT_Z95 * sqrt(var_mean), unseen * smp->range) * fabs(scale) * 100.0;
}

/* Read the i-th page of the list, blkno, and count it in stratum st (-1: none). */
static inline void
mnp_sample_page(mnpSample *smp, Relation rel, BlockNumber blkno, int st,
				BufferAccessStrategy strategy, mnpPrefetch *pf, BlockNumber i,
				mnpPageFn page_fn, void *arg)
{
	Buffer		buf;
	double		y;

	CHECK_FOR_INTERRUPTS();
	mnp_prefetch_before(pf, rel, i);
	buf = ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
	mnp_prefetch_after(pf);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	y = page_fn(arg, buf, blkno);
	UnlockReleaseBuffer(buf);
	smp->n++;
	smp->sum += y;
	smp->sum_sq += y * y;
	if (st >= 0)
	{
		smp->st_sum[st] += y;
		smp->st_sq[st] += y * y;
	}
}

/*
 * Fill the row's method and pages_read from a finished sample; returns the
 * factor that scales sums over the pages read to the relation.
 */
static double
mnp_sample_fill_row(const mnpSample *smp, mnpBloatRow *row)
{
	row->method = smp->sampled ? "sample" : "exact";
	row->num[BC_PAGES_READ] = smp->n;
	return smp->n > 0 ? (double) smp->npop / smp->n : 0;
}

static void
mnp_sample_read(mnpSample *smp, Relation rel, BlockNumber first,
				BlockNumber npop, bool all, int max_pages, double range,
				mnpPageFn page_fn, mnpScaleFn scale_fn, void *arg)
{
	BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
	mnpPrefetch pf = {0};
	BlockNumber *blocks;
	BlockNumber nblk = 0;
	int			max_passes;

	memset(smp, 0, sizeof(*smp));
	smp->npop = npop;
	smp->range = range;

	/* every page, in order: the kernel reads ahead */
	if (all || (double) max_pages >= (double) npop)
	{
		for (BlockNumber b = 0; b < npop; b++)
			mnp_sample_page(smp, rel, first + b, -1, strategy, &pf, b, page_fn, arg);
		FreeAccessStrategy(strategy);
		return;
	}

	smp->sampled = true;
	pf.distance = get_tablespace_maintenance_io_concurrency(rel->rd_rel->reltablespace);
	smp->strata = (double) max_pages * 4 < (double) npop;
	if (!smp->strata)
	{
		BlockSamplerData bs;

		blocks = palloc(max_pages * sizeof(BlockNumber));
		BlockSampler_Init(&bs, npop, max_pages, pg_prng_uint32(&pg_global_prng_state));
		while (BlockSampler_HasMore(&bs) && nblk < (BlockNumber) max_pages)
			blocks[nblk++] = first + BlockSampler_Next(&bs);
		max_passes = 1;
	}
	else
	{
		/* a pass is a third of the sample (rounded down), unless too small */
		max_passes = max_pages >= MNP_BLOAT_PASSES * MNP_BLOAT_MIN_SAMPLE ? MNP_BLOAT_PASSES : 1;
		smp->nstrata = max_pages / max_passes;
		blocks = palloc(smp->nstrata * sizeof(BlockNumber));
		smp->st_sum = palloc0(smp->nstrata * sizeof(double));
		smp->st_sq = palloc0(smp->nstrata * sizeof(double));
	}

	for (int pass = 0; pass < max_passes; pass++)
	{
		if (smp->strata)
		{
			double		len = (double) npop / smp->nstrata;

			for (int i = 0; i < smp->nstrata; i++)
			{
				double		point = (i + pg_prng_double(&pg_global_prng_state)) * len;

				/* floor; the last stratum ends at npop, rounding aside */
				blocks[i] = first + Min((BlockNumber) point, npop - 1);
			}
			nblk = smp->nstrata;
		}
		pf.blocks = blocks;
		pf.n = nblk;
		pf.next = 0;
		for (BlockNumber i = 0; i < nblk; i++)
			mnp_sample_page(smp, rel, blocks[i], smp->strata ? (int) i : -1,
							strategy, &pf, i, page_fn, arg);
		smp->passes++;

		/* precise enough already? */
		if (pass + 1 < max_passes && mnp_bloat_target_error > 0 &&
			smp->n >= MNP_BLOAT_MIN_SAMPLE)
		{
			double		bound = mnp_sample_bound(smp, scale_fn(arg));

			if (!isnan(bound) && bound <= mnp_bloat_target_error)
				break;
		}
	}
	pfree(blocks);
	FreeAccessStrategy(strategy);
}

/*
 * Add one row or index item of size bytes (its line pointer included) to
 * the simulated rewrite.  Heap: it goes on the current page if the page's
 * free space, less the fillfactor's reserve, holds it (raw_heap_insert).
 * Btree leaf (_bt_buildadd): a page takes items until its free space -- plus
 * the posting list bytes of its last item, which suffix truncation leaves
 * out of the high key -- drops under the fillfactor's reserve, or until the
 * item does not fit; then its last item moves to the next page and a high
 * key takes its place.
 */
static void
mnp_pack(mnpPacker *pk, double size, double posting_bytes)
{
	pk->bytes += size;
	if (!pk->btree)
	{
		if (pk->items > 0 &&
			(pk->used + size > pk->capacity || pk->items >= pk->max_items))
		{
			pk->pages++;
			pk->used = 0;
			pk->items = 0;
		}
	}
	else if (pk->items > 0)
	{
		/* PageGetFreeSpace() with the high key's line pointer reserved */
		double		pgspc = pk->avail - 2 * sizeof(ItemIdData) - pk->used;
		double		itupsz = size - sizeof(ItemIdData);

		if (pgspc < itupsz + MAXALIGN(sizeof(ItemPointerData)) ||
			(pgspc + pk->last_extra < pk->soft_free && pk->items >= 2))
		{
			pk->pages++;
			pk->used = pk->last;
			pk->items = 1;
		}
	}
	pk->used += size;
	pk->items++;
	pk->last = size;
	pk->last_extra = posting_bytes;
}

/* Btree: bytes of a posting list tuple of n TIDs with a key of keysz. */
static inline double
mnp_bt_posting_size(Size keysz, double n)
{
	if (n <= 1)
		return keysz;
	return MAXALIGN(keysz + (Size) n * sizeof(ItemPointerData));
}

/* Pages the packed rows take: the last one whole (exact) or in part. */
static double
mnp_pack_pages(const mnpPacker *pk, bool exact)
{
	if (pk->items == 0)
		return pk->pages;
	if (exact)
		return pk->pages + 1;
	return pk->pages + Min(pk->used / (pk->btree ? pk->avail - pk->soft_free : pk->capacity),
						   1.0);
}

/* ---------------------------------------------------------------------
 * Heap pages
 * ---------------------------------------------------------------------
 */

/* Per-relation state of a heap scan. */
typedef struct mnpHeapScan
{
	Relation	rel;
	TransactionId oldest_xmin;
	Size		save_free;		/* free space the fillfactor keeps */
	bool		has_dropped;	/* any dropped column */
	TupleDesc	desc;
	Datum	   *values;
	bool	   *isnull;
	mnpPacker	pack;			/* the live rows, rewritten */
	mnpHeapSums sums;
} mnpHeapScan;

/*
 * Bytes a live tuple would take after a rewrite, which stores NULL in
 * dropped columns; the tuple's own length when that is not smaller.
 */
static Size
mnp_heap_rewritten_len(mnpHeapScan *hs, HeapTuple tuple)
{
	TupleDesc	desc = hs->desc;
	bool		hasnull = false;
	Size		hoff;
	Size		len;

	heap_deform_tuple(tuple, desc, hs->values, hs->isnull);
	for (int i = 0; i < desc->natts; i++)
	{
		if (TupleDescAttr(desc, i)->attisdropped)
			hs->isnull[i] = true;
		hasnull |= hs->isnull[i];
	}
	hoff = SizeofHeapTupleHeader;
	if (hasnull)
		hoff += BITMAPLEN(desc->natts);
	len = MAXALIGN(hoff) + heap_compute_data_size(desc, hs->values, hs->isnull);
	return Min(len, (Size) tuple->t_len);
}

/*
 * Count one heap page (pinned and share-locked); returns the bytes its live
 * rows take after a rewrite.
 */
static double
mnp_heap_page(mnpHeapScan *hs, Buffer buf, BlockNumber blkno, mnpHeapSums *s)
{
	Page		page = BufferGetPage(buf);
	OffsetNumber maxoff;
	Size		free;
	double		footprint = 0;

	if (PageIsNew(page))
	{
		free = BLCKSZ - SizeOfPageHeaderData;
		s->new_pages++;
		s->free_bytes += free;
		s->reserved_bytes += Min(free, hs->save_free);
		return 0;
	}

	free = PageGetHeapFreeSpace(page);
	s->free_bytes += free;
	s->reserved_bytes += Min(free, hs->save_free);

	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		HeapTupleData tuple;
		Size		len;

		if (!ItemIdIsNormal(itemid))
		{
			if (ItemIdIsDead(itemid))
				s->dead_lp++;
			continue;
		}

		tuple.t_data = (HeapTupleHeader) PageGetItem(page, itemid);
		tuple.t_len = ItemIdGetLength(itemid);
		tuple.t_tableOid = RelationGetRelid(hs->rel);
		ItemPointerSet(&tuple.t_self, blkno, off);

		switch (HeapTupleSatisfiesVacuum(&tuple, hs->oldest_xmin, buf))
		{
			case HEAPTUPLE_LIVE:
			case HEAPTUPLE_INSERT_IN_PROGRESS:
			case HEAPTUPLE_DELETE_IN_PROGRESS:
				s->live_tuples++;
				s->live_bytes += tuple.t_len;
				len = tuple.t_len;
				if (hs->has_dropped)
				{
					len = mnp_heap_rewritten_len(hs, &tuple);
					s->dropped_bytes += MAXALIGN(tuple.t_len) - MAXALIGN(len);
				}
				footprint += MAXALIGN(len) + sizeof(ItemIdData);
				mnp_pack(&hs->pack, MAXALIGN(len) + sizeof(ItemIdData), 0);
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				s->recently_dead_bytes += tuple.t_len;
				/* FALLTHROUGH */
			case HEAPTUPLE_DEAD:
				s->dead_tuples++;
				s->dead_bytes += tuple.t_len;
				break;
		}
	}
	return footprint;
}

static double
mnp_heap_page_cb(void *arg, Buffer buf, BlockNumber blkno)
{
	mnpHeapScan *hs = (mnpHeapScan *) arg;

	return mnp_heap_page(hs, buf, blkno, &hs->sums);
}

/*
 * The ratio per byte of mean footprint, for the early stop: pages of packed
 * rows per byte, or a page per page's capacity before any row was read.
 */
static double
mnp_heap_scale_cb(void *arg)
{
	mnpHeapScan *hs = (mnpHeapScan *) arg;

	if (hs->pack.bytes <= 0)
		return 1.0 / hs->pack.capacity;
	return mnp_pack_pages(&hs->pack, false) / hs->pack.bytes;
}

/* Read the pages of rel, or a sample of them, and fill the row. */
static void
mnp_bloat_heap(Relation rel, BlockNumber nblocks, mnpBloatMode mode,
			   int sample_pages, mnpBloatRow *row)
{
	mnpHeapScan hs;
	mnpHeapSums s;
	mnpSample	smp;
	BlockNumber n;
	bool		sampled;
	double		scale;
	int			fillfactor;
	double		expected_pages = 0;
	double		bound;

	memset(&hs, 0, sizeof(hs));
	hs.rel = rel;
	hs.desc = RelationGetDescr(rel);
	hs.oldest_xmin = GetOldestNonRemovableTransactionId(rel);
	hs.save_free = RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR);
	for (int i = 0; i < hs.desc->natts; i++)
		if (TupleDescAttr(hs.desc, i)->attisdropped)
			hs.has_dropped = true;
	if (hs.has_dropped)
	{
		hs.values = palloc(hs.desc->natts * sizeof(Datum));
		hs.isnull = palloc(hs.desc->natts * sizeof(bool));
	}
	fillfactor = RelationGetFillFactor(rel, HEAP_DEFAULT_FILLFACTOR);
	hs.pack.capacity = BLCKSZ - SizeOfPageHeaderData - hs.save_free;
	hs.pack.max_items = MaxHeapTuplesPerPage;

	mnp_sample_read(&smp, rel, 0, nblocks,
					mode == MNP_BLOAT_EXACT, sample_pages,
					BLCKSZ - SizeOfPageHeaderData,
					mnp_heap_page_cb, mnp_heap_scale_cb, &hs);
	s = hs.sums;
	n = smp.n;
	sampled = smp.sampled;

	scale = mnp_sample_fill_row(&smp, row);
	row->num[BC_LIVE_BYTES] = s.live_bytes * scale;
	row->num[BC_DEAD_BYTES] = s.dead_bytes * scale;
	row->num[BC_FREE_BYTES] = s.free_bytes * scale;
	row->num[BC_RESERVED_BYTES] = s.reserved_bytes * scale;
	row->num[BC_DROPPED_BYTES] = s.dropped_bytes * scale;
	row->num[BC_LIVE_TUPLES] = s.live_tuples * scale;
	row->num[BC_DEAD_TUPLES] = s.dead_tuples * scale;
	row->num[BC_DEAD_LINE_POINTERS] = s.dead_lp * scale;
	row->num[BC_FILLFACTOR] = fillfactor;

	/*
	 * The size after a rewrite is the packing of the rows read, scaled to
	 * the relation.  The ratio is then linear in each page's footprint, with
	 * the packed bytes per page as the unit, which gives its variance.
	 */
	if (s.live_tuples > 0)
	{
		double		packed = mnp_pack_pages(&hs.pack, !sampled);

		expected_pages = sampled ? packed * scale : packed;
	}
	bound = mnp_sample_bound(&smp, mnp_heap_scale_cb(&hs));

	row->num[BC_EXPECTED_BYTES] = expected_pages * BLCKSZ;
	row->num[BC_BLOAT_PCT_ERROR] = bound;
	row->vacuum_bytes = row->num[BC_DEAD_BYTES];

	if (sampled && n < MNP_BLOAT_MIN_SAMPLE)
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("Only %u pages were sampled; the error bound needs at least %d.",
									 n, MNP_BLOAT_MIN_SAMPLE));
	}
	if (s.dead_bytes > 0 && s.recently_dead_bytes >= 0.5 * s.dead_bytes)
		mnp_bloat_note(row, psprintf("%.0f%% of the dead tuples are still visible to an open transaction, prepared transaction or replication slot; VACUUM cannot remove them before it ends.",
									 100.0 * s.recently_dead_bytes / s.dead_bytes));
	if (s.dead_lp > 0 && s.dead_tuples < s.dead_lp)
		mnp_bloat_note(row, "Most dead rows were already pruned to dead line pointers; their space is reusable in the page, but only VACUUM frees the line pointers and records the space in the free space map.");
	if (hs.has_dropped && s.dropped_bytes > 0)
		mnp_bloat_note(row, "Old rows still store values of dropped columns; only a rewrite (VACUUM FULL, pg_repack) removes them.");
	if (s.new_pages > 0)
		mnp_bloat_note(row, "Uninitialized pages (left by an interrupted extension) count as free space.");
}

/* ---------------------------------------------------------------------
 * Btree pages
 * ---------------------------------------------------------------------
 */

/*
 * Pack the leaf items (line pointers included) that ntids heap TIDs sharing
 * one key of keysz bytes become in an index build: one tuple each, or
 * posting lists no larger than the build makes them when it deduplicates.
 * Returns the bytes.
 */
static double
mnp_bt_rebuilt_bytes(Size keysz, double ntids, bool dedup, mnpPacker *pk)
{
	double		per = 0,
				full,
				rem,
				bytes,
				tupsz;

	if (dedup && ntids > 1 && keysz < MAXALIGN_DOWN(MNP_BT_BUILD_MAXPOSTING))
		per = floor((double) (MAXALIGN_DOWN(MNP_BT_BUILD_MAXPOSTING) - keysz) /
					sizeof(ItemPointerData));
	if (per < 2)
	{
		for (double i = 0; i < ntids; i++)
			mnp_pack(pk, keysz + sizeof(ItemIdData), 0);
		return ntids * (keysz + sizeof(ItemIdData));
	}
	full = floor(ntids / per);
	rem = ntids - full * per;
	tupsz = mnp_bt_posting_size(keysz, per);
	for (double i = 0; i < full; i++)
		mnp_pack(pk, tupsz + sizeof(ItemIdData), tupsz - keysz);
	bytes = full * (tupsz + sizeof(ItemIdData));
	if (rem >= 1)
	{
		tupsz = mnp_bt_posting_size(keysz, rem);
		mnp_pack(pk, tupsz + sizeof(ItemIdData), rem > 1 ? tupsz - keysz : 0);
		bytes += tupsz + sizeof(ItemIdData);
	}
	return bytes;
}

/* Size of the key part of a leaf tuple (without its posting list). */
static inline Size
mnp_bt_keysz(IndexTuple itup)
{
	if (BTreeTupleIsPosting(itup))
		return BTreeTupleGetPostingOffset(itup);
	return IndexTupleSize(itup);
}

/*
 * A run of ntids TIDs of one key ends: pack it now or, at a page's edge,
 * add it to its key's sum for later.  Returns the bytes packed now, or an
 * estimate of the bytes it will take.
 */
static double
mnp_bt_run_end(IndexTuple first, double ntids, bool edge, bool dedup,
			   HTAB *edges, mnpPacker *pk)
{
	Size		keysz = mnp_bt_keysz(first);

	if (edge && dedup && edges != NULL &&
		hash_get_num_entries(edges) < MNP_BT_MAX_EDGE_KEYS)
	{
		uint64		h;
		mnpBtEdgeRun *run;
		bool		found;

		h = hash_bytes_extended((const unsigned char *) first + sizeof(IndexTupleData),
								keysz - sizeof(IndexTupleData),
								(first->t_info & INDEX_NULL_MASK) ? 1 : 0);
		run = hash_search(edges, &h, HASH_ENTER, &found);
		if (!found)
		{
			run->keysz = keysz;
			run->tids = 0;
		}
		run->tids += ntids;
		return ntids * sizeof(ItemPointerData);
	}
	return mnp_bt_rebuilt_bytes(keysz, ntids, dedup, pk);
}

/* Whether two leaf tuples have binary-equal keys. */
static bool
mnp_bt_same_key(IndexTuple a, IndexTuple b)
{
	Size		ka = mnp_bt_keysz(a);

	if (ka != mnp_bt_keysz(b))
		return false;
	if ((a->t_info & INDEX_NULL_MASK) != (b->t_info & INDEX_NULL_MASK))
		return false;
	return memcmp((char *) a + sizeof(IndexTupleData),
				  (char *) b + sizeof(IndexTupleData),
				  ka - sizeof(IndexTupleData)) == 0;
}

/*
 * Count one btree page (pinned and share-locked); returns the bytes its
 * live items take after a rebuild (0 for any page but a leaf).
 */
static double
mnp_bt_page(Page page, bool dedup, Size target_free, mnpBtreeSums *s,
			HTAB *edges, mnpPacker *pk)
{
	BTPageOpaque opaque;
	OffsetNumber maxoff;
	Size		free;
	IndexTuple	group = NULL;	/* first tuple of the run of equal keys */
	double		group_tids = 0;
	bool		first_run = true;
	bool		open_left;
	bool		open_right = false;
	double		rebuilt = 0;

	if (PageIsNew(page))
	{
		s->new_pages++;
		s->free_bytes += BLCKSZ;
		return 0;
	}
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(BTPageOpaqueData)))
	{
		s->other_pages++;		/* not a btree page: ignored */
		return 0;
	}
	opaque = BTPageGetOpaque(page);
	if (P_ISDELETED(opaque))
	{
		s->deleted_pages++;
		s->free_bytes += BLCKSZ;
		return 0;
	}
	if (P_ISHALFDEAD(opaque))
	{
		s->half_dead_pages++;
		s->free_bytes += BLCKSZ;
		return 0;
	}
	if (P_ISMETA(opaque))
	{
		s->other_pages++;
		return 0;
	}
	if (!P_ISLEAF(opaque))
	{
		s->internal_pages++;
		return 0;
	}

	s->leaf_pages++;
	free = PageGetFreeSpace(page);
	s->free_bytes += free;
	s->leaf_free += free;
	s->leaf_avail += ((PageHeader) page)->pd_special - SizeOfPageHeaderData;
	s->reserved_bytes += Min(free, target_free);

	/*
	 * The first run may go on from the left sibling.  A high key that keeps
	 * a heap TID means that the last key of this page is also the first of
	 * the right sibling (suffix truncation could not tell them apart).
	 */
	open_left = !P_LEFTMOST(opaque);
	if (dedup && !P_RIGHTMOST(opaque))
	{
		IndexTuple	hikey = (IndexTuple) PageGetItem(page, PageGetItemId(page, P_HIKEY));

		open_right = BTreeTupleGetHeapTID(hikey) != NULL;
	}

	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = P_FIRSTDATAKEY(opaque); off <= maxoff; off = OffsetNumberNext(off))
	{
		ItemId		itemid = PageGetItemId(page, off);
		IndexTuple	itup;
		double		ntids;

		if (ItemIdIsDead(itemid))
		{
			s->dead_items++;
			s->dead_bytes += ItemIdGetLength(itemid);
			continue;			/* VACUUM removes it; not rebuilt */
		}
		s->live_items++;
		s->live_bytes += ItemIdGetLength(itemid);

		itup = (IndexTuple) PageGetItem(page, itemid);
		ntids = BTreeTupleIsPosting(itup) ? BTreeTupleGetNPosting(itup) : 1;
		s->heap_tids += ntids;

		if (group != NULL && dedup && mnp_bt_same_key(group, itup))
			group_tids += ntids;
		else
		{
			if (group != NULL)
			{
				rebuilt += mnp_bt_run_end(group, group_tids, first_run && open_left,
										  dedup, edges, pk);
				first_run = false;
			}
			group = itup;
			group_tids = ntids;
		}
	}
	if (group != NULL)
		rebuilt += mnp_bt_run_end(group, group_tids,
								  (first_run && open_left) || open_right,
								  dedup, edges, pk);
	return rebuilt;
}

/* Per-index state of a btree scan. */
typedef struct mnpBtreeScan
{
	bool		dedup;			/* the index deduplicates */
	Size		target_free;	/* free space the fillfactor keeps */
	BlockNumber nblocks;
	HTAB	   *edges;			/* runs of equal keys at page edges */
	mnpPacker	pack;			/* the live items, rebuilt */
	mnpBtreeSums sums;
} mnpBtreeScan;

static double
mnp_bt_page_cb(void *arg, Buffer buf, BlockNumber blkno)
{
	mnpBtreeScan *bs = (mnpBtreeScan *) arg;

	return mnp_bt_page(BufferGetPage(buf), bs->dedup, bs->target_free, &bs->sums,
					   bs->edges, &bs->pack);
}

/*
 * The ratio per byte of mean rebuilt bytes, for the early stop: a leaf
 * page per page's worth of items (what the build fills before it moves on)
 * with internal pages in today's proportion.  Not the packing of the items
 * read: runs of equal keys at page edges are packed only at the end, and
 * until then a page of one deduplicated key has packed nothing.
 */
static double
mnp_bt_scale_cb(void *arg)
{
	mnpBtreeScan *bs = (mnpBtreeScan *) arg;
	double		npop = bs->nblocks - 1;
	double		int_ratio = 0;

	if (bs->sums.leaf_pages > 0)
		int_ratio = bs->sums.internal_pages / bs->sums.leaf_pages;
	return (1.0 + int_ratio) / (bs->pack.avail - bs->pack.soft_free) * npop / bs->nblocks;
}

/* Read the pages of a btree index, or a sample of them, and fill the row. */
static void
mnp_bloat_btree(Relation rel, BlockNumber nblocks, mnpBloatMode mode,
				int sample_pages, mnpBloatRow *row)
{
	mnpBtreeScan bs;
	mnpBtreeSums s;
	mnpSample	smp;
	BlockNumber npop = nblocks > 0 ? nblocks - 1 : 0;	/* without metapage */
	BlockNumber n;
	bool		sampled;
	bool		dedup;
	double		scale;
	double		expected_pages;
	mnpPacker	pack;
	HTAB	   *edges = NULL;

	memset(&bs, 0, sizeof(bs));
	bs.pack.btree = true;
	bs.pack.avail = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(BTPageOpaqueData));
	bs.target_free = BTGetTargetPageFreeSpace(rel);
	bs.pack.soft_free = bs.target_free;
	bs.nblocks = nblocks;
	bs.dedup = dedup = !rel->rd_index->indisunique && BTGetDeduplicateItems(rel) &&
		_bt_allequalimage(rel, false);
	if (dedup)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint64);
		ctl.entrysize = sizeof(mnpBtEdgeRun);
		ctl.hcxt = CurrentMemoryContext;
		bs.edges = hash_create("medianest_perf btree edge runs", 1024, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	mnp_sample_read(&smp, rel, BTREE_METAPAGE + 1, npop,
					mode == MNP_BLOAT_EXACT, sample_pages, bs.pack.avail,
					mnp_bt_page_cb, mnp_bt_scale_cb, &bs);
	s = bs.sums;
	pack = bs.pack;
	edges = bs.edges;
	n = smp.n;
	sampled = smp.sampled;

	/* the runs at page edges, merged by key */
	if (edges != NULL)
	{
		HASH_SEQ_STATUS hseq;
		mnpBtEdgeRun *run;

		hash_seq_init(&hseq, edges);
		while ((run = hash_seq_search(&hseq)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			mnp_bt_rebuilt_bytes(run->keysz, run->tids, dedup, &pack);
		}
		hash_destroy(edges);
	}

	scale = mnp_sample_fill_row(&smp, row);
	row->num[BC_LIVE_BYTES] = s.live_bytes * scale;
	row->num[BC_DEAD_BYTES] = s.dead_bytes * scale;
	row->num[BC_FREE_BYTES] = s.free_bytes * scale;
	row->num[BC_RESERVED_BYTES] = s.reserved_bytes * scale;
	row->num[BC_LIVE_TUPLES] = s.live_items * scale;
	row->num[BC_DEAD_TUPLES] = s.dead_items * scale;
	row->num[BC_HEAP_TIDS] = s.heap_tids * scale;
	row->num[BC_DELETED_PAGES] = s.deleted_pages * scale;
	row->num[BC_HALF_DEAD_PAGES] = s.half_dead_pages * scale;
	row->num[BC_FILLFACTOR] = BTGetFillFactor(rel);
	if (s.leaf_avail > 0)
		row->num[BC_LEAF_DENSITY] = 100.0 - 100.0 * s.leaf_free / s.leaf_avail;

	/*
	 * After REINDEX: the packing of the live items, merged as the build
	 * merges them, scaled to the index; internal pages in today's
	 * proportion to leaves; the metapage.  The ratio is linear in each
	 * page's rebuilt bytes, which gives its variance.
	 */
	if (nblocks == 0)
		expected_pages = 0;
	else if (s.leaf_pages == 0 || pack.bytes == 0)
		expected_pages = 1 + (s.leaf_pages > 0 ? 1 : 0);
	else
	{
		double		packed = mnp_pack_pages(&pack, !sampled);
		double		int_ratio = s.internal_pages / s.leaf_pages;
		double		exp_leaf = sampled ? ceil(packed * scale) : packed;

		expected_pages = 1 + exp_leaf + ceil(exp_leaf * int_ratio);
		/* the values are the pages' rebuilt bytes: pages per such byte */
		if (smp.sum > 0)
			row->num[BC_BLOAT_PCT_ERROR] =
				mnp_sample_bound(&smp, (1.0 + int_ratio) * packed / smp.sum * npop / nblocks);
	}
	if (isnan(row->num[BC_BLOAT_PCT_ERROR]))
		row->num[BC_BLOAT_PCT_ERROR] = sampled ? mnp_sample_bound(&smp, mnp_bt_scale_cb(&bs)) : 0;
	row->num[BC_EXPECTED_BYTES] = expected_pages * BLCKSZ;
	row->vacuum_bytes = 0;

	/*
	 * Entries of dead rows: until VACUUM removes them (or a scan flags them
	 * LP_DEAD) they look live here.  A full index holds one entry per live
	 * row, so more entries than the table's live rows (cumulative
	 * statistics) are the dead rows' -- VACUUM of the table comes first.
	 */
	if (heap_attisnull(rel->rd_indextuple, Anum_pg_index_indpred, NULL))
	{
		PgStat_StatTabEntry *tab = pgstat_fetch_stat_tabentry(rel->rd_index->indrelid);
		double		tids = s.heap_tids * scale;

		if (tab != NULL && tab->n_live_tuples > 0 && tab->n_dead_tuples > 0 &&
			tids > tab->n_live_tuples)
		{
			double		share = Min(tids - tab->n_live_tuples,
									(double) tab->n_dead_tuples) / tids;

			if (share >= 0.1)
			{
				char	   *table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(rel->rd_index->indrelid)),
															   get_rel_name(rel->rd_index->indrelid));

				mnp_bloat_note(row, psprintf("About %.0f%% of the entries belong to dead rows of %s (its statistics count %.0f live rows for %.0f entries); VACUUM of the table removes them.",
											 100.0 * share, table, (double) tab->n_live_tuples, tids));
				row->vacuum_bytes = share * row->num[BC_LIVE_BYTES];
				row->vacuum_target = table;
			}
		}
	}

	if (sampled && n < MNP_BLOAT_MIN_SAMPLE)
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("Only %u pages were sampled; the error bound needs at least %d.",
									 n, MNP_BLOAT_MIN_SAMPLE));
	}
	if (dedup && s.heap_tids > s.live_items)
		mnp_bloat_note(row, psprintf("Deduplicated: %.1f heap TIDs per leaf item on average; the expected size assumes REINDEX deduplicates the same way.",
									 s.heap_tids / s.live_items));
	if (s.dead_items > 0)
		mnp_bloat_note(row, "Some items are flagged dead (LP_DEAD); the next VACUUM or page split removes them.");
	if (s.deleted_pages + s.half_dead_pages > 0)
		mnp_bloat_note(row, "Deleted and half-dead pages count as free: VACUUM recycles them for this index, only REINDEX returns them.");
}

/* ---------------------------------------------------------------------
 * Catalog estimate
 * ---------------------------------------------------------------------
 */

/* Average width and null fraction of one column from pg_statistic. */
static bool
mnp_est_column(Oid relid, AttrNumber attnum, Oid typid, int32 typmod,
			   double *width, double *nullfrac, double *ndistinct)
{
	HeapTuple	tup;

	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(attnum), BoolGetDatum(false));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_statistic st = (Form_pg_statistic) GETSTRUCT(tup);

		*width = st->stawidth;
		*nullfrac = st->stanullfrac;
		*ndistinct = st->stadistinct;
		ReleaseSysCache(tup);
		return true;
	}
	*width = get_typavgwidth(typid, typmod);
	*nullfrac = 0;
	*ndistinct = 0;
	return false;
}

/*
 * Add one column of average width w, present in a share (1 - nullfrac) of
 * rows, to a running data length, with the alignment a stored value gets
 * (short varlenas are not aligned).
 */
static double
mnp_est_add_column(double len, Form_pg_attribute att, double width,
				   double nullfrac)
{
	Size		alignment;

	switch (att->attalign)
	{
		case TYPALIGN_SHORT:
			alignment = ALIGNOF_SHORT;
			break;
		case TYPALIGN_INT:
			alignment = ALIGNOF_INT;
			break;
		case TYPALIGN_DOUBLE:
			alignment = ALIGNOF_DOUBLE;
			break;
		default:
			alignment = 1;
			break;
	}
	if (att->attlen == -1 && width < 127)
		alignment = 1;			/* stored with a 1-byte header, unaligned */
	if (nullfrac < 1.0)
		len = TYPEALIGN(alignment, (Size) ceil(len));
	return len + (1.0 - nullfrac) * width;
}

/* Whether a relation's statistics are stale; sets *why. */
static bool
mnp_est_stale(Form_pg_class cls, BlockNumber nblocks, Oid relid, const char **why)
{
	PgStat_StatTabEntry *tab;

	if (cls->relpages > 0 &&
		fabs((double) nblocks - cls->relpages) > Max(0.2 * cls->relpages, 8.0))
	{
		*why = "the relation's size changed by more than 20% since the last VACUUM or ANALYZE";
		return true;
	}
	tab = pgstat_fetch_stat_tabentry(relid);
	if (tab != NULL && cls->reltuples >= 0 &&
		tab->changes_since_analyze > 0.1 * cls->reltuples + 50)
	{
		*why = "more than 10% of the rows changed since the last ANALYZE";
		return true;
	}
	return false;
}

/* Heap estimate from pg_class, pg_statistic and the cumulative stats. */
static void
mnp_bloat_estimate_heap(Relation rel, BlockNumber nblocks, mnpBloatRow *row)
{
	Form_pg_class cls = rel->rd_rel;
	TupleDesc	desc = RelationGetDescr(rel);
	Size		save_free = RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR);
	double		data = 0;
	bool		anynull = false;
	int			missing = 0;
	bool		dropped = false;
	double		tuples;
	double		len;
	double		fp;
	double		tpp;
	const char *why;
	PgStat_StatTabEntry *tab;

	row->method = "estimate";
	row->num[BC_PAGES_READ] = 0;
	row->num[BC_FILLFACTOR] = RelationGetFillFactor(rel, HEAP_DEFAULT_FILLFACTOR);

	/*
	 * Live rows: the cumulative statistics' count, which every insert and
	 * delete keeps current; else pg_class's, scaled to today's size.
	 */
	tab = pgstat_fetch_stat_tabentry(RelationGetRelid(rel));
	if (tab != NULL)
		tuples = tab->n_live_tuples;
	else if (cls->reltuples >= 0)
		tuples = cls->relpages > 0 ?
			cls->reltuples / cls->relpages * nblocks : cls->reltuples;
	else
	{
		row->reliable = false;
		mnp_bloat_note(row, "No statistics: the relation was never vacuumed or analyzed; run ANALYZE or use mode => 'sample'.");
		return;
	}

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		double		width,
					nullfrac,
					nd;

		if (att->attisdropped)
		{
			dropped = true;
			continue;
		}
		if (cls->relkind == RELKIND_TOASTVALUE)
		{
			/* chunk_id, chunk_seq, chunk_data: assume full chunks */
			width = (att->attnum == 3) ? TOAST_MAX_CHUNK_SIZE + VARHDRSZ : att->attlen;
			nullfrac = 0;
		}
		else if (!mnp_est_column(RelationGetRelid(rel), att->attnum,
								 att->atttypid, att->atttypmod,
								 &width, &nullfrac, &nd))
			missing++;
		if (nullfrac > 0)
			anynull = true;
		data = mnp_est_add_column(data, att, width, nullfrac);
	}

	len = MAXALIGN(SizeofHeapTupleHeader + (anynull ? BITMAPLEN(desc->natts) : 0)) +
		ceil(data);
	fp = MAXALIGN((Size) len) + sizeof(ItemIdData);
	tpp = floor((BLCKSZ - SizeOfPageHeaderData - save_free) / fp);
	tpp = Max(tpp, 1.0);
	tpp = Min(tpp, (double) MaxHeapTuplesPerPage);

	row->num[BC_LIVE_TUPLES] = tuples;
	row->num[BC_LIVE_BYTES] = tuples * len;
	row->num[BC_EXPECTED_BYTES] = ceil(tuples / tpp) * BLCKSZ;
	if (tab != NULL)
	{
		row->num[BC_DEAD_TUPLES] = tab->n_dead_tuples;
		row->num[BC_DEAD_BYTES] = tab->n_dead_tuples * len;
		row->vacuum_bytes = row->num[BC_DEAD_BYTES];
	}

	if (missing > 0)
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("No column statistics for %d column(s); run ANALYZE or use mode => 'sample'.",
									 missing));
	}
	if (mnp_est_stale(cls, nblocks, RelationGetRelid(rel), &why))
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("Stale statistics: %s; run ANALYZE or use mode => 'sample'.", why));
	}
	if (dropped)
	{
		row->reliable = false;
		mnp_bloat_note(row, "Dropped columns: rows written before the drop may still store their values, and the estimate cannot tell that space from dead rows and free space; use mode => 'sample'.");
	}
	if (cls->relkind == RELKIND_TOASTVALUE)
	{
		row->reliable = false;
		mnp_bloat_note(row, "TOAST tables have no column statistics: the estimate assumes every chunk is full; use mode => 'sample'.");
	}
}

/* Btree estimate from the index's and its table's statistics. */
static void
mnp_bloat_estimate_btree(Relation rel, BlockNumber nblocks, mnpBloatRow *row)
{
	Form_pg_index idx = rel->rd_index;
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_class cls = rel->rd_rel;
	HeapTuple	heaptup;
	Form_pg_class heapcls;
	PgStat_StatTabEntry *heaptab;
	double		data = 0;
	bool		anynull = false;
	int			missing = 0;
	double		distinct_product = 1;
	bool		distinct_known = true;
	double		heap_tuples;
	double		tuples;
	double		itupsz;
	double		fp;
	double		avail;
	double		leaf_tpp;
	double		int_tpp;
	double		leaf;
	double		internal = 0;
	double		level;
	const char *why;

	row->method = "estimate";
	row->num[BC_PAGES_READ] = 0;
	row->num[BC_FILLFACTOR] = BTGetFillFactor(rel);

	heaptup = SearchSysCache1(RELOID, ObjectIdGetDatum(idx->indrelid));
	if (!HeapTupleIsValid(heaptup))
		elog(ERROR, "cache lookup failed for relation %u", idx->indrelid);
	heapcls = (Form_pg_class) GETSTRUCT(heaptup);
	heap_tuples = heapcls->reltuples;

	/*
	 * Entries: for a full index, the table's live rows from the cumulative
	 * statistics (kept current by every insert and delete); else the
	 * index's pg_class count scaled to today's size.
	 */
	heaptab = pgstat_fetch_stat_tabentry(idx->indrelid);
	if (heaptab != NULL && heap_attisnull(rel->rd_indextuple, Anum_pg_index_indpred, NULL))
		tuples = heaptab->n_live_tuples;
	else if (cls->reltuples >= 0)
		tuples = cls->relpages > 0 ?
			cls->reltuples / cls->relpages * nblocks : cls->reltuples;
	else
		tuples = -1;
	if (tuples < 0)
	{
		ReleaseSysCache(heaptup);
		row->reliable = false;
		mnp_bloat_note(row, "No statistics: the table was never vacuumed or analyzed; run ANALYZE or use mode => 'sample'.");
		return;
	}

	for (int i = 0; i < idx->indnatts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		AttrNumber	heapatt = idx->indkey.values[i];
		double		width,
					nullfrac,
					nd;
		bool		found;

		if (heapatt != 0)
			found = mnp_est_column(idx->indrelid, heapatt, att->atttypid,
								   att->atttypmod, &width, &nullfrac, &nd);
		else
			found = mnp_est_column(RelationGetRelid(rel), i + 1, att->atttypid,
								   att->atttypmod, &width, &nullfrac, &nd);
		if (!found)
		{
			missing++;
			distinct_known = false;
		}
		else if (i < idx->indnkeyatts)
		{
			if (nd > 0)
				distinct_product *= nd;
			else if (nd < 0 && heap_tuples > 0)
				distinct_product *= -nd * heap_tuples;
			else
				distinct_known = false;
		}
		if (nullfrac > 0)
			anynull = true;
		data = mnp_est_add_column(data, att, width, nullfrac);
	}

	itupsz = MAXALIGN(MAXALIGN(sizeof(IndexTupleData) +
							   (anynull ? sizeof(IndexAttributeBitMapData) : 0)) +
					  (Size) ceil(data));
	fp = itupsz + sizeof(ItemIdData);
	avail = BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(BTPageOpaqueData));
	leaf_tpp = Max(floor((avail - BTGetTargetPageFreeSpace(rel) - fp) / fp), 1.0);
	int_tpp = Max(floor((avail - BLCKSZ * (100 - BTREE_NONLEAF_FILLFACTOR) / 100) / fp), 2.0);
	leaf = Max(ceil(tuples / leaf_tpp), 1.0);
	for (level = leaf; level > 1; level = ceil(level / int_tpp))
		internal += ceil(level / int_tpp);

	row->num[BC_LIVE_TUPLES] = tuples;
	row->num[BC_HEAP_TIDS] = tuples;
	row->num[BC_LIVE_BYTES] = tuples * itupsz;
	row->num[BC_EXPECTED_BYTES] = nblocks > 0 ? (1 + leaf + internal) * BLCKSZ : 0;

	if (missing > 0)
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("No column statistics for %d index column(s); run ANALYZE or use mode => 'sample'.",
									 missing));
	}
	if (mnp_est_stale(heapcls, (BlockNumber) Max(heapcls->relpages, 0), idx->indrelid, &why) ||
		mnp_est_stale(cls, nblocks, RelationGetRelid(rel), &why))
	{
		row->reliable = false;
		mnp_bloat_note(row, psprintf("Stale statistics: %s; run ANALYZE or use mode => 'sample'.", why));
	}
	if (!idx->indisunique && BTGetDeduplicateItems(rel) &&
		idx->indnkeyatts == idx->indnatts &&	/* INCLUDE: no deduplication */
		(!distinct_known || distinct_product < 0.5 * tuples))
	{
		row->reliable = false;
		mnp_bloat_note(row, "Deduplicated index: duplicate keys share posting lists, so the index is smaller than the statistics predict and the estimate understates bloat; use mode => 'sample'.");
	}
	ReleaseSysCache(heaptup);
}

/* ---------------------------------------------------------------------
 * One measurement
 * ---------------------------------------------------------------------
 */

/* Quoted name of the table VACUUM should act on for a TOAST table. */
static char *
mnp_toast_owner_name(Relation toastrel)
{
	const char *name = RelationGetRelationName(toastrel);
	Oid			owner;
	HeapTuple	tup;
	char	   *result = NULL;

	if (sscanf(name, "pg_toast_%u", &owner) == 1)
	{
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(owner));
		if (HeapTupleIsValid(tup))
		{
			Form_pg_class cls = (Form_pg_class) GETSTRUCT(tup);

			if (cls->reltoastrelid == RelationGetRelid(toastrel))
				result = quote_qualified_identifier(get_namespace_name(cls->relnamespace),
													NameStr(cls->relname));
			ReleaseSysCache(tup);
		}
	}
	return result;
}

/* Decide the action from the measured figures and the thresholds. */
static void
mnp_bloat_decide(mnpBloatRow *row, const char *quoted_name)
{
	double		total = row->num[BC_TOTAL_BYTES];
	double		reclaimable = row->num[BC_RECLAIMABLE_BYTES];
	double		min_bytes = (double) mnp_bloat_min_kb * 1024.0;
	double		dead_lp = row->num[BC_DEAD_LINE_POINTERS];
	double		live = row->num[BC_LIVE_TUPLES];

	if (total <= 0 || isnan(reclaimable))
		return;
	if (!row->reliable)
	{
		mnp_bloat_note(row, strcmp(row->method, "estimate") == 0 ?
					   "No action is proposed from an unreliable estimate." :
					   "No action is proposed from so small a sample.");
		return;
	}

	if (row->kind == MNP_KIND_BTREE)
	{
		if (row->vacuum_bytes >= min_bytes &&
			row->vacuum_bytes / total >= mnp_bloat_min_ratio)
		{
			row->action = psprintf("VACUUM %s", row->vacuum_target);
			mnp_bloat_note(row, "Measure the index again after VACUUM.");
		}
		else if (reclaimable >= min_bytes && reclaimable / total >= mnp_bloat_min_ratio)
			row->action = psprintf("REINDEX INDEX CONCURRENTLY %s", quoted_name);
		return;
	}

	/*
	 * Heap: dead tuples (or line pointers left by pruning) first -- VACUUM
	 * makes their space reusable; then space only a rewrite gives back.
	 */
	if ((!isnan(row->vacuum_bytes) && row->vacuum_bytes >= min_bytes &&
		 row->vacuum_bytes / total >= mnp_bloat_min_ratio) ||
		(!isnan(dead_lp) && reclaimable >= min_bytes &&
		 dead_lp / Max(dead_lp + live, 1.0) >= mnp_bloat_min_ratio))
	{
		row->action = psprintf("VACUUM %s", row->vacuum_target);
		mnp_bloat_note(row, "Measure again after VACUUM: space it frees inside pages stays in the table for new rows.");
	}
	else if (reclaimable >= min_bytes && reclaimable / total >= mnp_bloat_min_ratio)
	{
		row->action = psprintf("VACUUM FULL %s", row->vacuum_target);
		mnp_bloat_note(row, "VACUUM FULL holds an ACCESS EXCLUSIVE lock while it rewrites; pg_repack gives the space back online.");
	}
}

/*
 * Measure one relation into *row.  Errors for bad input.  In the report
 * (for_report): a relation dropped meanwhile returns false, one locked by
 * someone else is returned as skipped instead of waited for, and a sample
 * that would read more than budget pages becomes a catalog estimate.
 */
static bool
mnp_bloat_measure(Oid relid, mnpBloatMode mode, int sample_pages,
				  bool for_report, int64 budget, mnpBloatRow *row)
{
	Relation	rel;
	char		relkind;
	BlockNumber nblocks;
	char	   *quoted;
	double		total;

	mnp_bloat_row_init(row, relid);

	if (for_report)
	{
		if (!ConditionalLockRelationOid(relid, AccessShareLock))
		{
			char	   *relname = get_rel_name(relid);

			if (relname == NULL)
				return false;
			row->relname = relname;
			row->nspname = get_namespace_name(get_rel_namespace(relid));
			row->kind = get_rel_relkind(relid) == RELKIND_INDEX ? MNP_KIND_BTREE :
				get_rel_relkind(relid) == RELKIND_TOASTVALUE ? MNP_KIND_TOAST :
				get_rel_relkind(relid) == RELKIND_MATVIEW ? MNP_KIND_MATVIEW : MNP_KIND_TABLE;
			row->method = "skipped";
			row->reliable = false;
			mnp_bloat_note(row, "Not measured: another session holds a lock that conflicts with reading it (VACUUM FULL, CLUSTER, ALTER TABLE, ...).");
			return true;
		}
		rel = try_relation_open(relid, NoLock);
		if (rel == NULL)
		{
			UnlockRelationOid(relid, AccessShareLock);
			return false;
		}
	}
	else
	{
		rel = try_relation_open(relid, AccessShareLock);
		if (rel == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid),
					 errdetail("It may have been dropped since its OID was looked up."),
					 errhint("Look the relation up again by name.")));
	}

	relkind = rel->rd_rel->relkind;
	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_MATVIEW:
		case RELKIND_TOASTVALUE:
			if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot measure bloat of \"%s\"", RelationGetRelationName(rel)),
						 errdetail("Only tables using the heap access method are supported; this one uses \"%s\".",
								   get_am_name(rel->rd_rel->relam))));
			row->kind = relkind == RELKIND_RELATION ? MNP_KIND_TABLE :
				relkind == RELKIND_MATVIEW ? MNP_KIND_MATVIEW : MNP_KIND_TOAST;
			break;
		case RELKIND_INDEX:
			if (rel->rd_rel->relam != BTREE_AM_OID)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot measure bloat of %s index \"%s\"",
								get_am_name(rel->rd_rel->relam),
								RelationGetRelationName(rel)),
						 errdetail("Only btree indexes are supported."),
						 errhint("REINDEX rebuilds an index of any type compactly.")));
			if (!rel->rd_index->indisvalid)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("index \"%s\" is not valid", RelationGetRelationName(rel)),
						 errdetail("A failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY left it behind."),
						 errhint("Drop it, or rebuild it with REINDEX INDEX CONCURRENTLY.")));
			row->kind = MNP_KIND_BTREE;
			break;
		case RELKIND_PARTITIONED_TABLE:
		case RELKIND_PARTITIONED_INDEX:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot measure bloat of partitioned %s \"%s\"",
							relkind == RELKIND_PARTITIONED_TABLE ? "table" : "index",
							RelationGetRelationName(rel)),
					 errdetail("A partitioned relation has no storage of its own; each partition is bloated or not on its own."),
					 errhint("Measure the partitions: SELECT b.* FROM pg_partition_tree('%s') p, medianest_perf.bloat(p.relid) b WHERE p.isleaf;",
							 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
														RelationGetRelationName(rel)))));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("cannot measure bloat of \"%s\"", RelationGetRelationName(rel)),
					 errdetail_relkind_not_supported(relkind)));
	}

	if (RELATION_IS_OTHER_TEMP(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot measure bloat of temporary relation \"%s\" of another session",
						RelationGetRelationName(rel)),
				 errdetail("Its pages are in the other session's local buffers.")));

	row->nspname = get_namespace_name(RelationGetNamespace(rel));
	row->relname = pstrdup(RelationGetRelationName(rel));
	quoted = quote_qualified_identifier(row->nspname, row->relname);
	row->vacuum_target = quoted;
	if (row->kind == MNP_KIND_TOAST)
	{
		char	   *owner = mnp_toast_owner_name(rel);

		if (owner != NULL)
			row->vacuum_target = owner;
	}

	nblocks = RelationGetNumberOfBlocks(rel);
	total = (double) nblocks * BLCKSZ;
	row->num[BC_PAGES] = nblocks;
	row->num[BC_TOTAL_BYTES] = total;

	if (for_report && mode == MNP_BLOAT_SAMPLE)
	{
		int64		to_read = Min((int64) nblocks - (row->kind == MNP_KIND_BTREE ? 1 : 0),
								  (int64) sample_pages);

		if (Max(to_read, 0) > budget)
		{
			mode = MNP_BLOAT_ESTIMATE;
			mnp_bloat_note(row, "Estimated: the page budget of the report (medianest_perf.bloat_report_max_pages) was spent on larger relations.");
		}
	}

	if (mode == MNP_BLOAT_ESTIMATE)
	{
		if (row->kind == MNP_KIND_BTREE)
			mnp_bloat_estimate_btree(rel, nblocks, row);
		else
			mnp_bloat_estimate_heap(rel, nblocks, row);
	}
	else if (row->kind == MNP_KIND_BTREE)
		mnp_bloat_btree(rel, nblocks, mode, sample_pages, row);
	else
		mnp_bloat_heap(rel, nblocks, mode, sample_pages, row);

	if (!isnan(row->num[BC_EXPECTED_BYTES]))
	{
		double		reclaimable = Max(total - row->num[BC_EXPECTED_BYTES], 0.0);

		row->num[BC_RECLAIMABLE_BYTES] = reclaimable;
		row->num[BC_BLOAT_PCT] = total > 0 ? 100.0 * reclaimable / total : 0.0;
	}
	mnp_bloat_decide(row, quoted);

	relation_close(rel, AccessShareLock);
	return true;
}

/* Turn a finished row into the SQL row's values. */
static void
mnp_bloat_row_to_values(mnpBloatRow *row, Datum *values, bool *nulls)
{
	for (int i = 0; i < BC_NCOLS; i++)
	{
		double		v = row->num[i];

		nulls[i] = false;
		switch ((mnpBloatCol) i)
		{
			case BC_RELID:
				values[i] = ObjectIdGetDatum(row->relid);
				break;
			case BC_SCHEMANAME:
				values[i] = CStringGetDatum(row->nspname ? row->nspname : "");
				values[i] = DirectFunctionCall1(namein, values[i]);
				break;
			case BC_RELNAME:
				values[i] = CStringGetDatum(row->relname ? row->relname : "");
				values[i] = DirectFunctionCall1(namein, values[i]);
				break;
			case BC_KIND:
				values[i] = CStringGetTextDatum(mnp_kind_names[row->kind]);
				break;
			case BC_METHOD:
				values[i] = CStringGetTextDatum(row->method);
				break;
			case BC_RELIABLE:
				values[i] = BoolGetDatum(row->reliable);
				break;
			case BC_NOTE:
				if (row->note.len > 0)
					values[i] = CStringGetTextDatum(row->note.data);
				else
					nulls[i] = true;
				break;
			case BC_ACTION:
				values[i] = CStringGetTextDatum(row->action);
				break;
			case BC_FILLFACTOR:
				if (isnan(v))
					nulls[i] = true;
				else
					values[i] = Int32GetDatum((int32) v);
				break;
			case BC_LEAF_DENSITY:
			case BC_BLOAT_PCT:
			case BC_BLOAT_PCT_ERROR:
				if (isnan(v))
					nulls[i] = true;
				else
					values[i] = Float8GetDatum(v);
				break;
			default:			/* bigint columns */
				if (isnan(v))
					nulls[i] = true;
				else
					values[i] = Int64GetDatum((int64) llround(v));
				break;
		}
	}
}

/* ---------------------------------------------------------------------
 * SQL-callable functions
 * ---------------------------------------------------------------------
 */

/* medianest_perf.bloat(rel, mode, sample_pages) */
Datum
mnp_bloat_1_0(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *modestr;
	int			sample_pages;
	mnpBloatMode mode;
	mnpBloatRow row;
	TupleDesc	tupdesc;
	Datum		values[BC_NCOLS];
	bool		nulls[BC_NCOLS];

	mnp_bloat_check_privileges();

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("mode must not be null"),
				 errhint("Use 'sample', 'exact' or 'estimate'.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sample_pages must not be null")));

	relid = PG_GETARG_OID(0);
	modestr = text_to_cstring(PG_GETARG_TEXT_PP(1));
	sample_pages = PG_GETARG_INT32(2);

	if (strcmp(modestr, "sample") == 0)
		mode = MNP_BLOAT_SAMPLE;
	else if (strcmp(modestr, "exact") == 0)
		mode = MNP_BLOAT_EXACT;
	else if (strcmp(modestr, "estimate") == 0)
		mode = MNP_BLOAT_ESTIMATE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid bloat mode \"%s\"", modestr),
				 errhint("Use 'sample', 'exact' or 'estimate'.")));

	if (sample_pages < 1 || sample_pages > MNP_BLOAT_MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_pages must be between 1 and %d", MNP_BLOAT_MAX_SAMPLE),
				 errhint("Use mode => 'exact' to read every page.")));

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	mnp_bloat_measure(relid, mode, sample_pages, false, -1, &row);
	mnp_bloat_row_to_values(&row, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * The relations of the report: user tables and materialized views (heap),
 * their TOAST tables, and the valid btree indexes of all of these, largest
 * first by pg_class.relpages (the catalog only: pg_relation_size() would
 * lock each relation, and wait behind a session that holds it).  Temporary
 * relations and system schemas are left out.
 */
static const char *const mnp_bloat_report_query =
"WITH heaps AS ("
"  SELECT c.oid, c.reltoastrelid"
"    FROM pg_catalog.pg_class c"
"    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
"   WHERE c.relkind IN ('r', 'm') AND c.relam = $1"
"     AND c.relpersistence <> 't'"
"     AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
"), tables AS ("
"  SELECT oid FROM heaps"
"  UNION ALL"
"  SELECT reltoastrelid FROM heaps WHERE reltoastrelid <> 0"
"), rels AS ("
"  SELECT oid FROM tables"
"  UNION ALL"
"  SELECT i.indexrelid FROM pg_catalog.pg_index i"
"    JOIN tables t ON t.oid = i.indrelid"
"    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
"   WHERE ic.relam = $2 AND i.indisvalid"
")"
" SELECT r.oid"
"   FROM rels r JOIN pg_catalog.pg_class c ON c.oid = r.oid"
"  ORDER BY c.relpages DESC, r.oid";

/* medianest_perf.bloat_report_1_0(): rows of the bloat_report view */
Datum
mnp_bloat_report_1_0(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2];
	int			nrels;
	Oid		   *relids;
	int64		budget = mnp_bloat_report_max_pages;
	int			per_rel = mnp_bloat_report_sample_pages;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext percall;

	mnp_bloat_check_privileges();
	InitMaterializedSRF(fcinfo, 0);

	args[0] = ObjectIdGetDatum(HEAP_TABLE_AM_OID);
	args[1] = ObjectIdGetDatum(BTREE_AM_OID);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(mnp_bloat_report_query, 2, argtypes, args, NULL,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the relations for the bloat report");
	nrels = (int) SPI_processed;
	relids = MemoryContextAlloc(outer, Max(nrels, 1) * sizeof(Oid));
	for (int i = 0; i < nrels; i++)
	{
		bool		isnull;

		relids[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();

	percall = AllocSetContextCreate(CurrentMemoryContext, "medianest_perf bloat report",
									ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < nrels; i++)
	{
		mnpBloatRow row;
		Datum		values[BC_NCOLS];
		bool		nulls[BC_NCOLS];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(percall);
		if (mnp_bloat_measure(relids[i], MNP_BLOAT_SAMPLE, per_rel, true, budget, &row))
		{
			if (!isnan(row.num[BC_PAGES_READ]))
				budget -= (int64) row.num[BC_PAGES_READ];
			mnp_bloat_row_to_values(&row, values, nulls);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(percall);
	}
	MemoryContextDelete(percall);
	return (Datum) 0;
}
