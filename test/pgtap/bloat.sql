-- Contract of bloat() and bloat_report: shape, privileges, and the exact
-- SQLSTATE of every error path.
BEGIN;
SELECT plan(43);

SET LOCAL client_min_messages = warning;
CREATE SCHEMA tap_bloat;
SET LOCAL search_path = tap_bloat, public;

-- shape
SELECT has_function('medianest_perf', 'bloat', ARRAY['regclass', 'text', 'integer']);
SELECT has_view('medianest_perf', 'bloat_report', 'bloat_report view exists');
SELECT columns_are('medianest_perf', 'bloat_report', ARRAY[
  'relid', 'schemaname', 'relname', 'kind', 'method', 'pages', 'pages_read',
  'total_bytes', 'live_bytes', 'dead_bytes', 'free_bytes', 'reserved_bytes',
  'dropped_column_bytes', 'live_tuples', 'dead_tuples', 'dead_line_pointers',
  'heap_tids', 'leaf_density', 'deleted_pages', 'half_dead_pages', 'fillfactor',
  'expected_bytes', 'reclaimable_bytes', 'bloat_pct', 'bloat_pct_error',
  'reliable', 'note', 'action']);
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = 'medianest_perf.bloat_report'::regclass AND a.attnum > 0
              AND col_description(a.attrelid, a.attnum) IS NULL),
          0, 'every bloat_report column has a COMMENT');
SELECT is((SELECT p.proisstrict FROM pg_catalog.pg_proc p
            WHERE p.oid = 'medianest_perf.bloat(regclass, text, integer)'::regprocedure),
          false, 'bloat() is not STRICT: NULL arguments get a clear error');

-- privileges: like pgstattuple
SELECT ok(NOT has_function_privilege('public', 'medianest_perf.bloat(regclass, text, integer)', 'EXECUTE'),
          'bloat() is revoked from PUBLIC');
SELECT ok(has_function_privilege('pg_stat_scan_tables', 'medianest_perf.bloat(regclass, text, integer)', 'EXECUTE'),
          'bloat() is granted to pg_stat_scan_tables');
SELECT ok(NOT has_table_privilege('public', 'medianest_perf.bloat_report', 'SELECT'),
          'bloat_report is not readable by PUBLIC');
SELECT ok(has_table_privilege('pg_stat_scan_tables', 'medianest_perf.bloat_report', 'SELECT'),
          'bloat_report is readable by pg_stat_scan_tables');

-- fixtures
CREATE TABLE t (id int PRIMARY KEY, grp int, pad text) WITH (autovacuum_enabled = off);
INSERT INTO t SELECT g, g % 5, repeat('x', 40) FROM generate_series(1, 2000) g;
CREATE INDEX t_grp ON t (grp);
CREATE INDEX t_hash ON t USING hash (id);
CREATE INDEX t_gin ON t USING gin (to_tsvector('simple', pad));
CREATE SEQUENCE s;
CREATE VIEW v AS SELECT 1 AS one;
CREATE FOREIGN DATA WRAPPER tap_bloat_fdw;
CREATE SERVER tap_bloat_srv FOREIGN DATA WRAPPER tap_bloat_fdw;
CREATE FOREIGN TABLE f (a int) SERVER tap_bloat_srv;
CREATE TABLE p (a int) PARTITION BY RANGE (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE INDEX p_a ON p (a);
CREATE TABLE gone (a int);
CREATE TABLE gone_oid AS SELECT 'gone'::regclass::oid AS relid;
DROP TABLE gone;

-- it works
SELECT results_eq($$SELECT method, reliable, action FROM medianest_perf.bloat('t', 'exact')$$,
                  $$VALUES ('exact'::text, true, 'none'::text)$$,
                  'exact mode on a fresh table: reliable, no action');
SELECT results_eq($$SELECT method, pages_read = pages FROM medianest_perf.bloat('t')$$,
                  $$VALUES ('exact'::text, true)$$,
                  'sample mode reads a relation smaller than the sample whole');
SELECT results_eq($$SELECT method, pages_read FROM medianest_perf.bloat('t', 'estimate')$$,
                  $$VALUES ('estimate'::text, 0::bigint)$$,
                  'estimate mode reads no page');
SELECT results_eq($$SELECT kind, method, pages_read FROM medianest_perf.bloat('t_grp', 'sample', 1)$$,
                  $$VALUES ('btree index'::text, 'sample'::text, 1::bigint)$$,
                  'btree index sampled: pages_read is the sample size');
SELECT is((SELECT string_agg(relname || ': ' || kind, ', ' ORDER BY relname COLLATE "C")
             FROM medianest_perf.bloat_report
            WHERE schemaname = 'tap_bloat' AND relname LIKE 't%'),
          't: table, t_grp: btree index, t_pkey: btree index',
          'bloat_report lists the table and its btree indexes, not the hash and gin ones');

-- NULLs
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat(NULL)$$, '22004', NULL, 'NULL rel');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', NULL)$$, '22004', NULL, 'NULL mode');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'sample', NULL)$$, '22004', NULL, 'NULL sample_pages');

