--
-- Visibility and privileges: like pg_stat_statements, other users' query
-- texts are hidden unless the caller is a superuser or has
-- pg_read_all_stats; resets are revoked from PUBLIC.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
CREATE ROLE mnp_alice;
CREATE ROLE mnp_bob;
CREATE ROLE mnp_reader IN ROLE pg_read_all_stats;
CREATE TABLE mnp_sec (id int, owner text);
GRANT SELECT ON mnp_sec TO mnp_alice, mnp_bob, mnp_reader;
SELECT medianest_perf.reset();

SET ROLE mnp_alice;
SELECT count(*) FROM mnp_sec WHERE owner = 'alice secret';
RESET ROLE;
SET ROLE mnp_bob;
SELECT count(*) FROM mnp_sec WHERE id = 42;

-- bob sees his own text, not alice's (and not her queryid)
SELECT r.rolname, s.query, s.queryid IS NOT NULL AS has_queryid, s.calls
  FROM medianest_perf.statements s JOIN pg_roles r ON r.oid = s.userid
 WHERE r.rolname IN ('mnp_alice', 'mnp_bob')
 ORDER BY r.rolname COLLATE "C";

-- nor her histogram
SELECT count(*) AS alice_buckets_seen_by_bob
  FROM medianest_perf.statement_histogram(
         (SELECT queryid FROM medianest_perf.statements_1_0(true)
           WHERE query = 'SELECT count(*) FROM mnp_sec WHERE owner = $1'));

-- bob cannot reset
SELECT medianest_perf.reset();
SELECT medianest_perf.reset_statements();
RESET ROLE;

-- a member of pg_read_all_stats sees everything
SET ROLE mnp_reader;
SELECT r.rolname, s.query, s.queryid IS NOT NULL AS has_queryid
  FROM medianest_perf.statements s JOIN pg_roles r ON r.oid = s.userid
 WHERE r.rolname IN ('mnp_alice', 'mnp_bob') AND s.query ~ 'FROM mnp_sec WHERE'
 ORDER BY r.rolname COLLATE "C", s.query COLLATE "C";
SELECT sum(calls) AS alice_buckets_seen_by_reader
  FROM medianest_perf.statement_histogram(
         (SELECT queryid FROM medianest_perf.statements
           WHERE query = 'SELECT count(*) FROM mnp_sec WHERE owner = $1'));
RESET ROLE;

-- a superuser may grant reset to a role
GRANT EXECUTE ON FUNCTION medianest_perf.reset_statements() TO mnp_bob;
SET ROLE mnp_bob;
SELECT medianest_perf.reset_statements();
RESET ROLE;
SELECT count(*) AS after_granted_reset FROM medianest_perf.statements
 WHERE query LIKE '%mnp_sec%';

REVOKE EXECUTE ON FUNCTION medianest_perf.reset_statements() FROM mnp_bob;
DROP TABLE mnp_sec;
DROP EXTENSION medianest_perf;
DROP ROLE mnp_alice;
DROP ROLE mnp_bob;
DROP ROLE mnp_reader;
