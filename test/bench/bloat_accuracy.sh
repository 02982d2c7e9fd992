#!/usr/bin/env bash
# Accuracy and speed of medianest_perf.bloat() against pgstattuple and
# pgstatindex, on tables (and their btree indexes) with known bloat:
#
#   fresh       freshly loaded
#   del_even    30% of the rows deleted evenly (every id % 10 < 3)
#   del_range   30% of the rows deleted in one range of ids
#   upd50       50% of the rows updated (non-HOT: the pages are full)
#   vacuumed    30% deleted evenly, then VACUUM
#   del_pages   30% of the pages emptied, the pages picked at random: not
#               one of the design budget's shapes but the worst case for a
#               sample (pages differ from their neighbours at random, so
#               strata do not help and the sampler reads all its passes)
#
# Each table gets a primary key (bigint, unique) and an index on a column
# with 100 distinct values (deduplicated).  For every relation it prints the
# exact figures of pgstattuple (tables) or pgstatindex (indexes), ours in
# sample, exact and estimate mode, the absolute errors in percentage points,
# and the time of each, as medians over interleaved runs.  It measures and
# prints; it asserts nothing.
#
# Usage: test/bench/bloat_accuracy.sh [SIZE_MB]
#   SIZE_MB               size of each freshly loaded table (default 128;
#                         run 1024 for the 1 GB figure of the design budget)
#   BLOAT_RUNS=5          interleaved runs per relation and method
#   BLOAT_SAMPLE_PAGES=   sample_pages for sample mode (default: bloat()'s)
#   BLOAT_IO_CONCURRENCY= maintenance_io_concurrency of the scratch cluster
#                         (default: PostgreSQL's, 10); the prefetch depth of
#                         sample mode once it finds the relation on disk
#   MNP_SANDBOX=DIR       install into a private copy of PostgreSQL (see
#                         test/lib.sh); the scratch cluster is removed at exit
#
# Before measuring, every table is read once (which prunes dead rows on full
# pages and sets hint bits, as any first reader would), analyzed, and
# checkpointed, so every method sees the same pages.
#
# Every timed call is made twice, in two controlled cache states:
#   warm  the relation was just read into the operating system's cache
#         (pg_prewarm(rel, 'read')), so no method waits for the disk;
#   cold  the relation's own files were just fsynced and dropped from the
#         operating system's cache (posix_fadvise DONTNEED on those files
#         only), so every page comes from the disk.
# Shared buffers hold almost none of it: pgstattuple, pgstatindex and
# bloat() all read through a small BAS_BULKREAD ring.
set -euo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

SIZE_MB=${1:-${BLOAT_SIZE_MB:-128}}
RUNS=${BLOAT_RUNS:-5}
SAMPLE_PAGES=${BLOAT_SAMPLE_PAGES:-}
IO_CONCURRENCY=${BLOAT_IO_CONCURRENCY:-10}

bash test/install_deps.sh
command -v python3 >/dev/null || { echo "python3 is needed to drop files from the cache" >&2; exit 1; }
mnp_log "building and installing"
mnp_build_install

WORK=$(mktemp -d /tmp/mnp-bloat-bench.XXXXXX)
cleanup() { mnp_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

mnp_cluster_init "$WORK" \
  "autovacuum = off" \
  "shared_buffers = 256MB" \
  "max_wal_size = 16GB" \
  "checkpoint_timeout = 1h" \
  "synchronous_commit = off" \
  "maintenance_work_mem = 512MB" \
  "maintenance_io_concurrency = $IO_CONCURRENCY"
mnp_cluster_start
mnp_log "scratch cluster on port $MNP_PORT; tables of $SIZE_MB MB, $RUNS runs, maintenance_io_concurrency $IO_CONCURRENCY"

# drop one relation's files (all segments) from the operating system's cache
cat >"$WORK/dropcache.py" <<'PY'
import glob, os, sys
for base in sys.argv[1:]:
    for path in [base] + glob.glob(base + ".*"):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
PY

PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d bloat_bench)
psql -X -q -d postgres -c "CREATE DATABASE bloat_bench"

# rows of (bigint, int, 80-byte text): 120 bytes + line pointer, 65 a page
ROWS=$(( SIZE_MB * 1024 * 1024 / 8192 * 65 ))

