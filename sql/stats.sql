--
-- Statement statistics: counts, rows, normalization, nesting, percentiles,
-- the latency histogram and reset.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
SELECT medianest_perf.reset();

-- the statements of this test only, without the test's own queries
CREATE VIEW mine AS
  SELECT * FROM medianest_perf.statements
   WHERE query !~* 'medianest_perf|pg_sleep|mine|set |reset';

CREATE TABLE mnp_t (id int PRIMARY KEY, v text, n numeric);
INSERT INTO mnp_t VALUES (1, 'one', 1.5), (2, 'two', -2), (3, 'three', 3);
INSERT INTO mnp_t VALUES (4, 'four', 4);
SELECT v FROM mnp_t WHERE id = 1;
SELECT v FROM mnp_t WHERE id = 2;
SELECT v FROM mnp_t WHERE id = 99;
SELECT v FROM mnp_t WHERE v = 'three' AND n > -2.5;
SELECT v FROM mnp_t WHERE v = 'it''s' AND n > 10.5;
UPDATE mnp_t SET n = n + 1 WHERE id > 2;
SELECT count(*) FROM mnp_t /* comment */ WHERE v IN ('one', 'two', 'x');

-- normalized texts, calls and rows
SELECT query, calls, rows, toplevel
  FROM mine ORDER BY query COLLATE "C";

-- sanity of the timing columns
SELECT query,
       total_time_ms >= 0 AS total_ok,
       min_time_ms <= mean_time_ms AND mean_time_ms <= max_time_ms AS mean_ok,
       p50_ms <= p95_ms AND p95_ms <= p99_ms AND p99_ms <= max_time_ms AS pct_ordered,
       p50_ms >= min_time_ms AS p50_ge_min,
       stddev_time_ms >= 0 AS stddev_ok,
       first_seen <= last_seen AS seen_ok,
       shared_blks_hit + shared_blks_read > 0 AS touched_blocks
  FROM mine ORDER BY query COLLATE "C";

-- cache_hit_ratio is hit / (hit + read)
SELECT bool_and(cache_hit_ratio IS NULL OR
                abs(cache_hit_ratio - shared_blks_hit::float8 / (shared_blks_hit + shared_blks_read)) < 1e-9)
       AS ratio_consistent
  FROM medianest_perf.statements;