-- bad values
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'fast')$$, '22023', NULL, 'unknown mode');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'SAMPLE')$$, '22023', NULL, 'modes are lower case');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'sample', 0)$$, '22023', NULL, 'sample_pages = 0');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'sample', -1)$$, '22023', NULL, 'sample_pages < 0');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'sample', 2147483647)$$, '22023', NULL, 'absurd sample_pages');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t', 'exact', 0)$$, '22023', NULL, 'sample_pages checked in every mode');
SELECT throws_ok($$SET medianest_perf.bloat_target_error = -1$$, '22023', NULL, 'negative bloat_target_error');
SELECT throws_ok($$SET medianest_perf.bloat_target_error = 101$$, '22023', NULL, 'bloat_target_error over 100 points');

-- relation kinds
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('s')$$, '42809', NULL, 'sequence');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('v')$$, '42809', NULL, 'view');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('f')$$, '42809', NULL, 'foreign table');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('p')$$, '42809', NULL, 'partitioned table');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('p_a')$$, '42809', NULL, 'partitioned index');
SELECT lives_ok($$SELECT b.* FROM pg_partition_tree('p') pt, medianest_perf.bloat(pt.relid) b WHERE pt.isleaf$$,
                'the hint''s query measures the partitions');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t_hash')$$, '0A000', NULL, 'hash index in sample mode');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t_gin', 'sample')$$, '0A000', NULL, 'gin index in sample mode');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t_gin', 'exact')$$, '0A000', NULL, 'gin index in exact mode');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat('t_hash', 'estimate')$$, '0A000', NULL, 'hash index in estimate mode');

-- dropped relation: a stale OID cast to regclass
SELECT throws_ok(format('SELECT * FROM medianest_perf.bloat(%s::oid::regclass)', (SELECT relid FROM gone_oid)),
                 '42P01', NULL, 'dropped relation, sample');
SELECT throws_ok(format('SELECT * FROM medianest_perf.bloat(%s::oid::regclass, ''estimate'')', (SELECT relid FROM gone_oid)),
                 '42P01', NULL, 'dropped relation, estimate');
SELECT throws_ok($$SELECT * FROM medianest_perf.bloat(0)$$, '42P01', NULL, 'OID 0');

-- privileges, checked through SECURITY DEFINER wrappers owned by the roles
CREATE ROLE tap_bloat_plain;
CREATE ROLE tap_bloat_scanner IN ROLE pg_stat_scan_tables;
GRANT USAGE ON SCHEMA tap_bloat TO tap_bloat_plain, tap_bloat_scanner;
GRANT USAGE ON SCHEMA medianest_perf TO tap_bloat_plain;
CREATE FUNCTION tap_bloat.as_plain() RETURNS text LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$ SELECT method FROM medianest_perf.bloat('tap_bloat.t') $$;
ALTER FUNCTION tap_bloat.as_plain() OWNER TO tap_bloat_plain;
CREATE FUNCTION tap_bloat.report_as_plain() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$ SELECT count(*) FROM medianest_perf.bloat_report $$;
ALTER FUNCTION tap_bloat.report_as_plain() OWNER TO tap_bloat_plain;
CREATE FUNCTION tap_bloat.as_scanner() RETURNS text LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$ SELECT method FROM medianest_perf.bloat('tap_bloat.t') $$;
ALTER FUNCTION tap_bloat.as_scanner() OWNER TO tap_bloat_scanner;
CREATE FUNCTION tap_bloat.report_as_scanner() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog
  AS $$ SELECT count(*) FROM medianest_perf.bloat_report $$;
ALTER FUNCTION tap_bloat.report_as_scanner() OWNER TO tap_bloat_scanner;

SELECT throws_ok($$SELECT tap_bloat.as_plain()$$, '42501', NULL,
                 'plain role: EXECUTE on bloat() is not granted');
SELECT throws_ok($$SELECT tap_bloat.report_as_plain()$$, '42501', NULL,
                 'plain role: bloat_report is not readable');
GRANT EXECUTE ON FUNCTION medianest_perf.bloat(regclass, text, integer) TO tap_bloat_plain;
SELECT throws_ok($$SELECT tap_bloat.as_plain()$$, '42501', 'permission denied to measure bloat',
                 'plain role granted EXECUTE: still refused without pg_stat_scan_tables');
SELECT is(tap_bloat.as_scanner(), 'exact', 'a member of pg_stat_scan_tables may measure');
SELECT ok(tap_bloat.report_as_scanner() >= 3, 'a member of pg_stat_scan_tables may read bloat_report');

SELECT * FROM finish();
ROLLBACK;
