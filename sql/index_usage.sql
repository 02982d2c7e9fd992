--
-- Index usage scoring: verdicts (ok, unused, rarely_used, duplicate,
-- redundant, invalid, write_heavy), scores, action SQL that runs, partitioned
-- tables, quoted names, index_queries() and its visibility rules, and the
-- table_scans missing-index signal.
--

-- Created before the extension: its catalog row predates the extension's
-- anchor, so how long its counter has been observed is known.
CREATE SCHEMA iu;
CREATE TABLE iu.t_rare (a int, b int);
INSERT INTO iu.t_rare SELECT g, g FROM generate_series(1, 1000) g;
CREATE INDEX rare_a ON iu.t_rare (a);

CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
SELECT medianest_perf.reset();
SET medianest_perf.unused_index_min_age = 0;
SET medianest_perf.write_heavy_ratio = 100;

-- exact duplicates (neither scanned: the first is kept, then found unused)
CREATE TABLE iu.t_dup (a int, b int, s text);
CREATE INDEX dup_first ON iu.t_dup (a, b);
CREATE INDEX dup_second ON iu.t_dup (a, b);
-- an expression and a partial index: duplicates of each other's copies only,
-- not of the plain index above
CREATE INDEX dup_expr_1 ON iu.t_dup (lower(s));
CREATE INDEX dup_expr_2 ON iu.t_dup (lower(s));
CREATE INDEX dup_partial ON iu.t_dup (a, b) WHERE a > 0;
CREATE INDEX dup_desc ON iu.t_dup (a DESC, b);
CREATE INDEX dup_collate ON iu.t_dup (s COLLATE "C");
CREATE INDEX dup_plain_s ON iu.t_dup (s);

-- unique against non-unique on the same column: the unique one is kept
CREATE TABLE iu.t_tie (a int, b int);
CREATE INDEX tie_plain ON iu.t_tie (a);
CREATE UNIQUE INDEX tie_unique ON iu.t_tie (a);
-- two unique constraints on one column: the loser backs a constraint, so it
-- gets no DROP INDEX
ALTER TABLE iu.t_tie ADD CONSTRAINT tie_b_key1 UNIQUE (b);
ALTER TABLE iu.t_tie ADD CONSTRAINT tie_b_key2 UNIQUE (b);

-- leading prefix of a wider btree; a unique prefix is not redundant
CREATE TABLE iu.t_prefix (a int, b int, c int);
CREATE INDEX pre_ab ON iu.t_prefix (a, b);
CREATE INDEX pre_a ON iu.t_prefix (a);
CREATE INDEX pre_a_inc ON iu.t_prefix (a) INCLUDE (b);
CREATE INDEX pre_a_inc_c ON iu.t_prefix (a) INCLUDE (c);
CREATE INDEX pre_b_part ON iu.t_prefix (b) WHERE c IS NULL;
CREATE INDEX pre_b_c_part ON iu.t_prefix (b, c) WHERE c IS NULL;
CREATE INDEX pre_expr ON iu.t_prefix ((a + b));
CREATE UNIQUE INDEX pre_c_unique ON iu.t_prefix (c);
CREATE INDEX pre_c_a ON iu.t_prefix (c, a);

-- used, and written much more than read
CREATE TABLE iu.t_ok (id int PRIMARY KEY, v int);
INSERT INTO iu.t_ok SELECT g, g FROM generate_series(1, 500) g;
CREATE TABLE iu.t_write (a int, b int);
CREATE INDEX write_a ON iu.t_write (a);
INSERT INTO iu.t_write SELECT g, g FROM generate_series(1, 3000) g;

-- partitioned table: a used and an unused partitioned index
CREATE TABLE iu.events (id int, kind int, at int) PARTITION BY RANGE (id);
CREATE TABLE iu.events_1 PARTITION OF iu.events FOR VALUES FROM (0) TO (1000);
CREATE TABLE iu.events_2 PARTITION OF iu.events FOR VALUES FROM (1000) TO (2000);
INSERT INTO iu.events SELECT g, g % 10, g FROM generate_series(0, 1999) g;
CREATE INDEX events_kind ON iu.events (kind);
CREATE INDEX events_at ON iu.events (at);
-- ON ONLY: invalid until every partition has an attached index
CREATE INDEX events_only ON ONLY iu.events (id, at);

-- names that need quoting, in a schema that needs quoting
CREATE SCHEMA "Other Schema";
CREATE TABLE "Other Schema"."Weird Table" (a int, "B" int);
CREATE INDEX "Weird; Name" ON "Other Schema"."Weird Table" (a);
CREATE INDEX "x""; DROP TABLE y; --" ON "Other Schema"."Weird Table" ("B");
CREATE TABLE y (a int);

