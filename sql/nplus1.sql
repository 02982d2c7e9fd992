-- N+1, repeated-statement and write-loop detection, driven by psql (simple
-- protocol, PREPARE/EXECUTE, PL/pgSQL).  Extended-protocol and concurrent
-- cases are in test/scripts/nplus1.sh (pgbench).
CREATE EXTENSION IF NOT EXISTS medianest_perf;

CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id int PRIMARY KEY, author_id int NOT NULL REFERENCES users, title text NOT NULL);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts,
                       user_id int NOT NULL REFERENCES users, body text NOT NULL);
CREATE INDEX comments_post_id ON comments (post_id);
CREATE TABLE audit (id int, note text);
CREATE TABLE "Odd Name" ("Key Col" int PRIMARY KEY, val text);
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 100) g;
INSERT INTO posts SELECT g, 1 + (g * 7) % 100, 'post ' || g FROM generate_series(1, 50) g;
INSERT INTO comments SELECT g, 1 + (g - 1) / 3, 1 + (g * 13) % 100, 'c' || g FROM generate_series(1, 150) g;
INSERT INTO "Odd Name" SELECT g, 'v' || g FROM generate_series(1, 20) g;
ANALYZE users, posts, comments, "Odd Name";

-- What the tests print: no timings, only whether they are sane.
CREATE VIEW np1 AS
  SELECT kind, coalesce(source_query, '-') AS source, repeated_query AS repeated,
         occurrences AS occ, max_repeats AS max, total_repeated_calls AS calls,
         total_time_ms > 0 AS timed,
         estimated_saving_ms >= 0 AND estimated_saving_ms <= total_time_ms AS saving_ok,
         first_seen <= last_seen AS seen_ok, suggestion
    FROM medianest_perf.n_plus_one
   ORDER BY kind COLLATE "C", repeated_query COLLATE "C", source_query COLLATE "C";

-- the psql statements of a block follow each other closely; a wide gap
-- keeps a slow test machine from splitting a block
SET medianest_perf.n_plus_one_gap_ms = '10s';
\x on

-- 1. interleaved children in autocommit: author and comment count per post
SELECT medianest_perf.reset_n_plus_one();
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 1 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 2 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 3 \g /dev/null
SELECT name FROM users WHERE id = 29 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 4 \g /dev/null
SELECT name FROM users WHERE id = 36 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 5 \g /dev/null
SELECT name FROM users WHERE id = 43 \g /dev/null
SELECT count(*) FROM comments WHERE post_id = 6 \g /dev/null
SELECT * FROM np1;
\x off

-- 2. the same loop inside a transaction, twice: published at COMMIT and
--    aggregated (occurrences 2, max and total repeats)
SELECT medianest_perf.reset_n_plus_one();
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
SELECT name FROM users WHERE id = 29 \g /dev/null
SELECT name FROM users WHERE id = 36 \g /dev/null
COMMIT;
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
SELECT name FROM users WHERE id = 29 \g /dev/null
SELECT name FROM users WHERE id = 36 \g /dev/null
SELECT name FROM users WHERE id = 43 \g /dev/null
COMMIT;
SELECT kind, source, repeated, occ, max, calls, timed, saving_ok FROM np1;

