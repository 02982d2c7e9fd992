-- Index usage scoring: the SQL contract (objects, columns, comments, bad
-- input), every verdict on a planted schema, the action SQL run for real,
-- index_queries() with its visibility rules.
--
-- No enclosing transaction: CREATE INDEX CONCURRENTLY and DROP INDEX
-- CONCURRENTLY cannot run inside one, and statistics only reach the
-- cumulative statistics system between transactions.  Objects are dropped
-- at the end.
SET client_min_messages = warning;

-- the planted schema
CREATE SCHEMA iu_tap;
CREATE TABLE iu_tap.dup (a int, b int, s text);
CREATE INDEX dup_1 ON iu_tap.dup (a, b);
CREATE INDEX dup_2 ON iu_tap.dup (a, b);
CREATE INDEX dup_expr ON iu_tap.dup ((a + b));
CREATE INDEX dup_partial ON iu_tap.dup (a, b) WHERE s IS NOT NULL;
CREATE INDEX dup_lower_1 ON iu_tap.dup (lower(s));
CREATE INDEX dup_lower_2 ON iu_tap.dup (lower(s));
CREATE TABLE iu_tap.tie (a int);
CREATE INDEX tie_plain ON iu_tap.tie (a);
CREATE UNIQUE INDEX tie_unique ON iu_tap.tie (a);
CREATE TABLE iu_tap.prefix (a int, b int);
CREATE INDEX prefix_a ON iu_tap.prefix (a);
CREATE INDEX prefix_ab ON iu_tap.prefix (a, b);
CREATE UNIQUE INDEX prefix_b_unique ON iu_tap.prefix (b);
CREATE INDEX prefix_b_a ON iu_tap.prefix (b, a);
CREATE TABLE iu_tap.heavy (id int PRIMARY KEY, a int);
CREATE INDEX heavy_a ON iu_tap.heavy (a);
CREATE TABLE iu_tap.ref (id int REFERENCES iu_tap.heavy (id));
CREATE TABLE iu_tap.bad (a int);
INSERT INTO iu_tap.bad VALUES (1), (1), (2);
CREATE SCHEMA "IU Tap; Schema";
CREATE TABLE "IU Tap; Schema"."T" (a int, b int);
CREATE INDEX "Weird; Name" ON "IU Tap; Schema"."T" (a);
CREATE INDEX "x""; DROP TABLE y; --" ON "IU Tap; Schema"."T" (b);
CREATE TABLE iu_tap.y (a int);
CREATE TABLE iu_tap.parted (id int, k int) PARTITION BY LIST (k);
CREATE TABLE iu_tap.parted_1 PARTITION OF iu_tap.parted FOR VALUES IN (1);
CREATE TABLE iu_tap.parted_2 PARTITION OF iu_tap.parted FOR VALUES IN (2);
CREATE INDEX parted_id ON iu_tap.parted (id);

-- a failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index
\set ON_ERROR_STOP 0
CREATE UNIQUE INDEX CONCURRENTLY bad_unique ON iu_tap.bad (a);
\set ON_ERROR_STOP 1

-- the workload: 2 scans of heavy_a against 3000 inserts, one indexed
-- lookup on a partition, counters flushed before they are read
INSERT INTO iu_tap.heavy SELECT g, g FROM generate_series(1, 3000) g;
INSERT INTO iu_tap.parted VALUES (1, 1), (2, 2);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS n FROM iu_tap.heavy WHERE a = 1 \gset
SELECT count(*) AS n FROM iu_tap.heavy WHERE a = 2 \gset
SELECT count(*) AS n FROM iu_tap.heavy WHERE id = 7 \gset
SELECT count(*) AS n FROM iu_tap.parted WHERE id = 1 AND k = 1 \gset
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush() \gset
SET medianest_perf.unused_index_min_age = 0;
SET medianest_perf.write_heavy_ratio = 100;

SELECT plan(35);

-- contract
SELECT has_view('medianest_perf', 'index_usage', 'index_usage view exists');
SELECT has_view('medianest_perf', 'table_scans', 'table_scans view exists');
SELECT has_function('medianest_perf', 'index_queries', ARRAY['regclass']);
SELECT has_function('medianest_perf', 'is_preloaded', '{}'::name[]);
SELECT columns_are('medianest_perf', 'index_usage', ARRAY[
  'indexrelid', 'relid', 'schemaname', 'tablename', 'indexname', 'kind',
  'parent_index', 'access_method', 'size_bytes', 'idx_scan', 'idx_tup_read',
  'idx_tup_fetch', 'table_writes', 'statements_using', 'is_unique',
  'is_primary', 'constraint_name', 'valid', 'observed_since', 'score',
  'verdict', 'reason', 'action']);
