--
-- Recommendations, health() and metrics(): one planted problem per category
-- that a single regression session can produce, the exact rows they give,
-- health scores that fall when the problems are planted and rise when they
-- are fixed, and metrics() lines carrying the planted numbers.
--
-- Categories of other parts (n_plus_one, repeated_query, write_loop,
-- table_bloat, index_bloat, missing_index) are covered by the pgTAP suite;
-- hit ratios after a cold start, long transactions and visibility by the
-- cluster-level script test/scripts/recommendations.sh.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
SET medianest_perf.unused_index_min_age = 0;
-- leave out what this session cannot control
SET medianest_perf.cache_min_blocks = 2147483647;
SET medianest_perf.advice_cache_max_age = -1;
SET medianest_perf.bloat_cache_max_age = -1;
SET medianest_perf.slow_query_ms = 100000;
SET medianest_perf.critical_query_ms = 200000;
SET medianest_perf.seq_scan_min_count = 3;
SET medianest_perf.seq_scan_min_rows = 1000;
SET medianest_perf.temp_spill_min_kb = 100;

-- the view, masked: statement objects carry run-dependent queryids, and the
-- role running the tests appears in actions; sorted by category, since the
-- order by impact within a severity depends on timings (checked separately)
CREATE FUNCTION reco_list() RETURNS TABLE (category text, severity text, object text, finding text, action text)
LANGUAGE sql AS $$
  SELECT x.category, x.severity, x.object, x.finding, x.action
    FROM (SELECT r.category, r.severity,
                 CASE WHEN r.object LIKE 'query %' THEN 'query ' || COALESCE(r.evidence->>'query', '?') ELSE r.object END AS object,
                 regexp_replace(regexp_replace(r.finding, '[0-9]+(\.[0-9]+)?', 'N', 'g'), '\s+', ' ', 'g') AS finding,
                 replace(regexp_replace(r.action, 'queryid = -?[0-9]+', 'queryid = N'), current_user, '<me>') AS action
            FROM medianest_perf.recommendations r
           WHERE r.category NOT IN ('n_plus_one', 'repeated_query', 'write_loop',
                                    'table_bloat', 'index_bloat', 'missing_index')) x
   ORDER BY medianest_perf.severity_rank(x.severity), x.category COLLATE "C", x.object COLLATE "C"
$$;

-- a clean database: nothing to recommend, every available score 100
SELECT pg_stat_force_next_flush();
SELECT pg_stat_reset();
SELECT medianest_perf.reset();
SELECT * FROM reco_list();
CREATE TEMP TABLE h0 AS SELECT component, score FROM medianest_perf.health();
SELECT component, score, grade FROM medianest_perf.health();

-- plant the problems (the counters of this session reach the statistics
-- system only when it flushes them, so each ANALYZE or VACUUM that must see
-- earlier writes comes after a forced flush)
CREATE SCHEMA reco;
-- indexes: an unused one, a duplicate pair, a redundant prefix, an invalid
-- one, and a write-heavy one (20000 inserts for one scan: an unused_index of
-- severity info)
CREATE TABLE reco.items (id int PRIMARY KEY, cat int, tag int, note text);
ALTER TABLE reco.items SET (autovacuum_enabled = off);
INSERT INTO reco.items SELECT g, g % 50, g % 7, repeat(md5(g::text), 4) FROM generate_series(1, 20000) g;
CREATE INDEX items_tag ON reco.items (tag);
CREATE INDEX items_cat ON reco.items (cat);
CREATE INDEX items_cat_copy ON reco.items (cat);
CREATE INDEX items_cat_id ON reco.items (cat, id);
CREATE TABLE reco.codes (code int, label text);
INSERT INTO reco.codes SELECT g % 10, 'l' || g FROM generate_series(1, 100) g;
CREATE UNIQUE INDEX CONCURRENTLY codes_code ON reco.codes (code);
-- a table only ever read whole
CREATE TABLE reco.log (id int, msg text);
ALTER TABLE reco.log SET (autovacuum_enabled = off);
INSERT INTO reco.log SELECT g, 'm' || g FROM generate_series(1, 5000) g;
-- statistics: never analyzed, and analyzed then changed by a third
CREATE TABLE reco.never_analyzed (id int, v int);
ALTER TABLE reco.never_analyzed SET (autovacuum_enabled = off);
INSERT INTO reco.never_analyzed SELECT g, g FROM generate_series(1, 3000) g;
CREATE TABLE reco.changed (id int, v int);
ALTER TABLE reco.changed SET (autovacuum_enabled = off);
INSERT INTO reco.changed SELECT g, g FROM generate_series(1, 3000) g;
SELECT pg_stat_force_next_flush();
ANALYZE reco.changed;
UPDATE reco.changed SET v = v + 1 WHERE id <= 1000;
-- dead rows: vacuumed, then a quarter deleted; never vacuumed, half deleted
CREATE TABLE reco.churn (id int, v int);
ALTER TABLE reco.churn SET (autovacuum_enabled = off);
INSERT INTO reco.churn SELECT g, g FROM generate_series(1, 4000) g;
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE reco.churn;
DELETE FROM reco.churn WHERE id <= 1000;
SELECT pg_stat_force_next_flush();
ANALYZE reco.churn;
CREATE TABLE reco.purged (id int, v int);
ALTER TABLE reco.purged SET (autovacuum_enabled = off);
INSERT INTO reco.purged SELECT g, g FROM generate_series(1, 4000) g;
SELECT pg_stat_force_next_flush();
ANALYZE reco.purged;
DELETE FROM reco.purged WHERE id <= 2000;
SELECT pg_stat_force_next_flush();
ANALYZE reco.purged;
ANALYZE reco.items;
ANALYZE reco.log;
ANALYZE reco.codes;

