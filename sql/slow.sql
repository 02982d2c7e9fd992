--
-- Slow-query capture: severities, plans, truncation, parameters,
-- nesting, visibility and GUC validation.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
SET medianest_perf.slow_query_ms = 100;
SET medianest_perf.critical_query_ms = 400;
SET medianest_perf.slow_query_plan = text;
CREATE TABLE mnp_s (id int PRIMARY KEY, v text);
INSERT INTO mnp_s SELECT g, 'v' || g FROM generate_series(1, 100) g;
-- the captures of this test's own statements, not of the statements that
-- read them (which a loaded machine could make slow too)
CREATE VIEW sq AS
  SELECT * FROM medianest_perf.slow_queries
   WHERE query !~ 'FROM sq|medianest_perf\.';
GRANT SELECT ON sq TO PUBLIC;
SELECT medianest_perf.reset();

-- fast statements are not captured
SELECT count(*) FROM mnp_s WHERE id < 10;
SELECT count(*) AS fast_captured FROM sq WHERE query LIKE '%id < 10%';

-- a warning and a critical one
SELECT pg_sleep(0.12), count(*) FROM mnp_s WHERE v LIKE 'v1%';
SELECT pg_sleep(0.45);
SELECT severity, duration_ms >= 100 AS over_threshold, rows, query,
       plan LIKE '%Aggregate%' AND plan LIKE '%Seq Scan on mnp_s%' AS plan_has_nodes,
       plan_format, plan_truncated, plan_analyzed, query_truncated,
       parameters IS NULL AS no_params, nesting_level,
       queryid = top_queryid AS top_is_self,
       username = current_user AS user_ok, datname = current_database() AS db_ok,
       pid = pg_backend_pid() AS pid_ok, client_addr IS NULL AS local_socket
  FROM sq ORDER BY seq;

-- severity counts in the statements view
SELECT query, calls, slow_calls, critical_calls
  FROM medianest_perf.statements
 WHERE query LIKE 'SELECT pg_sleep%' ORDER BY query COLLATE "C";

-- threshold 0 disables capture
SET medianest_perf.slow_query_ms = 0;
SET medianest_perf.critical_query_ms = 0;
SELECT pg_sleep(0.12);
SELECT count(*) AS still_two FROM sq;
SET medianest_perf.slow_query_ms = 100;
SET medianest_perf.critical_query_ms = 400;

-- text truncation at slow_query_text_bytes (4096), at a character boundary
SELECT format('SELECT pg_sleep(0.12) /* %s */', repeat('é', 3000)) \gexec
SELECT query_truncated, octet_length(query) BETWEEN 4090 AND 4096 AS clipped,
       query LIKE 'SELECT pg_sleep(0.12) /* éé%' AS prefix_kept
  FROM sq ORDER BY seq DESC LIMIT 1;

-- parameters: hidden by default, captured when asked
PREPARE slowp(int, text) AS SELECT pg_sleep(0.12), $2 AS label FROM mnp_s WHERE id = $1;
EXECUTE slowp(7, 'secret value');
SELECT parameters, query FROM sq ORDER BY seq DESC LIMIT 1;
SET medianest_perf.slow_query_parameters = on;
EXECUTE slowp(8, 'it''s shown');
SELECT parameters FROM sq ORDER BY seq DESC LIMIT 1;
RESET medianest_perf.slow_query_parameters;
DEALLOCATE slowp;

-- JSON plans
SET medianest_perf.slow_query_plan = json;
SELECT pg_sleep(0.12), count(*) FROM mnp_s;
SELECT plan_format, (plan::json -> 0 -> 'Plan' ->> 'Node Type') AS top_node
  FROM sq ORDER BY seq DESC LIMIT 1;

-- no plan
SET medianest_perf.slow_query_plan = off;
SELECT pg_sleep(0.12);
SELECT plan IS NULL AS no_plan, plan_format FROM sq ORDER BY seq DESC LIMIT 1;

-- analyzed plans: actual rows and loops, no timing
SET medianest_perf.slow_query_plan = text;
SET medianest_perf.slow_query_analyze = on;
SET medianest_perf.slow_query_sample_rate = 1;
SELECT pg_sleep(0.12), count(*) FROM mnp_s WHERE id > 50;
SELECT plan_analyzed, plan LIKE '%actual rows=50 loops=1%' AS shows_actual_rows,
       plan NOT LIKE '%actual time%' AS no_timing
  FROM sq ORDER BY seq DESC LIMIT 1;
RESET medianest_perf.slow_query_analyze;
RESET medianest_perf.slow_query_sample_rate;

-- nested statements: captured with track = all, with the top-level queryid
CREATE FUNCTION mnp_slow_f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(0.12) FROM mnp_s WHERE id = 1;
  RETURN 1;
END $$;
SELECT medianest_perf.reset_slow_queries();
SET medianest_perf.track = 'all';
SELECT mnp_slow_f();
SET medianest_perf.track = top;
SELECT nesting_level, query,
       top_queryid = (SELECT queryid FROM medianest_perf.statements
                       WHERE query = 'SELECT mnp_slow_f()' AND toplevel) AS top_ok
  FROM sq ORDER BY seq;

-- a cursor's statement runs nested under DECLARE and, in PostgreSQL 15, has
-- no queryid of its own, so it is not tracked; closing it at COMMIT (where
-- its ExecutorEnd runs) is harmless and the last capture is unchanged
SET medianest_perf.track = 'all';
BEGIN;
DECLARE c CURSOR FOR SELECT pg_sleep(0.12) FROM mnp_s WHERE id <= 2;
FETCH ALL FROM c;
COMMIT;
SET medianest_perf.track = top;
SELECT query, rows FROM sq ORDER BY seq DESC LIMIT 1;

-- visibility: another user's text, plan and parameters are hidden
CREATE ROLE mnp_carol;
CREATE ROLE mnp_dave;
GRANT SELECT ON mnp_s TO mnp_carol;
SELECT medianest_perf.reset_slow_queries();
SET ROLE mnp_carol;
SELECT pg_sleep(0.12), count(*) FROM mnp_s;
RESET ROLE;
SET ROLE mnp_dave;
SELECT username, query, plan IS NULL AS plan_hidden, queryid IS NULL AS queryid_hidden
  FROM sq;
SELECT medianest_perf.reset_slow_queries();
RESET ROLE;
SET ROLE mnp_carol;
SELECT username, query LIKE 'SELECT pg_sleep%' AS own_text, plan IS NOT NULL AS own_plan
  FROM sq;
RESET ROLE;

-- the ring's counters
SELECT entries >= 1 AS kept, entries = captured AS all_kept, max_entries,
       overwritten, explain_failures
  FROM medianest_perf.slow_queries_info;

-- GUC validation
SET medianest_perf.slow_query_ms = -1;
SET medianest_perf.critical_query_ms = -5;
SET medianest_perf.slow_query_sample_rate = 2;
SET medianest_perf.slow_query_plan = yaml;
SET medianest_perf.slow_query_max = 5;
SHOW medianest_perf.slow_query_ms;

-- reset
SELECT medianest_perf.reset_slow_queries();
SELECT count(*) AS after_reset FROM sq;

DROP VIEW sq;
DROP FUNCTION mnp_slow_f();
DROP TABLE mnp_s;
DROP ROLE mnp_carol;
DROP ROLE mnp_dave;
DROP EXTENSION medianest_perf;