-- the queryid is the core one and userid/dbid are the caller's
SELECT count(*) = 1 AS one_entry,
       bool_and(userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS userid_ok,
       bool_and(dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS dbid_ok
  FROM mine WHERE query = 'SELECT v FROM mnp_t WHERE id = $1';

--
-- Nesting: statements inside a PL/pgSQL function are tracked only with
-- track = all, and then with toplevel = false.
--
CREATE FUNCTION mnp_f(k int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  SELECT v INTO r FROM mnp_t WHERE id = k;
  RETURN r;
END $$;

SELECT medianest_perf.reset();
SET medianest_perf.track = top;
SELECT mnp_f(1);
SELECT mnp_f(2);
SELECT query, calls, toplevel FROM mine ORDER BY query COLLATE "C", toplevel;

SELECT medianest_perf.reset();
SET medianest_perf.track = 'all';
SELECT mnp_f(1);
SELECT mnp_f(3);
DO $$ BEGIN PERFORM v FROM mnp_t WHERE id = 2; END $$;
SET medianest_perf.track = top;
SELECT query, calls, rows, toplevel FROM mine ORDER BY query COLLATE "C", toplevel;

-- track = none records nothing
SELECT medianest_perf.reset();
SET medianest_perf.track = none;
SELECT v FROM mnp_t WHERE id = 3;
SET medianest_perf.track = top;
SELECT count(*) AS none_recorded FROM mine;

--
-- Prepared statements count under the prepared query's text.
--
SELECT medianest_perf.reset();
PREPARE p(int) AS SELECT v FROM mnp_t WHERE id = $1;
EXECUTE p(1);
EXECUTE p(2);
EXECUTE p(3);
DEALLOCATE p;
SELECT query, calls, rows, toplevel FROM mine ORDER BY query COLLATE "C";

--
-- Histogram and percentiles: five sleeps of 50 ms land in one bucket whose
-- range is consistent with the observed minimum and maximum, and the
-- percentiles stay within 5 % of the observations.
--
SELECT medianest_perf.reset();
SELECT pg_sleep(0.05);
SELECT pg_sleep(0.05);
SELECT pg_sleep(0.05);
SELECT pg_sleep(0.05);
SELECT pg_sleep(0.05);
SELECT calls, min_time_ms >= 50 AS slept_long_enough,
       p50_ms BETWEEN min_time_ms AND max_time_ms AS p50_in_range,
       p99_ms <= max_time_ms AS p99_le_max
  FROM medianest_perf.statements WHERE query = 'SELECT pg_sleep($1)';
SELECT sum(h.calls) AS hist_calls,
       bool_and(h.lower_ms < h.upper_ms) AS bounds_ordered,
       bool_and(h.upper_ms / h.lower_ms < 1.1000001) AS bucket_width_ok,
       bool_and(h.lower_ms <= s.max_time_ms AND h.upper_ms > s.min_time_ms) AS bucket_matches_observations
  FROM medianest_perf.statements s,
       medianest_perf.statement_histogram(s.queryid) h
 WHERE s.query = 'SELECT pg_sleep($1)';
-- the fastest and the slowest observation each lie in a returned bucket
SELECT bool_or(h.lower_ms <= s.min_time_ms AND s.min_time_ms < h.upper_ms) AS min_in_bucket,
       bool_or(h.lower_ms <= s.max_time_ms AND s.max_time_ms < h.upper_ms) AS max_in_bucket,
       bool_and(s.p50_ms BETWEEN h2.lo / 1.05 AND h2.hi * 1.05) AS p50_within_5pct
  FROM medianest_perf.statements s
  CROSS JOIN LATERAL medianest_perf.statement_histogram(s.queryid) h
  CROSS JOIN LATERAL (SELECT s.min_time_ms AS lo, s.max_time_ms AS hi) h2
 WHERE s.query = 'SELECT pg_sleep($1)';

-- the bucketing: every duration lies in its bucket, buckets are contiguous
-- and at most 10 % wide, from 0.01 ms to beyond 100 s
SELECT count(*) AS durations,
       bool_and(b.lower_ms <= d.ms AND d.ms < b.upper_ms) AS inside_bucket,
       bool_and(b.bucket = 0 OR b.upper_ms = 'Infinity' OR b.upper_ms <= b.lower_ms * 1.1000001) AS narrow
  FROM (SELECT 0.01 * power(1.1, i / 7.0) * (1 + j * 1e-9) AS ms
          FROM generate_series(-20, 1300) i, generate_series(-1, 1) j) d,
       medianest_perf.latency_bucket(d.ms) b;
SELECT bucket, lower_ms, upper_ms FROM medianest_perf.latency_bucket(0);
SELECT bucket, round(lower_ms::numeric, 6) AS lower_ms, round(upper_ms::numeric, 6) AS upper_ms
  FROM medianest_perf.latency_bucket(0.01);
SELECT bucket, upper_ms > 100000 AS beyond_100s FROM medianest_perf.latency_bucket(99999);
SELECT bucket, upper_ms FROM medianest_perf.latency_bucket(1e12);
SELECT * FROM medianest_perf.latency_bucket(-1);
SELECT * FROM medianest_perf.latency_bucket('NaN');
-- exact bounds belong to the bucket they start
SELECT bool_and((medianest_perf.latency_bucket(b.lower_ms)).bucket = b.bucket) AS bounds_ok
  FROM generate_series(1, 171) i,
       medianest_perf.latency_bucket(0.01 * power(1.1, i - 0.5)) b;

-- unknown queryid: no buckets
SELECT count(*) FROM medianest_perf.statement_histogram(0);

-- reset empties the store and moves stats_reset forward
SELECT medianest_perf.reset();
SELECT entries, evictions, evicted_entries, dropped_samples
  FROM medianest_perf.statements_info;
SELECT count(*) AS after_reset FROM mine;
SELECT stats_reset > now() - interval '1 minute' AS reset_recent
  FROM medianest_perf.statements_info;

DROP FUNCTION mnp_f(int);
DROP VIEW mine;
DROP TABLE mnp_t;
DROP EXTENSION medianest_perf;