-- 3. nested N+1: posts -> comments of each post -> author of each comment;
--    the inner lookups' source is the middle statement
SELECT medianest_perf.reset_n_plus_one();
BEGIN;
SELECT id FROM posts ORDER BY id LIMIT 3 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 1 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 14 \g /dev/null
SELECT name FROM users WHERE id = 27 \g /dev/null
SELECT name FROM users WHERE id = 40 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 2 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 53 \g /dev/null
SELECT name FROM users WHERE id = 66 \g /dev/null
SELECT name FROM users WHERE id = 79 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 3 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 92 \g /dev/null
SELECT name FROM users WHERE id = 5 \g /dev/null
SELECT name FROM users WHERE id = 18 \g /dev/null
COMMIT;
-- the comments run has 3 repeats: below the default threshold of 5
SELECT kind, source, repeated, occ, max FROM np1;
SET medianest_perf.n_plus_one_min_repeats = 3;
SELECT medianest_perf.reset_n_plus_one();
BEGIN;
SELECT id FROM posts ORDER BY id LIMIT 3 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 1 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 14 \g /dev/null
SELECT name FROM users WHERE id = 27 \g /dev/null
SELECT name FROM users WHERE id = 40 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 2 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 53 \g /dev/null
SELECT name FROM users WHERE id = 66 \g /dev/null
SELECT name FROM users WHERE id = 79 \g /dev/null
SELECT user_id FROM comments WHERE post_id = 3 ORDER BY id \g /dev/null
SELECT name FROM users WHERE id = 92 \g /dev/null
SELECT name FROM users WHERE id = 5 \g /dev/null
SELECT name FROM users WHERE id = 18 \g /dev/null
COMMIT;
SELECT kind, source, repeated, occ, max FROM np1;
RESET medianest_perf.n_plus_one_min_repeats;

-- 4. PREPARE / EXECUTE (bound parameters), custom and generic plans
SELECT medianest_perf.reset_n_plus_one();
PREPARE author(int) AS SELECT name FROM users WHERE id = $1;
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 8 \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(15) \g /dev/null
EXECUTE author(22) \g /dev/null
EXECUTE author(29) \g /dev/null
EXECUTE author(36) \g /dev/null
EXECUTE author(43) \g /dev/null
EXECUTE author(50) \g /dev/null
EXECUTE author(57) \g /dev/null
COMMIT;
-- identical parameters: a caching problem, not N+1
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 8 \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(8) \g /dev/null
EXECUTE author(8) \g /dev/null
COMMIT;
DEALLOCATE author;
\x on
SELECT * FROM np1;
\x off

-- 5. repeated identical statement without parameters, and one with a
--    literal; a volatile one is not a caching problem
SELECT medianest_perf.reset_n_plus_one();
CREATE SEQUENCE ticket;
BEGIN;
SELECT count(*) FROM users \g /dev/null
SELECT count(*) FROM users \g /dev/null
SELECT count(*) FROM users \g /dev/null
SELECT count(*) FROM users \g /dev/null
SELECT count(*) FROM users \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 3 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 3 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 3 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 3 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 3 \g /dev/null
SELECT nextval('ticket') \g /dev/null
SELECT nextval('ticket') \g /dev/null
SELECT nextval('ticket') \g /dev/null
SELECT nextval('ticket') \g /dev/null
SELECT nextval('ticket') \g /dev/null
COMMIT;
SELECT kind, source, repeated, occ, max, calls, suggestion FROM np1;

-- 6. write loops: INSERT, UPDATE, DELETE row by row (no source needed)
SELECT medianest_perf.reset_n_plus_one();
BEGIN;
INSERT INTO audit VALUES (1, 'a');
INSERT INTO audit VALUES (2, 'b');
INSERT INTO audit VALUES (3, 'c');
INSERT INTO audit VALUES (4, 'd');
INSERT INTO audit VALUES (5, 'e');
INSERT INTO audit VALUES (6, 'f');
COMMIT;
BEGIN;
SELECT "Key Col" FROM "Odd Name" ORDER BY 1 LIMIT 5 \g /dev/null
UPDATE "Odd Name" SET val = 'x1' WHERE "Key Col" = 1;
UPDATE "Odd Name" SET val = 'x2' WHERE "Key Col" = 2;
UPDATE "Odd Name" SET val = 'x3' WHERE "Key Col" = 3;
UPDATE "Odd Name" SET val = 'x4' WHERE "Key Col" = 4;
UPDATE "Odd Name" SET val = 'x5' WHERE "Key Col" = 5;
COMMIT;
DELETE FROM audit WHERE id = 1;
DELETE FROM audit WHERE id = 2;
DELETE FROM audit WHERE id = 3;
DELETE FROM audit WHERE id = 4;
DELETE FROM audit WHERE id = 5;
\x on
SELECT * FROM np1;
\x off

