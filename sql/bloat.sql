--
-- bloat(): exact mode against pgstattuple / pgstatindex, sample and
-- estimate modes, actions, the bloat_report view and every error path.
--
-- Determinism: test tables have autovacuum off; tables with dead rows use
-- wide PLAIN rows (three to a page, 850 bytes free) so that no read ever
-- prunes them opportunistically; "free space" is made with a fillfactor
-- change rather than with VACUUM, whose result depends on the xmin horizon.
--
SELECT NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'medianest_perf') AS mnp_created \gset
SELECT NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple') AS pgst_created \gset
CREATE EXTENSION IF NOT EXISTS medianest_perf;
CREATE EXTENSION IF NOT EXISTS pgstattuple;
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bloat_test CASCADE;
DROP SCHEMA IF EXISTS "Weird; Name" CASCADE;
RESET client_min_messages;
CREATE SCHEMA bloat_test;
SET search_path = bloat_test, public;

-- the GUCs, their defaults and limits
SELECT name, setting, unit, context, min_val, max_val FROM pg_settings
 WHERE name LIKE 'medianest_perf.bloat%' ORDER BY name COLLATE "C";
SET medianest_perf.bloat_min_ratio = 1.5;
SET medianest_perf.bloat_report_sample_pages = 0;
-- actions on the small tables below
SET medianest_perf.bloat_min_bytes = 0;
SET medianest_perf.bloat_min_ratio = 0.2;

-- exact mode equals pgstattuple on a heap with dead rows
CREATE TABLE dead_rows (id int PRIMARY KEY, pad text)
  WITH (autovacuum_enabled = off);
ALTER TABLE dead_rows ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO dead_rows SELECT g, repeat('d', 2400) FROM generate_series(1, 300) g;
DELETE FROM dead_rows WHERE id % 3 = 0;
SELECT b.total_bytes = p.table_len AS total,
       b.live_tuples = p.tuple_count AS live_tuples,
       b.live_bytes = p.tuple_len AS live_bytes,
       b.dead_tuples = p.dead_tuple_count AS dead_tuples,
       b.dead_bytes = p.dead_tuple_len AS dead_bytes,
       b.free_bytes = p.free_space AS free_bytes
  FROM pgstattuple('dead_rows') p, medianest_perf.bloat('dead_rows', 'exact') b;
SELECT kind, method, pages, pages_read, live_tuples, dead_tuples, dead_line_pointers,
       fillfactor, expected_bytes / 8192 AS expected_pages, round(bloat_pct::numeric, 2) AS bloat_pct,
       bloat_pct_error, reliable, action
  FROM medianest_perf.bloat('dead_rows', 'exact');

-- the index: LP_DEAD items set by index scans, exact equals pgstattuple and pgstatindex
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM dead_rows WHERE id > 0;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT b.live_tuples = p.tuple_count AS live_tuples,
       b.live_bytes = p.tuple_len AS live_bytes,
       b.dead_tuples = p.dead_tuple_count AS dead_tuples,
       b.dead_bytes = p.dead_tuple_len AS dead_bytes,
       b.free_bytes = p.free_space AS free_bytes,
       round(b.leaf_density::numeric, 2) = i.avg_leaf_density AS leaf_density,
       b.deleted_pages = i.deleted_pages AS deleted_pages,
       b.half_dead_pages = i.empty_pages AS half_dead_pages,
       b.total_bytes = i.index_size AS total
  FROM pgstattuple('dead_rows_pkey') p, pgstatindex('dead_rows_pkey') i,
       medianest_perf.bloat('dead_rows_pkey', 'exact') b;
SELECT kind, method, pages, pages_read, heap_tids, fillfactor,
       round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('dead_rows_pkey', 'exact');

-- sample mode reads a relation smaller than the sample whole: exact
SELECT method, pages_read = pages AS read_all, bloat_pct_error
  FROM medianest_perf.bloat('dead_rows', 'sample', 1000);