mnp_log "loading 6 tables of $ROWS rows"
"${PSQL[@]}" -v rows="$ROWS" <<'SQL'
CREATE EXTENSION pgstattuple;
CREATE EXTENSION pg_prewarm;
CREATE EXTENSION medianest_perf;
CREATE TABLE shape_fresh (id bigint, k int, pad text);
INSERT INTO shape_fresh SELECT g, g % 100, repeat('x', 80) FROM generate_series(1, :rows) g;
CREATE TABLE shape_del_even AS SELECT * FROM shape_fresh;
CREATE TABLE shape_del_range AS SELECT * FROM shape_fresh;
CREATE TABLE shape_upd50 AS SELECT * FROM shape_fresh;
CREATE TABLE shape_vacuumed AS SELECT * FROM shape_fresh;
CREATE TABLE shape_del_pages AS SELECT * FROM shape_fresh;
SELECT format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id)', c.relname, c.relname || '_pkey'),
       format('CREATE INDEX %I ON %I (k)', c.relname || '_k', c.relname)
  FROM pg_class c WHERE c.relname LIKE 'shape\_%' AND c.relkind = 'r' \gexec
DELETE FROM shape_del_even WHERE id % 10 < 3;
DELETE FROM shape_del_range WHERE id > 0.35 * :rows AND id <= 0.65 * :rows;
UPDATE shape_upd50 SET pad = repeat('y', 80) WHERE id % 2 = 0;
DELETE FROM shape_vacuumed WHERE id % 10 < 3;
-- 65 rows a page: (id - 1) / 65 is the page
DELETE FROM shape_del_pages WHERE abs(hashint8((id - 1) / 65)) % 10 < 3;
VACUUM shape_vacuumed;
SQL

mnp_log "first read, ANALYZE, CHECKPOINT"
"${PSQL[@]}" -o /dev/null <<'SQL'
SELECT format('SELECT count(*) FROM %I', relname) FROM pg_class
 WHERE relname LIKE 'shape\_%' AND relkind = 'r' \gexec
ANALYZE;
SELECT pg_stat_force_next_flush();
CHECKPOINT;

CREATE TABLE bench_result (
  run int, rel regclass, method text, cache text, ms double precision,
  bloat_pct double precision, bound double precision,
  live_pct double precision, dead_pct double precision, free_pct double precision,
  leaf_density double precision, pages_read bigint, reliable boolean);

