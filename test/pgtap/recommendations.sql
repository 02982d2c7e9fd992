-- Contract of recommendations, health() and metrics(): shape, privileges,
-- thresholds, bad input, the session cache, visibility of other users'
-- statements, and how the optional parts (n_plus_one, bloat_report,
-- index_advice) become rows.  Where those parts are not installed, stand-ins
-- with their exact columns are created in this (rolled back) transaction, so
-- that the mapping from their columns to recommendations is tested here; once
-- the real parts are merged those checks are skipped (the parts' own suites
-- test their rows).
BEGIN;
SELECT plan(58);

SET LOCAL client_min_messages = warning;
SET LOCAL medianest_perf.bloat_cache_max_age = 0;
SET LOCAL medianest_perf.advice_cache_max_age = -1;

-- shape
SELECT has_view('medianest_perf', 'recommendations', 'recommendations view exists');
SELECT columns_are('medianest_perf', 'recommendations',
  ARRAY['category', 'severity', 'object', 'finding', 'evidence', 'action', 'impact']);
SELECT has_function('medianest_perf', 'health', '{}'::name[]);
SELECT has_function('medianest_perf', 'metrics', ARRAY['integer']);
SELECT has_function('medianest_perf', 'health_settings', '{}'::name[]);
SELECT results_eq(
  $$SELECT component FROM medianest_perf.health()$$,
  $$VALUES ('query_performance'), ('indexes'), ('cache_efficiency'), ('maintenance_bloat'),
           ('connections'), ('transactions'), ('overall')$$,
  'health() has the six components, then overall');
SELECT is((SELECT count(*)::int FROM medianest_perf.health()
            WHERE score IS NOT NULL AND (score < 0 OR score > 100 OR grade IS DISTINCT FROM medianest_perf.grade(score))),
          0, 'scores are 0-100 with the matching grade');
SELECT is((SELECT count(*)::int FROM medianest_perf.recommendations
            WHERE severity NOT IN ('critical', 'warning', 'info')
               OR category NOT IN ('missing_index', 'unused_index', 'duplicate_index', 'redundant_index',
                                   'invalid_index', 'table_bloat', 'index_bloat', 'n_plus_one', 'repeated_query',
                                   'write_loop', 'slow_query', 'seq_scan_heavy', 'offset_pagination',
                                   'cache_hit_ratio', 'temp_spill', 'stale_statistics', 'vacuum_lag',
                                   'connection_saturation', 'long_transaction')
               OR finding IS NULL OR evidence IS NULL),
          0, 'every row has a known category and severity, a finding and evidence');