SELECT columns_are('medianest_perf', 'table_scans', ARRAY[
  'relid', 'schemaname', 'tablename', 'kind', 'parent_table', 'size_bytes',
  'n_live_tup', 'seq_scan', 'seq_tup_read', 'avg_seq_tup_read', 'idx_scan',
  'idx_tup_fetch', 'seq_scan_share', 'table_writes', 'index_count',
  'missing_index_suspected', 'reason']);
SELECT is((SELECT count(*)::int FROM pg_attribute a
            WHERE a.attrelid IN ('medianest_perf.index_usage'::regclass,
                                 'medianest_perf.table_scans'::regclass)
              AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL),
          0, 'every column of index_usage and table_scans has a comment');
SELECT ok(medianest_perf.is_preloaded(), 'is_preloaded() is true under shared_preload_libraries');
SELECT is((SELECT write_heavy_ratio FROM medianest_perf.index_usage_settings()), 100::float8,
          'index_usage_settings() reads the session value of a setting');

-- bad input
SELECT throws_ok('SELECT * FROM medianest_perf.index_queries(NULL)', '22004',
                 'index must not be null', 'index_queries(NULL) is refused');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_queries('iu_tap.heavy')$$, '42809',
                 '"heavy" is not an index', 'index_queries() refuses a table');
SELECT throws_ok('SELECT * FROM medianest_perf.index_queries(4294967000::oid::regclass)', '42P01',
                 NULL, 'index_queries() refuses a dropped or unknown OID');
SELECT throws_ok('SET medianest_perf.write_heavy_ratio = -1', '22023', NULL,
                 'a negative write_heavy_ratio is refused');
SELECT throws_ok($$SET medianest_perf.unused_index_min_age = '-1s'$$, '22023', NULL,
                 'a negative unused_index_min_age is refused');

-- verdicts of the planted schema
SELECT results_eq(
  $$SELECT indexname::text COLLATE "default", verdict FROM medianest_perf.index_usage
     WHERE schemaname IN ('iu_tap', 'IU Tap; Schema')
     ORDER BY indexname COLLATE "C"$$,
  $$VALUES ('Weird; Name', 'unused'),
           ('bad_unique', 'invalid'),
           ('dup_1', 'unused'),
           ('dup_2', 'duplicate'),
           ('dup_expr', 'unused'),
           ('dup_lower_1', 'unused'),
           ('dup_lower_2', 'duplicate'),
           ('dup_partial', 'unused'),
           ('heavy_a', 'write_heavy'),
           ('heavy_pkey', 'ok'),
           ('parted_1_id_idx', 'ok'),
           ('parted_2_id_idx', 'unused'),
           ('parted_id', 'ok'),
           ('prefix_a', 'redundant'),
           ('prefix_ab', 'unused'),
           ('prefix_b_a', 'unused'),
           ('prefix_b_unique', 'ok'),
           ('tie_plain', 'duplicate'),
           ('tie_unique', 'ok'),
           ('x"; DROP TABLE y; --', 'unused')$$,
  'every planted verdict');
SELECT is((SELECT count(*)::int FROM medianest_perf.index_usage WHERE score NOT BETWEEN 0 AND 100),
          0, 'every score is within 0-100');
SELECT is((SELECT action FROM medianest_perf.index_usage WHERE indexname = 'Weird; Name'),
          'DROP INDEX CONCURRENTLY IF EXISTS "IU Tap; Schema"."Weird; Name";',
          'action quotes a name with a semicolon and a schema with spaces');
SELECT is((SELECT action FROM medianest_perf.index_usage WHERE indexname = 'x"; DROP TABLE y; --'),
          'DROP INDEX CONCURRENTLY IF EXISTS "IU Tap; Schema"."x""; DROP TABLE y; --";',
          'action quotes a name that tries to inject SQL');
SELECT is((SELECT action FROM medianest_perf.index_usage WHERE indexname = 'bad_unique'),
          'DROP INDEX CONCURRENTLY IF EXISTS iu_tap.bad_unique;',
          'a failed unique build is dropped (re-creating it needs the duplicates fixed)');
SELECT is((SELECT action FROM medianest_perf.index_usage WHERE indexname = 'parted_2_id_idx'),
          NULL, 'an index attached to a partitioned index gets no action of its own');
SELECT ok((SELECT reason LIKE '%it is a partition of index iu_tap.parted_id, which is where to act'
             FROM medianest_perf.index_usage WHERE indexname = 'parted_2_id_idx'),
          'its reason points at the partitioned index');
SELECT results_eq(
  $$SELECT idx_scan, statements_using FROM medianest_perf.index_usage WHERE indexname = 'parted_id'$$,
  $$VALUES (1::bigint, 1::bigint)$$,
  'a partitioned index sums the scans and statements of its partitions');
SELECT ok((SELECT reason ~ '^same access method, .* as iu_tap.tie_unique, which is kept because it is unique'
             FROM medianest_perf.index_usage WHERE indexname = 'tie_plain'),
          'of a unique and a non-unique duplicate, the unique one is kept');