-- one timed measurement; only the measuring statement is inside the clock
CREATE FUNCTION bench_one(p_run int, p_rel regclass, p_method text, p_sample int, p_cache text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  ms double precision;
  r record;
  p record;
BEGIN
  IF p_method = 'pgstattuple' THEN
    t0 := clock_timestamp();
    SELECT * INTO p FROM pgstattuple(p_rel);
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    INSERT INTO bench_result (run, rel, method, cache, ms, live_pct, dead_pct, free_pct, pages_read)
    VALUES (p_run, p_rel, p_method, p_cache, ms, p.tuple_percent, p.dead_tuple_percent,
            p.free_percent, p.table_len / 8192);
  ELSIF p_method = 'pgstatindex' THEN
    t0 := clock_timestamp();
    SELECT * INTO p FROM pgstatindex(p_rel);
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    INSERT INTO bench_result (run, rel, method, cache, ms, leaf_density, pages_read)
    VALUES (p_run, p_rel, p_method, p_cache, ms, p.avg_leaf_density, p.index_size / 8192);
  ELSE
    t0 := clock_timestamp();
    IF p_sample IS NULL THEN
      SELECT * INTO r FROM medianest_perf.bloat(p_rel, p_method);
    ELSE
      SELECT * INTO r FROM medianest_perf.bloat(p_rel, p_method, p_sample);
    END IF;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    INSERT INTO bench_result
    VALUES (p_run, p_rel, p_method, p_cache, ms, r.bloat_pct, r.bloat_pct_error,
            100.0 * r.live_bytes / nullif(r.total_bytes, 0),
            100.0 * r.dead_bytes / nullif(r.total_bytes, 0),
            100.0 * r.free_bytes / nullif(r.total_bytes, 0),
            r.leaf_density, r.pages_read, r.reliable);
  END IF;
END $$;
SQL

mnp_log "measuring: $RUNS interleaved runs, each call warm and cold"
for run in $(seq 1 "$RUNS"); do
  # the order of the methods rotates from run to run; before each call the
  # relation is read into the cache (warm) or dropped from it (cold)
  "${PSQL[@]}" -At -v run="$run" -v sample="${SAMPLE_PAGES:-NULL}" \
      -v pgdata="$MNP_PGDATA" -v drop="python3 $WORK/dropcache.py" >"$WORK/run.sql" <<'SQL'
WITH rels AS (
  SELECT c.oid::regclass AS rel, c.relkind, pg_relation_filepath(c.oid) AS path
    FROM pg_class c
   WHERE c.relname LIKE 'shape\_%' AND c.relkind IN ('r', 'i')),
calls AS (
  SELECT r.rel, r.path, m.method, m.ord, c.cache FROM rels r,
         LATERAL unnest(CASE WHEN r.relkind = 'r'
                             THEN ARRAY['pgstattuple', 'sample', 'exact', 'estimate']
                             ELSE ARRAY['pgstatindex', 'sample', 'exact', 'estimate'] END)
                 WITH ORDINALITY AS m(method, ord),
         unnest(ARRAY['warm', 'cold']) AS c(cache))
SELECT CASE cache
         WHEN 'warm' THEN format('SELECT pg_prewarm(%L::regclass, ''read'');', rel::text)
         ELSE format('\! %s %s/%s', :'drop', :'pgdata', path)
       END || E'\n' ||
       format('SELECT bench_one(%s, %L::regclass, %L, %s, %L);', :run, rel::text, method, :'sample', cache)
  FROM calls
 ORDER BY rel::text COLLATE "C", (ord + :run) % 4, cache;
SQL
  "${PSQL[@]}" -o /dev/null -f "$WORK/run.sql"
done

"${PSQL[@]}" -v sample="${SAMPLE_PAGES:-default}" <<'SQL'
\pset footer off
CREATE VIEW ref AS
  SELECT rel, avg(live_pct) AS live, avg(dead_pct) AS dead, avg(free_pct) AS free,
         avg(leaf_density) AS density, max(pages_read) AS pages
    FROM bench_result WHERE method IN ('pgstattuple', 'pgstatindex') GROUP BY rel;
CREATE VIEW ours AS
  SELECT rel, method,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY bloat_pct) AS bloat,
         max(bound) AS bound, min(pages_read) AS pages_min, max(pages_read) AS pages_read,
         array_agg(bloat_pct) AS bloats, array_agg(dead_pct) AS deads,
         array_agg(free_pct) AS frees, array_agg(leaf_density) AS densities,
         bool_and(reliable) AS reliable
    FROM bench_result WHERE method IN ('sample', 'exact', 'estimate') GROUP BY rel, method;

\echo
\echo Accuracy, tables: exact percentages from pgstattuple; our bloat_pct in sample, exact and estimate mode.
\echo   err_sample = max over all runs of |sample - exact| in points; err_dead and err_free against pgstattuple.
SELECT r.rel AS "table", r.pages,
       round(r.live::numeric, 1) AS "live%", round(r.dead::numeric, 1) AS "dead%",
       round(r.free::numeric, 1) AS "free%",
       round(e.bloat::numeric, 2) AS "exact bloat%",
       round(s.bloat::numeric, 2) AS "sample bloat%",
       '±' || round(s.bound::numeric, 2) AS bound,
       round((SELECT max(abs(b - e.bloat)) FROM unnest(s.bloats) b)::numeric, 2) AS err_sample,
       round((SELECT max(abs(d - r.dead)) FROM unnest(s.deads) d)::numeric, 2) AS err_dead,
       round((SELECT max(abs(f - r.free)) FROM unnest(s.frees) f)::numeric, 2) AS err_free,
       round(x.bloat::numeric, 2) AS "estimate bloat%",
       round(abs(x.bloat - e.bloat)::numeric, 2) AS err_est,
       x.reliable AS est_reliable,
       CASE WHEN s.pages_min = s.pages_read THEN s.pages_read::text
            ELSE s.pages_min || '-' || s.pages_read END AS sampled
  FROM ref r
  JOIN ours s ON s.rel = r.rel AND s.method = 'sample'
  JOIN ours e ON e.rel = r.rel AND e.method = 'exact'
  JOIN ours x ON x.rel = r.rel AND x.method = 'estimate'
 WHERE r.density IS NULL
 ORDER BY r.rel::text COLLATE "C";

