-- Contract of the index advisor: functions and their shape, bad input,
-- a small workload with a known answer, skipped statements, no side
-- effects, and the privacy of executed samples.
BEGIN;
SELECT plan(26);

SELECT has_function('medianest_perf', 'index_advice',
  ARRAY['double precision', 'double precision', 'integer', 'text[]', 'bigint[]',
        'bigint', 'double precision', 'integer', 'double precision', 'integer', 'integer']);
SELECT has_function('medianest_perf', 'index_advice_skipped', '{}'::name[]);
SELECT has_function('medianest_perf', 'statement_samples', '{}'::name[]);
SELECT has_function('medianest_perf', 'statement_samples_info', '{}'::name[]);
SELECT is(
  (SELECT array_agg(a ORDER BY n)
     FROM pg_proc p, unnest(p.proargnames, p.proargmodes::text[]) WITH ORDINALITY u(a, m, n)
    WHERE p.oid = 'medianest_perf.index_advice'::regproc AND m = 'o'),
  ARRAY['rank', 'relid', 'table_name', 'key_columns', 'include_columns', 'predicate',
        'estimated_size_bytes', 'workload_cost_before', 'workload_cost_after',
        'improvement_pct', 'write_penalty', 'queries', 'ddl', 'replaces']::text[],
  'index_advice output columns');
SELECT ok(has_function_privilege('public', 'medianest_perf.index_advice(double precision, double precision, integer, text[], bigint[], bigint, double precision, integer, double precision, integer, integer)', 'EXECUTE'),
          'index_advice is open to PUBLIC (it plans as the caller)');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'medianest_perf.index_advice'::regproc),
          'u', 'index_advice is parallel unsafe (hooks, subtransactions)');

-- bad input
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(budget_mb => -1, statements => '{}')$$,
                 '22023', 'budget_mb is out of range', 'negative budget');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(budget_mb => 'infinity', statements => '{}')$$,
                 '22023', 'budget_mb is out of range', 'infinite budget');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(max_columns => 33, statements => '{}')$$,
                 '22023', 'max_columns is out of range', 'too many columns');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(top_n => 0)$$,
                 '22023', 'top_n is out of range', 'top_n 0');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(write_cost_factor => -1, statements => '{}')$$,
                 '22023', 'write_cost_factor is out of range', 'negative write cost');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(time_limit_ms => 0, statements => '{}')$$,
                 '22023', 'max_planner_calls or time_limit_ms is out of range', 'zero time limit');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(min_improvement_pct => NULL, statements => '{}')$$,
                 '22004', 'min_improvement_pct must not be NULL', 'NULL setting');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(statements => '{{"SELECT 1"}}')$$,
                 '2202E', 'statements must be a one-dimensional array', 'two-dimensional array');
SELECT throws_ok($$SELECT * FROM medianest_perf.index_advice(statements => '{"SELECT 1"}', statement_calls => '{-1}')$$,
                 '22023', 'statement_calls must hold non-negative numbers', 'negative calls');
SELECT is((SELECT count(*)::int FROM medianest_perf.index_advice(statements => '{}')), 0,
          'an empty workload gives no advice');

-- a known answer
CREATE TABLE tap_accounts (id int PRIMARY KEY, login text NOT NULL, region int NOT NULL, balance int);
INSERT INTO tap_accounts SELECT g, 'login' || g, g % 50, g FROM generate_series(1, 30000) g;
CREATE TABLE tap_small (id int, v text);
INSERT INTO tap_small SELECT g, 'v' || g FROM generate_series(1, 10) g;
ANALYZE tap_accounts, tap_small;
CREATE TEMP TABLE tap_before AS
  SELECT (SELECT count(*) FROM pg_class WHERE relpersistence <> 't') AS relations,
         (SELECT count(*) FROM tap_accounts) AS accounts;

SELECT results_eq(
  $$SELECT table_name, key_columns, include_columns, predicate
      FROM medianest_perf.index_advice(statements => ARRAY[
             'SELECT balance FROM tap_accounts WHERE login = ''login77''',
             'SELECT * FROM tap_small WHERE v = ''v3''',
             'DELETE FROM tap_accounts WHERE login = ''login5''',
             'SELECT * FROM tap_nowhere'])$$,
  $$VALUES ('public.tap_accounts', ARRAY['login'], '{}'::text[], NULL::text)$$,
  'login lookup -> (login); nothing for the tiny table');
SELECT results_eq(
  $$SELECT statement, reason FROM medianest_perf.index_advice_skipped()$$,
  $$VALUES (4, 'could not be planned')$$,
  'the statement on a missing table is skipped and reported');
SELECT is(
  (SELECT jsonb_path_query_array(queries, '$[*].statement')
     FROM medianest_perf.index_advice(statements => ARRAY[
            'SELECT balance FROM tap_accounts WHERE login = ''login77''',
            'DELETE FROM tap_accounts WHERE login = ''login5'''])),
  '[1, 2]'::jsonb, 'the index helps the lookup and the DELETE');
SELECT is((SELECT count(*) FROM tap_accounts), (SELECT accounts FROM tap_before),
          'the DELETE was planned, not executed');
SELECT is((SELECT count(*) FROM pg_class WHERE relpersistence <> 't'), (SELECT relations FROM tap_before),
          'no relation was created');
SELECT matches(
  (SELECT ddl FROM medianest_perf.index_advice(statements => ARRAY[
            'SELECT balance FROM tap_accounts WHERE login = ''login77'''])),
  '^CREATE INDEX CONCURRENTLY IF NOT EXISTS tap_accounts_login_mnp_idx ON public\.tap_accounts USING btree \(login\);$',
  'ready-to-run DDL');
SELECT is(
  (SELECT count(*)::int FROM medianest_perf.index_advice(budget_mb => 0.01, statements => ARRAY[
            'SELECT balance FROM tap_accounts WHERE login = ''login77'''])),
  0, 'an index larger than the budget is not recommended');

-- samples are private
SELECT medianest_perf.reset();
SELECT count(*) FROM tap_accounts WHERE region = 7;
CREATE ROLE tap_adv_stranger;
SET LOCAL ROLE tap_adv_stranger;
SELECT is((SELECT count(*)::int FROM medianest_perf.statement_samples()
            WHERE query ~ 'region = 7' OR parameter_values IS NOT NULL), 0,
          'another role sees no sample text or values');
RESET ROLE;
SELECT ok((SELECT count(*) > 0 FROM medianest_perf.statement_samples()
            WHERE query = 'SELECT count(*) FROM tap_accounts WHERE region = 7'),
          'the owner sees the sample with its constant');

SELECT * FROM finish();
ROLLBACK;