-- sample mode on a larger relation: a stratified sample with a bound.
-- halves: 3 rows a page, the first 2000 of its 5000 pages deleted.  1200
-- of 5000 pages is under a quarter, so the sample is stratified: up to
-- three passes of 400 strata, 12.5 pages long.  The deleted range ends on a
-- stratum boundary, so every stratum is all dead or all live and the pages
-- read show no spread; the bound is then the floor for pages of a kind the
-- sample never met (3/400 of a page's worth, 0.84 points), within
-- bloat_target_error (1), and the sampler stops after the first pass.
CREATE TABLE halves (id int, pad text) WITH (autovacuum_enabled = off);
ALTER TABLE halves ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO halves SELECT g, repeat('h', 2400) FROM generate_series(1, 15000) g;
DELETE FROM halves WHERE id <= 6000;
WITH e AS (SELECT * FROM medianest_perf.bloat('halves', 'exact')),
     s AS (SELECT * FROM medianest_perf.bloat('halves', 'sample', 1200))
SELECT s.method, s.pages_read, e.pages, round(s.bloat_pct_error::numeric, 2) AS bound,
       abs(s.bloat_pct - e.bloat_pct) < 0.1 AS close,
       round(e.bloat_pct::numeric, 2) AS exact_bloat_pct
  FROM e, s;
-- every sampled page, with medianest_perf.bloat_target_error = 0
SET medianest_perf.bloat_target_error = 0;
SELECT pages_read FROM medianest_perf.bloat('halves', 'sample', 1200);
RESET medianest_perf.bloat_target_error;
-- spread: 2 of every 5 rows deleted, so pages differ from their
-- neighbours (0 to 3 of 3 rows dead) and the sample has a bound
CREATE TABLE spread (id int, pad text) WITH (autovacuum_enabled = off);
ALTER TABLE spread ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO spread SELECT g, repeat('s', 2400) FROM generate_series(1, 1500) g;
DELETE FROM spread WHERE id % 5 < 2;
WITH e AS (SELECT * FROM medianest_perf.bloat('spread', 'exact')),
     s AS (SELECT * FROM generate_series(1, 20) i,
                         medianest_perf.bloat('spread', 'sample', 120 + 0 * i))
SELECT min(s.method) AS method, bool_and(s.bloat_pct_error > 0) AS has_bound,
       -- within 4 bounds in all 20 runs: a wrong bound would fail this
       bool_and(abs(s.bloat_pct - e.bloat_pct) <= 4 * s.bloat_pct_error) AS within_bound,
       round(e.bloat_pct::numeric, 2) AS exact_bloat_pct
  FROM e, s GROUP BY e.bloat_pct;
-- rare: 5% of the pages emptied, scattered.  A pass of 40 points often
-- meets none of them, and its pages then show no spread; the bound must
-- still cover them (the floor for unseen kinds of pages) and the sampler
-- must not stop on a bound of 0.
CREATE TABLE rare (id int, pad text) WITH (autovacuum_enabled = off);
ALTER TABLE rare ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO rare SELECT g, repeat('r', 2400) FROM generate_series(1, 1500) g;
DELETE FROM rare WHERE abs(hashint4((id - 1) / 3)) % 20 = 0;
WITH e AS (SELECT * FROM medianest_perf.bloat('rare', 'exact')),
     s AS (SELECT * FROM generate_series(1, 20) i,
                         medianest_perf.bloat('rare', 'sample', 120 + 0 * i))
SELECT min(s.pages_read) AS min_pages_read, bool_and(s.bloat_pct_error >= 2.5) AS bound_floor,
       -- 4 bounds: a 95% bound is missed now and then, a missing one always
       bool_and(abs(s.bloat_pct - e.bloat_pct) <= 4 * s.bloat_pct_error) AS within_bound,
       e.bloat_pct > 0 AS has_bloat
  FROM e, s GROUP BY e.bloat_pct;
-- a deduplicated index of three keys: most leaf pages hold one key, whose
-- runs are packed only at the end.  The early stop must not read that as
-- a zero bound: a sample stops early only with a bound within the target.
CREATE TABLE dd3 (id int, k int) WITH (autovacuum_enabled = off);
INSERT INTO dd3 SELECT g, g % 3 FROM generate_series(1, 600000) g;
CREATE INDEX dd3_k ON dd3 (k);
DELETE FROM dd3 WHERE (id > 200000 AND id % 7 < 3) OR (id < 100000 AND id % 2 = 0);
VACUUM dd3;
WITH e AS (SELECT * FROM medianest_perf.bloat('dd3_k', 'exact')),
     s AS (SELECT * FROM generate_series(1, 8) i,
                         medianest_perf.bloat('dd3_k', 'sample', 90 + 0 * i))
SELECT e.pages > 4 * 90 AS stratified,
       bool_and(s.pages_read = 90 OR s.bloat_pct_error <= 1) AS stops_only_when_precise,
       bool_and(s.bloat_pct_error > 0) AS has_bound,
       bool_and(abs(s.bloat_pct - e.bloat_pct) <= 4 * s.bloat_pct_error) AS within_bound
  FROM e, s GROUP BY e.pages;
DROP TABLE dd3;
SELECT method, pages_read, reliable, action,
       note LIKE 'Only 10 pages were sampled; the error bound needs at least 30.%' AS says_why
  FROM medianest_perf.bloat('halves', 'sample', 10);

-- fillfactor: space it reserves is not bloat; after lowering the target it is
CREATE TABLE loose (id int, pad text) WITH (fillfactor = 50, autovacuum_enabled = off);
INSERT INTO loose SELECT g, repeat('l', 60) FROM generate_series(1, 5000) g;
SELECT fillfactor, reserved_bytes > 0 AS reserves, round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('loose', 'exact');
ALTER TABLE loose SET (fillfactor = 100);
SELECT fillfactor, reserved_bytes, pages, expected_bytes / 8192 AS expected_pages,
       round(bloat_pct::numeric, 2) AS bloat_pct, action, note
  FROM medianest_perf.bloat('loose', 'exact');
SELECT action FROM medianest_perf.bloat('loose', 'exact') \gexec
SELECT pages, round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('loose', 'exact');

-- dropped columns: space only a rewrite gives back; the predicted size is
-- the size VACUUM FULL produces (rows of varying width)
CREATE TABLE dropped (id int, wide text, n int, v text) WITH (autovacuum_enabled = off);
INSERT INTO dropped SELECT g, repeat('w', 300), g, repeat('v', g % 500) FROM generate_series(1, 2000) g;
ALTER TABLE dropped DROP COLUMN wide;
SELECT b.live_bytes = p.tuple_len AS live_bytes, b.free_bytes = p.free_space AS free_bytes,
       b.dropped_column_bytes > 0 AS has_dropped, b.pages, b.expected_bytes / 8192 AS expected_pages,
       round(b.bloat_pct::numeric, 2) AS bloat_pct, b.action, b.note
  FROM pgstattuple('dropped') p, medianest_perf.bloat('dropped', 'exact') b;
VACUUM FULL dropped;
SELECT dropped_column_bytes, pages, round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('dropped', 'exact');

-- btree: leaf density against the index fillfactor
CREATE INDEX loose_id ON loose (id) WITH (fillfactor = 50);
SELECT fillfactor, round(leaf_density::numeric, 0) AS leaf_density,
       round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('loose_id', 'exact');
ALTER INDEX loose_id SET (fillfactor = 90);
SELECT fillfactor, pages, expected_bytes / 8192 AS expected_pages,
       round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('loose_id', 'exact');
SELECT action FROM medianest_perf.bloat('loose_id', 'exact') \gexec
SELECT pages, round(leaf_density::numeric, 0) AS leaf_density, round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat('loose_id', 'exact');

-- btree deduplication: posting lists counted, a rebuild predicted as deduplicated
CREATE INDEX loose_bucket ON loose ((id % 10));
SELECT b.live_tuples = p.tuple_count AS live_tuples, b.live_bytes = p.tuple_len AS live_bytes,
       b.free_bytes = p.free_space AS free_bytes,
       round(b.leaf_density::numeric, 2) = i.avg_leaf_density AS leaf_density,
       b.heap_tids, b.live_tuples < b.heap_tids AS deduplicated,
       round(b.bloat_pct::numeric, 2) AS bloat_pct, b.note
  FROM pgstattuple('loose_bucket') p, pgstatindex('loose_bucket') i,
       medianest_perf.bloat('loose_bucket', 'exact') b;

-- a deduplicated index grown by inserts (page splits): the predicted size
-- is what REINDEX builds
CREATE TABLE churn (id int, grp int) WITH (autovacuum_enabled = off);
INSERT INTO churn SELECT g, g % 40 FROM generate_series(1, 20000) g;
CREATE INDEX churn_grp ON churn (grp);
INSERT INTO churn SELECT g, g % 40 FROM generate_series(20001, 60000) g;
CREATE TEMP TABLE churn_before AS
  SELECT * FROM medianest_perf.bloat('bloat_test.churn_grp', 'exact');
SELECT pages, expected_bytes / 8192 AS expected_pages, round(bloat_pct::numeric, 2) AS bloat_pct,
       round(leaf_density::numeric, 0) AS leaf_density, action
  FROM churn_before;
SELECT action FROM churn_before \gexec
SELECT b.pages = a.expected_bytes / 8192 AS predicted_exactly, round(b.bloat_pct::numeric, 2) AS bloat_pct
  FROM churn_before a, medianest_perf.bloat('churn_grp', 'exact') b;

-- TOAST table and materialized view
CREATE TABLE docs (id int, body text) WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO docs SELECT g, repeat('0123456789', 400) FROM generate_series(1, 200) g;
SELECT reltoastrelid AS docs_toast FROM pg_class WHERE oid = 'docs'::regclass \gset
SELECT b.live_tuples = p.tuple_count AS live_tuples, b.live_bytes = p.tuple_len AS live_bytes,
       b.free_bytes = p.free_space AS free_bytes, b.kind, b.method, b.action
  FROM pgstattuple((:docs_toast)::regclass) p, medianest_perf.bloat((:docs_toast)::regclass, 'exact') b;
DELETE FROM docs WHERE id % 2 = 0;
SELECT pg_stat_force_next_flush();
SELECT kind, round(bloat_pct::numeric, 2) AS bloat_pct, action
  FROM medianest_perf.bloat((:docs_toast)::regclass, 'exact');
SELECT kind, method, reliable, note FROM medianest_perf.bloat((:docs_toast)::regclass, 'estimate');
CREATE MATERIALIZED VIEW loose_mv AS SELECT * FROM loose;
SELECT b.live_bytes = p.tuple_len AS live_bytes, b.free_bytes = p.free_space AS free_bytes,
       b.kind, b.method, round(b.bloat_pct::numeric, 2) AS bloat_pct, b.action
  FROM pgstattuple('loose_mv') p, medianest_perf.bloat('loose_mv') b;

-- names that need quoting round-trip through the action
CREATE SCHEMA "Weird; Name";
CREATE TABLE public.y (a int);
CREATE TABLE "Weird; Name"."x""; DROP TABLE y; --" (id int, pad text)
  WITH (autovacuum_enabled = off);
INSERT INTO "Weird; Name"."x""; DROP TABLE y; --" SELECT g, repeat('q', 20) FROM generate_series(1, 5000) g;
CREATE INDEX "Ix; DROP TABLE y; --" ON "Weird; Name"."x""; DROP TABLE y; --" (id) WITH (fillfactor = 10);
ALTER INDEX "Weird; Name"."Ix; DROP TABLE y; --" SET (fillfactor = 90);
SELECT action FROM medianest_perf.bloat('"Weird; Name"."Ix; DROP TABLE y; --"', 'exact');
SELECT action FROM medianest_perf.bloat('"Weird; Name"."Ix; DROP TABLE y; --"', 'exact') \gexec
SELECT action FROM medianest_perf.bloat('"Weird; Name"."Ix; DROP TABLE y; --"', 'exact');
DELETE FROM "Weird; Name"."x""; DROP TABLE y; --" WHERE id % 2 = 0;
SELECT schemaname, relname, action FROM medianest_perf.bloat('"Weird; Name"."x""; DROP TABLE y; --"', 'exact');
SELECT action FROM medianest_perf.bloat('"Weird; Name"."x""; DROP TABLE y; --"', 'exact') \gexec
SELECT to_regclass('public.y') IS NOT NULL AS y_still_exists;
DROP TABLE public.y;

-- thresholds: nothing below bloat_min_bytes or bloat_min_ratio
SET medianest_perf.bloat_min_bytes = '10MB';
SELECT action FROM medianest_perf.bloat('dead_rows', 'exact');
SET medianest_perf.bloat_min_bytes = 0;
SET medianest_perf.bloat_min_ratio = 0.9;
SELECT action FROM medianest_perf.bloat('dead_rows', 'exact');
SET medianest_perf.bloat_min_ratio = 0.2;

-- estimate mode: no page read; flags its known failure cases
CREATE TABLE est (id int PRIMARY KEY, grp int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO est SELECT g, g % 7, repeat('e', 50) FROM generate_series(1, 10000) g;
CREATE INDEX est_grp ON est (grp);
-- the cumulative statistics are flushed at most once a second unless forced
SELECT pg_stat_force_next_flush();
SELECT method, pages_read, reliable, note FROM medianest_perf.bloat('est', 'estimate');
ANALYZE est;
SELECT method, pages_read, reliable, round(bloat_pct::numeric, 0) AS bloat_pct, bloat_pct_error, note
  FROM medianest_perf.bloat('est', 'estimate');
SELECT relname, reliable, round(bloat_pct::numeric, 0) AS bloat_pct, note
  FROM medianest_perf.bloat('est_pkey', 'estimate')
UNION ALL
SELECT relname, reliable, round(bloat_pct::numeric, 0), note
  FROM medianest_perf.bloat('est_grp', 'estimate');
DELETE FROM est WHERE id > 2000;
SELECT pg_stat_force_next_flush();
SELECT reliable, note FROM medianest_perf.bloat('est', 'estimate');
ANALYZE est;
ALTER TABLE est DROP COLUMN pad;
SELECT reliable, note FROM medianest_perf.bloat('est', 'estimate');

-- bloat_report: every user table and btree index, within the page budget
CREATE INDEX loose_hash ON loose USING hash (id);
SET medianest_perf.bloat_report_sample_pages = 20;
SET medianest_perf.bloat_report_max_pages = 1000000;
SELECT relname, kind, method, pages_read = least(pages - (kind = 'btree index')::int, 20) AS budgeted
  FROM medianest_perf.bloat_report WHERE schemaname = 'bloat_test'
 ORDER BY relname COLLATE "C";
SELECT count(*) FILTER (WHERE c.relnamespace = 'pg_catalog'::regnamespace) AS system,
       count(*) FILTER (WHERE c.relkind = 'i' AND a.amname <> 'btree') AS not_btree
  FROM medianest_perf.bloat_report r JOIN pg_class c ON c.oid = r.relid
  JOIN pg_am a ON a.oid = c.relam;
SET medianest_perf.bloat_report_max_pages = 0;
SELECT method, count(*) FROM medianest_perf.bloat_report
 WHERE schemaname = 'bloat_test' AND pages > 1 GROUP BY method ORDER BY method COLLATE "C";
SET medianest_perf.bloat_report_max_pages = 50;
SELECT sum(pages_read) <= 50 AS within_budget FROM medianest_perf.bloat_report;
RESET medianest_perf.bloat_report_max_pages;
RESET medianest_perf.bloat_report_sample_pages;

-- errors
SELECT * FROM medianest_perf.bloat(NULL);
SELECT * FROM medianest_perf.bloat('dead_rows', NULL);
SELECT * FROM medianest_perf.bloat('dead_rows', 'sample', NULL);
SELECT * FROM medianest_perf.bloat('dead_rows', 'fast');
SELECT * FROM medianest_perf.bloat('dead_rows', 'sample', 0);
SELECT * FROM medianest_perf.bloat('dead_rows', 'sample', -5);
SELECT * FROM medianest_perf.bloat('dead_rows', 'sample', 2000000000);
CREATE SEQUENCE seq1;
SELECT * FROM medianest_perf.bloat('seq1');
CREATE VIEW view1 AS SELECT 1 AS one;
SELECT * FROM medianest_perf.bloat('view1');
CREATE FOREIGN DATA WRAPPER bloat_test_fdw;
CREATE SERVER bloat_test_srv FOREIGN DATA WRAPPER bloat_test_fdw;
CREATE FOREIGN TABLE ft1 (a int) SERVER bloat_test_srv;
SELECT * FROM medianest_perf.bloat('ft1');
CREATE TABLE parted (a int) PARTITION BY RANGE (a);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
CREATE INDEX parted_a ON parted (a);
SELECT * FROM medianest_perf.bloat('parted');
SELECT * FROM medianest_perf.bloat('parted_a');
SELECT b.relname, b.method FROM pg_partition_tree('parted') p, medianest_perf.bloat(p.relid) b WHERE p.isleaf;
SELECT * FROM medianest_perf.bloat('loose_hash');
CREATE INDEX loose_gin ON loose USING gin (to_tsvector('simple', pad));
SELECT * FROM medianest_perf.bloat('loose_gin', 'estimate');
CREATE TABLE gone (a int);
SELECT 'gone'::regclass::oid AS gone_oid \gset
DROP TABLE gone;
SET bloat_test.gone_oid = :'gone_oid';
DO $$
BEGIN
  PERFORM medianest_perf.bloat(current_setting('bloat_test.gone_oid')::oid);
EXCEPTION WHEN undefined_table THEN
  RAISE NOTICE 'dropped relation: SQLSTATE %', SQLSTATE;
END $$;
RESET bloat_test.gone_oid;

-- privileges: superuser or pg_stat_scan_tables
SET client_min_messages = warning;
DROP ROLE IF EXISTS mnp_bloat_plain;
DROP ROLE IF EXISTS mnp_bloat_scanner;
RESET client_min_messages;
CREATE ROLE mnp_bloat_plain;
CREATE ROLE mnp_bloat_scanner IN ROLE pg_stat_scan_tables;
GRANT USAGE ON SCHEMA bloat_test TO mnp_bloat_plain, mnp_bloat_scanner;
GRANT USAGE ON SCHEMA medianest_perf TO mnp_bloat_plain;
SET ROLE mnp_bloat_plain;
SELECT * FROM medianest_perf.bloat('dead_rows');
SELECT * FROM medianest_perf.bloat_report;
RESET ROLE;
GRANT EXECUTE ON FUNCTION medianest_perf.bloat(regclass, text, integer) TO mnp_bloat_plain;
GRANT EXECUTE ON FUNCTION medianest_perf.bloat_report_1_0() TO mnp_bloat_plain;
SET ROLE mnp_bloat_plain;
SELECT * FROM medianest_perf.bloat('dead_rows');
SELECT * FROM medianest_perf.bloat_report_1_0();
RESET ROLE;
SET ROLE mnp_bloat_scanner;
SELECT method, live_tuples FROM medianest_perf.bloat('dead_rows', 'exact');
SELECT count(*) > 0 AS sees_report FROM medianest_perf.bloat_report WHERE schemaname = 'bloat_test';
RESET ROLE;
REVOKE ALL ON FUNCTION medianest_perf.bloat(regclass, text, integer) FROM mnp_bloat_plain;
REVOKE ALL ON FUNCTION medianest_perf.bloat_report_1_0() FROM mnp_bloat_plain;
REVOKE ALL ON SCHEMA medianest_perf FROM mnp_bloat_plain;
REVOKE ALL ON SCHEMA bloat_test FROM mnp_bloat_plain, mnp_bloat_scanner;
DROP ROLE mnp_bloat_plain;
DROP ROLE mnp_bloat_scanner;

-- clean up
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA bloat_test CASCADE;
DROP SCHEMA "Weird; Name" CASCADE;
DROP SERVER bloat_test_srv;
DROP FOREIGN DATA WRAPPER bloat_test_fdw;
RESET client_min_messages;
\if :pgst_created
DROP EXTENSION pgstattuple;
\endif
\if :mnp_created
DROP EXTENSION medianest_perf;
\endif
