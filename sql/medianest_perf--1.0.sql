/* medianest_perf--1.0.sql: the SQL API, version 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION medianest_perf" to load this file. \quit

GRANT USAGE ON SCHEMA medianest_perf TO PUBLIC;

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
GRANT SELECT ON medianest_perf.statements TO PUBLIC;

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
COMMENT ON COLUMN medianest_perf.statements.first_seen IS 'Start time of the client statement during which this entry was created';
COMMENT ON COLUMN medianest_perf.statements.last_seen IS 'Start time of the client statement during which it last ran (no clock is read per execution)';

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
GRANT SELECT ON medianest_perf.statements_info TO PUBLIC;

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

CREATE FUNCTION medianest_perf.slow_queries_1_0(
    OUT seq bigint,
    OUT captured_at timestamptz,
    OUT pid integer,
    OUT userid oid,
    OUT dbid oid,
    OUT application_name text,
    OUT client_addr text,
    OUT queryid bigint,
    OUT top_queryid bigint,
    OUT nesting_level integer,
    OUT severity text,
    OUT duration_ms double precision,
    OUT rows bigint,
    OUT query text,
    OUT query_truncated boolean,
    OUT plan text,
    OUT plan_format text,
    OUT plan_truncated boolean,
    OUT plan_analyzed boolean,
    OUT parameters text,
    OUT parameters_truncated boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_slow_queries_1_0'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.slow_queries_1_0() IS
  'Rows of the slow_queries view, in ring order';

CREATE VIEW medianest_perf.slow_queries AS
  SELECT s.seq, s.captured_at, s.pid, s.userid, r.rolname AS username,
         s.dbid, d.datname, s.application_name, s.client_addr, s.queryid,
         s.top_queryid, s.nesting_level, s.severity, s.duration_ms, s.rows,
         s.query, s.query_truncated, s.plan, s.plan_format, s.plan_truncated,
         s.plan_analyzed, s.parameters, s.parameters_truncated
    FROM medianest_perf.slow_queries_1_0() s
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
    LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
   ORDER BY s.seq DESC;
GRANT SELECT ON medianest_perf.slow_queries TO PUBLIC;

COMMENT ON VIEW medianest_perf.slow_queries IS
  'Recent executions at or over medianest_perf.slow_query_ms, newest first, with their plans';
COMMENT ON COLUMN medianest_perf.slow_queries.seq IS 'Capture sequence number (grows by one per slow execution; gaps mean overwritten entries)';
COMMENT ON COLUMN medianest_perf.slow_queries.captured_at IS 'When the execution finished';
COMMENT ON COLUMN medianest_perf.slow_queries.pid IS 'Process ID of the backend that ran it';
COMMENT ON COLUMN medianest_perf.slow_queries.userid IS 'OID of the role that ran it';
COMMENT ON COLUMN medianest_perf.slow_queries.username IS 'Name of that role (NULL if dropped since)';
COMMENT ON COLUMN medianest_perf.slow_queries.dbid IS 'OID of the database';
COMMENT ON COLUMN medianest_perf.slow_queries.datname IS 'Name of the database (NULL if dropped since)';
COMMENT ON COLUMN medianest_perf.slow_queries.application_name IS 'application_name of the session';
COMMENT ON COLUMN medianest_perf.slow_queries.client_addr IS 'Client address (host name when log_hostname is on); NULL for Unix-socket and background sessions';
COMMENT ON COLUMN medianest_perf.slow_queries.queryid IS 'Query identifier, joins with statements.queryid; NULL for other users'' executions unless the caller has pg_read_all_stats';
COMMENT ON COLUMN medianest_perf.slow_queries.top_queryid IS 'Query identifier of the client statement it ran under (equals queryid at nesting level 0)';
COMMENT ON COLUMN medianest_perf.slow_queries.nesting_level IS '0 for a client statement, more for statements run inside functions (medianest_perf.track = all)';
COMMENT ON COLUMN medianest_perf.slow_queries.severity IS 'warning (>= slow_query_ms) or critical (>= critical_query_ms)';
COMMENT ON COLUMN medianest_perf.slow_queries.duration_ms IS 'Execution time in milliseconds';
COMMENT ON COLUMN medianest_perf.slow_queries.rows IS 'Rows returned or affected';
COMMENT ON COLUMN medianest_perf.slow_queries.query IS 'Source text of the statement as sent (constants included), at most slow_query_text_bytes; <insufficient privilege> for other users'' executions';
COMMENT ON COLUMN medianest_perf.slow_queries.query_truncated IS 'true if the text was cut at slow_query_text_bytes';
COMMENT ON COLUMN medianest_perf.slow_queries.plan IS 'EXPLAIN of the executed plan (slow_query_plan = text or json); NULL when off, when explaining failed, or for other users'' executions';
COMMENT ON COLUMN medianest_perf.slow_queries.plan_format IS 'text or json';
COMMENT ON COLUMN medianest_perf.slow_queries.plan_truncated IS 'true if the plan was cut at slow_query_plan_bytes';
COMMENT ON COLUMN medianest_perf.slow_queries.plan_analyzed IS 'true if the plan shows actual rows and loops (slow_query_analyze sampled this execution)';
COMMENT ON COLUMN medianest_perf.slow_queries.parameters IS 'Bound parameter values ($1 = ..., only when slow_query_parameters is on); NULL otherwise or for other users'' executions';
COMMENT ON COLUMN medianest_perf.slow_queries.parameters_truncated IS 'true if the parameter list was cut at 1024 bytes';

CREATE FUNCTION medianest_perf.slow_queries_info(
    OUT entries bigint,
    OUT max_entries integer,
    OUT captured bigint,
    OUT overwritten bigint,
    OUT explain_failures bigint,
    OUT stats_reset timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_slow_queries_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.slow_queries_info() IS
  'Counters of the slow-query ring; see the slow_queries_info view';

CREATE VIEW medianest_perf.slow_queries_info AS
  SELECT * FROM medianest_perf.slow_queries_info();
GRANT SELECT ON medianest_perf.slow_queries_info TO PUBLIC;

COMMENT ON VIEW medianest_perf.slow_queries_info IS
  'Health of the slow-query ring: entries kept, captures, overwrites, plan failures, last reset';
COMMENT ON COLUMN medianest_perf.slow_queries_info.entries IS 'Slow executions currently kept';
COMMENT ON COLUMN medianest_perf.slow_queries_info.max_entries IS 'medianest_perf.slow_query_max';
COMMENT ON COLUMN medianest_perf.slow_queries_info.captured IS 'Slow executions captured since the last reset';
COMMENT ON COLUMN medianest_perf.slow_queries_info.overwritten IS 'Captures that overwrote the oldest entry because the ring was full';
COMMENT ON COLUMN medianest_perf.slow_queries_info.explain_failures IS 'Captures whose plan (or parameters) could not be built; the execution is still recorded';
COMMENT ON COLUMN medianest_perf.slow_queries_info.stats_reset IS 'When the ring was last reset';

CREATE FUNCTION medianest_perf.reset_slow_queries()
RETURNS void
AS 'MODULE_PATHNAME', 'mnp_reset_slow_queries'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.reset_slow_queries() IS
  'Forget all captured slow executions (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset_slow_queries() FROM PUBLIC;


-----------------------------------------------------------------------------
-- N+1 and repeated-statement detection (src/nplus1.c)
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- Index usage scoring
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- Bloat (src/bloat.c)
-----------------------------------------------------------------------------


-----------------------------------------------------------------------------
-- Index advisor (src/advisor.c)
-----------------------------------------------------------------------------

CREATE FUNCTION medianest_perf.statement_samples(
    OUT userid oid,
    OUT dbid oid,
    OUT toplevel boolean,
    OUT queryid bigint,
    OUT query text,
    OUT parameter_types regtype[],
    OUT parameter_values text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_statement_samples'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statement_samples() IS
  'One executed sample per statement (source text with its constants, and bound parameter values), used by index_advice() to plan with real values; text, queryid and values only for the caller''s own statements unless the caller has pg_read_all_stats';

CREATE FUNCTION medianest_perf.statement_samples_info(
    OUT sample_text_bytes integer,
    OUT samples_stored bigint,
    OUT samples_skipped bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_statement_samples_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statement_samples_info() IS
  'Executed-statement samples: bytes per statement (medianest_perf.sample_text_bytes), samples written, and samples not kept because they did not fit';

CREATE FUNCTION medianest_perf.index_advice(
    budget_mb double precision DEFAULT 1024,
    min_improvement_pct double precision DEFAULT 5,
    max_columns integer DEFAULT 4,
    statements text[] DEFAULT NULL,
    statement_calls bigint[] DEFAULT NULL,
    min_calls bigint DEFAULT 1,
    min_total_ms double precision DEFAULT 0,
    top_n integer DEFAULT 200,
    write_cost_factor double precision DEFAULT 1,
    max_planner_calls integer DEFAULT 20000,
    time_limit_ms integer DEFAULT 10000,
    OUT rank integer,
    OUT relid regclass,
    OUT table_name text,
    OUT key_columns text[],
    OUT include_columns text[],
    OUT predicate text,
    OUT estimated_size_bytes bigint,
    OUT workload_cost_before double precision,
    OUT workload_cost_after double precision,
    OUT improvement_pct double precision,
    OUT write_penalty double precision,
    OUT queries jsonb,
    OUT ddl text,
    OUT replaces regclass[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_index_advice'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION medianest_perf.index_advice(double precision, double precision, integer, text[], bigint[], bigint, double precision, integer, double precision, integer, integer) IS
  'Recommended btree indexes for the observed workload (or the given statements), each checked by the planner with hypothetical indexes, selected by benefit per byte within budget_mb; nothing is executed or created. Output columns: rank (selection order), relid and table_name (quoted), key_columns, include_columns, predicate (partial index), estimated_size_bytes, workload_cost_before/after (sum of calls x planner cost before and after adding this index to those ranked before it), improvement_pct (cost saved on the statements it helps), write_penalty (estimated index maintenance, same units), queries (jsonb: queryid, statement number, calls, sampled (planned with executed values), cost_before, cost_after of each statement it helps), ddl (CREATE INDEX CONCURRENTLY IF NOT EXISTS ..., ready for \gexec), replaces (existing non-unique indexes it makes redundant: its leading keys, columns among its columns, same predicate; drop them once it is built)';

CREATE FUNCTION medianest_perf.index_advice_skipped(
    OUT statement integer,
    OUT queryid bigint,
    OUT reason text,
    OUT detail text,
    OUT query text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_index_advice_skipped'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION medianest_perf.index_advice_skipped() IS
  'Statements the last index_advice() call of this session could not plan (with the error), and the limits it reached (statement NULL)';


-----------------------------------------------------------------------------
-- Global reset
-----------------------------------------------------------------------------

-- SECURITY DEFINER: granting EXECUTE on reset() alone is enough to reset
-- every part; it is revoked from PUBLIC like the per-part resets.
CREATE FUNCTION medianest_perf.reset()
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM medianest_perf.reset_statements();
  PERFORM medianest_perf.reset_slow_queries();
END;
$$;

COMMENT ON FUNCTION medianest_perf.reset() IS
  'Reset everything medianest_perf has recorded (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset() FROM PUBLIC;