\echo
\echo Accuracy, btree indexes: pgstatindex avg_leaf_density against our sample; bloat_pct sample against exact.
SELECT r.rel AS index, r.pages,
       round(r.density::numeric, 2) AS "pgstatindex density",
       round((SELECT max(abs(d - r.density)) FROM unnest(s.densities) d)::numeric, 2) AS err_density,
       round(e.bloat::numeric, 2) AS "exact bloat%",
       round(s.bloat::numeric, 2) AS "sample bloat%",
       '±' || round(s.bound::numeric, 2) AS bound,
       round((SELECT max(abs(b - e.bloat)) FROM unnest(s.bloats) b)::numeric, 2) AS err_sample,
       round(x.bloat::numeric, 2) AS "estimate bloat%",
       x.reliable AS est_reliable,
       CASE WHEN s.pages_min = s.pages_read THEN s.pages_read::text
            ELSE s.pages_min || '-' || s.pages_read END AS sampled
  FROM ref r
  JOIN ours s ON s.rel = r.rel AND s.method = 'sample'
  JOIN ours e ON e.rel = r.rel AND e.method = 'exact'
  JOIN ours x ON x.rel = r.rel AND x.method = 'estimate'
 WHERE r.density IS NOT NULL
 ORDER BY r.rel::text COLLATE "C";

\echo
\echo Time: medians in ms over the runs; ratio = sample / reference (pgstattuple for tables, pgstatindex for indexes).
WITH t AS (
  SELECT rel, cache, method, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
    FROM bench_result GROUP BY rel, cache, method)
SELECT t.rel AS relation, t.cache,
       round(t.ms::numeric, 1) AS reference_ms,
       round(e.ms::numeric, 1) AS exact_ms,
       round(s.ms::numeric, 2) AS sample_ms,
       round(x.ms::numeric, 2) AS estimate_ms,
       round((100 * s.ms / t.ms)::numeric, 2) || '%' AS "sample/reference"
  FROM t
  JOIN t s ON s.rel = t.rel AND s.cache = t.cache AND s.method = 'sample'
  JOIN t e ON e.rel = t.rel AND e.cache = t.cache AND e.method = 'exact'
  JOIN t x ON x.rel = t.rel AND x.cache = t.cache AND x.method = 'estimate'
 WHERE t.method IN ('pgstattuple', 'pgstatindex')
 ORDER BY t.rel::text COLLATE "C", t.cache DESC;

\echo
\echo Summary, by group: the shapes of the design budget (and their indexes), and del_pages.
SELECT CASE WHEN s.rel::text LIKE 'shape\_del\_pages%' THEN 'del_pages' ELSE 'budget shapes' END AS shapes,
       round(max(abs(s.bloat_pct - e.bloat_pct))::numeric, 2) AS "max |sample - exact| (points)",
       round(max(s.bound)::numeric, 2) AS "max reported bound",
       count(*) FILTER (WHERE abs(s.bloat_pct - e.bloat_pct) > s.bound + 0.05) AS "outside bound (+0.05)",
       count(*) AS "sample calls",
       :'sample' AS sample_pages
  FROM bench_result s
  JOIN (SELECT rel, avg(bloat_pct) AS bloat_pct FROM bench_result WHERE method = 'exact' GROUP BY rel) e
    ON e.rel = s.rel
 WHERE s.method = 'sample'
 GROUP BY 1 ORDER BY 1;
WITH t AS (
  SELECT rel, cache, method, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
    FROM bench_result GROUP BY rel, cache, method),
r AS (
  SELECT CASE WHEN t.rel::text = 'shape_del_pages' THEN 'del_pages' ELSE 'budget shapes' END AS shapes,
         t.cache, 100 * s.ms / t.ms AS ratio
    FROM t JOIN t s ON s.rel = t.rel AND s.cache = t.cache AND s.method = 'sample'
   WHERE t.method = 'pgstattuple')
SELECT shapes, cache, round(min(ratio)::numeric, 2) || '% .. ' || round(max(ratio)::numeric, 2) || '%'
         AS "tables: sample time / pgstattuple time (medians)"
  FROM r GROUP BY shapes, cache ORDER BY shapes, cache DESC;
SQL