-- the workload (the table and index counters started from the reset above)
SELECT medianest_perf.reset();
SET enable_seqscan = off;
SELECT count(*) FROM reco.items WHERE cat = 3 AND id < 100;
SELECT count(*) FROM reco.items WHERE cat = 4;
RESET enable_seqscan;
SELECT count(*) FROM reco.log WHERE msg = 'm1';
SELECT count(*) FROM reco.log WHERE msg = 'm2';
SELECT count(*) FROM reco.log WHERE msg = 'm3';
-- a slow statement
SET medianest_perf.slow_query_ms = 50;
SELECT pg_sleep(0.06);
-- a page far down an ORDER BY (made reliably slow by the outer pg_sleep, so
-- that the slow-query ring captures its text)
SET medianest_perf.slow_query_ms = 20;
SELECT s.id, pg_sleep(0.006) FROM (SELECT id FROM reco.items ORDER BY cat DESC, id DESC LIMIT 5 OFFSET 15000) s;
SET medianest_perf.slow_query_ms = 100000;
-- a sort that spills
SET work_mem = '64kB';
SELECT count(*) FROM (SELECT note FROM reco.items ORDER BY note OFFSET 0) s;
RESET work_mem;
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.2);

-- every planted problem, and nothing else
SELECT * FROM reco_list();

-- evidence and impact
SELECT category, object, evidence->>'verdict' AS verdict, (evidence->>'size_bytes')::bigint > 0 AS sized,
       impact > 0 AS has_impact
  FROM medianest_perf.recommendations
 WHERE category LIKE '%index' ORDER BY object COLLATE "C";
SELECT evidence->>'max_offset' AS max_offset, evidence->>'order_by' AS order_by,
       evidence->>'limit' AS page, (evidence->>'captured_executions')::int AS captured
  FROM medianest_perf.recommendations WHERE category = 'offset_pagination';
SELECT (evidence->>'temp_bytes_per_call')::bigint > 100 * 1024 AS spills,
       evidence->>'work_mem' AS work_mem
  FROM medianest_perf.recommendations WHERE category = 'temp_spill';
SELECT object, evidence->>'n_dead_tup' AS dead, evidence->>'n_live_tup' AS live,
       evidence->>'last_vacuum' IS NULL AS never_vacuumed
  FROM medianest_perf.recommendations WHERE category = 'vacuum_lag' ORDER BY object COLLATE "C";
SELECT object, evidence->>'n_mod_since_analyze' AS modified, evidence->>'last_analyze' IS NULL AS never_analyzed
  FROM medianest_perf.recommendations WHERE category = 'stale_statistics' ORDER BY object COLLATE "C";
-- ordered: critical first, then by impact
SELECT bool_and(ok) AS ordered FROM (
  SELECT medianest_perf.severity_rank(severity) > lag(medianest_perf.severity_rank(severity)) OVER w
         OR (severity = lag(severity) OVER w AND impact <= lag(impact) OVER w)
         OR lag(severity) OVER w IS NULL AS ok
    FROM (SELECT *, row_number() OVER () AS n FROM medianest_perf.recommendations) r
  WINDOW w AS (ORDER BY n)) x;

-- keyset clauses for other ORDER BY keys
SELECT medianest_perf.keyset_clause('id', '20');
SELECT medianest_perf.keyset_clause('created_at DESC, id DESC', '10');
SELECT medianest_perf.keyset_clause('a ASC, b DESC NULLS LAST, c', NULL);
SELECT medianest_perf.keyset_clause('lower(name), id', '5');

