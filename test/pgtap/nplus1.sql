-- Contract of the N+1 detector's SQL API and settings.
BEGIN;
SELECT plan(16);

SELECT has_view('medianest_perf', 'n_plus_one', 'n_plus_one view exists');
SELECT has_view('medianest_perf', 'n_plus_one_info', 'n_plus_one_info view exists');
SELECT columns_are('medianest_perf', 'n_plus_one', ARRAY[
  'userid', 'dbid', 'kind', 'application_name', 'source_queryid', 'source_query',
  'repeated_queryid', 'repeated_query', 'occurrences', 'max_repeats',
  'total_repeated_calls', 'total_time_ms', 'estimated_saving_ms', 'suggestion',
  'first_seen', 'last_seen']);
SELECT columns_are('medianest_perf', 'n_plus_one_info', ARRAY[
  'entries', 'max_entries', 'evicted', 'dropped_statements', 'findings', 'stats_reset']);
SELECT has_function('medianest_perf', 'reset_n_plus_one', '{}'::name[]);
SELECT ok(NOT has_function_privilege('public', 'medianest_perf.reset_n_plus_one()', 'EXECUTE'),
          'reset_n_plus_one() is revoked from PUBLIC');
SELECT ok(has_table_privilege('public', 'medianest_perf.n_plus_one', 'SELECT'),
          'everyone may read n_plus_one (other users'' rows are masked)');
SELECT ok(pg_get_functiondef('medianest_perf.reset()'::regprocedure) ~ 'reset_n_plus_one',
          'reset() resets the incidents too');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = 'medianest_perf.n_plus_one'::regclass AND a.attnum > 0
              AND col_description(a.attrelid, a.attnum) IS NULL),
          0, 'every n_plus_one column has a COMMENT');
SELECT is(current_setting('medianest_perf.n_plus_one'), 'on', 'detection is on by default');
SELECT is(current_setting('medianest_perf.n_plus_one_min_repeats'), '5', 'default threshold is 5 repeats');
SELECT is(current_setting('medianest_perf.n_plus_one_gap_ms'), '100ms', 'default autocommit gap is 100 ms');
SELECT is(current_setting('medianest_perf.n_plus_one_max'), '1000', 'default store size is 1000 incidents');
SELECT throws_ok($$SET medianest_perf.n_plus_one_min_repeats = 1$$, '22023', NULL,
                 'a threshold below 2 is refused');
SELECT throws_ok($$SET medianest_perf.n_plus_one_gap_ms = 0$$, '22023', NULL,
                 'a zero gap is refused');
SELECT throws_ok($$SET medianest_perf.n_plus_one_max = 10$$, '55P02', NULL,
                 'the store size needs a restart');

SELECT * FROM finish();
ROLLBACK;