-- privileges: everyone reads recommendations and health (masked), metrics
-- is for pg_monitor
SELECT ok(has_table_privilege('public', 'medianest_perf.recommendations', 'SELECT'), 'recommendations is readable by PUBLIC');
SELECT ok(has_function_privilege('public', 'medianest_perf.health()', 'EXECUTE'), 'health() is executable by PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'medianest_perf.metrics(integer)', 'EXECUTE'), 'metrics() is revoked from PUBLIC');
SELECT ok(has_function_privilege('pg_monitor', 'medianest_perf.metrics(integer)', 'EXECUTE'), 'metrics() is granted to pg_monitor');

-- thresholds
SELECT is((SELECT cache_hit_ratio_warning FROM medianest_perf.health_settings()), 0.99::float8, 'cache_hit_ratio_warning defaults to 0.99');
SELECT is((SELECT long_transaction_warning FROM medianest_perf.health_settings()), interval '5 min', 'long_transaction_warning defaults to 5min');
SELECT is((SELECT temp_spill_min_kb FROM medianest_perf.health_settings()), 1024::bigint, 'temp_spill_min_kb defaults to 1MB');
SET LOCAL medianest_perf.temp_spill_min_kb = '8MB';
SELECT is((SELECT temp_spill_min_kb FROM medianest_perf.health_settings()), 8192::bigint, 'a SET shows in health_settings()');
SELECT throws_ok($$SET medianest_perf.cache_hit_ratio_warning = 1.5$$, '22023', NULL, 'ratios are bounded to 0-1');
SELECT is((SELECT count(*)::int FROM pg_settings
            WHERE context = 'superuser'
              AND name IN (SELECT 'medianest_perf.' || n
                             FROM pg_proc p, unnest(p.proargnames) n
                            WHERE p.oid = 'medianest_perf.health_settings()'::regprocedure)),
          31, 'every column of health_settings() is a superuser-settable medianest_perf.* setting');

-- bad input
SELECT throws_ok($$SELECT medianest_perf.metrics(-1)$$, '22023', 'top_n must not be negative', 'metrics() refuses a negative top_n');
SELECT throws_ok($$SELECT * FROM medianest_perf.statement_metrics_1_0(5, ARRAY[1, 1]::float8[])$$, '22023', NULL, 'bucket bounds must ascend');
SELECT throws_ok($$SELECT * FROM medianest_perf.statement_metrics_1_0(5, ARRAY[1, NULL]::float8[])$$, '22004', NULL, 'bucket bounds must not be null');
SELECT throws_ok($$SELECT * FROM medianest_perf.statement_metrics_1_0(5, ARRAY['Infinity']::float8[])$$, '22023', NULL, '+Inf is implied, not given');
SELECT throws_ok($$SELECT * FROM medianest_perf.statement_metrics_1_0(NULL, '{}')$$, '22004', NULL, 'top_n must not be null');
SELECT throws_ok($$SELECT * FROM medianest_perf.session_cache_get(repeat('k', 64), 10)$$, '22023', NULL, 'cache keys are short');

-- the session cache
SELECT is((SELECT count(*)::int FROM medianest_perf.session_cache_get('t', 3600)), 0, 'nothing cached yet');
SELECT isnt(medianest_perf.session_cache_put('t', '{"a": 1}'), NULL, 'a value is stored');
SELECT is((SELECT value FROM medianest_perf.session_cache_get('t', 3600)), '{"a": 1}'::jsonb, 'and read back while young');
SELECT is((SELECT count(*)::int FROM medianest_perf.session_cache_get('t', -1)), 0, 'never with max_age -1');
SELECT is((SELECT count(*)::int FROM medianest_perf.session_cache_get('t', 0)), 0, 'not with max_age 0');
SELECT medianest_perf.session_cache_clear();
SELECT is((SELECT count(*)::int FROM medianest_perf.session_cache_get('t', 3600)), 0, 'forgotten after session_cache_clear()');

-- visibility: another user's slow statement
SET LOCAL medianest_perf.slow_query_ms = 1;
SELECT pg_sleep(0.01);
SET LOCAL medianest_perf.slow_query_ms = 100000;
CREATE ROLE reco_tap_nobody;
GRANT USAGE ON SCHEMA medianest_perf TO reco_tap_nobody;
SET LOCAL ROLE reco_tap_nobody;
SELECT ok(EXISTS (SELECT 1 FROM medianest_perf.recommendations
                   WHERE category = 'slow_query' AND object = 'query <insufficient privilege>'
                     AND evidence->>'query' = '<insufficient privilege>' AND action IS NULL),
          'another user''s slow statement shows without its text or queryid');
SELECT is((SELECT count(*)::int FROM medianest_perf.recommendations
            WHERE finding LIKE '%pg_sleep%' OR evidence::text LIKE '%pg_sleep%'), 0,
          'its text appears nowhere');
SELECT throws_ok($$SELECT medianest_perf.metrics()$$, '42501', NULL, 'metrics() is refused to a plain role');
RESET ROLE;
GRANT pg_monitor TO reco_tap_nobody;
SET LOCAL ROLE reco_tap_nobody;
SELECT ok(medianest_perf.metrics() ~ ('medianest_perf_statement_calls_total\{[^}]*user="' || session_user || '"'),
          'a pg_monitor member gets every user''s statement series');
SELECT ok(medianest_perf.metrics() !~ 'pg_sleep', 'no query text in metrics');
RESET ROLE;

-- optional parts, through stand-ins when absent
CREATE FUNCTION pg_temp.reco_optional_tests() RETURNS SETOF text
LANGUAGE plpgsql AS $t$
DECLARE
  dbid oid := (SELECT oid FROM pg_database WHERE datname = current_database());
  m text;
BEGIN
  ---------------------------------------------------------------- n_plus_one
  IF to_regclass('medianest_perf.n_plus_one') IS NULL THEN
    EXECUTE format($v$
      CREATE VIEW medianest_perf.n_plus_one AS
      SELECT * FROM (VALUES
        (10::oid, %1$s::oid, 'n_plus_one'::text, 'shop'::text, 11::bigint, 'SELECT id FROM orders'::text,
         12::bigint, 'SELECT * FROM items WHERE order_id = $1'::text, 3::bigint, 50::bigint, 120::bigint,
         60.0::float8, 48.0::float8, 'SELECT * FROM items WHERE order_id = ANY ($1)'::text, now(), now()),
        (10::oid, %1$s::oid, 'repeated_identical', 'shop', NULL, NULL,
         13::bigint, 'SELECT * FROM settings WHERE k = $1', 2, 20, 40, 8.0, 7.6, 'cache the result', now(), now()),
        (10::oid, %1$s::oid, 'write_loop', 'shop', NULL, NULL,
         14::bigint, 'INSERT INTO log VALUES ($1)', 1, 200, 200, 30.0, 29.0, 'INSERT ... SELECT FROM unnest($1)', now(), now()),
        (10::oid, 1::oid, 'n_plus_one', 'other', 15::bigint, 'x', 16::bigint, 'y', 1, 9, 9, 1.0, 1.0, 'z', now(), now())
      ) v(userid, dbid, kind, application_name, source_queryid, source_query, repeated_queryid,
          repeated_query, occurrences, max_repeats, total_repeated_calls, total_time_ms,
          estimated_saving_ms, suggestion, first_seen, last_seen)$v$, dbid);
    GRANT SELECT ON medianest_perf.n_plus_one TO PUBLIC;
    SET LOCAL medianest_perf.time_share_warning = 1;
    SET LOCAL medianest_perf.time_share_critical = 1;
    RETURN NEXT results_eq(
      $$SELECT category, severity, object, action FROM medianest_perf.recommendations
         WHERE category IN ('n_plus_one', 'repeated_query', 'write_loop') ORDER BY category$$,
      $$VALUES ('n_plus_one', 'warning', 'query 12', 'SELECT * FROM items WHERE order_id = ANY ($1)'),
               ('repeated_query', 'info', 'query 13', 'cache the result'),
               ('write_loop', 'warning', 'query 14', 'INSERT ... SELECT FROM unnest($1)')$$,
      'N+1 kinds map to n_plus_one, repeated_query and write_loop (this database only), the suggestion is the action');
    RETURN NEXT ok((SELECT finding LIKE '%up to 50 times in one unit of work (3 units of work, 120 calls, 60.0 ms in all)%save about 48.0 ms%driven by: SELECT id FROM orders'
                      FROM medianest_perf.recommendations WHERE category = 'n_plus_one'),
                   'the N+1 finding carries its numbers and both statements');
    RETURN NEXT is((SELECT (evidence->>'estimated_saving_ms')::float8 FROM medianest_perf.recommendations WHERE category = 'write_loop'),
                   29.0::float8, 'evidence keeps the saving');
    SET LOCAL medianest_perf.time_share_warning = 0;
    SET LOCAL medianest_perf.time_share_critical = 0;
    RETURN NEXT is((SELECT array_agg(DISTINCT severity) FROM medianest_perf.recommendations
                     WHERE category IN ('n_plus_one', 'repeated_query', 'write_loop')),
                   ARRAY['critical'], 'with a zero time share threshold they are critical');
    RESET medianest_perf.time_share_warning;
    RESET medianest_perf.time_share_critical;
    RETURN NEXT ok((SELECT details ? 'n_plus_one_time_share' FROM medianest_perf.health() WHERE component = 'query_performance'),
                   'health() scores the N+1 time share');
    RETURN NEXT ok(medianest_perf.metrics() ~ E'\nmedianest_perf_n_plus_one_incidents\\{datname="[^"]+",kind="n_plus_one"\\} 1\n',
                   'metrics() counts incidents by kind');
    RETURN NEXT ok(medianest_perf.metrics() ~ E'\nmedianest_perf_n_plus_one_saving_seconds\\{datname="[^"]+",kind="write_loop"\\} 0.029\n',
                   'metrics() exports the saving in seconds');
  ELSE
    RETURN NEXT skip('the real n_plus_one view is installed: its rows are tested by the nplus1 suites', 7);
  END IF;

  ------------------------------------------------------------------- bloat
  IF to_regclass('medianest_perf.bloat_report') IS NULL THEN
    CREATE TABLE public.reco_tap_bloated (a int);
    CREATE VIEW medianest_perf.bloat_report AS
    SELECT * FROM (VALUES
      ('public.reco_tap_bloated'::regclass::oid, 'public'::name, 'reco_tap_bloated'::name, 'table'::text, 'sample'::text,
       1000::bigint, 1000::bigint, 8192000::bigint, 4000000::bigint, 3000000::bigint, 1000000::bigint, 0::bigint, 0::bigint,
       10000::bigint, 8000::bigint, 0::bigint, NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint, 100,
       4100000::bigint, 4092000::bigint, 49.95::float8, 2.1::float8, true, NULL::text, 'VACUUM public.reco_tap_bloated'::text),
      (0::oid, 'public', 'Idx "q"', 'btree index', 'exact',
       100, 100, 819200, 300000, 0, 500000, 0, NULL, 3000, 0, NULL, 3000, 36.6, 0, 0, 90,
       333000, 486200, 59.35, 0.0, true, NULL, 'REINDEX INDEX CONCURRENTLY public."Idx ""q"""'),
      (0::oid, 'public', 'fine', 'table', 'sample',
       100, 100, 819200, 800000, 0, 19200, 0, 0, 3000, 0, 0, NULL, NULL, NULL, NULL, 100,
       810000, 9200, 1.1, 0.5, true, NULL, 'none')
    ) v(relid, schemaname, relname, kind, method, pages, pages_read, total_bytes, live_bytes, dead_bytes,
        free_bytes, reserved_bytes, dropped_column_bytes, live_tuples, dead_tuples, dead_line_pointers,
        heap_tids, leaf_density, deleted_pages, half_dead_pages, fillfactor, expected_bytes,
        reclaimable_bytes, bloat_pct, bloat_pct_error, reliable, note, action);
    RETURN NEXT results_eq(
      $$SELECT category, severity, object, action FROM medianest_perf.recommendations
         WHERE category IN ('table_bloat', 'index_bloat') ORDER BY category$$,
      $$VALUES ('index_bloat', 'critical', 'public."Idx ""q"""', 'REINDEX INDEX CONCURRENTLY public."Idx ""q""";'),
               ('table_bloat', 'warning', 'public.reco_tap_bloated', 'VACUUM public.reco_tap_bloated;')$$,
      'bloat rows with an action become table_bloat / index_bloat, critical from bloat_share_critical');
    RETURN NEXT ok((SELECT finding LIKE '3996 kB of its 8000 kB could be reclaimed (50.0% ± 2.1, measured by sample at %); 2930 kB in dead rows'
                      FROM medianest_perf.recommendations WHERE category = 'table_bloat'),
                   'the bloat finding carries the sizes and the error bound');
    RETURN NEXT is((SELECT (details->'bloat_share'->>'value')::numeric(6,4) FROM medianest_perf.health() WHERE component = 'maintenance_bloat'),
                   ((4092000 + 486200 + 9200)::numeric / (8192000 + 819200 + 819200))::numeric(6,4),
                   'health() scores reclaimable bytes over measured bytes');
    RETURN NEXT ok(medianest_perf.metrics() ~ E'\nmedianest_perf_bloat_reclaimable_bytes\\{datname="[^"]+",kind="table"\\} 4101200\n',
                   'metrics() sums reclaimable bytes by kind');
    RETURN NEXT ok(medianest_perf.metrics() ~ E'\nmedianest_perf_relation_bloat_reclaimable_bytes\\{datname="[^"]+",schema="public",relation="Idx \\\\"q\\\\"",kind="btree index"\\} 486200\n',
                   'per-relation bloat with the relation name escaped');
    CREATE ROLE reco_tap_noscan;
    GRANT USAGE ON SCHEMA medianest_perf TO reco_tap_noscan;
    REVOKE ALL ON medianest_perf.bloat_report FROM PUBLIC;
    SET LOCAL ROLE reco_tap_noscan;
    RETURN NEXT is((SELECT count(*)::int FROM medianest_perf.recommendations WHERE category LIKE '%bloat'), 0,
                   'no bloat rows for a caller who may not read bloat_report');
    RESET ROLE;
    SET LOCAL medianest_perf.bloat_cache_max_age = -1;
    RETURN NEXT is((SELECT count(*)::int FROM medianest_perf.recommendations WHERE category LIKE '%bloat'), 0,
                   'none with bloat_cache_max_age = -1');
    RESET medianest_perf.bloat_cache_max_age;
  ELSE
    RETURN NEXT skip('the real bloat_report view is installed: tested by the bloat suites', 7);
  END IF;

  ------------------------------------------------------------- index advice
  IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'index_advice'
                    AND pronamespace = 'medianest_perf'::regnamespace) THEN
    CREATE FUNCTION medianest_perf.index_advice(
        time_limit_ms integer DEFAULT 10000,
        OUT rank integer, OUT relid regclass, OUT table_name text, OUT key_columns text[],
        OUT include_columns text[], OUT predicate text, OUT estimated_size_bytes bigint,
        OUT workload_cost_before double precision, OUT workload_cost_after double precision,
        OUT improvement_pct double precision, OUT write_penalty double precision,
        OUT queries jsonb, OUT ddl text)
    RETURNS SETOF record LANGUAGE plpgsql AS $a$
    BEGIN
      PERFORM set_config('reco_tap.advisor_calls',
                         (COALESCE(NULLIF(current_setting('reco_tap.advisor_calls', true), ''), '0')::int + 1)::text, true);
      PERFORM set_config('reco_tap.time_limit_ms', time_limit_ms::text, true);
      rank := 1; relid := NULL; table_name := 'public.orders'; key_columns := ARRAY['customer_id', 'created_at'];
      include_columns := ARRAY['total']; predicate := NULL; estimated_size_bytes := 2 * 1024 * 1024;
      workload_cost_before := 1000; workload_cost_after := 400; improvement_pct := 75; write_penalty := 3;
      queries := '[{"queryid": 1, "calls": 10}, {"queryid": 2, "calls": 5}]';
      ddl := 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_created_at_idx ON public.orders (customer_id, created_at) INCLUDE (total);';
      RETURN NEXT;
    END $a$;
    SET LOCAL medianest_perf.advice_cache_max_age = 3600;
    SET LOCAL medianest_perf.advice_time_limit_ms = 1500;
    RETURN NEXT results_eq(
      $$SELECT category, severity, object, action, impact FROM medianest_perf.recommendations WHERE category = 'missing_index'$$,
      $$VALUES ('missing_index', 'critical', 'public.orders',
                'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_created_at_idx ON public.orders (customer_id, created_at) INCLUDE (total);',
                60.00::numeric)$$,
      'advice becomes a missing_index row with its DDL; the workload cost saved is its impact');
    RETURN NEXT ok((SELECT finding LIKE 'an index on public.orders (customer_id, created_at) INCLUDE (total) would cut the planner cost of the 2 statement(s) it helps by 75.0% (workload cost 1000 -> 400, 60.0% of it) for about 2048 kB (advice of %)'
                      FROM medianest_perf.recommendations WHERE category = 'missing_index'),
                   'the missing_index finding names the columns and the numbers');
    RETURN NEXT is(current_setting('reco_tap.time_limit_ms'), '1500', 'the advisor is called with time_limit_ms = advice_time_limit_ms');
    PERFORM count(*) FROM medianest_perf.recommendations;
    PERFORM count(*) FROM medianest_perf.recommendations;
    RETURN NEXT is(current_setting('reco_tap.advisor_calls'), '1', 'and only once while its result is younger than advice_cache_max_age');
    PERFORM medianest_perf.session_cache_clear();
    PERFORM count(*) FROM medianest_perf.recommendations;
    RETURN NEXT is(current_setting('reco_tap.advisor_calls'), '2', 'again after session_cache_clear()');
    SET LOCAL medianest_perf.advice_cache_max_age = -1;
    RETURN NEXT is((SELECT count(*)::int FROM medianest_perf.recommendations WHERE category = 'missing_index'), 0,
                   'advice_cache_max_age = -1 leaves the advisor out');
    SET LOCAL medianest_perf.advice_cache_max_age = 0;
    CREATE OR REPLACE FUNCTION medianest_perf.index_advice(
        time_limit_ms integer DEFAULT 10000,
        OUT rank integer, OUT relid regclass, OUT table_name text, OUT key_columns text[],
        OUT include_columns text[], OUT predicate text, OUT estimated_size_bytes bigint,
        OUT workload_cost_before double precision, OUT workload_cost_after double precision,
        OUT improvement_pct double precision, OUT write_penalty double precision,
        OUT queries jsonb, OUT ddl text)
    RETURNS SETOF record LANGUAGE plpgsql AS $a$
    BEGIN
      RAISE EXCEPTION 'advisor broke on purpose';
    END $a$;
    SET LOCAL client_min_messages = error;
    RETURN NEXT is((SELECT count(*)::int FROM medianest_perf.recommendations WHERE category = 'missing_index'), 0,
                   'a failing advisor gives no rows, and the view still works');
    SET LOCAL client_min_messages = warning;
  ELSE
    RETURN NEXT skip('the real index_advice() is installed: tested by the advisor suites', 7);
  END IF;
END
$t$;

SELECT * FROM pg_temp.reco_optional_tests();

-- everything is documented
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND p.proname NOT IN ('index_advice')
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          0, 'every function has a COMMENT');
SELECT is((SELECT count(*)::int FROM pg_attribute a
            WHERE a.attrelid = 'medianest_perf.recommendations'::regclass AND a.attnum > 0
              AND col_description(a.attrelid, a.attnum) IS NULL),
          0, 'every recommendations column has a COMMENT');

SELECT * FROM finish();
ROLLBACK;
