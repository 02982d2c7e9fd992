--
-- Index advisor: a schema and workload whose right answers are known,
-- existing-index respect, tiny tables, budget, write penalty, quoting,
-- statements that fail to plan, no side effects, the workload from the
-- statement store with executed samples, and the DDL run with \gexec.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
-- deterministic statistics: every row is sampled, no autovacuum
SET default_statistics_target = 1000;
SET max_parallel_workers_per_gather = 0;

CREATE TABLE adv_users (
    id int PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    signup timestamptz NOT NULL
) WITH (autovacuum_enabled = off);
-- signup is not correlated with the physical order
INSERT INTO adv_users
  SELECT g, 'user' || g || '@example.com', 'name ' || g,
         timestamptz '2024-01-01 00:00+00' + ((g::bigint * 7919) % 50000) * interval '1 minute'
    FROM generate_series(1, 50000) g;

-- 200 users with 1000 orders each; status: 1% pending, 9% shipped
CREATE TABLE adv_orders (
    id bigint PRIMARY KEY,
    user_id int NOT NULL,
    status text NOT NULL,
    amount numeric NOT NULL,
    created_at timestamptz NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO adv_orders
  SELECT g, 1 + g % 200,
         CASE WHEN g % 100 = 0 THEN 'pending' WHEN g % 10 = 0 THEN 'shipped' ELSE 'completed' END,
         g % 1000, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute'
    FROM generate_series(1, 200000) g;

CREATE TABLE adv_tiny (id int, code text) WITH (autovacuum_enabled = off);
INSERT INTO adv_tiny SELECT g, 'c' || g FROM generate_series(1, 20) g;

CREATE TABLE "Weird; Name" (
    "Sel Col" int,
    "x""; DROP TABLE y; --" text
) WITH (autovacuum_enabled = off);
INSERT INTO "Weird; Name" SELECT g, 'v' || g FROM generate_series(1, 50000) g;
CREATE TABLE y (keep int);
-- names too long for an index name, with multibyte characters
CREATE TABLE "Überlange_Tabelle_für_Bestellungen_äöü" (
    "Spalte_mit_Umlauten_äöü_und_ß" int
) WITH (autovacuum_enabled = off);
INSERT INTO "Überlange_Tabelle_für_Bestellungen_äöü" SELECT g FROM generate_series(1, 50000) g;

VACUUM ANALYZE adv_users, adv_orders, adv_tiny, "Weird; Name",
  "Überlange_Tabelle_für_Bestellungen_äöü";

-- what exists before: relations and row counts
CREATE VIEW persistent_relations AS
  SELECT c.oid, c.relkind FROM pg_class c WHERE c.relpersistence <> 't';
CREATE TEMP TABLE before_state AS
  SELECT (SELECT count(*) FROM persistent_relations) AS relations,
         (SELECT count(*) FROM adv_orders) AS orders,
         (SELECT count(*) FROM persistent_relations WHERE relkind = 'i') AS indexes;

--
-- 1. Known answers, from an explicit workload with weights.
--
CREATE TEMP TABLE workload (no int, calls bigint, stmt text);
INSERT INTO workload VALUES
  (1, 500, 'SELECT id, name FROM adv_users WHERE email = ''user123@example.com'''),
  (2, 200, 'SELECT id, amount FROM adv_orders WHERE user_id = 42 AND created_at >= ''2024-03-01'' ORDER BY created_at DESC LIMIT 20'),
  (3, 100, 'SELECT id, created_at FROM adv_orders WHERE status = ''pending'' ORDER BY created_at LIMIT 50'),
  (4, 50, 'SELECT email, signup FROM adv_users WHERE signup >= ''2024-01-10'' AND signup < ''2024-01-11'''),
  (5, 1000, 'SELECT * FROM adv_tiny WHERE code = ''c7'''),
  (6, 10, 'DELETE FROM adv_orders WHERE user_id = 7 AND status = ''shipped'''),
  (7, 10, 'SELECT * FROM adv_missing WHERE id = 1'),
  (8, 10, 'VACUUM adv_users'),
  (9, 10, 'SELEC 1'),
  (10, 10, 'SELECT 1; SELECT 2');
CREATE TEMP TABLE advice AS
  SELECT * FROM medianest_perf.index_advice(
           statements => (SELECT array_agg(stmt ORDER BY no) FROM workload),
           statement_calls => (SELECT array_agg(calls ORDER BY no) FROM workload));

SELECT rank, table_name, key_columns, include_columns, predicate,
       estimated_size_bytes > 0 AS has_size,
       workload_cost_after < workload_cost_before AS cheaper,
       improvement_pct >= 5 AS improves,
       write_penalty = 0 AS no_writes,
       jsonb_path_query_array(queries, '$[*].statement') AS helps
  FROM advice ORDER BY rank;
SELECT ddl FROM advice ORDER BY rank;

-- per-statement costs: every helped statement gets cheaper
SELECT a.rank, q->>'statement' AS statement, (q->>'calls')::int AS calls,
       (q->>'cost_after')::float8 < (q->>'cost_before')::float8 AS cheaper
  FROM advice a, jsonb_array_elements(a.queries) q
 ORDER BY a.rank, (q->>'statement')::int;

-- the ranks chain: each index starts from the cost the previous left
SELECT bool_and(a.workload_cost_before = b.workload_cost_after) AS chained
  FROM advice a JOIN advice b ON b.rank = a.rank - 1;

-- statements that could not be planned are skipped and reported
SELECT statement, reason, detail FROM medianest_perf.index_advice_skipped()
 ORDER BY statement;

-- nothing was executed or created
SELECT (SELECT count(*) FROM persistent_relations) = relations AS no_new_relations,
       (SELECT count(*) FROM persistent_relations WHERE relkind = 'i') = indexes AS no_new_indexes,
       (SELECT count(*) FROM adv_orders) = orders AS delete_not_executed
  FROM before_state;

-- candidate shapes: IN lists, join keys (parameterized nested loop),
-- orderings with mixed directions and NULLS (the index is scanned
-- backward, so the first column is ascending), aggregates over a whole
-- table (hashing beats any index: nothing)
SELECT s.no, a.key_columns, a.include_columns, substr(a.ddl, strpos(a.ddl, 'USING')) AS def
  FROM (VALUES
   (1, 'SELECT id FROM adv_users WHERE email IN (''user1@example.com'', ''user2@example.com'', ''user3@example.com'')'),
   (2, 'SELECT o.id FROM adv_users u JOIN adv_orders o ON o.user_id = u.id WHERE u.email = ''user7@example.com'''),
   (3, 'SELECT id FROM adv_orders WHERE user_id = 42 ORDER BY created_at DESC, id ASC LIMIT 5'),
   (4, 'SELECT id FROM adv_orders ORDER BY amount DESC NULLS LAST LIMIT 10'),
   (5, 'SELECT user_id, count(*) FROM adv_orders GROUP BY user_id')
  ) s(no, stmt),
  LATERAL medianest_perf.index_advice(statements => ARRAY[s.stmt]) a
 ORDER BY s.no, a.rank;

--
-- 2. Budget: only what fits, within the budget.
--
SELECT count(*) AS indexes,
       coalesce(sum(estimated_size_bytes), 0) <= 0.5 * 1024 * 1024 AS within_budget,
       bool_and(predicate IS NOT NULL) AS only_the_partial_one
  FROM medianest_perf.index_advice(budget_mb => 0.5,
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload WHERE no <= 4),
         statement_calls => (SELECT array_agg(calls ORDER BY no) FROM workload WHERE no <= 4));