-- 7. PL/pgSQL loops are nested statements: seen with track = all only
SELECT medianest_perf.reset_n_plus_one();
SET medianest_perf.track = 'all';
DO $$
DECLARE p record; c record; n text;
BEGIN
  FOR p IN SELECT id FROM posts ORDER BY id LIMIT 4 LOOP
    FOR c IN SELECT user_id FROM comments WHERE post_id = p.id LOOP
      SELECT name INTO n FROM users WHERE id = c.user_id;
    END LOOP;
  END LOOP;
END $$;
DO $$ BEGIN FOR i IN 1..20 LOOP INSERT INTO audit VALUES (i, 'n' || i); END LOOP; END $$;
-- identical reads inside one statement (one transaction): a caching problem
DO $$ DECLARE v text; BEGIN FOR i IN 1..6 LOOP SELECT val INTO v FROM "Odd Name" WHERE "Key Col" = 3; END LOOP; END $$;
CREATE FUNCTION author_name(int) RETURNS text LANGUAGE plpgsql
  AS $$ DECLARE n text; BEGIN SELECT name INTO n FROM users WHERE id = $1; RETURN n; END $$;
SELECT id, author_name(author_id) FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT kind, source, repeated, occ, max, calls FROM np1;
SELECT medianest_perf.reset_n_plus_one();
SET medianest_perf.track = 'top';
DO $$
DECLARE p record; n text;
BEGIN
  FOR p IN SELECT author_id FROM posts ORDER BY id LIMIT 8 LOOP
    SELECT name INTO n FROM users WHERE id = p.author_id;
  END LOOP;
END $$;
SELECT count(*) AS incidents_with_track_top FROM np1;

-- 8. negatives: batched = ANY, JOIN, 3 repeats, lookups without a source,
--    detection switched off
SELECT medianest_perf.reset_n_plus_one();
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT id, name FROM users WHERE id = ANY('{8,15,22,29,36,43}'::int[]) \g /dev/null
COMMIT;
BEGIN;
SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.author_id ORDER BY p.id LIMIT 6 \g /dev/null
COMMIT;
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
COMMIT;
BEGIN;
SELECT name FROM users WHERE id = 1 \g /dev/null
SELECT name FROM users WHERE id = 2 \g /dev/null
SELECT name FROM users WHERE id = 3 \g /dev/null
SELECT name FROM users WHERE id = 4 \g /dev/null
SELECT name FROM users WHERE id = 5 \g /dev/null
SELECT name FROM users WHERE id = 6 \g /dev/null
COMMIT;
-- identical reads in separate autocommit transactions, no source: could be
-- separate requests sharing a pooled connection
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SELECT val FROM "Odd Name" WHERE "Key Col" = 4 \g /dev/null
SET medianest_perf.n_plus_one = off;
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
SELECT name FROM users WHERE id = 29 \g /dev/null
SELECT name FROM users WHERE id = 36 \g /dev/null
COMMIT;
RESET medianest_perf.n_plus_one;
SELECT count(*) AS false_alarms FROM np1;

-- 9. privacy: other users' incidents show no query text, queryid or advice
SELECT medianest_perf.reset_n_plus_one();
CREATE ROLE regress_np1_app;
CREATE ROLE regress_np1_other;
CREATE ROLE regress_np1_reader IN ROLE pg_read_all_stats;
GRANT SELECT ON users, posts TO regress_np1_app;
GRANT USAGE ON SCHEMA medianest_perf TO regress_np1_app, regress_np1_other, regress_np1_reader;
SET ROLE regress_np1_app;
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6 \g /dev/null
SELECT name FROM users WHERE id = 8 \g /dev/null
SELECT name FROM users WHERE id = 15 \g /dev/null
SELECT name FROM users WHERE id = 22 \g /dev/null
SELECT name FROM users WHERE id = 29 \g /dev/null
SELECT name FROM users WHERE id = 36 \g /dev/null
COMMIT;
SELECT kind, source_query, repeated_query, source_queryid IS NOT NULL AS has_ids,
       suggestion LIKE 'fetch all rows%' AS advice FROM medianest_perf.n_plus_one;