-- invalid indexes: a failed CREATE UNIQUE INDEX CONCURRENTLY (duplicate
-- keys), and a failed plain one (an operator class whose comparison fails
-- on demand)
CREATE TABLE iu.t_invalid (a int, b int);
INSERT INTO iu.t_invalid SELECT g % 5, g FROM generate_series(1, 20) g;
CREATE UNIQUE INDEX CONCURRENTLY inv_unique ON iu.t_invalid (a);
CREATE FUNCTION iu.flaky_cmp(int, int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('iu.fail', true) = 'on' THEN
    RAISE EXCEPTION 'comparison refused on purpose';
  END IF;
  RETURN btint4cmp($1, $2);
END $$;
CREATE OPERATOR CLASS iu.flaky_ops FOR TYPE int USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 iu.flaky_cmp(int, int);
SET iu.fail = on;
CREATE INDEX CONCURRENTLY inv_plain ON iu.t_invalid (b iu.flaky_ops);
RESET iu.fail;

-- the workload, starting from zeroed counters (pending counters of this
-- session are flushed first, or they would arrive after the reset)
SELECT pg_stat_force_next_flush();
SELECT pg_stat_reset();
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT v FROM iu.t_ok WHERE id = 1;
SELECT v FROM iu.t_ok WHERE id = 2;
SELECT v FROM iu.t_ok WHERE id = 3;
SELECT b FROM iu.t_write WHERE a = 7;
SELECT b FROM iu.t_write WHERE a = 8;
SELECT count(*) FROM iu.events WHERE kind = 3 AND id < 1000;
SELECT count(*) FROM iu.t_rare WHERE a = 5;
SELECT count(*) FROM iu.t_tie WHERE a = 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
INSERT INTO iu.t_write SELECT g, g FROM generate_series(1, 1000) g;
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.2);

-- every verdict, with its score band and action
CREATE VIEW iu_report AS
  SELECT schemaname, tablename, indexname, kind, verdict,
         CASE WHEN score = 0 THEN '0'
              WHEN score < 50 THEN '1-49'
              ELSE '50-100' END AS score_band,
         action
    FROM medianest_perf.index_usage
   WHERE schemaname IN ('iu', 'Other Schema');
SELECT * FROM iu_report ORDER BY schemaname COLLATE "C", indexname COLLATE "C";

-- the evidence
SELECT indexname, reason
  FROM medianest_perf.index_usage
 WHERE schemaname = 'iu'
   AND indexname IN ('dup_second', 'tie_plain', 'tie_b_key2', 'pre_a', 'pre_a_inc')
 ORDER BY indexname COLLATE "C";
SELECT indexname,
       reason ~ '^no scans since an unknown time \(its creation time is not known\), with unused_index_min_age = 0s, and no recorded statement used it' AS unused_reason_ok
  FROM medianest_perf.index_usage WHERE indexname IN ('dup_first', 'Weird; Name')
 ORDER BY indexname COLLATE "C";
SELECT indexname,
       reason ~ '^1000 index-maintaining writes \(inserts and non-HOT updates of iu.t_write\) for 2 scans: 500.0 writes per scan, more than write_heavy_ratio = 100' AS write_reason_ok
  FROM medianest_perf.index_usage WHERE indexname = 'write_a';
SELECT indexname, reason ~ '^index is invalid: .*; drop it, remove the cause of the failure \(for a unique index, usually duplicate keys\), then re-create it with: CREATE UNIQUE INDEX CONCURRENTLY inv_unique ON iu.t_invalid USING btree \(a\)$' AS unique_reason_ok
  FROM medianest_perf.index_usage WHERE indexname = 'inv_unique';
SELECT indexname, reason
  FROM medianest_perf.index_usage WHERE indexname IN ('events_only', 'events_2_kind_idx')
 ORDER BY indexname COLLATE "C";

-- figures: partitioned indexes sum their partitions; statements recorded
SELECT indexname, kind, parent_index, idx_scan, statements_using, table_writes,
       size_bytes > 0 AS has_size, is_unique, is_primary, constraint_name, valid
  FROM medianest_perf.index_usage
 WHERE schemaname = 'iu'
   AND tablename IN ('events', 'events_1', 'events_2', 't_ok', 't_write', 't_tie')
 ORDER BY indexname COLLATE "C";

-- scores are within 0-100 and consistent with the verdicts
SELECT verdict, min(score) >= 0 AND max(score) <= 100 AS in_range,
       CASE WHEN verdict IN ('invalid', 'duplicate', 'unused') THEN max(score) = 0
            WHEN verdict IN ('rarely_used', 'write_heavy') THEN max(score) < 50
            WHEN verdict = 'redundant' THEN max(score) <= 25
            ELSE min(score) >= 50 END AS band_ok
  FROM medianest_perf.index_usage GROUP BY verdict ORDER BY verdict COLLATE "C";