-- a minimum improvement above what any index achieves: nothing
SELECT count(*) AS indexes
  FROM medianest_perf.index_advice(min_improvement_pct => 100,
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload WHERE no <= 4));

-- max_columns limits keys and INCLUDE columns together
SELECT bool_and(cardinality(key_columns) + cardinality(include_columns) <= 1) AS narrow
  FROM medianest_perf.index_advice(max_columns => 1,
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload WHERE no <= 4));

--
-- 3. Existing indexes are respected.
--
CREATE INDEX adv_users_email ON adv_users (email);
SELECT rank, table_name, key_columns, include_columns
  FROM medianest_perf.index_advice(
         statements => ARRAY['SELECT id, name FROM adv_users WHERE email = ''user123@example.com''']);
-- a descending index serves an ascending candidate too (scanned backward)
CREATE INDEX adv_orders_user_created ON adv_orders (user_id DESC, created_at DESC);
SELECT rank, table_name, key_columns
  FROM medianest_perf.index_advice(
         statements => (SELECT array_agg(stmt) FROM workload WHERE no = 2));
DROP INDEX adv_users_email, adv_orders_user_created;
-- an index with more key columns is suggested as a replacement of the
-- existing one it makes redundant
CREATE INDEX adv_orders_user_only ON adv_orders (user_id);
SELECT rank, table_name, key_columns, replaces
  FROM medianest_perf.index_advice(
         statements => (SELECT array_agg(stmt) FROM workload WHERE no = 2));