SELECT is((SELECT verdict FROM medianest_perf.index_usage WHERE indexname = 'heavy_pkey'),
          'ok', 'a primary key referenced by a foreign key is kept');
SELECT ok((SELECT score < 50 AND reason ~ '^3000 index-maintaining writes .* for 2 scans: 1500.0 writes per scan'
             FROM medianest_perf.index_usage WHERE indexname = 'heavy_a'),
          'write_heavy: 3000 writes for 2 scans, score below 50');

-- index_queries(): a statement that used an index, and privacy
SELECT ok(EXISTS (SELECT 1 FROM medianest_perf.index_queries('iu_tap.heavy_a')
                   WHERE query = 'SELECT count(*) AS n FROM iu_tap.heavy WHERE a = $1'
                     AND calls = 2 AND queryid IS NOT NULL),
          'index_queries() lists the statement whose index scan used the index');
SELECT is((SELECT count(*)::int FROM medianest_perf.index_queries('iu_tap.prefix_ab')),
          0, 'index_queries() is empty for an index no statement used');
SELECT ok(EXISTS (SELECT 1 FROM medianest_perf.index_queries('iu_tap.parted_id')
                   WHERE query LIKE 'SELECT count(*) AS n FROM iu_tap.parted%'),
          'index_queries() of a partitioned index lists statements that used a partition');
CREATE ROLE iu_tap_reader;
GRANT USAGE ON SCHEMA medianest_perf, iu_tap TO iu_tap_reader;
SET ROLE iu_tap_reader;
SELECT results_eq(
  $$SELECT query, queryid IS NULL FROM medianest_perf.index_queries('iu_tap.heavy_a')$$,
  $$VALUES ('<insufficient privilege>', true)$$,
  'a role without pg_read_all_stats sees <insufficient privilege> and no queryid');
SELECT is((SELECT statements_using FROM medianest_perf.index_usage WHERE indexname = 'heavy_a'),
          1::bigint, 'statements_using still counts other users'' statements');
RESET ROLE;

-- table_scans flags a table read mostly by big sequential scans
CREATE TABLE iu_tap.seq (a int);
INSERT INTO iu_tap.seq SELECT g FROM generate_series(1, 500) g;
SELECT count(*) AS n FROM iu_tap.seq WHERE a = 1 \gset
SELECT count(*) AS n FROM iu_tap.seq WHERE a = 2 \gset
SELECT pg_stat_force_next_flush() \gset
SET medianest_perf.seq_scan_min_rows = 100;
SET medianest_perf.seq_scan_min_count = 2;
SELECT results_eq(
  $$SELECT tablename::text COLLATE "default", missing_index_suspected FROM medianest_perf.table_scans
     WHERE schemaname = 'iu_tap' AND tablename IN ('seq', 'heavy', 'parted')
     ORDER BY tablename COLLATE "C"$$,
  $$VALUES ('heavy', false), ('parted', false), ('seq', true)$$,
  'table_scans flags only the table read by large sequential scans');
RESET medianest_perf.seq_scan_min_rows;
RESET medianest_perf.seq_scan_min_count;

-- every generated action runs (outside a transaction, as \gexec does);
-- with iu_tap first in the search path, an injected "DROP TABLE y" would hit
-- iu_tap.y
SET search_path = iu_tap, public;
SELECT action FROM medianest_perf.index_usage
 WHERE schemaname IN ('iu_tap', 'IU Tap; Schema') AND action IS NOT NULL
 ORDER BY schemaname COLLATE "C", indexname COLLATE "C" \gexec
RESET search_path;
SELECT is((SELECT count(*)::int FROM medianest_perf.index_usage
            WHERE schemaname IN ('iu_tap', 'IU Tap; Schema') AND action IS NOT NULL),
          0, 'after running the actions no index has an action left');
SELECT results_eq(
  $$SELECT indexname::text COLLATE "default" FROM medianest_perf.index_usage
     WHERE schemaname IN ('iu_tap', 'IU Tap; Schema') ORDER BY indexname COLLATE "C"$$,
  $$VALUES ('heavy_pkey'), ('parted_1_id_idx'), ('parted_2_id_idx'), ('parted_id'),
           ('prefix_b_unique'), ('tie_unique')$$,
  'the kept indexes remain');
SELECT ok(to_regclass('iu_tap.y') IS NOT NULL, 'the table named in the injected index name still exists');
SELECT ok(to_regclass('iu_tap.bad_unique') IS NULL, 'the invalid index is gone');

SELECT * FROM finish();

REVOKE USAGE ON SCHEMA medianest_perf, iu_tap FROM iu_tap_reader;
DROP SCHEMA iu_tap CASCADE;
DROP SCHEMA "IU Tap; Schema" CASCADE;
DROP ROLE iu_tap_reader;