-- connection saturation, with thresholds low enough for one session
SET medianest_perf.connection_warning_ratio = 0.001;
SELECT category, severity, object FROM medianest_perf.recommendations WHERE category = 'connection_saturation';
SET medianest_perf.connection_critical_ratio = 0.002;
SELECT category, severity, object, evidence->>'used' = '1' AS only_me
  FROM medianest_perf.recommendations WHERE category = 'connection_saturation';
RESET medianest_perf.connection_warning_ratio;
RESET medianest_perf.connection_critical_ratio;

-- the scores fell where the problems are
CREATE TEMP TABLE h1 AS SELECT component, score FROM medianest_perf.health();
SELECT h0.component, h0.score AS before, h1.score < h0.score AS fell, h1.score IS NOT NULL AS scored
  FROM h0 JOIN h1 USING (component) ORDER BY h0.component COLLATE "C";
SELECT component, grade IS NOT NULL AS graded,
       (SELECT array_agg(k ORDER BY k COLLATE "C") FROM jsonb_each(details) e(k, v)
         WHERE jsonb_typeof(v) = 'object' AND v->>'score' IS NOT NULL AND (v->>'score')::numeric < 100) AS dented
  FROM medianest_perf.health() ORDER BY component COLLATE "C";

-- metrics carry the planted numbers
SELECT line FROM regexp_split_to_table(medianest_perf.metrics(), E'\n') line
 WHERE line ~ '^medianest_perf_(indexes|seq_scan_heavy_tables)\{'
 ORDER BY line COLLATE "C";
SELECT replace(regexp_replace(line, 'queryid="-?[0-9]+"', 'queryid="N"'), 'user="' || current_user || '"', 'user="<me>"') AS line
  FROM regexp_split_to_table(medianest_perf.metrics(), E'\n') line
 WHERE line ~ '^medianest_perf_statement_(calls_total|slow_calls_total|duration_seconds_(bucket|count))\{'
   AND line LIKE '%queryid="' || (SELECT queryid FROM medianest_perf.statements WHERE query LIKE 'SELECT pg_sleep%') || '"%'
   AND (line !~ '_bucket' OR line ~ 'le="(0.0[45]|0.1[0-9]*|\+Inf)')
 ORDER BY line COLLATE "C";
SELECT count(*) AS statement_series
  FROM regexp_split_to_table(medianest_perf.metrics(2), E'\n') line
 WHERE line LIKE 'medianest_perf_statement_calls_total{%';
SELECT count(*) AS statement_series
  FROM regexp_split_to_table(medianest_perf.metrics(0), E'\n') line
 WHERE line ~ '^medianest_perf_statement_';
SELECT medianest_perf.metrics(-1);

-- fix everything
DROP INDEX reco.items_tag;
DROP INDEX reco.items_cat_copy;
DROP INDEX reco.items_cat;
DROP INDEX reco.codes_code;
DROP INDEX reco.items_cat_id;
CREATE INDEX log_msg ON reco.log (msg);
VACUUM ANALYZE reco.never_analyzed, reco.changed, reco.churn, reco.purged;
SELECT medianest_perf.reset();
SELECT pg_stat_force_next_flush();
SELECT pg_stat_reset();
SELECT count(*) FROM reco.log WHERE msg = 'm1';
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.2);
SELECT * FROM reco_list();
CREATE TEMP TABLE h2 AS SELECT component, score FROM medianest_perf.health();
SELECT h1.component, h2.score > h1.score AS rose
  FROM h1 JOIN h2 USING (component)
 WHERE h1.component IN ('indexes', 'maintenance_bloat', 'overall')
 ORDER BY h1.component COLLATE "C";

-- score ramp and grades
SELECT v, round(medianest_perf.score_ramp(v, 0, 0.05, 0.25)::numeric, 2) AS up,
       round(medianest_perf.score_ramp(1 - v, 1, 0.99, 0.90)::numeric, 2) AS down
  FROM unnest(ARRAY[0, 0.005, 0.01, 0.05, 0.15, 0.25, 0.5]::float8[]) v;
SELECT s, medianest_perf.grade(s) FROM unnest(ARRAY[100, 97, 93, 90, 85, 75, 61, 59, NULL]::float8[]) s;

-- label escaping per the exposition format
SELECT medianest_perf.prom_sample('m', ARRAY['a', E'x\\y"z\nw', 'b', NULL], 1.5);
SELECT medianest_perf.prom_value(v) FROM unnest(ARRAY['Infinity', '-Infinity', 'NaN', '0.25', '1e21']::float8[]) v;

-- clean up
SET client_min_messages = warning;
DROP SCHEMA reco CASCADE;
DROP FUNCTION reco_list();
DROP EXTENSION medianest_perf;