DROP INDEX adv_orders_user_only;

--
-- 4. Write cost: rows the workload writes cost every new index on the table.
--
CREATE TABLE adv_hot (k int, v int) WITH (autovacuum_enabled = off, fillfactor = 50);
INSERT INTO adv_hot SELECT g, 0 FROM generate_series(1, 20000) g;
VACUUM ANALYZE adv_hot;
-- with room on every page and no index, updates are HOT
UPDATE adv_hot SET v = v + 1;
SELECT pg_stat_force_next_flush();
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'adv_hot';
-- a lookup beside an UPDATE that rewrites the key column of every row,
-- 100 times as often: the index does not pay
SELECT count(*) AS indexes
  FROM medianest_perf.index_advice(
         statements => ARRAY['SELECT v FROM adv_hot WHERE k = 5', 'UPDATE adv_hot SET k = k + 1'],
         statement_calls => ARRAY[10, 100]);
-- unless writes are declared free
SELECT key_columns, write_penalty = 0 AS no_penalty
  FROM medianest_perf.index_advice(write_cost_factor => 0,
         statements => ARRAY['SELECT v FROM adv_hot WHERE k = 5', 'UPDATE adv_hot SET k = k + 1'],
         statement_calls => ARRAY[10, 100]);
-- an UPDATE of another column costs the index only as often as updates
-- are not HOT: here never
SELECT key_columns, write_penalty = 0 AS no_penalty
  FROM medianest_perf.index_advice(
         statements => ARRAY['SELECT v FROM adv_hot WHERE k = 5', 'UPDATE adv_hot SET v = v + 1'],
         statement_calls => ARRAY[10, 100]);

--
-- 5. Bad input.
--
SELECT * FROM medianest_perf.index_advice(budget_mb => NULL, statements => ARRAY['SELECT 1']);
SELECT * FROM medianest_perf.index_advice(budget_mb => 0, statements => ARRAY['SELECT 1']);
SELECT * FROM medianest_perf.index_advice(max_columns => 0, statements => ARRAY['SELECT 1']);
SELECT * FROM medianest_perf.index_advice(min_improvement_pct => 101, statements => ARRAY['SELECT 1']);
SELECT * FROM medianest_perf.index_advice(statement_calls => ARRAY[1]::bigint[]);
SELECT * FROM medianest_perf.index_advice(statements => ARRAY['SELECT 1', 'SELECT 2'],
                                          statement_calls => ARRAY[1]::bigint[]);
SELECT * FROM medianest_perf.index_advice(statements => ARRAY['SELECT 1', NULL]);
-- limits stop the search, and say so
SELECT count(*) >= 0 AS answered
  FROM medianest_perf.index_advice(max_planner_calls => 3,
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload WHERE no <= 4));
SELECT reason FROM medianest_perf.index_advice_skipped() WHERE statement IS NULL;

--
-- 6. The workload from the statement store, planned with executed samples.
--
SELECT medianest_perf.reset();
SELECT count(*) FROM adv_orders WHERE status = 'pending';
SELECT count(*) FROM adv_orders WHERE status = 'pending';
SELECT count(*) FROM adv_orders WHERE status = 'pending';
SELECT name FROM adv_users WHERE email = 'user42@example.com';
PREPARE by_user(int) AS
  SELECT id, amount FROM adv_orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 10;
