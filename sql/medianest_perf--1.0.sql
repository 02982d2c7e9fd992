/* medianest_perf--1.0.sql: the SQL API, version 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION medianest_perf" to load this file. \quit

COMMENT ON SCHEMA medianest_perf IS
  'medianest_perf: statement statistics with latency percentiles, slow queries with plans, N+1 detection, index scoring, bloat sampling and index advice';

-----------------------------------------------------------------------------
-- Statement statistics (src/stmt_store.c)
-----------------------------------------------------------------------------

CREATE FUNCTION medianest_perf.statements_1_0(
    showtext boolean,
    OUT userid oid,
    OUT dbid oid,
    OUT toplevel boolean,
    OUT queryid bigint,
    OUT query text,
    OUT calls bigint,
    OUT rows bigint,
    OUT total_time_ms double precision,
    OUT mean_time_ms double precision,
    OUT min_time_ms double precision,
    OUT max_time_ms double precision,
    OUT stddev_time_ms double precision,
    OUT p50_ms double precision,
    OUT p95_ms double precision,
    OUT p99_ms double precision,
    OUT shared_blks_hit bigint,
    OUT shared_blks_read bigint,
    OUT cache_hit_ratio double precision,
    OUT temp_blks_written bigint,
    OUT slow_calls bigint,
    OUT critical_calls bigint,
    OUT first_seen timestamptz,
    OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_statements_1_0'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statements_1_0(boolean) IS
  'Rows of the statements view; showtext => false skips reading query texts';

CREATE VIEW medianest_perf.statements AS
  SELECT * FROM medianest_perf.statements_1_0(true);

COMMENT ON VIEW medianest_perf.statements IS
  'Per-statement execution statistics with latency percentiles, one row per (userid, dbid, queryid, toplevel)';
COMMENT ON COLUMN medianest_perf.statements.userid IS 'OID of the role that ran the statement';
COMMENT ON COLUMN medianest_perf.statements.dbid IS 'OID of the database the statement ran in';
COMMENT ON COLUMN medianest_perf.statements.toplevel IS 'true if issued by the client, false if run inside a function or procedure (medianest_perf.track = all)';
COMMENT ON COLUMN medianest_perf.statements.queryid IS 'Core query identifier (same as pg_stat_statements.queryid); NULL for other users'' statements unless the caller has pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.statements.query IS 'Normalized statement text, constants replaced by $n; <insufficient privilege> for other users'' statements unless the caller has pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.statements.calls IS 'Number of executions';
COMMENT ON COLUMN medianest_perf.statements.rows IS 'Total rows returned or affected';
COMMENT ON COLUMN medianest_perf.statements.total_time_ms IS 'Total execution time, in milliseconds';
COMMENT ON COLUMN medianest_perf.statements.mean_time_ms IS 'Mean execution time, in milliseconds';
COMMENT ON COLUMN medianest_perf.statements.min_time_ms IS 'Minimum execution time, in milliseconds';
COMMENT ON COLUMN medianest_perf.statements.max_time_ms IS 'Maximum execution time, in milliseconds';
COMMENT ON COLUMN medianest_perf.statements.stddev_time_ms IS 'Population standard deviation of the execution time, in milliseconds';
COMMENT ON COLUMN medianest_perf.statements.p50_ms IS 'Median execution time from the latency histogram (relative error at most 5% between 0.01 ms and 100 s)';
COMMENT ON COLUMN medianest_perf.statements.p95_ms IS '95th percentile execution time from the latency histogram';
COMMENT ON COLUMN medianest_perf.statements.p99_ms IS '99th percentile execution time from the latency histogram';
COMMENT ON COLUMN medianest_perf.statements.shared_blks_hit IS 'Shared buffer hits';
COMMENT ON COLUMN medianest_perf.statements.shared_blks_read IS 'Shared blocks read from the operating system';
COMMENT ON COLUMN medianest_perf.statements.cache_hit_ratio IS 'shared_blks_hit / (shared_blks_hit + shared_blks_read); NULL when no block was touched';
COMMENT ON COLUMN medianest_perf.statements.temp_blks_written IS 'Temporary blocks written (sorts and hashes spilling to disk)';
COMMENT ON COLUMN medianest_perf.statements.slow_calls IS 'Executions at or over medianest_perf.slow_query_ms (critical ones included)';
COMMENT ON COLUMN medianest_perf.statements.critical_calls IS 'Executions at or over medianest_perf.critical_query_ms';
COMMENT ON COLUMN medianest_perf.statements.first_seen IS 'When the statement entry was created';
COMMENT ON COLUMN medianest_perf.statements.last_seen IS 'When the statement last finished executing';

CREATE FUNCTION medianest_perf.statements_info(
    OUT entries bigint,
    OUT max_entries integer,
    OUT evictions bigint,
    OUT evicted_entries bigint,
    OUT text_bytes_used bigint,
    OUT text_bytes_max bigint,
    OUT text_compactions bigint,
    OUT truncated_texts bigint,
    OUT dropped_samples bigint,
    OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_statements_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statements_info() IS
  'Counters of the statement store itself; see the statements_info view';

CREATE VIEW medianest_perf.statements_info AS
  SELECT * FROM medianest_perf.statements_info();

COMMENT ON VIEW medianest_perf.statements_info IS
  'Health of the statement store: size, evictions, text memory, dropped samples, last reset';
COMMENT ON COLUMN medianest_perf.statements_info.entries IS 'Statement entries currently stored';
COMMENT ON COLUMN medianest_perf.statements_info.max_entries IS 'medianest_perf.max_statements';
COMMENT ON COLUMN medianest_perf.statements_info.evictions IS 'How many times the store was full and evicted a batch of its least used entries';
COMMENT ON COLUMN medianest_perf.statements_info.evicted_entries IS 'Entries removed by evictions (and saved entries that did not fit at start-up)';
COMMENT ON COLUMN medianest_perf.statements_info.text_bytes_used IS 'Bytes of the query text memory in use';
COMMENT ON COLUMN medianest_perf.statements_info.text_bytes_max IS 'Size of the query text memory (medianest_perf.query_text_memory)';
COMMENT ON COLUMN medianest_perf.statements_info.text_compactions IS 'How many times the query text memory was compacted to make room';
COMMENT ON COLUMN medianest_perf.statements_info.truncated_texts IS 'Query texts stored truncated (or not at all) for lack of text memory';
COMMENT ON COLUMN medianest_perf.statements_info.dropped_samples IS 'Executions that could not be recorded (no memory); never an error for the application';
COMMENT ON COLUMN medianest_perf.statements_info.stats_reset IS 'When the statistics were last reset';

CREATE FUNCTION medianest_perf.statement_histogram(
    queryid bigint,
    OUT lower_ms double precision,
    OUT upper_ms double precision,
    OUT calls bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_statement_histogram'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statement_histogram(bigint) IS
  'Non-empty latency buckets [lower_ms, upper_ms) of one statement, summed over the entries the caller may see';

CREATE FUNCTION medianest_perf.statement_indexes(
    OUT userid oid,
    OUT dbid oid,
    OUT toplevel boolean,
    OUT queryid bigint,
    OUT indexrelid oid,
    OUT calls bigint,
    OUT indexes_overflow boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_statement_indexes'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statement_indexes() IS
  'Which recorded statements used which index in their plans (sampled: first executions, then at growing intervals); indexes_overflow means the statement used more indexes than are remembered';

CREATE FUNCTION medianest_perf.reset_statements()
RETURNS void
AS 'MODULE_PATHNAME', 'mnp_reset_statements'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.reset_statements() IS
  'Forget all statement statistics and texts (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset_statements() FROM PUBLIC;

-----------------------------------------------------------------------------
-- Slow queries (src/slowlog.c)
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- N+1 and repeated-statement detection (src/nplus1.c)
-----------------------------------------------------------------------------

CREATE FUNCTION medianest_perf.n_plus_one_1_0(
    showtext boolean,
    OUT userid oid,
    OUT dbid oid,
    OUT kind text,
    OUT application_name text,
    OUT source_queryid bigint,
    OUT source_query text,
    OUT repeated_queryid bigint,
    OUT repeated_query text,
    OUT occurrences bigint,
    OUT max_repeats bigint,
    OUT total_repeated_calls bigint,
    OUT total_time_ms double precision,
    OUT estimated_saving_ms double precision,
    OUT suggestion text,
    OUT first_seen timestamptz,
    OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_n_plus_one_1_0'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION medianest_perf.n_plus_one_1_0(boolean) IS
  'Rows of the n_plus_one view; showtext => false skips reading query texts. Publishes the calling session''s pending unit of work first';

CREATE VIEW medianest_perf.n_plus_one AS
  SELECT * FROM medianest_perf.n_plus_one_1_0(true);

COMMENT ON VIEW medianest_perf.n_plus_one IS
  'Access-pattern incidents found per unit of work (transaction, or autocommit burst): N+1 loops, repeated identical statements and write loops, aggregated per (userid, dbid, kind, source, repeated statement)';
COMMENT ON COLUMN medianest_perf.n_plus_one.userid IS 'OID of the role that ran the repeated statement';
COMMENT ON COLUMN medianest_perf.n_plus_one.dbid IS 'OID of the database';
COMMENT ON COLUMN medianest_perf.n_plus_one.kind IS 'n_plus_one (a statement returned rows, then one parameterized statement ran once per row with different values), repeated_identical (the same statement with the same parameters ran again and again: a caching problem), write_loop (one INSERT/UPDATE/DELETE/MERGE ran row by row)';
COMMENT ON COLUMN medianest_perf.n_plus_one.application_name IS 'application_name of the session that last showed the pattern';
COMMENT ON COLUMN medianest_perf.n_plus_one.source_queryid IS 'queryid of the statement whose rows drove the loop; NULL when there is none (always set for n_plus_one) or for other users'' incidents without pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.n_plus_one.source_query IS 'Normalized text of the source statement (from the statements store); <insufficient privilege> for other users'' statements unless the caller has pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.n_plus_one.repeated_queryid IS 'queryid of the statement that ran repeatedly; NULL for other users'' incidents without pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.n_plus_one.repeated_query IS 'Normalized text of the repeated statement; <insufficient privilege> for other users'' statements unless the caller has pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.n_plus_one.occurrences IS 'Units of work in which the pattern reached medianest_perf.n_plus_one_min_repeats';
COMMENT ON COLUMN medianest_perf.n_plus_one.max_repeats IS 'Most repeats seen in one unit of work (for repeated_identical: calls with the single most repeated parameter set, a lower bound)';
COMMENT ON COLUMN medianest_perf.n_plus_one.total_repeated_calls IS 'Repeated calls summed over all occurrences';
COMMENT ON COLUMN medianest_perf.n_plus_one.total_time_ms IS 'Executor time of those calls, in milliseconds';
COMMENT ON COLUMN medianest_perf.n_plus_one.estimated_saving_ms IS 'Executor time the fix would save, in milliseconds: for n_plus_one and write_loop (calls - 1) x the fastest call of each run (one batched statement pays the per-call cost once); for repeated_identical (calls - 1) x the mean call (a cache keeps only the first). Round trips, parsing and planning are not included, so the real saving is larger';
COMMENT ON COLUMN medianest_perf.n_plus_one.suggestion IS 'The rewrite, derived from the repeated statement''s plan: the relation and the lookup columns to batch (= ANY / unnest / JOIN), the rows to insert or update in one statement, or what to cache';
COMMENT ON COLUMN medianest_perf.n_plus_one.first_seen IS 'End of the first unit of work that showed the pattern';
COMMENT ON COLUMN medianest_perf.n_plus_one.last_seen IS 'End of the latest unit of work that showed the pattern';

-- like pg_stat_statements: everyone reads, rows of other users are masked
GRANT SELECT ON medianest_perf.n_plus_one TO PUBLIC;

CREATE FUNCTION medianest_perf.n_plus_one_info(
    OUT entries bigint,
    OUT max_entries integer,
    OUT evicted bigint,
    OUT dropped_statements bigint,
    OUT findings bigint,
    OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_n_plus_one_info'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION medianest_perf.n_plus_one_info() IS
  'Counters of the N+1 incident store itself; see the n_plus_one_info view';

CREATE VIEW medianest_perf.n_plus_one_info AS
  SELECT * FROM medianest_perf.n_plus_one_info();

COMMENT ON VIEW medianest_perf.n_plus_one_info IS
  'Health of the N+1 incident store: size, evictions, statements the detector could not follow, last reset';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.entries IS 'Incidents currently stored';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.max_entries IS 'medianest_perf.n_plus_one_max';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.evicted IS 'Incidents evicted (the one seen least recently) to make room for new ones';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.dropped_statements IS 'Statements the detector skipped because a unit of work had more distinct statements (192) or more runs over the threshold (32) than its backend-local table holds';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.findings IS 'Findings published since the last reset (one per unit of work and incident)';
COMMENT ON COLUMN medianest_perf.n_plus_one_info.stats_reset IS 'When the incidents were last reset';

GRANT SELECT ON medianest_perf.n_plus_one_info TO PUBLIC;

CREATE FUNCTION medianest_perf.reset_n_plus_one()
RETURNS void
AS 'MODULE_PATHNAME', 'mnp_reset_n_plus_one'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION medianest_perf.reset_n_plus_one() IS
  'Forget every N+1 incident and the calling session''s pending unit of work (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset_n_plus_one() FROM PUBLIC;

-----------------------------------------------------------------------------
-- Index usage scoring
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- Bloat (src/bloat.c)
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- Global reset
-----------------------------------------------------------------------------

CREATE FUNCTION medianest_perf.reset()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM medianest_perf.reset_statements();
  PERFORM medianest_perf.reset_n_plus_one();
END;
$$;

COMMENT ON FUNCTION medianest_perf.reset() IS
  'Reset everything medianest_perf has recorded (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset() FROM PUBLIC;
