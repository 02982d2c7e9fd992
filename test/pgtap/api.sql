-- Contract of the SQL API: objects exist, have the documented shape, and
-- the reset functions are closed to PUBLIC.
BEGIN;
SELECT plan(14);

SELECT has_schema('medianest_perf');
SELECT has_view('medianest_perf', 'statements', 'statements view exists');
SELECT has_view('medianest_perf', 'statements_info', 'statements_info view exists');
SELECT has_function('medianest_perf', 'statement_histogram', ARRAY['bigint']);
SELECT has_function('medianest_perf', 'reset', '{}'::name[]);
SELECT columns_are('medianest_perf', 'statements', ARRAY[
  'userid', 'dbid', 'toplevel', 'queryid', 'query', 'calls', 'rows',
  'total_time_ms', 'mean_time_ms', 'min_time_ms', 'max_time_ms',
  'stddev_time_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'shared_blks_hit',
  'shared_blks_read', 'cache_hit_ratio', 'temp_blks_written', 'slow_calls',
  'critical_calls', 'first_seen', 'last_seen']);
SELECT ok(NOT has_function_privilege('public', 'medianest_perf.reset()', 'EXECUTE'),
          'reset() is revoked from PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'medianest_perf.reset_statements()', 'EXECUTE'),
          'reset_statements() is revoked from PUBLIC');
SELECT is((SELECT count(*) FROM pg_catalog.pg_description d
             JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = d.objoid
            WHERE dep.refclassid = 'pg_extension'::regclass
              AND d.objsubid = 0
              AND dep.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'medianest_perf')) > 0,
          true, 'views are documented with COMMENT ON');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          0, 'every function has a COMMENT');

SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND l.lanname IN ('sql', 'plpgsql')
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')),
          0, 'every SQL and PL/pgSQL function pins search_path');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND p.proname LIKE 'reset%'
              AND has_function_privilege('public', p.oid, 'EXECUTE')),
          0, 'no reset function is executable by PUBLIC');
SELECT throws_ok($$SELECT * FROM medianest_perf.latency_bucket(-1)$$, '22023',
                 'duration must be a non-negative number of milliseconds',
                 'latency_bucket() refuses a negative duration');
SELECT is((SELECT bucket FROM medianest_perf.latency_bucket(NULL)), NULL,
          'latency_bucket(NULL) is NULL (strict)');

SELECT * FROM finish();
ROLLBACK;