-- rarely_used needs an observation of known length: rare_a (created before
-- the extension) has scanned once in a fraction of a second, which is
-- fewer than 1e9 per day; the others' observation length is unknown
SET medianest_perf.rarely_used_scans_per_day = 1e9;
SELECT indexname, verdict, score < 50 AS low_score, observed_since IS NOT NULL AS age_known,
       reason ~ '^1 scans in the [0-9.]+(d|h|min|s) since .*: at most [0-9.]+ per day, fewer than rarely_used_scans_per_day = 1000000000' AS reason_ok
  FROM medianest_perf.index_usage WHERE indexname IN ('rare_a', 't_ok_pkey')
 ORDER BY indexname COLLATE "C";
RESET medianest_perf.rarely_used_scans_per_day;
SELECT verdict FROM medianest_perf.index_usage WHERE indexname = 'rare_a';

-- with a minimum age, nothing young is judged unused, rarely_used or
-- write_heavy; structural verdicts stay
SET medianest_perf.unused_index_min_age = '1h';
SELECT verdict, count(*)
  FROM medianest_perf.index_usage WHERE schemaname IN ('iu', 'Other Schema')
 GROUP BY verdict ORDER BY verdict COLLATE "C";
SELECT indexname,
       regexp_replace(reason, 'in the [0-9.]+(d|h|min|s) since [0-9-]+ [0-9:+-]+', 'in the <duration> since <time>') AS reason
  FROM medianest_perf.index_usage WHERE indexname IN ('Weird; Name', 'rare_a')
 ORDER BY indexname COLLATE "C";
SET medianest_perf.unused_index_min_age = 0;

-- index_queries(): the statements whose plans used an index
SELECT query, calls, queryid IS NOT NULL AS has_queryid, toplevel
  FROM medianest_perf.index_queries('iu.t_ok_pkey') ORDER BY query COLLATE "C";
-- a partitioned index lists the statements that used its partitions
SELECT query FROM medianest_perf.index_queries('iu.events_kind');
SELECT count(*) FROM medianest_perf.index_queries('iu.events_at');

-- a role without pg_read_all_stats sees others' statements without text
CREATE ROLE iu_nobody;
GRANT USAGE ON SCHEMA medianest_perf, iu TO iu_nobody;
GRANT SELECT ON iu.t_ok TO iu_nobody;
SET ROLE iu_nobody;
SET enable_seqscan = off;
SELECT v FROM iu.t_ok WHERE id = 4;
RESET enable_seqscan;
SELECT r.rolname, q.query, q.queryid IS NOT NULL AS has_queryid, q.calls
  FROM medianest_perf.index_queries('iu.t_ok_pkey') q
  JOIN pg_roles r ON r.oid = q.userid
 ORDER BY r.rolname COLLATE "C", q.query COLLATE "C";
SELECT indexname, verdict, statements_using
  FROM medianest_perf.index_usage WHERE indexname = 't_ok_pkey';
RESET ROLE;

-- table_scans: a large table read by many sequential scans is flagged
CREATE TABLE iu.t_seq (a int, b int);
INSERT INTO iu.t_seq SELECT g, g FROM generate_series(1, 2000) g;
SET medianest_perf.seq_scan_min_rows = 1000;
SET medianest_perf.seq_scan_min_count = 3;
SELECT count(*) FROM iu.t_seq WHERE b = 1;
SELECT count(*) FROM iu.t_seq WHERE b = 2;
SELECT count(*) FROM iu.t_seq WHERE b = 3;
SELECT count(*) FROM iu.t_seq WHERE b = 4;
SELECT pg_stat_force_next_flush();
SELECT tablename, kind, parent_table, seq_scan, seq_tup_read, avg_seq_tup_read,
       idx_scan, seq_scan_share, index_count, missing_index_suspected, reason
  FROM medianest_perf.table_scans
 WHERE schemaname = 'iu' AND tablename IN ('t_seq', 't_ok', 'events', 'events_1', 't_dup')
 ORDER BY tablename COLLATE "C";
RESET medianest_perf.seq_scan_min_rows;
RESET medianest_perf.seq_scan_min_count;

-- every action runs as generated (\gexec runs each outside a transaction)
SELECT action FROM medianest_perf.index_usage
 WHERE schemaname IN ('iu', 'Other Schema') AND action IS NOT NULL
 ORDER BY schemaname COLLATE "C", indexname COLLATE "C" \gexec

-- what is left: the kept indexes, the rebuilt one, and what has no
-- single-index action; the table named in the injected name still exists
SELECT * FROM iu_report ORDER BY schemaname COLLATE "C", indexname COLLATE "C";
SELECT indexname, valid FROM medianest_perf.index_usage WHERE indexname = 'inv_plain';
SELECT to_regclass('public.y') IS NOT NULL AS y_still_there;

-- clean up
SET client_min_messages = warning;
DROP VIEW iu_report;
DROP SCHEMA iu CASCADE;
DROP SCHEMA "Other Schema" CASCADE;
DROP TABLE y;
REVOKE USAGE ON SCHEMA medianest_perf FROM iu_nobody;
DROP ROLE iu_nobody;
DROP EXTENSION medianest_perf;