EXECUTE by_user(3);
EXECUTE by_user(4);
INSERT INTO adv_orders
  SELECT -g, 1, 'completed', 0, timestamptz '2023-01-01 00:00+00' FROM generate_series(1, 50) g;
DELETE FROM adv_orders WHERE id < 0;
-- the samples keep the constants and parameter values as executed
SELECT query, parameter_types, parameter_values
  FROM medianest_perf.statement_samples()
 WHERE query ~ 'adv_'
 ORDER BY query COLLATE "C";
SELECT sample_text_bytes, samples_stored > 0 AS stored
  FROM medianest_perf.statement_samples_info();
-- the partial index comes from the sample's 'pending': normalized text alone
-- ($1) could not show it
SELECT a.rank, a.table_name, a.key_columns, a.include_columns, a.predicate,
       a.write_penalty > 0 AS pays_for_writes,
       (SELECT array_agg(DISTINCT s.query COLLATE "C" ORDER BY s.query COLLATE "C")
          FROM jsonb_array_elements(a.queries) q
          JOIN medianest_perf.statements s ON s.queryid = (q->>'queryid')::bigint) AS helps
  FROM medianest_perf.index_advice() a
 ORDER BY a.rank;
-- with a high min_calls, only the statements run three times remain
SELECT table_name, key_columns, predicate
  FROM medianest_perf.index_advice(min_calls => 3) ORDER BY rank;
-- nothing of the DELETE happened
SELECT count(*) = (SELECT orders FROM before_state) AS orders_unchanged FROM adv_orders;

-- samples are private: another role sees neither text nor values
CREATE ROLE mnp_adv_other;
SET ROLE mnp_adv_other;
SELECT DISTINCT query, queryid IS NULL AS queryid_hidden, parameter_values IS NULL AS values_hidden
  FROM medianest_perf.statement_samples();
-- and its advice from the store covers only its own statements (none)
SELECT count(*) AS indexes FROM medianest_perf.index_advice();
-- a statement on a table it may not read is skipped, not planned
SELECT count(*) AS indexes
  FROM medianest_perf.index_advice(statements => ARRAY['SELECT * FROM adv_users WHERE email = ''x''']);
SELECT statement, reason, detail FROM medianest_perf.index_advice_skipped();
RESET ROLE;

--
-- 7. The DDL runs with CONCURRENTLY outside a transaction, quoted names
--    round-trip, and the advice is then satisfied.
--
INSERT INTO workload VALUES
  (11, 100, 'SELECT "Sel Col" FROM "Weird; Name" WHERE "x""; DROP TABLE y; --" = ''v42'''),
  (12, 100, 'SELECT 1 FROM "Überlange_Tabelle_für_Bestellungen_äöü" WHERE "Spalte_mit_Umlauten_äöü_und_ß" = 7');
SELECT ddl
  FROM medianest_perf.index_advice(
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload),
         statement_calls => (SELECT array_agg(calls ORDER BY no) FROM workload))
 ORDER BY rank \gexec
SELECT c.relname AS index, octet_length(c.relname::text) AS bytes, i.indisvalid AS valid,
       pg_get_indexdef(i.indexrelid) AS def
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname LIKE '%mnp%'
 ORDER BY c.relname COLLATE "C";
SELECT count(*) AS y_still_there FROM y;
VACUUM ANALYZE adv_users, adv_orders, "Weird; Name", "Überlange_Tabelle_für_Bestellungen_äöü";
SELECT table_name, key_columns, include_columns, predicate
  FROM medianest_perf.index_advice(
         statements => (SELECT array_agg(stmt ORDER BY no) FROM workload),
         statement_calls => (SELECT array_agg(calls ORDER BY no) FROM workload));

DROP ROLE mnp_adv_other;
DROP VIEW persistent_relations;
DROP TABLE adv_users, adv_orders, adv_tiny, adv_hot, "Weird; Name", y,
  "Überlange_Tabelle_für_Bestellungen_äöü";
DROP EXTENSION medianest_perf;
-- write this test's data out now rather than during the next test
CHECKPOINT;