SET ROLE regress_np1_other;
SELECT kind, source_query, repeated_query, source_queryid IS NOT NULL AS has_ids,
       repeated_queryid IS NOT NULL AS has_repeated_id, suggestion FROM medianest_perf.n_plus_one;
SELECT medianest_perf.reset_n_plus_one();
SET ROLE regress_np1_reader;
SELECT kind, source_query, repeated_query, source_queryid IS NOT NULL AS has_ids,
       suggestion LIKE 'fetch all rows%' AS advice FROM medianest_perf.n_plus_one;
RESET ROLE;
REVOKE USAGE ON SCHEMA medianest_perf FROM regress_np1_app, regress_np1_other, regress_np1_reader;
REVOKE SELECT ON users, posts FROM regress_np1_app;
DROP ROLE regress_np1_app, regress_np1_other, regress_np1_reader;

-- 10. reset() includes the incidents; n_plus_one_info counts
SELECT entries > 0 AS has_entries, findings > 0 AS has_findings, max_entries,
       evicted, dropped_statements FROM medianest_perf.n_plus_one_info;
SELECT medianest_perf.reset();
SELECT entries, findings, evicted, dropped_statements, stats_reset <= now() AS reset_ok
  FROM medianest_perf.n_plus_one_info;
SELECT count(*) FROM medianest_perf.n_plus_one;

-- 11. the statements of one multi-statement query (an implicit transaction
--     block): identical reads are one unit of work, whatever the white
--     space around each statement
SELECT medianest_perf.reset_n_plus_one();
SELECT val FROM "Odd Name" WHERE "Key Col" = 7 \; SELECT val FROM "Odd Name" WHERE "Key Col" = 7 \;  SELECT val FROM "Odd Name" WHERE "Key Col" = 7 \; SELECT val FROM "Odd Name" WHERE "Key Col" = 7 \; SELECT val FROM "Odd Name" WHERE "Key Col" = 7 \g /dev/null
SELECT kind, source, repeated, occ, max, calls FROM np1;

-- 12. a PL/pgSQL loop whose body runs in an exception block (one
--     subtransaction per row, half of them rolled back) is one unit of work
SELECT medianest_perf.reset_n_plus_one();
SET medianest_perf.track = 'all';
DO $$
DECLARE p record; n text;
BEGIN
  FOR p IN SELECT id, author_id FROM posts ORDER BY id LIMIT 8 LOOP
    BEGIN
      SELECT name INTO n FROM users WHERE id = p.author_id;
      IF p.id % 2 = 0 THEN RAISE division_by_zero; END IF;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
  END LOOP;
END $$;
SELECT kind, source, repeated, occ, max, calls FROM np1;
RESET medianest_perf.track;

-- 13. prepared statements that differ only in a literal constant (one
--     queryid), run with the same parameter: their texts tell them apart,
--     so this is a loop over different reads, not a repeated one
SELECT medianest_perf.reset_n_plus_one();
PREPARE lit_a(int) AS SELECT name FROM users WHERE id = $1 AND name <> 'a';
PREPARE lit_b(int) AS SELECT name FROM users WHERE id = $1 AND name <> 'b';
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 8 \g /dev/null
EXECUTE lit_a(8) \g /dev/null
EXECUTE lit_b(8) \g /dev/null
EXECUTE lit_a(8) \g /dev/null
EXECUTE lit_b(8) \g /dev/null
EXECUTE lit_a(8) \g /dev/null
EXECUTE lit_b(8) \g /dev/null
COMMIT;
DEALLOCATE lit_a;
DEALLOCATE lit_b;
SELECT kind, source, repeated, occ, max, calls FROM np1;

DROP VIEW np1;
DROP FUNCTION author_name(int);
DROP SEQUENCE ticket;
DROP TABLE audit, comments, posts, users, "Odd Name";
DROP EXTENSION medianest_perf;
