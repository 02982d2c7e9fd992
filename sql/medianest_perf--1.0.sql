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

CREATE FUNCTION medianest_perf.latency_bucket(
    ms double precision,
    OUT bucket integer,
    OUT lower_ms double precision,
    OUT upper_ms double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_latency_bucket'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.latency_bucket(double precision) IS
  'The latency-histogram bucket [lower_ms, upper_ms) a duration in milliseconds falls in';

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

-- The verdicts of index_usage, in the order they are tried:
--   invalid      pg_index.indisvalid is false and no CREATE INDEX / REINDEX
--                CONCURRENTLY is running on the table (a backend running one
--                shows in pg_stat_progress_create_index and holds a SHARE
--                UPDATE EXCLUSIVE lock on the table until it finishes)
--   duplicate    same table, access method, key columns or expressions,
--                operator classes, collations, sort options, INCLUDE columns
--                and predicate as another valid index; of each such group the
--                index kept is the one backing a constraint, else the one a
--                foreign key references, else the replica identity, else a
--                primary key, else a unique one, else NULLS NOT DISTINCT,
--                else one attached to a partitioned index, else the one with
--                the most scans, else the lowest OID
--   redundant    a btree, not unique and backing no constraint, whose key
--                columns are a leading prefix of another valid btree's key
--                columns with the same predicate (and whose INCLUDE columns
--                that index also holds)
--   unused       no scans since its counter started and no recorded statement
--                used it, observed for at least unused_index_min_age; never
--                for unique, primary-key, constraint, foreign-key-target or
--                replica-identity indexes
--   rarely_used  fewer than rarely_used_scans_per_day scans per day over an
--                observation of at least unused_index_min_age (or no scans,
--                while recorded statements did use it)
--   write_heavy  more than write_heavy_ratio index-maintaining writes
--                (inserts and non-HOT updates of its table) per scan
--   ok           everything else
--
-- How long an index has been observed.  PostgreSQL records no index creation
-- time, so index_usage bounds, from above, the moment from which the index's
-- scan counter has been counting ("observed_since"), as the latest of:
--   * pg_stat_database.stats_reset of this database: pg_stat_reset() and the
--     single-object resets move it;
--   * pg_stat_bgwriter.stats_reset: set when the server started without
--     saved statistics (first start, crash recovery), which zeroes every
--     counter; a later pg_stat_reset_shared('bgwriter') only moves it later;
--   * with track_commit_timestamp = on, the commit time of the transaction
--     that last wrote this database's pg_database row (a database cloned from
--     a template starts its counters when it is created);
--   * when the index was created, bounded from above by the earlier of
--       - with track_commit_timestamp = on, the commit time of the transaction
--         that last wrote the index's pg_class row (creation, or a later
--         REINDEX CONCURRENTLY / ALTER INDEX: later is safe), and
--       - the time CREATE EXTENSION medianest_perf ran, for indexes whose
--         pg_class row is older (by transaction ID) than that, recorded in
--         index_age_anchor; not used when this database's pg_database row is
--         younger than the anchor (a clone of a template that had the
--         extension) or when the anchor is 2 billion transactions old.
-- When the creation cannot be bounded (an index created after the extension
-- while track_commit_timestamp is off), observed_since is NULL and the index
-- is not judged unused, rarely_used or write_heavy unless
-- unused_index_min_age = 0.
--
-- The score (0-100, higher = earns its cost), with s = idx_scan,
-- w = index-maintaining writes, R = write_heavy_ratio,
-- T = rarely_used_scans_per_day, d = days since observed_since:
--   q = s / (s + w / R)      (1 when w = 0 or R = 0; 0 when s = 0)
--   f = (s/d) / (s/d + T)    (1 when T = 0, d unknown or the observation is
--                             shorter than unused_index_min_age)
--   u = floor(100 * least(q, f))     -- q < 0.5 iff w/s > R; f < 0.5 iff s/d < T
--   invalid, duplicate, unused: 0;  redundant: floor(u / 4);
--   rarely_used, write_heavy: least(u, 49);
--   ok: 50 when there is no scan yet (too young, or a constraint index),
--       else greatest(u, 50).

CREATE FUNCTION medianest_perf.is_preloaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'mnp_is_preloaded'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.is_preloaded() IS
  'Whether medianest_perf is in shared_preload_libraries (so that statement statistics exist); views degrade gracefully when it is not';

CREATE FUNCTION medianest_perf.index_usage_settings(
    OUT unused_index_min_age interval,
    OUT rarely_used_scans_per_day double precision,
    OUT write_heavy_ratio double precision,
    OUT seq_scan_min_rows bigint,
    OUT seq_scan_min_count bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_index_usage_settings'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.index_usage_settings() IS
  'Current thresholds of index_usage and table_scans (the medianest_perf.* settings of the same names), typed';

CREATE FUNCTION medianest_perf.index_statement_counts(
    OUT indexrelid oid,
    OUT statements bigint,
    OUT calls bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_index_statement_counts'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.index_statement_counts() IS
  'Per index of the current database: recorded statements whose sampled plans used it (a partitioned index counts statements using any of its partitions once) and their calls; no rows when the library is not preloaded';

CREATE FUNCTION medianest_perf.index_queries(
    index regclass,
    OUT userid oid,
    OUT toplevel boolean,
    OUT queryid bigint,
    OUT calls bigint,
    OUT query text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_index_queries'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.index_queries(regclass) IS
  'Recorded statements of the current database whose sampled plans used this index (or, for a partitioned index, one of its partitions); queryid is NULL and query is <insufficient privilege> for other users'' statements unless the caller has pg_read_all_stats';

CREATE FUNCTION medianest_perf.index_columns(index oid)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT '(' || pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, g.k, true),
                                      ', ' ORDER BY g.k)
                FILTER (WHERE g.k <= i.indnkeyatts) || ')'
         || COALESCE(' INCLUDE (' || pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, g.k, true),
                                                           ', ' ORDER BY g.k)
                                     FILTER (WHERE g.k > i.indnkeyatts) || ')', '')
    FROM pg_catalog.pg_index i,
         pg_catalog.generate_series(1, i.indnatts::integer) g(k)
   WHERE i.indexrelid = $1
   GROUP BY i.indexrelid, i.indnkeyatts
$$;

COMMENT ON FUNCTION medianest_perf.index_columns(oid) IS
  'Column list of an index as written in CREATE INDEX: (key columns or expressions) INCLUDE (columns); NULL for a relation that is not an index';

CREATE FUNCTION medianest_perf.format_duration(d interval)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN s >= 86400 THEN pg_catalog.trim_scale(pg_catalog.round((s / 86400)::numeric, 1)) || 'd'
              WHEN s >= 3600 THEN pg_catalog.trim_scale(pg_catalog.round((s / 3600)::numeric, 1)) || 'h'
              WHEN s >= 60 THEN pg_catalog.trim_scale(pg_catalog.round((s / 60)::numeric, 1)) || 'min'
              ELSE pg_catalog.trim_scale(pg_catalog.round(s::numeric, 1)) || 's' END
    FROM (SELECT pg_catalog.date_part('epoch', $1) AS s) x
$$;

COMMENT ON FUNCTION medianest_perf.format_duration(interval) IS
  'A duration as a short text independent of IntervalStyle, rounded to one decimal of its largest unit: 7d, 1.5h, 30min, 12s';

CREATE TABLE medianest_perf.index_age_anchor (
    installed_at timestamptz NOT NULL,
    installed_xid xid8 NOT NULL
);

INSERT INTO medianest_perf.index_age_anchor
  VALUES (pg_catalog.now(), pg_catalog.pg_current_xact_id());

GRANT SELECT ON medianest_perf.index_age_anchor TO PUBLIC;

COMMENT ON TABLE medianest_perf.index_age_anchor IS
  'When and at which transaction CREATE EXTENSION medianest_perf ran: indexes whose catalog row is older existed then, which bounds how long their scan counters have been observed';
COMMENT ON COLUMN medianest_perf.index_age_anchor.installed_at IS 'Time of CREATE EXTENSION';
COMMENT ON COLUMN medianest_perf.index_age_anchor.installed_xid IS 'Transaction ID of CREATE EXTENSION';

CREATE VIEW medianest_perf.index_usage AS
WITH RECURSIVE cfg AS (
  SELECT s.unused_index_min_age AS min_age,
         s.rarely_used_scans_per_day AS rare_per_day,
         s.write_heavy_ratio AS heavy_ratio,
         medianest_perf.is_preloaded() AS preloaded,
         pg_catalog.now() AS now_ts,
         d.oid AS dboid,
         pg_catalog.current_setting('track_commit_timestamp')::boolean AS commit_ts,
         GREATEST(pg_catalog.pg_stat_get_db_stat_reset_time(d.oid),
                  pg_catalog.pg_stat_get_bgwriter_stat_reset_time(),
                  CASE WHEN pg_catalog.current_setting('track_commit_timestamp')::boolean
                       THEN pg_catalog.pg_xact_commit_timestamp(d.xmin) END) AS reset_bound,
         a.installed_at,
         pg_catalog.age(a.installed_xid::xid) AS anchor_age,
         (a.installed_xid IS NOT NULL
          AND pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::numeric
              - a.installed_xid::text::numeric < 2000000000
          AND pg_catalog.age(d.xmin) > pg_catalog.age(a.installed_xid::xid)) AS anchor_ok
    FROM medianest_perf.index_usage_settings() s
    CROSS JOIN pg_catalog.pg_database d
    LEFT JOIN LATERAL (
      SELECT an.installed_at, an.installed_xid
        FROM medianest_perf.index_age_anchor an
       ORDER BY an.installed_xid DESC
       LIMIT 1) a ON true
   WHERE d.datname = pg_catalog.current_database()
),
idx AS (
  SELECT i.indexrelid, i.indrelid,
         n.nspname AS schemaname, tc.relname AS tablename, ic.relname AS indexname,
         ic.relkind AS ikind, tc.relkind AS tkind, ic.relam, am.amname,
         i.indisunique, i.indisprimary, i.indisvalid, i.indisreplident,
         i.indnullsnotdistinct, i.indnkeyatts,
         (i.indexprs IS NOT NULL) AS has_exprs,
         (i.indpred IS NOT NULL) AS partial,
         k.keysig, k.incl, k.allcols,
         COALESCE(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '') AS pred,
         con.conname,
         (fk.conindid IS NOT NULL) AS fk_ref,
         inh.inhparent AS parent_index,
         ic.xmin AS cxmin
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
    JOIN pg_catalog.pg_am am ON am.oid = ic.relam
    CROSS JOIN LATERAL (
      -- one element per key column: attribute number or expression text,
      -- then operator class, collation and sort options
      SELECT pg_catalog.array_agg(
               CASE WHEN u.attnum <> 0 THEN u.attnum::text
                    ELSE 'expr ' || pg_catalog.pg_get_indexdef(i.indexrelid, u.ord::integer, false) END
               || '/' || u.opc::text || '/' || u.coll::text || '/' || u.opt::text
               ORDER BY u.ord) FILTER (WHERE u.ord <= i.indnkeyatts) AS keysig,
             COALESCE(pg_catalog.array_agg(u.attnum ORDER BY u.attnum)
                        FILTER (WHERE u.ord > i.indnkeyatts), '{}') AS incl,
             COALESCE(pg_catalog.array_agg(u.attnum) FILTER (WHERE u.attnum <> 0), '{}') AS allcols
        FROM ROWS FROM (pg_catalog.unnest(i.indkey::int2[]),
                        pg_catalog.unnest(i.indclass::oid[]),
                        pg_catalog.unnest(i.indcollation::oid[]),
                        pg_catalog.unnest(i.indoption::int2[]))
             WITH ORDINALITY AS u(attnum, opc, coll, opt, ord)) k
    LEFT JOIN pg_catalog.pg_constraint con
           ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('p', 'u', 'x')
    LEFT JOIN (SELECT DISTINCT f.conindid FROM pg_catalog.pg_constraint f
                WHERE f.contype = 'f') fk ON fk.conindid = i.indexrelid
    LEFT JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = i.indexrelid
   WHERE tc.relkind IN ('r', 'm', 'p')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'medianest_perf')
     AND n.nspname !~ '^pg_toast'
     AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
),
tree(root, relid) AS (
  -- every partitioned index and partitioned table of idx, with the
  -- relations below it: one walk down pg_inherits for all of them
  SELECT DISTINCT r.root, r.root
    FROM (SELECT x.indexrelid AS root FROM idx x WHERE x.ikind = 'I'
          UNION ALL
          SELECT x.indrelid FROM idx x WHERE x.tkind = 'p') r
  UNION ALL
  SELECT t.root, h.inhrelid
    FROM tree t JOIN pg_catalog.pg_inherits h ON h.inhparent = t.relid
),
leafsum AS (
  -- figures of partitioned indexes and tables, summed over their leaves
  SELECT t.root,
         pg_catalog.sum(pg_catalog.pg_stat_get_numscans(t.relid))::bigint AS scans,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_returned(t.relid))::bigint AS tup_read,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_fetched(t.relid))::bigint AS tup_fetch,
         pg_catalog.sum(CASE WHEN c.relkind = 'i' THEN pg_catalog.pg_relation_size(t.relid) END)::bigint AS size,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_inserted(t.relid)
                        + pg_catalog.pg_stat_get_tuples_updated(t.relid)
                        + pg_catalog.pg_stat_get_tuples_deleted(t.relid))::bigint AS writes,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_inserted(t.relid)
                        + pg_catalog.pg_stat_get_tuples_updated(t.relid)
                        - pg_catalog.pg_stat_get_tuples_hot_updated(t.relid))::bigint AS index_writes
    FROM tree t
    JOIN pg_catalog.pg_class c ON c.oid = t.relid AND c.relkind NOT IN ('I', 'p')
   GROUP BY t.root
),
ist AS (
  -- index statistics; a partitioned index sums its leaf partitions
  SELECT x.indexrelid,
         CASE WHEN x.ikind = 'I' THEN COALESCE(l.scans, 0)
              ELSE pg_catalog.pg_stat_get_numscans(x.indexrelid) END AS idx_scan,
         CASE WHEN x.ikind = 'I' THEN COALESCE(l.tup_read, 0)
              ELSE pg_catalog.pg_stat_get_tuples_returned(x.indexrelid) END AS idx_tup_read,
         CASE WHEN x.ikind = 'I' THEN COALESCE(l.tup_fetch, 0)
              ELSE pg_catalog.pg_stat_get_tuples_fetched(x.indexrelid) END AS idx_tup_fetch,
         CASE WHEN x.ikind = 'I' THEN COALESCE(l.size, 0)
              ELSE pg_catalog.pg_relation_size(x.indexrelid) END AS size_bytes
    FROM idx x
    LEFT JOIN leafsum l ON l.root = x.indexrelid AND x.ikind = 'I'
),
tst AS (
  -- table writes; a partitioned table sums its leaf partitions
  SELECT r.relid,
         CASE WHEN r.tkind = 'p' THEN COALESCE(l.writes, 0)
              ELSE pg_catalog.pg_stat_get_tuples_inserted(r.relid)
                   + pg_catalog.pg_stat_get_tuples_updated(r.relid)
                   + pg_catalog.pg_stat_get_tuples_deleted(r.relid) END AS writes,
         CASE WHEN r.tkind = 'p' THEN COALESCE(l.index_writes, 0)
              ELSE pg_catalog.pg_stat_get_tuples_inserted(r.relid)
                   + pg_catalog.pg_stat_get_tuples_updated(r.relid)
                   - pg_catalog.pg_stat_get_tuples_hot_updated(r.relid) END AS index_writes
    FROM (SELECT DISTINCT x.indrelid AS relid, x.tkind FROM idx x) r
    LEFT JOIN leafsum l ON l.root = r.relid AND r.tkind = 'p'
),
sc AS (
  SELECT c.indexrelid, c.statements FROM medianest_perf.index_statement_counts() c
),
dup AS (
  SELECT x.indexrelid,
         pg_catalog.row_number() OVER w AS rn,
         pg_catalog.first_value(x.indexrelid) OVER w AS keeper
    FROM idx x JOIN ist s ON s.indexrelid = x.indexrelid
   WHERE x.indisvalid
  WINDOW w AS (PARTITION BY x.indrelid, x.relam, x.keysig, x.incl, x.pred
               ORDER BY (x.conname IS NOT NULL) DESC, x.fk_ref DESC,
                        x.indisreplident DESC, x.indisprimary DESC,
                        x.indisunique DESC, x.indnullsnotdistinct DESC,
                        (x.parent_index IS NOT NULL) DESC,
                        s.idx_scan DESC, x.indexrelid)
),
red AS (
  SELECT DISTINCT ON (a.indexrelid) a.indexrelid, b.indexrelid AS covering
    FROM idx a
    JOIN idx b ON b.indrelid = a.indrelid AND b.relam = a.relam
              AND b.pred = a.pred AND b.indexrelid <> a.indexrelid
   WHERE a.amname = 'btree' AND a.indisvalid AND b.indisvalid
     AND pg_catalog.cardinality(a.keysig) <= pg_catalog.cardinality(b.keysig)
     AND b.keysig[1:pg_catalog.cardinality(a.keysig)] = a.keysig
     AND a.incl <@ b.allcols
     AND NOT (a.keysig = b.keysig AND a.incl = b.incl)
   ORDER BY a.indexrelid, pg_catalog.cardinality(b.keysig), b.indexrelid
),
building AS (
  -- tables on which a CREATE INDEX / REINDEX [CONCURRENTLY] is running
  SELECT DISTINCT l.relation AS relid
    FROM pg_catalog.pg_stat_progress_create_index p
    JOIN pg_catalog.pg_locks l ON l.pid = p.pid
   WHERE p.datid = (SELECT c.dboid FROM cfg c)
     AND l.locktype = 'relation' AND l.database = p.datid
     AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted
     AND (p.relid IS NULL OR p.relid = l.relation)
),
base AS (
  SELECT x.*, s.idx_scan, s.idx_tup_read, s.idx_tup_fetch, s.size_bytes,
         COALESCE(t.writes, 0) AS table_writes,
         COALESCE(t.index_writes, 0) AS index_writes,
         CASE WHEN c.preloaded THEN COALESCE(sc.statements, 0) END AS statements_using,
         CASE WHEN cb.created IS NOT NULL AND c.reset_bound IS NOT NULL
              THEN GREATEST(c.reset_bound, cb.created) END AS observed_since,
         d.rn AS dup_rn, d.keeper, r.covering,
         CASE WHEN k.conname IS NOT NULL THEN pg_catalog.format('it backs constraint %I', k.conname)
              WHEN k.fk_ref THEN 'a foreign key references it'
              WHEN k.indisreplident THEN 'it is the replica identity'
              WHEN k.indisprimary THEN 'it is the primary key'
              WHEN k.indisunique AND NOT x.indisunique THEN 'it is unique'
              WHEN k.indnullsnotdistinct AND NOT x.indnullsnotdistinct THEN 'it treats NULLs as not distinct'
              WHEN k.parent_index IS NOT NULL AND x.parent_index IS NULL THEN 'it is part of a partitioned index'
              WHEN ks.idx_scan > s.idx_scan THEN pg_catalog.format('it has more scans (%s)', ks.idx_scan)
              ELSE 'it sorts first (equal in every other respect, lower OID)' END AS keep_why,
         (x.conname IS NOT NULL OR x.fk_ref OR x.indisreplident) AS bound,
         (x.conname IS NOT NULL OR x.fk_ref OR x.indisreplident
          OR x.indisunique OR x.indisprimary) AS protected,
         (NOT x.indisvalid AND EXISTS (SELECT 1 FROM building g
                                        WHERE g.relid = x.indrelid)) AS in_progress,
         c.min_age, c.rare_per_day, c.heavy_ratio, c.now_ts
    FROM idx x
    CROSS JOIN cfg c
    JOIN ist s ON s.indexrelid = x.indexrelid
    LEFT JOIN tst t ON t.relid = x.indrelid
    LEFT JOIN sc ON sc.indexrelid = x.indexrelid
    LEFT JOIN dup d ON d.indexrelid = x.indexrelid
    LEFT JOIN idx k ON k.indexrelid = d.keeper AND d.rn > 1
    LEFT JOIN ist ks ON ks.indexrelid = d.keeper AND d.rn > 1
    LEFT JOIN red r ON r.indexrelid = x.indexrelid
    CROSS JOIN LATERAL (
      SELECT LEAST(CASE WHEN c.commit_ts
                        THEN pg_catalog.pg_xact_commit_timestamp(x.cxmin) END,
                   CASE WHEN c.anchor_ok AND pg_catalog.age(x.cxmin) > c.anchor_age
                        THEN c.installed_at END) AS created) cb
),
judged AS (
  SELECT b.*, v.mature, v.days,
         CASE
           WHEN NOT b.indisvalid AND b.in_progress THEN 'ok'
           WHEN NOT b.indisvalid THEN 'invalid'
           WHEN b.dup_rn > 1 THEN 'duplicate'
           WHEN b.covering IS NOT NULL AND NOT b.protected THEN 'redundant'
           WHEN b.protected OR NOT v.mature THEN 'ok'
           WHEN b.idx_scan = 0 AND COALESCE(b.statements_using, 0) = 0 THEN 'unused'
           WHEN b.idx_scan = 0 THEN 'rarely_used'
           WHEN b.rare_per_day > 0 AND v.days > 0
                AND b.idx_scan / v.days < b.rare_per_day THEN 'rarely_used'
           WHEN b.heavy_ratio > 0
                AND b.index_writes > b.heavy_ratio * b.idx_scan THEN 'write_heavy'
           ELSE 'ok'
         END AS verdict,
         pg_catalog.floor(100 * LEAST(
           CASE WHEN b.idx_scan = 0 THEN 0
                WHEN b.heavy_ratio = 0 OR b.index_writes <= 0 THEN 1
                ELSE b.idx_scan / (b.idx_scan + b.index_writes / b.heavy_ratio) END,
           CASE WHEN b.rare_per_day = 0 OR NOT v.mature OR NOT (v.days > 0) THEN 1
                ELSE (b.idx_scan / v.days) / (b.idx_scan / v.days + b.rare_per_day) END
         ))::integer AS u
    FROM base b
    CROSS JOIN LATERAL (
      SELECT (b.min_age = interval '0'
              OR (b.observed_since IS NOT NULL
                  AND b.now_ts - b.observed_since >= b.min_age)) AS mature,
             pg_catalog.date_part('epoch', b.now_ts - b.observed_since)
               / 86400.0 AS days) v
),
described AS (
  SELECT j.*,
         pg_catalog.format('%I.%I', j.schemaname, j.indexname) AS qname,
         pg_catalog.format('%I.%I', j.schemaname, j.tablename) AS qtable,
         CASE WHEN j.observed_since IS NULL
              THEN 'since an unknown time (its creation time is not known)'
              ELSE pg_catalog.format('in the %s since %s',
                     medianest_perf.format_duration(j.now_ts - j.observed_since),
                     pg_catalog.to_char(j.observed_since, 'YYYY-MM-DD HH24:MI:SSOF'))
         END AS observed_txt,
         medianest_perf.format_duration(j.min_age) AS min_age_txt,
         CASE WHEN j.statements_using IS NULL
              THEN 'statement statistics unavailable (medianest_perf is not preloaded)'
              ELSE pg_catalog.format('used by %s recorded statement(s)', j.statements_using)
         END AS stmt_txt
    FROM judged j
)
SELECT e.indexrelid,
       e.indrelid AS relid,
       e.schemaname,
       e.tablename,
       e.indexname,
       CASE WHEN e.ikind = 'I' THEN 'partitioned'
            WHEN e.parent_index IS NOT NULL THEN 'partition'
            ELSE 'index' END AS kind,
       e.parent_index::regclass AS parent_index,
       e.amname AS access_method,
       e.size_bytes,
       e.idx_scan,
       e.idx_tup_read,
       e.idx_tup_fetch,
       e.table_writes,
       e.statements_using,
       e.indisunique AS is_unique,
       e.indisprimary AS is_primary,
       e.conname AS constraint_name,
       e.indisvalid AS valid,
       e.observed_since,
       CASE e.verdict
         WHEN 'invalid' THEN 0
         WHEN 'duplicate' THEN 0
         WHEN 'unused' THEN 0
         WHEN 'redundant' THEN e.u / 4
         WHEN 'rarely_used' THEN LEAST(e.u, 49)
         WHEN 'write_heavy' THEN LEAST(e.u, 49)
         ELSE CASE WHEN NOT e.indisvalid OR e.idx_scan = 0 THEN 50
                   ELSE GREATEST(e.u, 50) END
       END AS score,
       e.verdict,
       CASE e.verdict
         WHEN 'invalid' THEN
           CASE
             WHEN e.ikind = 'I' THEN pg_catalog.format(
               'partitioned index is invalid: it was created with ON ONLY and %s of the partitions of %s have no index attached to it; create a matching index on each of them (CREATE INDEX CONCURRENTLY) and attach it with ALTER INDEX %s ATTACH PARTITION <index>',
               (SELECT pg_catalog.count(*) FROM pg_catalog.pg_inherits ti
                 WHERE ti.inhparent = e.indrelid
                   AND NOT EXISTS (
                     SELECT 1 FROM pg_catalog.pg_inherits ii
                       JOIN pg_catalog.pg_index pi ON pi.indexrelid = ii.inhrelid
                      WHERE ii.inhparent = e.indexrelid AND pi.indrelid = ti.inhrelid)),
               e.qtable, e.qname)
             WHEN e.indexname ~ '_cc(new|old)[0-9]*$' THEN pg_catalog.format(
               'index is invalid: it is left over from a failed REINDEX CONCURRENTLY (the %s copy) and is updated by every write to %s (%s written rows since the statistics reset) without ever being read; drop it',
               CASE WHEN e.indexname ~ '_ccnew[0-9]*$' THEN 'new, unfinished' ELSE 'old, replaced' END,
               e.qtable, e.table_writes)
             ELSE pg_catalog.format(
               'index is invalid: a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY of it failed or was cancelled, so it is updated by every write to %s (%s written rows since the statistics reset) without ever being read; %s',
               e.qtable, e.table_writes,
               CASE WHEN NOT e.indisunique AND NOT e.has_exprs AND NOT e.partial
                    THEN 'rebuild it in place'
                    ELSE pg_catalog.format(
                      'drop it, remove the cause of the failure (%s), then re-create it with: %s',
                      CASE WHEN e.indisunique THEN 'for a unique index, usually duplicate keys'
                           ELSE 'an expression or predicate that raised an error, see the server log' END,
                      pg_catalog.regexp_replace(pg_catalog.pg_get_indexdef(e.indexrelid),
                                                '^CREATE (UNIQUE )?INDEX ',
                                                'CREATE \1INDEX CONCURRENTLY '))
               END)
           END
         WHEN 'duplicate' THEN pg_catalog.format(
           'same access method, key columns, operator classes, collations, INCLUDE columns and predicate as %s, which is kept because %s; %s scans since the statistics reset, %s%s',
           e.keeper::regclass, e.keep_why,
           e.idx_scan, pg_catalog.pg_size_pretty(e.size_bytes),
           CASE WHEN e.conname IS NOT NULL THEN pg_catalog.format(
                  '; it backs constraint %I, so drop that constraint instead (ALTER TABLE %s DROP CONSTRAINT %I) once nothing depends on it',
                  e.conname, e.qtable, e.conname)
                WHEN e.fk_ref THEN '; a foreign key references it, so point that foreign key at the kept index before dropping it'
                WHEN e.indisreplident THEN '; it is the replica identity, so make the kept index the replica identity (ALTER TABLE ... REPLICA IDENTITY USING INDEX) before dropping it'
                ELSE '' END)
         WHEN 'redundant' THEN pg_catalog.format(
           'its columns %s lead the key columns of %s %s, which has the same predicate and can serve the same searches; %s scans since the statistics reset, %s',
           medianest_perf.index_columns(e.indexrelid),
           e.covering::regclass,
           medianest_perf.index_columns(e.covering),
           e.idx_scan, pg_catalog.pg_size_pretty(e.size_bytes))
         WHEN 'unused' THEN pg_catalog.format(
           'no scans %s, with unused_index_min_age = %s, and no recorded statement used it; it takes %s and is updated by %s index-maintaining writes',
           e.observed_txt, e.min_age_txt, pg_catalog.pg_size_pretty(e.size_bytes), e.index_writes)
         WHEN 'rarely_used' THEN
           CASE WHEN e.idx_scan = 0 THEN pg_catalog.format(
                  'no scans %s, but %s recorded statement(s) used it in their plans (it may serve rare queries: see index_queries()); it takes %s',
                  e.observed_txt, e.statements_using, pg_catalog.pg_size_pretty(e.size_bytes))
                ELSE pg_catalog.format(
                  '%s scans %s: at most %s per day, fewer than rarely_used_scans_per_day = %s; %s; it takes %s and is updated by %s index-maintaining writes',
                  e.idx_scan, e.observed_txt, pg_catalog.round((e.idx_scan / e.days)::numeric, 2),
                  e.rare_per_day, e.stmt_txt, pg_catalog.pg_size_pretty(e.size_bytes), e.index_writes)
           END
         WHEN 'write_heavy' THEN pg_catalog.format(
           '%s index-maintaining writes (inserts and non-HOT updates of %s) for %s scans: %s writes per scan, more than write_heavy_ratio = %s; %s; it takes %s',
           e.index_writes, e.qtable, e.idx_scan,
           pg_catalog.round((e.index_writes::numeric / e.idx_scan), 1),
           e.heavy_ratio, e.stmt_txt, pg_catalog.pg_size_pretty(e.size_bytes))
         ELSE
           CASE
             WHEN NOT e.indisvalid THEN
               'index is being built (CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY is running on its table); judge it once the build has finished'
             WHEN e.protected AND (e.idx_scan = 0 OR e.covering IS NOT NULL) THEN pg_catalog.format(
               'kept: it enforces %s; %s scans since the statistics reset, %s',
               CASE WHEN e.conname IS NOT NULL THEN pg_catalog.format('constraint %I', e.conname)
                    WHEN e.fk_ref THEN 'the uniqueness a foreign key relies on'
                    WHEN e.indisreplident THEN 'the replica identity'
                    ELSE 'uniqueness' END,
               e.idx_scan, e.stmt_txt)
             WHEN NOT e.protected AND NOT e.mature AND e.observed_since IS NULL THEN pg_catalog.format(
               'too early to judge: how long it has been observed is unknown (it was created after CREATE EXTENSION medianest_perf and track_commit_timestamp is off), so it cannot be held against unused_index_min_age = %s; %s scans so far, %s',
               e.min_age_txt, e.idx_scan, e.stmt_txt)
             WHEN NOT e.protected AND NOT e.mature THEN pg_catalog.format(
               'too early to judge: observed only %s, less than unused_index_min_age = %s; %s scans so far, %s',
               e.observed_txt, e.min_age_txt, e.idx_scan, e.stmt_txt)
             ELSE pg_catalog.format(
               '%s scans reading %s index entries since the statistics reset, %s index-maintaining writes per scan; %s',
               e.idx_scan, e.idx_tup_read,
               pg_catalog.round((e.index_writes::numeric / GREATEST(e.idx_scan, 1)), 1),
               e.stmt_txt)
           END
       END
       || CASE WHEN e.parent_index IS NOT NULL
                    AND e.verdict IN ('unused', 'rarely_used', 'duplicate', 'redundant', 'write_heavy', 'invalid')
               THEN pg_catalog.format('; it is a partition of index %s, which is where to act',
                                      e.parent_index::regclass)
               ELSE '' END
       AS reason,
       CASE
         WHEN e.verdict IN ('unused', 'rarely_used', 'duplicate', 'redundant', 'write_heavy') THEN
           CASE WHEN e.parent_index IS NOT NULL OR e.bound THEN NULL
                WHEN e.ikind = 'I' THEN pg_catalog.format('DROP INDEX IF EXISTS %s;', e.qname)
                ELSE pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %s;', e.qname) END
         WHEN e.verdict = 'invalid' THEN
           CASE WHEN e.ikind = 'I' OR e.parent_index IS NOT NULL THEN NULL
                WHEN NOT e.indisunique AND NOT e.has_exprs AND NOT e.partial
                     AND e.indexname !~ '_cc(new|old)[0-9]*$'
                  THEN pg_catalog.format('REINDEX INDEX CONCURRENTLY %s;', e.qname)
                ELSE pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %s;', e.qname) END
       END AS action
  FROM described e;

GRANT SELECT ON medianest_perf.index_usage TO PUBLIC;

COMMENT ON VIEW medianest_perf.index_usage IS
  'Every index of user tables, partitioned indexes included: size, scans, writes, statements that use it, a score 0-100 (100 = clearly earns its cost), a verdict (ok / unused / rarely_used / duplicate / redundant / invalid / write_heavy), the evidence and the SQL to act on it';
COMMENT ON COLUMN medianest_perf.index_usage.indexrelid IS 'OID of the index';
COMMENT ON COLUMN medianest_perf.index_usage.relid IS 'OID of its table';
COMMENT ON COLUMN medianest_perf.index_usage.schemaname IS 'Schema of the table and index';
COMMENT ON COLUMN medianest_perf.index_usage.tablename IS 'Table name';
COMMENT ON COLUMN medianest_perf.index_usage.indexname IS 'Index name';
COMMENT ON COLUMN medianest_perf.index_usage.kind IS 'index; partitioned (an index of a partitioned table, its figures summed over its partitions); partition (an index of a partition attached to a partitioned index, which cannot be dropped alone)';
COMMENT ON COLUMN medianest_perf.index_usage.parent_index IS 'For kind = partition: the partitioned index it belongs to';
COMMENT ON COLUMN medianest_perf.index_usage.access_method IS 'Index access method (btree, hash, gin, gist, ...)';
COMMENT ON COLUMN medianest_perf.index_usage.size_bytes IS 'Size on disk in bytes (main fork; summed over partitions for a partitioned index)';
COMMENT ON COLUMN medianest_perf.index_usage.idx_scan IS 'Index scans since the statistics reset (pg_stat_user_indexes.idx_scan)';
COMMENT ON COLUMN medianest_perf.index_usage.idx_tup_read IS 'Index entries returned by scans of this index';
COMMENT ON COLUMN medianest_perf.index_usage.idx_tup_fetch IS 'Live table rows fetched by simple index scans of this index';
COMMENT ON COLUMN medianest_perf.index_usage.table_writes IS 'Rows inserted, updated and deleted in the table since the statistics reset';
COMMENT ON COLUMN medianest_perf.index_usage.statements_using IS 'Recorded statements (all users) of this database whose sampled plans used this index; NULL when medianest_perf is not preloaded';
COMMENT ON COLUMN medianest_perf.index_usage.is_unique IS 'Whether the index is unique';
COMMENT ON COLUMN medianest_perf.index_usage.is_primary IS 'Whether the index is the primary key';
COMMENT ON COLUMN medianest_perf.index_usage.constraint_name IS 'Primary key, unique or exclusion constraint the index backs, if any';
COMMENT ON COLUMN medianest_perf.index_usage.valid IS 'pg_index.indisvalid: false after a failed CREATE INDEX CONCURRENTLY, or while one runs';
COMMENT ON COLUMN medianest_perf.index_usage.observed_since IS 'Latest time from which the scan counter may have been counting (statistics reset, server start without saved statistics, index creation when known); NULL when the creation time is unknown';
COMMENT ON COLUMN medianest_perf.index_usage.score IS '0-100: how clearly the index earns its cost (0 = invalid, duplicate or unused; below 50 = rarely used or write heavy; 50 and above = ok); formula in the README';
COMMENT ON COLUMN medianest_perf.index_usage.verdict IS 'ok, unused, rarely_used, duplicate, redundant, invalid or write_heavy';
COMMENT ON COLUMN medianest_perf.index_usage.reason IS 'One sentence with the evidence for the verdict';
COMMENT ON COLUMN medianest_perf.index_usage.action IS 'SQL to act on the verdict (DROP INDEX CONCURRENTLY, REINDEX INDEX CONCURRENTLY, ...), identifiers quoted; NULL when there is nothing to run or it cannot be done on this index alone (see reason)';

CREATE VIEW medianest_perf.table_scans AS
WITH RECURSIVE cfg AS (
  SELECT s.seq_scan_min_rows AS min_rows, s.seq_scan_min_count AS min_count
    FROM medianest_perf.index_usage_settings() s
),
rel AS (
  SELECT c.oid AS relid, n.nspname AS schemaname, c.relname AS tablename,
         c.relkind, inh.inhparent AS parent
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = c.oid AND c.relispartition
   WHERE c.relkind IN ('r', 'm', 'p')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'medianest_perf')
     AND n.nspname !~ '^pg_toast'
     AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
),
tree(root, relid) AS (
  -- every partitioned table with the relations below it
  SELECT r.relid, r.relid FROM rel r WHERE r.relkind = 'p'
  UNION ALL
  SELECT t.root, h.inhrelid
    FROM tree t JOIN pg_catalog.pg_inherits h ON h.inhparent = t.relid
),
members AS (
  -- the relations holding the rows of each table: itself, or the leaf
  -- partitions of a partitioned table
  SELECT r.relid AS root, r.relid AS leaf FROM rel r WHERE r.relkind <> 'p'
  UNION ALL
  SELECT t.root, t.relid
    FROM tree t JOIN pg_catalog.pg_class c ON c.oid = t.relid AND c.relkind <> 'p'
),
ixs AS (
  SELECT i.indrelid,
         pg_catalog.count(*) AS n,
         pg_catalog.sum(pg_catalog.pg_stat_get_numscans(i.indexrelid))::bigint AS scans,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_fetched(i.indexrelid))::bigint AS fetched
    FROM pg_catalog.pg_index i
   GROUP BY i.indrelid
),
sums AS (
  SELECT m.root,
         pg_catalog.sum(pg_catalog.pg_stat_get_numscans(m.leaf))::bigint AS seq_scan,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_returned(m.leaf))::bigint AS seq_tup_read,
         pg_catalog.sum(COALESCE(x.scans, 0))::bigint AS idx_scan,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_fetched(m.leaf) + COALESCE(x.fetched, 0))::bigint AS idx_tup_fetch,
         pg_catalog.sum(pg_catalog.pg_stat_get_live_tuples(m.leaf))::bigint AS n_live_tup,
         pg_catalog.sum(pg_catalog.pg_stat_get_tuples_inserted(m.leaf)
                        + pg_catalog.pg_stat_get_tuples_updated(m.leaf)
                        + pg_catalog.pg_stat_get_tuples_deleted(m.leaf))::bigint AS writes,
         pg_catalog.sum(pg_catalog.pg_table_size(m.leaf))::bigint AS size
    FROM members m
    LEFT JOIN ixs x ON x.indrelid = m.leaf
   GROUP BY m.root
),
st AS (
  SELECT r.*,
         COALESCE(a.seq_scan, 0) AS seq_scan,
         COALESCE(a.seq_tup_read, 0) AS seq_tup_read,
         COALESCE(a.idx_scan, 0) AS idx_scan,
         COALESCE(a.idx_tup_fetch, 0) AS idx_tup_fetch,
         COALESCE(a.n_live_tup, 0) AS n_live_tup,
         COALESCE(a.writes, 0) AS table_writes,
         COALESCE(a.size, 0) AS size_bytes,
         COALESCE(o.n, 0) AS index_count
    FROM rel r
    LEFT JOIN sums a ON a.root = r.relid
    LEFT JOIN ixs o ON o.indrelid = r.relid
),
judged AS (
  SELECT s.*, c.min_rows, c.min_count,
         CASE WHEN s.seq_scan > 0 THEN s.seq_tup_read::double precision / s.seq_scan END AS avg_rows,
         CASE WHEN s.seq_scan + s.idx_scan > 0
              THEN s.seq_scan::double precision / (s.seq_scan + s.idx_scan) END AS share
    FROM st s CROSS JOIN cfg c
)
SELECT j.relid,
       j.schemaname,
       j.tablename,
       CASE j.relkind WHEN 'p' THEN 'partitioned'
                      WHEN 'm' THEN 'materialized view'
                      ELSE CASE WHEN j.parent IS NOT NULL THEN 'partition' ELSE 'table' END
       END AS kind,
       j.parent::regclass AS parent_table,
       j.size_bytes,
       j.n_live_tup,
       j.seq_scan,
       j.seq_tup_read,
       pg_catalog.round(j.avg_rows::numeric, 1) AS avg_seq_tup_read,
       j.idx_scan,
       j.idx_tup_fetch,
       pg_catalog.round(j.share::numeric, 3) AS seq_scan_share,
       j.table_writes,
       j.index_count,
       COALESCE(j.seq_scan >= j.min_count AND j.share > 0.5 AND j.avg_rows >= j.min_rows, false)
         AS missing_index_suspected,
       CASE
         WHEN j.seq_scan + j.idx_scan = 0 THEN 'not read since the statistics reset'
         WHEN j.seq_scan >= j.min_count AND j.share > 0.5 AND j.avg_rows >= j.min_rows
           THEN pg_catalog.format(
             '%s sequential scans (%s%% of its scans) read %s rows each on average since the statistics reset, %s rows in all: the queries that filter it probably lack an index%s',
             j.seq_scan, pg_catalog.round((100 * j.share)::numeric, 1),
             pg_catalog.round(j.avg_rows::numeric), j.seq_tup_read,
             CASE WHEN j.index_count = 0 THEN ' (it has no index at all)' ELSE '' END)
         WHEN j.share <= 0.5 THEN pg_catalog.format(
             'at least half of its scans use an index (%s index scans, %s sequential scans)', j.idx_scan, j.seq_scan)
         WHEN j.avg_rows < j.min_rows THEN pg_catalog.format(
             'sequential scans read %s rows each on average, fewer than seq_scan_min_rows = %s (small table or LIMIT)',
             pg_catalog.round(j.avg_rows::numeric), j.min_rows)
         ELSE pg_catalog.format(
             'only %s sequential scans since the statistics reset, fewer than seq_scan_min_count = %s',
             j.seq_scan, j.min_count)
       END AS reason
  FROM judged j;

GRANT SELECT ON medianest_perf.table_scans TO PUBLIC;

COMMENT ON VIEW medianest_perf.table_scans IS
  'Per user table (partitions, and partitioned tables summed over them): sequential against index scans, and whether many rows are read by many sequential scans -- the missing-index signal index_advice acts on';
COMMENT ON COLUMN medianest_perf.table_scans.relid IS 'OID of the table';
COMMENT ON COLUMN medianest_perf.table_scans.schemaname IS 'Schema name';
COMMENT ON COLUMN medianest_perf.table_scans.tablename IS 'Table name';
COMMENT ON COLUMN medianest_perf.table_scans.kind IS 'table, partition, partitioned (figures summed over its leaf partitions) or materialized view';
COMMENT ON COLUMN medianest_perf.table_scans.parent_table IS 'For a partition: its partitioned table';
COMMENT ON COLUMN medianest_perf.table_scans.size_bytes IS 'Table size in bytes without indexes (pg_table_size)';
COMMENT ON COLUMN medianest_perf.table_scans.n_live_tup IS 'Estimated live rows';
COMMENT ON COLUMN medianest_perf.table_scans.seq_scan IS 'Sequential scans since the statistics reset';
COMMENT ON COLUMN medianest_perf.table_scans.seq_tup_read IS 'Rows read by sequential scans';
COMMENT ON COLUMN medianest_perf.table_scans.avg_seq_tup_read IS 'seq_tup_read / seq_scan; NULL without sequential scans';
COMMENT ON COLUMN medianest_perf.table_scans.idx_scan IS 'Index scans of all its indexes';
COMMENT ON COLUMN medianest_perf.table_scans.idx_tup_fetch IS 'Rows fetched through indexes';
COMMENT ON COLUMN medianest_perf.table_scans.seq_scan_share IS 'seq_scan / (seq_scan + idx_scan), 0-1; NULL when never scanned';
COMMENT ON COLUMN medianest_perf.table_scans.table_writes IS 'Rows inserted, updated and deleted since the statistics reset';
COMMENT ON COLUMN medianest_perf.table_scans.index_count IS 'Number of indexes on the table';
COMMENT ON COLUMN medianest_perf.table_scans.missing_index_suspected IS 'true when seq_scan >= medianest_perf.seq_scan_min_count, more than half of the scans are sequential and they read at least medianest_perf.seq_scan_min_rows rows each on average';
COMMENT ON COLUMN medianest_perf.table_scans.reason IS 'One sentence with the evidence';


-----------------------------------------------------------------------------
-- Bloat (src/bloat.c)
-----------------------------------------------------------------------------

-- bloat() and bloat_report need superuser or pg_stat_scan_tables (like
-- pgstattuple); members of that role must be able to reach the schema.
GRANT USAGE ON SCHEMA medianest_perf TO pg_stat_scan_tables;

CREATE FUNCTION medianest_perf.bloat(
    rel regclass,
    mode text DEFAULT 'sample',
    sample_pages integer DEFAULT 3000,
    OUT relid oid,
    OUT schemaname name,
    OUT relname name,
    OUT kind text,
    OUT method text,
    OUT pages bigint,
    OUT pages_read bigint,
    OUT total_bytes bigint,
    OUT live_bytes bigint,
    OUT dead_bytes bigint,
    OUT free_bytes bigint,
    OUT reserved_bytes bigint,
    OUT dropped_column_bytes bigint,
    OUT live_tuples bigint,
    OUT dead_tuples bigint,
    OUT dead_line_pointers bigint,
    OUT heap_tids bigint,
    OUT leaf_density double precision,
    OUT deleted_pages bigint,
    OUT half_dead_pages bigint,
    OUT fillfactor integer,
    OUT expected_bytes bigint,
    OUT reclaimable_bytes bigint,
    OUT bloat_pct double precision,
    OUT bloat_pct_error double precision,
    OUT reliable boolean,
    OUT note text,
    OUT action text
)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_bloat_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.bloat(regclass, text, integer) IS
  'Bloat of a table, materialized view, TOAST table or btree index: mode sample (at most sample_pages random pages, stratified in up to three passes that stop early at medianest_perf.bloat_target_error, with an error bound; the whole relation when it is smaller), exact (every page) or estimate (catalog statistics only), and the action to take. Needs superuser or pg_stat_scan_tables';

REVOKE ALL ON FUNCTION medianest_perf.bloat(regclass, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medianest_perf.bloat(regclass, text, integer) TO pg_stat_scan_tables;

CREATE FUNCTION medianest_perf.bloat_report_1_0(
    OUT relid oid,
    OUT schemaname name,
    OUT relname name,
    OUT kind text,
    OUT method text,
    OUT pages bigint,
    OUT pages_read bigint,
    OUT total_bytes bigint,
    OUT live_bytes bigint,
    OUT dead_bytes bigint,
    OUT free_bytes bigint,
    OUT reserved_bytes bigint,
    OUT dropped_column_bytes bigint,
    OUT live_tuples bigint,
    OUT dead_tuples bigint,
    OUT dead_line_pointers bigint,
    OUT heap_tids bigint,
    OUT leaf_density double precision,
    OUT deleted_pages bigint,
    OUT half_dead_pages bigint,
    OUT fillfactor integer,
    OUT expected_bytes bigint,
    OUT reclaimable_bytes bigint,
    OUT bloat_pct double precision,
    OUT bloat_pct_error double precision,
    OUT reliable boolean,
    OUT note text,
    OUT action text
)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_bloat_report_1_0'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION medianest_perf.bloat_report_1_0() IS
  'Rows of the bloat_report view';

REVOKE ALL ON FUNCTION medianest_perf.bloat_report_1_0() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medianest_perf.bloat_report_1_0() TO pg_stat_scan_tables;

CREATE VIEW medianest_perf.bloat_report AS
  SELECT * FROM medianest_perf.bloat_report_1_0();

COMMENT ON VIEW medianest_perf.bloat_report IS
  'bloat() of every user table, materialized view, their TOAST tables and valid btree indexes, largest first: sampled with up to medianest_perf.bloat_report_sample_pages pages each; a relation whose full sample exceeds what remains of medianest_perf.bloat_report_max_pages (charged with the pages actually read) is estimated from the catalog; relations locked by others are skipped, not waited for';

REVOKE ALL ON medianest_perf.bloat_report FROM PUBLIC;
GRANT SELECT ON medianest_perf.bloat_report TO pg_stat_scan_tables;

COMMENT ON COLUMN medianest_perf.bloat_report.relid IS 'OID of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.schemaname IS 'Schema of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.relname IS 'Name of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.kind IS 'table, materialized view, toast table or btree index';
COMMENT ON COLUMN medianest_perf.bloat_report.method IS 'How the figures were obtained: sample (random pages, stratified in up to three passes), exact (every page), estimate (catalog statistics, no page read) or skipped (bloat_report only: the relation was locked)';
COMMENT ON COLUMN medianest_perf.bloat_report.pages IS 'Size of the relation in pages when it was measured';
COMMENT ON COLUMN medianest_perf.bloat_report.pages_read IS 'Pages read (a page drawn twice counts twice; fewer than the sample size when the sampler stops early; 0 for estimate; the btree metapage is not read)';
COMMENT ON COLUMN medianest_perf.bloat_report.total_bytes IS 'Size of the relation in bytes (pages * block size)';
COMMENT ON COLUMN medianest_perf.bloat_report.live_bytes IS 'Bytes of live tuples (heap: tuple lengths, as pgstattuple tuple_len; btree: live leaf items)';
COMMENT ON COLUMN medianest_perf.bloat_report.dead_bytes IS 'Bytes of dead tuples (heap: dead and recently dead, as pgstattuple dead_tuple_len; btree: LP_DEAD leaf items); estimate: n_dead_tup times the average row size';
COMMENT ON COLUMN medianest_perf.bloat_report.free_bytes IS 'Free bytes (heap: PageGetHeapFreeSpace, uninitialized pages wholly; btree: leaf free space plus whole new, deleted and half-dead pages, as pgstattuple); NULL for estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.reserved_bytes IS 'Part of free_bytes kept free by the fillfactor: not bloat; NULL for estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.dropped_column_bytes IS 'Bytes that live rows still spend on dropped columns, which only a rewrite removes; NULL for indexes and estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.live_tuples IS 'Live tuples (btree: live leaf items, a posting list counting once)';
COMMENT ON COLUMN medianest_perf.bloat_report.dead_tuples IS 'Dead tuples (btree: LP_DEAD leaf items)';
COMMENT ON COLUMN medianest_perf.bloat_report.dead_line_pointers IS 'Heap: line pointers of pruned dead tuples, freed by VACUUM; NULL for indexes and estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.heap_tids IS 'Btree: heap TIDs referenced by live leaf items, each posting list entry counting once; NULL for tables';
COMMENT ON COLUMN medianest_perf.bloat_report.leaf_density IS 'Btree: average leaf page fullness in percent, as pgstatindex avg_leaf_density; NULL for tables and estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.deleted_pages IS 'Btree: deleted pages (recyclable by this index, returned only by REINDEX)';
COMMENT ON COLUMN medianest_perf.bloat_report.half_dead_pages IS 'Btree: half-dead pages (an interrupted page deletion)';
COMMENT ON COLUMN medianest_perf.bloat_report.fillfactor IS 'Fillfactor of the relation (heap default 100, btree default 90); space it reserves is not bloat';
COMMENT ON COLUMN medianest_perf.bloat_report.expected_bytes IS 'Size after a rewrite (VACUUM FULL) or rebuild (REINDEX): live data packed to the fillfactor, without dropped-column values, btree deduplicated as the build does';
COMMENT ON COLUMN medianest_perf.bloat_report.reclaimable_bytes IS 'total_bytes - expected_bytes, at least 0: what a rewrite or rebuild would give back';
COMMENT ON COLUMN medianest_perf.bloat_report.bloat_pct IS 'reclaimable_bytes / total_bytes, in percent';
COMMENT ON COLUMN medianest_perf.bloat_report.bloat_pct_error IS '~95% bound on bloat_pct in percentage points: 1.96 standard errors from the spread of the per-page values within strata, between neighbouring strata (one pass) or across a simple random sample (finite population correction), never below 3/n of a page; 0 when every page was read; NULL for estimate, skipped, or a sample under 2 pages';
COMMENT ON COLUMN medianest_perf.bloat_report.reliable IS 'false when a known failure case applies: missing or stale statistics, dropped columns, TOAST or deduplicated index (estimate), a sample under 30 pages, a skipped relation; note says which';
COMMENT ON COLUMN medianest_perf.bloat_report.note IS 'Explanations: why the result is unreliable, dead tuples an old snapshot keeps, deduplication, locks the action takes';
COMMENT ON COLUMN medianest_perf.bloat_report.action IS 'What to run: VACUUM (dead tuples), VACUUM FULL (space only a rewrite returns; pg_repack does it online), REINDEX INDEX CONCURRENTLY (index bloat), or none; thresholds medianest_perf.bloat_min_ratio and medianest_perf.bloat_min_bytes';

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
-- Recommendations, health and metrics (src/health.c, src/metrics.c)
-----------------------------------------------------------------------------

-- One place to read everything: the recommendations view gathers the
-- findings of every part, health() turns them into scores and metrics()
-- exports the figures in the Prometheus text format.  The thresholds are the
-- medianest_perf.* settings listed by health_settings() (src/health.c).
--
-- Optional parts (n_plus_one, bloat_report, index_advice) are reached with
-- dynamic SQL after a catalog check, so this section installs and works
-- without them and picks them up once they exist.  The two expensive inputs
-- are bounded and cached per session (session_cache_get/put):
--   * bloat_report is read at most once per bloat_cache_max_age, and only by
--     callers allowed to read it (superuser or pg_stat_scan_tables);
--   * index_advice(time_limit_ms => advice_time_limit_ms) is called at most
--     once per advice_cache_max_age (-1: never from here).
--
-- Every statement-based finding and health figure is about the current
-- database; connections and long transactions are cluster-wide.
--
-- Severity.  Time-based findings compare their time with T, the total time
-- of the statements recorded for this database: share = time / T.
--   slow_query          critical if a call reached critical_query_ms, else warning
--   temp_spill, offset_pagination, n_plus_one, write_loop
--                       critical if share >= time_share_critical, else warning
--   repeated_query, cache_hit_ratio (statement), missing_index
--                       critical if share >= time_share_critical, warning if
--                       share >= time_share_warning, else info (missing_index
--                       uses the advisor's workload cost saved as its share)
--   cache_hit_ratio (database)  critical below cache_hit_ratio_critical, else warning
--   invalid_index, duplicate_index, unused_index (verdict unused)  warning
--   redundant_index, unused_index (verdicts rarely_used, write_heavy)  info
--   seq_scan_heavy      warning
--   table_bloat, index_bloat  critical if bloat_pct >= 100 * bloat_share_critical
--   stale_statistics, vacuum_lag  critical when the last (auto)analyze resp.
--                       (auto)vacuum is older than maintenance_max_age or never
--                       happened (vacuum_lag also when dead rows reach
--                       vacuum_dead_ratio_critical of the live rows), else warning
--   connection_saturation  critical from connection_critical_ratio, warning
--                       from connection_warning_ratio
--   long_transaction    critical from long_transaction_critical, warning from
--                       long_transaction_warning
--
-- Impact (0-100, the order within a severity): the share of something the
-- finding accounts for, in percent:
--   statement findings: their time (n_plus_one and friends: the time batching
--     would save) / T; missing_index: workload cost saved / cost before;
--   index and bloat findings: index size or reclaimable bytes / database size;
--   seq_scan_heavy: rows its sequential scans read / all rows read in the
--     database by sequential and index scans;
--   cache_hit_ratio (database): the miss ratio; stale_statistics: rows
--     modified / rows; vacuum_lag: dead / (live + dead); connection_saturation:
--     slots in use / usable slots; long_transaction: age / long_transaction_critical.
--
-- Health.  Every figure f gets a sub-score from a ramp with an ideal value
-- I, a warning value W and a critical value C (higher is worse when C > I,
-- better when C < I):
--   f at or better than I: 100;  between I and W: linear 100 -> 75;
--   between W and C: linear 75 -> 0;  at or beyond C: 0.
-- A component's score is the mean of its available sub-scores, rounded; a
-- component with no available figure has a NULL score.  overall is the
-- weighted mean of the available components (weights: query_performance 25,
-- indexes 20, cache_efficiency 15, maintenance_bloat 15, connections 10,
-- transactions 15).  Grades: A+ >= 97, A >= 93, A- >= 90, B+ >= 87, B >= 83,
-- B- >= 80, C+ >= 77, C >= 73, C- >= 70, D+ >= 67, D >= 63, D- >= 60, else F.
-- Counting figures (invalid indexes, tables needing ANALYZE or VACUUM,
-- deadlocks, ...) use I = 0, W = 1, C = health_count_critical.

CREATE FUNCTION medianest_perf.health_settings(
    OUT cache_hit_ratio_warning double precision,
    OUT cache_hit_ratio_critical double precision,
    OUT statement_hit_ratio_warning double precision,
    OUT cache_min_blocks bigint,
    OUT temp_spill_min_kb bigint,
    OUT offset_min_rows bigint,
    OUT stale_stats_ratio double precision,
    OUT stale_stats_min_rows bigint,
    OUT vacuum_dead_ratio double precision,
    OUT vacuum_dead_ratio_critical double precision,
    OUT vacuum_min_dead_rows bigint,
    OUT maintenance_max_age interval,
    OUT long_transaction_warning interval,
    OUT long_transaction_critical interval,
    OUT connection_warning_ratio double precision,
    OUT connection_critical_ratio double precision,
    OUT rollback_ratio_warning double precision,
    OUT rollback_ratio_critical double precision,
    OUT slow_call_share_warning double precision,
    OUT slow_call_share_critical double precision,
    OUT time_share_warning double precision,
    OUT time_share_critical double precision,
    OUT index_waste_warning double precision,
    OUT index_waste_critical double precision,
    OUT bloat_share_warning double precision,
    OUT bloat_share_critical double precision,
    OUT health_count_critical bigint,
    OUT metrics_top_statements bigint,
    OUT advice_cache_max_age integer,
    OUT advice_time_limit_ms bigint,
    OUT bloat_cache_max_age integer)
RETURNS record
AS 'MODULE_PATHNAME', 'mnp_health_settings'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.health_settings() IS
  'Current thresholds of recommendations, health() and metrics() (the medianest_perf.* settings of the same names), typed; advice_cache_max_age and bloat_cache_max_age in seconds (-1 = off), advice_time_limit_ms in milliseconds, temp_spill_min_kb in kB';

CREATE FUNCTION medianest_perf.session_cache_get(
    key text,
    max_age_s integer,
    OUT stored_at timestamptz,
    OUT value jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_session_cache_get'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION medianest_perf.session_cache_get(text, integer) IS
  'The value this role stored with session_cache_put(key, ...) in this database and session, if at most max_age_s seconds old; no row otherwise (always none for max_age_s < 0)';

CREATE FUNCTION medianest_perf.session_cache_put(key text, value jsonb)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'mnp_session_cache_put'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION medianest_perf.session_cache_put(text, jsonb) IS
  'Keep a value for this role, database and session under key (8 slots, the oldest replaced); returns the time stored. Used for the bloat report and index advice the recommendations reuse';

CREATE FUNCTION medianest_perf.session_cache_clear()
RETURNS void
AS 'MODULE_PATHNAME', 'mnp_session_cache_clear'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION medianest_perf.session_cache_clear() IS
  'Forget the bloat report and index advice this session cached, so that the next read of recommendations, health() or metrics() computes them again';

CREATE FUNCTION medianest_perf.statement_metrics_1_0(
    top_n integer,
    le_ms double precision[],
    OUT userid oid,
    OUT dbid oid,
    OUT toplevel boolean,
    OUT queryid bigint,
    OUT calls bigint,
    OUT rows bigint,
    OUT total_time_ms double precision,
    OUT p95_ms double precision,
    OUT p99_ms double precision,
    OUT slow_calls bigint,
    OUT critical_calls bigint,
    OUT bucket_le_ms double precision[],
    OUT bucket_calls bigint[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'mnp_statement_metrics_1_0'
LANGUAGE C VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION medianest_perf.statement_metrics_1_0(integer, double precision[]) IS
  'The top_n statements by total time whose queryid the caller may see, with cumulative latency bucket counts: bucket_calls[i] = calls in histogram buckets whose upper bound is at most le_ms[i]; no rows when the library is not preloaded';

CREATE FUNCTION medianest_perf.score_ramp(
    value double precision, ideal double precision,
    warning double precision, critical double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE
           WHEN r.x IS NULL THEN NULL
           WHEN r.x <= r.i THEN 100
           WHEN r.x >= r.c THEN 0
           WHEN r.x <= r.w THEN 100 - 25 * (r.x - r.i) / (r.w - r.i)
           ELSE 75 - 75 * (r.x - r.w) / (r.c - r.w)
         END
    FROM (SELECT d * $1 AS x, d * $2 AS i,
                 LEAST(GREATEST(d * $3, d * $2), d * $4) AS w, d * $4 AS c
            FROM (SELECT CASE WHEN $4 >= $2 THEN 1.0 ELSE -1.0 END::double precision AS d) s) r
$$;

COMMENT ON FUNCTION medianest_perf.score_ramp(double precision, double precision, double precision, double precision) IS
  'Health sub-score 0-100 of a figure: 100 at or better than ideal, 75 at warning, 0 at or beyond critical, linear in between (works in both directions)';

CREATE FUNCTION medianest_perf.grade(score double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN $1 IS NULL THEN NULL
              WHEN $1 >= 97 THEN 'A+' WHEN $1 >= 93 THEN 'A' WHEN $1 >= 90 THEN 'A-'
              WHEN $1 >= 87 THEN 'B+' WHEN $1 >= 83 THEN 'B' WHEN $1 >= 80 THEN 'B-'
              WHEN $1 >= 77 THEN 'C+' WHEN $1 >= 73 THEN 'C' WHEN $1 >= 70 THEN 'C-'
              WHEN $1 >= 67 THEN 'D+' WHEN $1 >= 63 THEN 'D' WHEN $1 >= 60 THEN 'D-'
              ELSE 'F' END
$$;

COMMENT ON FUNCTION medianest_perf.grade(double precision) IS
  'Letter grade of a score 0-100: A+ >= 97, A >= 93, A- >= 90, B+ >= 87, ... D- >= 60, F below';

CREATE FUNCTION medianest_perf.severity_rank(severity text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE $1 WHEN 'critical' THEN 1 WHEN 'warning' THEN 2 WHEN 'info' THEN 3 ELSE 4 END
$$;

COMMENT ON FUNCTION medianest_perf.severity_rank(text) IS
  'Sort key of a severity: critical 1, warning 2, info 3';

CREATE FUNCTION medianest_perf.short_query(query text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN pg_catalog.length(q) > 100 THEN pg_catalog.left(q, 99) || '…' ELSE q END
    FROM (SELECT pg_catalog.btrim(pg_catalog.regexp_replace($1, '\s+', ' ', 'g')) AS q) x
$$;

COMMENT ON FUNCTION medianest_perf.short_query(text) IS
  'A statement text on one line, cut at 100 characters, for findings';

CREATE FUNCTION medianest_perf.keyset_clause(order_key text, page_size text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  items text[];
  exprs text[] := '{}';
  descs boolean[] := '{}';
  marks text[] := '{}';
  item text;
  e text;
  cond text;
  terms text[] := '{}';
  ch text;
  quote text;
  depth integer := 0;
  i integer;
  j integer;
BEGIN
  IF order_key IS NULL THEN
    RETURN NULL;
  END IF;
  -- split at the commas outside parentheses and quotes
  items := '{}';
  item := '';
  FOR i IN 1 .. pg_catalog.length(order_key) LOOP
    ch := pg_catalog.substr(order_key, i, 1);
    IF quote IS NOT NULL THEN
      IF ch = quote THEN
        quote := NULL;
      END IF;
    ELSIF ch IN ('''', '"') THEN
      quote := ch;
    ELSIF ch = '(' THEN
      depth := depth + 1;
    ELSIF ch = ')' THEN
      depth := depth - 1;
    ELSIF ch = ',' AND depth = 0 THEN
      items := items || pg_catalog.btrim(item);
      item := '';
      CONTINUE;
    END IF;
    item := item || ch;
  END LOOP;
  items := items || pg_catalog.btrim(item);
  FOREACH item IN ARRAY items LOOP
    e := pg_catalog.regexp_replace(pg_catalog.btrim(item),
                                   '\s+(ASC|DESC)?(\s+NULLS\s+(FIRST|LAST))?$', '', 'i');
    exprs := exprs || e;
    descs := descs || (item ~* '\mDESC\M');
    marks := marks || (':last_' || COALESCE(NULLIF(pg_catalog.btrim(
               pg_catalog.regexp_replace(pg_catalog.lower(e), '[^a-z0-9_]+', '_', 'g'), '_'), ''), 'key'));
  END LOOP;
  IF pg_catalog.cardinality(exprs) = 1 THEN
    cond := pg_catalog.format('%s %s %s', exprs[1], CASE WHEN descs[1] THEN '<' ELSE '>' END, marks[1]);
  ELSIF NOT (true = ANY (descs)) OR NOT (false = ANY (descs)) THEN
    cond := pg_catalog.format('(%s) %s (%s)', pg_catalog.array_to_string(exprs, ', '),
                              CASE WHEN descs[1] THEN '<' ELSE '>' END,
                              pg_catalog.array_to_string(marks, ', '));
  ELSE
    -- mixed directions: compare column by column
    FOR i IN 1 .. pg_catalog.cardinality(exprs) LOOP
      cond := NULL;
      FOR j IN 1 .. i - 1 LOOP
        cond := COALESCE(cond || ' AND ', '') || pg_catalog.format('%s = %s', exprs[j], marks[j]);
      END LOOP;
      cond := COALESCE(cond || ' AND ', '')
              || pg_catalog.format('%s %s %s', exprs[i], CASE WHEN descs[i] THEN '<' ELSE '>' END, marks[i]);
      terms := terms || ('(' || cond || ')');
    END LOOP;
    cond := '(' || pg_catalog.array_to_string(terms, ' OR ') || ')';
  END IF;
  RETURN pg_catalog.format('WHERE %s ORDER BY %s LIMIT %s', cond, pg_catalog.btrim(order_key),
                           COALESCE(page_size, 'n'));
END;
$$;

COMMENT ON FUNCTION medianest_perf.keyset_clause(text, text) IS
  'Keyset (cursor) pagination for an ORDER BY key: the condition to AND into the WHERE clause in place of OFFSET, with :last_<column> placeholders for the last row of the previous page, then the same ORDER BY and LIMIT';

CREATE FUNCTION medianest_perf.table_maintenance(
    OUT relid oid,
    OUT schemaname name,
    OUT relname name,
    OUT n_live_tup bigint,
    OUT est_rows double precision,
    OUT n_dead_tup bigint,
    OUT n_mod_since_analyze bigint,
    OUT last_vacuum timestamptz,
    OUT last_analyze timestamptz,
    OUT vacuum_count bigint,
    OUT analyze_count bigint,
    OUT frozen_xid_age integer,
    OUT autovacuum_enabled boolean,
    OUT stale_statistics boolean,
    OUT stale_critical boolean,
    OUT vacuum_lag boolean,
    OUT vacuum_critical boolean)
RETURNS SETOF record
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT t.relid, t.schemaname, t.relname, t.n_live_tup, t.est_rows, t.n_dead_tup,
         t.n_mod_since_analyze, t.last_vac, t.last_an, t.vacuum_count, t.analyze_count,
         t.xid_age, t.av_enabled,
         t.stale, t.stale AND (t.last_an IS NULL OR t.now_ts - t.last_an > t.max_age),
         t.lag, t.lag AND (t.last_vac IS NULL OR t.now_ts - t.last_vac > t.max_age
                           OR t.n_dead_tup >= t.dead_crit * t.n_live_tup)
    FROM (
      SELECT u.relid, u.schemaname, u.relname, u.n_live_tup, u.n_dead_tup, u.n_mod_since_analyze,
             GREATEST(u.n_live_tup, c.reltuples, 0)::double precision AS est_rows,
             GREATEST(u.last_vacuum, u.last_autovacuum) AS last_vac,
             GREATEST(u.last_analyze, u.last_autoanalyze) AS last_an,
             u.vacuum_count + u.autovacuum_count AS vacuum_count,
             u.analyze_count + u.autoanalyze_count AS analyze_count,
             pg_catalog.age(c.relfrozenxid) AS xid_age,
             NOT COALESCE('autovacuum_enabled=false' = ANY (c.reloptions)
                          OR 'autovacuum_enabled=off' = ANY (c.reloptions), false) AS av_enabled,
             (u.n_mod_since_analyze >= s.stale_stats_min_rows
              AND u.n_mod_since_analyze >= s.stale_stats_ratio
                                           * GREATEST(u.n_live_tup, c.reltuples, 0)) AS stale,
             (u.n_dead_tup >= s.vacuum_min_dead_rows
              AND u.n_dead_tup >= s.vacuum_dead_ratio * u.n_live_tup) AS lag,
             s.vacuum_dead_ratio_critical AS dead_crit,
             s.maintenance_max_age AS max_age,
             pg_catalog.now() AS now_ts
        FROM pg_catalog.pg_stat_user_tables u
        JOIN pg_catalog.pg_class c ON c.oid = u.relid
        CROSS JOIN medianest_perf.health_settings() s
       WHERE u.schemaname NOT IN ('medianest_perf')
         AND u.schemaname !~ '^pg_temp_'
    ) t
$$;

COMMENT ON FUNCTION medianest_perf.table_maintenance() IS
  'Per user table of this database: dead rows, rows modified since ANALYZE, last (auto)vacuum and (auto)analyze, and whether its statistics are stale or VACUUM lags behind (the stale_statistics and vacuum_lag rules of recommendations, and their critical forms)';

CREATE FUNCTION medianest_perf.can_read(relation text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- two steps: has_table_privilege() fails on a relation that does not exist
  IF pg_catalog.to_regclass(relation) IS NULL THEN
    RETURN false;
  END IF;
  RETURN pg_catalog.has_table_privilege(pg_catalog.to_regclass(relation), 'SELECT');
END;
$$;

COMMENT ON FUNCTION medianest_perf.can_read(text) IS
  'Whether a relation exists and the caller may read it: how recommendations, health() and metrics() decide to use an optional part';

CREATE FUNCTION medianest_perf.bloat_inputs(
    OUT available boolean,
    OUT measured_at timestamptz,
    OUT relations jsonb)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  max_age integer;
  msg text;
BEGIN
  available := false;
  SELECT s.bloat_cache_max_age INTO max_age FROM medianest_perf.health_settings() s;
  IF max_age < 0 OR NOT medianest_perf.can_read('medianest_perf.bloat_report') THEN
    RETURN;
  END IF;
  SELECT c.stored_at, c.value INTO measured_at, relations
    FROM medianest_perf.session_cache_get('bloat_report', max_age) c;
  IF NOT FOUND THEN
    BEGIN
      EXECUTE $q$
        SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                 'relid', b.relid, 'schemaname', b.schemaname, 'relname', b.relname,
                 'kind', b.kind, 'method', b.method, 'total_bytes', b.total_bytes,
                 'dead_bytes', b.dead_bytes, 'reclaimable_bytes', b.reclaimable_bytes,
                 'bloat_pct', b.bloat_pct, 'bloat_pct_error', b.bloat_pct_error,
                 'reliable', b.reliable, 'live_tuples', b.live_tuples,
                 'dead_tuples', b.dead_tuples, 'note', b.note, 'action', b.action)), '[]')
          FROM medianest_perf.bloat_report b$q$
        INTO relations;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
      RAISE WARNING 'medianest_perf: bloat_report failed, leaving bloat out: %', msg;
      RETURN;
    END;
    measured_at := medianest_perf.session_cache_put('bloat_report', relations);
  END IF;
  available := true;
END;
$$;

COMMENT ON FUNCTION medianest_perf.bloat_inputs() IS
  'The bloat_report rows the recommendations, health() and metrics() use, read at most once per bloat_cache_max_age per session; available is false when the bloat part is not installed, bloat_cache_max_age = -1, or the caller may not read bloat_report (superuser or pg_stat_scan_tables)';

CREATE FUNCTION medianest_perf.advice_inputs(
    OUT available boolean,
    OUT advised_at timestamptz,
    OUT advice jsonb)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
-- the advisor's NOTICE about skipped statements is for its direct callers
SET client_min_messages = warning
AS $$
DECLARE
  max_age integer;
  limit_ms bigint;
  fn oid;
  msg text;
BEGIN
  available := false;
  SELECT s.advice_cache_max_age, s.advice_time_limit_ms INTO max_age, limit_ms
    FROM medianest_perf.health_settings() s;
  IF max_age < 0 OR NOT medianest_perf.is_preloaded() THEN
    RETURN;
  END IF;
  SELECT p.oid INTO fn
    FROM pg_catalog.pg_proc p
   WHERE p.pronamespace = 'medianest_perf'::regnamespace
     AND p.proname = 'index_advice'
     AND 'time_limit_ms' = ANY (p.proargnames)
   LIMIT 1;
  IF fn IS NULL THEN
    RETURN;
  END IF;
  IF NOT pg_catalog.has_function_privilege(fn, 'EXECUTE') THEN
    RETURN;
  END IF;
  SELECT c.stored_at, c.value INTO advised_at, advice
    FROM medianest_perf.session_cache_get('index_advice', max_age) c;
  IF NOT FOUND THEN
    BEGIN
      -- The advisor plans the recorded statements, which name their tables
      -- as the application does: plan them with the session's own
      -- search_path (the value RESET gives: role, database or server
      -- setting), pg_catalog first, rather than with the one pinned for this
      -- function, under which unqualified tables are not found.  This
      -- function's SET clause restores the pinned path when it returns.
      PERFORM pg_catalog.set_config('search_path',
                'pg_catalog, ' || (SELECT s.reset_val FROM pg_catalog.pg_settings s WHERE s.name = 'search_path'),
                true);
      EXECUTE 'SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(a) ORDER BY a.rank), ''[]'')
                 FROM medianest_perf.index_advice(time_limit_ms => $1) a'
        INTO advice USING LEAST(limit_ms, 2147483647)::integer;
      PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
      RAISE WARNING 'medianest_perf: index_advice() failed, leaving missing indexes out: %', msg;
      advice := pg_catalog.jsonb_build_object('error', msg);
    END;
    advised_at := medianest_perf.session_cache_put('index_advice', advice);
  END IF;
  available := pg_catalog.jsonb_typeof(advice) = 'array';
END;
$$;

COMMENT ON FUNCTION medianest_perf.advice_inputs() IS
  'The index_advice() rows the recommendations and the report use: called with time_limit_ms => advice_time_limit_ms and the session''s own search_path (its RESET value, pg_catalog first) at most once per advice_cache_max_age per session (a failure is cached too, as {"error": ...}); available is false when the advisor is not installed, advice_cache_max_age = -1, the library is not preloaded or the caller may not execute index_advice()';

CREATE FUNCTION medianest_perf.statement_object(queryid bigint)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'query ' || COALESCE($1::text, '<insufficient privilege>')
$$;

COMMENT ON FUNCTION medianest_perf.statement_object(bigint) IS
  'The object column of a statement finding: query <queryid>, or query <insufficient privilege> for another user''s statement';

CREATE FUNCTION medianest_perf.recommendations_1_0(
    OUT category text,
    OUT severity text,
    OUT object text,
    OUT finding text,
    OUT evidence jsonb,
    OUT action text,
    OUT impact double precision)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  s record;
  dboid oid;
  dbname name;
  dbsize double precision;
  preloaded boolean := medianest_perf.is_preloaded();
  tot double precision := 0;
  blksz double precision := pg_catalog.current_setting('block_size')::double precision;
  slow_txt text := COALESCE(pg_catalog.current_setting('medianest_perf.slow_query_ms', true), '?');
  crit_txt text := COALESCE(pg_catalog.current_setting('medianest_perf.critical_query_ms', true), '?');
  work_mem_b double precision := pg_catalog.pg_size_bytes(pg_catalog.current_setting('work_mem'));
  sb_b double precision := pg_catalog.pg_size_bytes(pg_catalog.current_setting('shared_buffers'));
  hit bigint;
  rd bigint;
  ratio double precision;
  b record;
  a record;
BEGIN
  SELECT * INTO s FROM medianest_perf.health_settings();
  SELECT d.oid, d.datname INTO dboid, dbname
    FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database();
  dbsize := GREATEST(pg_catalog.pg_database_size(dboid), 1);

  ---------------------------------------------------------------- statements
  IF preloaded THEN
    SELECT COALESCE(pg_catalog.sum(st.total_time_ms), 0) INTO tot
      FROM medianest_perf.statements_1_0(false) st WHERE st.dbid = dboid;

    -- slow_query
    RETURN QUERY
    SELECT 'slow_query'::text,
           CASE WHEN st.critical_calls > 0 THEN 'critical' ELSE 'warning' END,
           medianest_perf.statement_object(st.queryid),
           pg_catalog.format('%s of its %s calls were slow, %s of them critical (by the slow_query_ms and critical_query_ms in force when they ran, now %s and %s); mean %s ms, p95 %s ms, max %s ms, %s%% of the recorded statement time: %s',
             st.slow_calls, st.calls, st.critical_calls, slow_txt, crit_txt,
             pg_catalog.round(st.mean_time_ms::numeric, 1), pg_catalog.round(st.p95_ms::numeric, 1),
             pg_catalog.round(st.max_time_ms::numeric, 1),
             pg_catalog.round((100 * st.total_time_ms / NULLIF(tot, 0))::numeric, 1),
             medianest_perf.short_query(st.query)),
           pg_catalog.jsonb_build_object(
             'queryid', st.queryid, 'userid', st.userid, 'query', st.query,
             'calls', st.calls, 'slow_calls', st.slow_calls, 'critical_calls', st.critical_calls,
             'mean_ms', st.mean_time_ms, 'p95_ms', st.p95_ms, 'p99_ms', st.p99_ms,
             'max_ms', st.max_time_ms, 'total_time_ms', st.total_time_ms,
             'time_share', st.total_time_ms / NULLIF(tot, 0)),
           CASE WHEN st.queryid IS NOT NULL THEN pg_catalog.format(
             'SELECT plan FROM medianest_perf.slow_queries WHERE queryid = %s ORDER BY duration_ms DESC LIMIT 1;',
             st.queryid) END,
           100 * st.total_time_ms / NULLIF(tot, 0)
      FROM medianest_perf.statements st
     WHERE st.dbid = dboid AND st.slow_calls > 0;

    -- temp_spill
    RETURN QUERY
    SELECT 'temp_spill'::text,
           CASE WHEN t.share >= s.time_share_critical THEN 'critical' ELSE 'warning' END,
           medianest_perf.statement_object(t.queryid),
           pg_catalog.format('writes %s of temporary files per call on average (%s over %s calls) because its sorts or hashes do not fit in work_mem = %s; about %s (twice what it wrote per call, rounded up: generous when a sort merged in several passes) keeps them in memory; set it for its role or with SET LOCAL in the transaction that runs it rather than server-wide, since every sort and hash of every session may use that much: %s',
             pg_catalog.pg_size_pretty(t.per_call::bigint), pg_catalog.pg_size_pretty(t.spilled::bigint),
             t.calls, pg_catalog.current_setting('work_mem'), t.suggest, medianest_perf.short_query(t.query)),
           pg_catalog.jsonb_build_object(
             'queryid', t.queryid, 'userid', t.userid, 'query', t.query, 'calls', t.calls,
             'temp_blks_written', t.temp_blks_written, 'temp_bytes_per_call', t.per_call::bigint,
             'work_mem', pg_catalog.current_setting('work_mem'), 'suggested_work_mem', t.suggest,
             'total_time_ms', t.total_time_ms, 'time_share', t.share),
           pg_catalog.format('ALTER ROLE %I SET work_mem = %L;', pg_catalog.pg_get_userbyid(t.userid), t.suggest),
           100 * t.share
      FROM (SELECT st.*, st.temp_blks_written * blksz AS spilled,
                   st.temp_blks_written * blksz / st.calls AS per_call,
                   st.total_time_ms / NULLIF(tot, 0) AS share,
                   pg_catalog.power(2, pg_catalog.ceil(pg_catalog.log(2::numeric,
                     GREATEST(2 * st.temp_blks_written * blksz / st.calls, 2 * work_mem_b, 1048576)::numeric
                     / 1048576)))::bigint || 'MB' AS suggest
              FROM medianest_perf.statements st
             WHERE st.dbid = dboid AND st.temp_blks_written > 0) t
     WHERE t.per_call >= s.temp_spill_min_kb * 1024.0;

    -- cache_hit_ratio of single statements
    RETURN QUERY
    SELECT 'cache_hit_ratio'::text,
           CASE WHEN t.share >= s.time_share_critical THEN 'critical'
                WHEN t.share >= s.time_share_warning THEN 'warning' ELSE 'info' END,
           medianest_perf.statement_object(t.queryid),
           pg_catalog.format('finds only %s%% of the shared blocks it touches in shared_buffers (statement_hit_ratio_warning = %s%%): %s blocks per call, %s of them read from outside (%s per call) with shared_buffers = %s; if these blocks are the hot working set a larger shared_buffers keeps them, if the statement reads far more blocks than the %s rows per call it returns it lacks an index: %s',
             pg_catalog.round((100 * t.cache_hit_ratio)::numeric, 1),
             pg_catalog.round((100 * s.statement_hit_ratio_warning)::numeric, 1),
             pg_catalog.round(((t.shared_blks_hit + t.shared_blks_read)::numeric / t.calls), 1),
             pg_catalog.round((t.shared_blks_read::numeric / t.calls), 1),
             pg_catalog.pg_size_pretty((t.shared_blks_read * blksz / t.calls)::bigint),
             pg_catalog.current_setting('shared_buffers'),
             pg_catalog.round((t.rows::numeric / t.calls), 1),
             medianest_perf.short_query(t.query)),
           pg_catalog.jsonb_build_object(
             'queryid', t.queryid, 'userid', t.userid, 'query', t.query, 'calls', t.calls,
             'rows', t.rows, 'shared_blks_hit', t.shared_blks_hit, 'shared_blks_read', t.shared_blks_read,
             'hit_ratio', t.cache_hit_ratio, 'threshold', s.statement_hit_ratio_warning,
             'shared_buffers', pg_catalog.current_setting('shared_buffers'),
             'total_time_ms', t.total_time_ms, 'time_share', t.share),
           NULL::text,
           100 * t.share
      FROM (SELECT st.*, COALESCE(st.total_time_ms / NULLIF(tot, 0), 0) AS share
              FROM medianest_perf.statements st
             WHERE st.dbid = dboid
               AND st.shared_blks_hit + st.shared_blks_read >= s.cache_min_blocks
               AND st.cache_hit_ratio < s.statement_hit_ratio_warning) t;

    -- offset_pagination, from the captured slow executions (they keep the
    -- text with its constants, and the parameters when slow_query_parameters
    -- is on)
    RETURN QUERY
    WITH sq AS (
      SELECT q.queryid, q.query, q.duration_ms, q.rows,
             COALESCE((pg_catalog.regexp_match(q.query, '\mOFFSET\s+([0-9]+)', 'i'))[1],
                      (pg_catalog.regexp_match(q.parameters,
                         '\$' || (pg_catalog.regexp_match(q.query, '\mOFFSET\s+\$([0-9]+)', 'i'))[1]
                         || ' = ''([0-9]+)'''))[1])::numeric AS off
        FROM medianest_perf.slow_queries q
       WHERE q.dbid = dboid AND q.queryid IS NOT NULL
    ),
    agg AS (
      SELECT sq.queryid, pg_catalog.max(sq.off) AS max_off, pg_catalog.count(*) AS n,
             pg_catalog.max(sq.duration_ms) AS max_ms, pg_catalog.sum(sq.duration_ms) AS sum_ms,
             (pg_catalog.array_agg(sq.query ORDER BY sq.off DESC, sq.duration_ms DESC))[1] AS sample,
             (pg_catalog.array_agg(sq.rows ORDER BY sq.off DESC, sq.duration_ms DESC))[1] AS sample_rows
        FROM sq
       WHERE sq.off >= s.offset_min_rows
       GROUP BY sq.queryid
    ),
    keyed AS (
      SELECT g.*,
             (SELECT m[1] FROM pg_catalog.regexp_matches(g.sample,
                '\mORDER\s+?BY\s+?(.+?)\s+(LIMIT|OFFSET|FETCH)\M', 'gi') WITH ORDINALITY AS x(m, k)
               ORDER BY x.k DESC LIMIT 1) AS order_key,
             COALESCE((pg_catalog.regexp_match(g.sample, '\mLIMIT\s+([0-9]+)', 'i'))[1],
                      (pg_catalog.regexp_match(g.sample, '\mFETCH\s+(FIRST|NEXT)\s+([0-9]+)', 'i'))[2]) AS page,
             (SELECT pg_catalog.sum(st.total_time_ms) FROM medianest_perf.statements_1_0(false) st
               WHERE st.dbid = dboid AND st.queryid = g.queryid) AS stmt_ms
        FROM agg g
    )
    SELECT 'offset_pagination'::text,
           CASE WHEN COALESCE(k.stmt_ms, k.sum_ms) / NULLIF(tot, 0) >= s.time_share_critical
                THEN 'critical' ELSE 'warning' END,
           medianest_perf.statement_object(k.queryid),
           pg_catalog.format('pages with OFFSET: a captured execution skipped %s rows to return %s (%s captured slow execution(s) with OFFSET >= offset_min_rows = %s, up to %s ms); the server reads and throws away every skipped row, so each later page costs more: paginate on the ORDER BY key %s instead, remembering the last row of each page (the key must be unique: end it with a unique column): %s',
             k.max_off, k.sample_rows, k.n, s.offset_min_rows, pg_catalog.round(k.max_ms::numeric, 1),
             COALESCE('(' || pg_catalog.btrim(k.order_key) || ')', '(none: add an ORDER BY on a unique key)'),
             medianest_perf.short_query(k.sample)),
           pg_catalog.jsonb_build_object(
             'queryid', k.queryid, 'query', k.sample, 'max_offset', k.max_off,
             'captured_executions', k.n, 'max_duration_ms', k.max_ms,
             'captured_duration_ms', k.sum_ms, 'order_by', pg_catalog.btrim(k.order_key),
             'limit', k.page, 'statement_total_time_ms', k.stmt_ms),
           medianest_perf.keyset_clause(k.order_key, k.page),
           100 * COALESCE(k.stmt_ms, k.sum_ms) / NULLIF(tot, 0)
      FROM keyed k;
  END IF;

  ------------------------------------------------------- database hit ratio
  SELECT d.blks_hit, d.blks_read INTO hit, rd
    FROM pg_catalog.pg_stat_database d WHERE d.datid = dboid;
  ratio := hit::double precision / NULLIF(hit + rd, 0);
  IF hit + rd >= s.cache_min_blocks AND ratio < s.cache_hit_ratio_warning THEN
    RETURN QUERY
    SELECT 'cache_hit_ratio'::text,
           CASE WHEN ratio < s.cache_hit_ratio_critical THEN 'critical' ELSE 'warning' END,
           pg_catalog.format('database %I', dbname),
           pg_catalog.format('the database finds %s%% of the blocks it reads in shared_buffers (%s hits, %s reads since the statistics reset), below cache_hit_ratio_warning = %s%%; shared_buffers = %s and the database takes %s, %s',
             pg_catalog.round((100 * ratio)::numeric, 2), hit, rd,
             pg_catalog.round((100 * s.cache_hit_ratio_warning)::numeric, 2),
             pg_catalog.current_setting('shared_buffers'), pg_catalog.pg_size_pretty(dbsize::bigint),
             CASE WHEN dbsize > sb_b
                  THEN pg_catalog.format('so the working set may not fit: raise shared_buffers to %s (up to about a quarter of the memory; takes effect after a restart)', x.suggest)
                  ELSE 'so the database fits: the misses come from a cold cache after a restart or from other databases competing for the buffers (pg_prewarm warms it up)' END),
           pg_catalog.jsonb_build_object(
             'blks_hit', hit, 'blks_read', rd, 'hit_ratio', ratio,
             'warning', s.cache_hit_ratio_warning, 'critical', s.cache_hit_ratio_critical,
             'shared_buffers', pg_catalog.current_setting('shared_buffers'),
             'database_bytes', dbsize::bigint),
           CASE WHEN dbsize > sb_b THEN pg_catalog.format('ALTER SYSTEM SET shared_buffers = %L;', x.suggest) END,
           100 * (1 - ratio)
      FROM (SELECT pg_catalog.power(2, pg_catalog.ceil(pg_catalog.log(2::numeric,
                     (LEAST(dbsize, 2 * sb_b) / 1048576)::numeric)))::bigint || 'MB' AS suggest) x;
  END IF;

  ----------------------------------------------------- maintenance of tables
  RETURN QUERY
  SELECT 'stale_statistics'::text,
         CASE WHEN m.stale_critical THEN 'critical' ELSE 'warning' END,
         pg_catalog.format('%I.%I', m.schemaname, m.relname),
         pg_catalog.format('%s rows changed since its statistics were last gathered, %s%% of its %s rows (stale_stats_ratio = %s%%); last (auto)analyze %s%s, so the planner''s row estimates for it may be far off',
           m.n_mod_since_analyze,
           pg_catalog.round((100 * m.n_mod_since_analyze / GREATEST(m.est_rows, 1))::numeric, 1),
           pg_catalog.round(m.est_rows::numeric), pg_catalog.round((100 * s.stale_stats_ratio)::numeric, 1),
           CASE WHEN m.last_analyze IS NULL THEN 'never'
                ELSE medianest_perf.format_duration(pg_catalog.now() - m.last_analyze) || ' ago' END,
           CASE WHEN NOT m.autovacuum_enabled THEN ' (autovacuum is disabled for this table)' ELSE '' END),
         pg_catalog.jsonb_build_object(
           'n_mod_since_analyze', m.n_mod_since_analyze, 'n_live_tup', m.n_live_tup,
           'rows', m.est_rows, 'last_analyze', m.last_analyze, 'analyze_count', m.analyze_count,
           'autovacuum_enabled', m.autovacuum_enabled, 'threshold_ratio', s.stale_stats_ratio,
           'threshold_rows', s.stale_stats_min_rows),
         pg_catalog.format('ANALYZE %I.%I;', m.schemaname, m.relname),
         100 * LEAST(1, m.n_mod_since_analyze / GREATEST(m.est_rows, 1))
    FROM medianest_perf.table_maintenance() m
   WHERE m.stale_statistics;

  RETURN QUERY
  SELECT 'vacuum_lag'::text,
         CASE WHEN m.vacuum_critical THEN 'critical' ELSE 'warning' END,
         pg_catalog.format('%I.%I', m.schemaname, m.relname),
         pg_catalog.format('%s dead rows for %s live ones (%s%%, vacuum_dead_ratio = %s%%); last (auto)vacuum %s%s: they take space and slow every scan until VACUUM removes them',
           m.n_dead_tup, m.n_live_tup,
           pg_catalog.round((100.0 * m.n_dead_tup / GREATEST(m.n_live_tup, 1))::numeric, 1),
           pg_catalog.round((100 * s.vacuum_dead_ratio)::numeric, 1),
           CASE WHEN m.last_vacuum IS NULL THEN 'never'
                ELSE medianest_perf.format_duration(pg_catalog.now() - m.last_vacuum) || ' ago' END,
           CASE WHEN NOT m.autovacuum_enabled THEN ' (autovacuum is disabled for this table)' ELSE '' END),
         pg_catalog.jsonb_build_object(
           'n_dead_tup', m.n_dead_tup, 'n_live_tup', m.n_live_tup, 'last_vacuum', m.last_vacuum,
           'vacuum_count', m.vacuum_count, 'frozen_xid_age', m.frozen_xid_age,
           'autovacuum_enabled', m.autovacuum_enabled, 'threshold_ratio', s.vacuum_dead_ratio,
           'critical_ratio', s.vacuum_dead_ratio_critical, 'threshold_rows', s.vacuum_min_dead_rows),
         pg_catalog.format('VACUUM %I.%I;', m.schemaname, m.relname),
         100 * m.n_dead_tup::double precision / GREATEST(m.n_live_tup + m.n_dead_tup, 1)
    FROM medianest_perf.table_maintenance() m
   WHERE m.vacuum_lag;

  ---------------------------------------------- connections and transactions
  RETURN QUERY
  WITH c AS (
    SELECT pg_catalog.count(*) AS used,
           pg_catalog.count(*) FILTER (WHERE a.state = 'active') AS active,
           pg_catalog.count(*) FILTER (WHERE a.state = 'idle') AS idle,
           pg_catalog.count(*) FILTER (WHERE a.state LIKE 'idle in transaction%') AS idle_tx,
           pg_catalog.current_setting('max_connections')::integer AS maxc,
           pg_catalog.current_setting('superuser_reserved_connections')::integer AS reserved
      FROM pg_catalog.pg_stat_activity a
     WHERE a.backend_type = 'client backend'
  )
  SELECT 'connection_saturation'::text,
         CASE WHEN r.ratio >= s.connection_critical_ratio THEN 'critical' ELSE 'warning' END,
         'max_connections'::text,
         pg_catalog.format('%s of %s usable connection slots are in use (%s%%; max_connections = %s, %s reserved for superusers): %s active, %s idle, %s idle in transaction%s',
           c.used, r.usable, pg_catalog.round((100 * r.ratio)::numeric, 1), c.maxc, c.reserved,
           c.active, c.idle, c.idle_tx,
           CASE WHEN c.idle > c.active
                THEN '; most are idle: a connection pooler (for example PgBouncer in transaction mode) serves the same clients with far fewer server connections'
                ELSE '' END),
         pg_catalog.jsonb_build_object('used', c.used, 'usable', r.usable, 'max_connections', c.maxc,
           'superuser_reserved_connections', c.reserved, 'active', c.active, 'idle', c.idle,
           'idle_in_transaction', c.idle_tx, 'ratio', r.ratio),
         CASE WHEN c.idle_tx > 0
              THEN 'ALTER SYSTEM SET idle_in_transaction_session_timeout = ''5min''; SELECT pg_reload_conf();' END,
         100 * r.ratio
    FROM c
    CROSS JOIN LATERAL (SELECT GREATEST(c.maxc - c.reserved, 1) AS usable,
                               c.used::double precision / GREATEST(c.maxc - c.reserved, 1) AS ratio) r
   WHERE r.ratio >= s.connection_warning_ratio;

  RETURN QUERY
  SELECT 'long_transaction'::text,
         CASE WHEN l.age >= s.long_transaction_critical THEN 'critical' ELSE 'warning' END,
         pg_catalog.format('pid %s', l.pid),
         pg_catalog.format('backend %s (user %s, application %s, database %s) has had a transaction open for %s (%s, long_transaction_warning = %s)%s; VACUUM cannot remove rows deleted since it began%s',
           l.pid, COALESCE(l.usename::text, '?'), COALESCE(NULLIF(l.application_name, ''), '-'),
           COALESCE(l.datname::text, '-'), medianest_perf.format_duration(l.age), COALESCE(l.state, 'state unknown'),
           medianest_perf.format_duration(s.long_transaction_warning),
           CASE WHEN l.state LIKE 'idle in transaction%'
                THEN pg_catalog.format(', idle for %s', medianest_perf.format_duration(pg_catalog.now() - l.state_change))
                ELSE '' END,
           CASE WHEN l.state LIKE 'idle in transaction%'
                THEN ' (idle_in_transaction_session_timeout ends such sessions)' ELSE '' END),
         pg_catalog.jsonb_build_object('pid', l.pid, 'usename', l.usename, 'application_name', l.application_name,
           'datname', l.datname, 'state', l.state, 'xact_start', l.xact_start,
           'age_s', pg_catalog.date_part('epoch', l.age), 'backend_xmin_age', pg_catalog.age(l.backend_xmin),
           'wait_event_type', l.wait_event_type, 'wait_event', l.wait_event),
         CASE WHEN l.state LIKE 'idle in transaction%' THEN pg_catalog.format('SELECT pg_terminate_backend(%s);', l.pid)
              ELSE pg_catalog.format('SELECT pg_cancel_backend(%s);', l.pid) END,
         100 * LEAST(1, pg_catalog.date_part('epoch', l.age)
                        / GREATEST(pg_catalog.date_part('epoch', s.long_transaction_critical), 1))
    FROM (SELECT a.*, pg_catalog.now() - a.xact_start AS age
            FROM pg_catalog.pg_stat_activity a
           WHERE a.backend_type = 'client backend'
             AND a.pid <> pg_catalog.pg_backend_pid()
             AND a.xact_start IS NOT NULL) l
   WHERE l.age >= s.long_transaction_warning;

  ------------------------------------------------------------------- indexes
  RETURN QUERY
  SELECT CASE i.verdict WHEN 'invalid' THEN 'invalid_index' WHEN 'duplicate' THEN 'duplicate_index'
                        WHEN 'redundant' THEN 'redundant_index' ELSE 'unused_index' END,
         CASE WHEN i.verdict IN ('invalid', 'duplicate', 'unused') THEN 'warning' ELSE 'info' END,
         pg_catalog.format('%I.%I', i.schemaname, i.indexname),
         i.reason,
         pg_catalog.jsonb_build_object('verdict', i.verdict, 'score', i.score, 'table',
           pg_catalog.format('%I.%I', i.schemaname, i.tablename), 'kind', i.kind,
           'size_bytes', i.size_bytes, 'idx_scan', i.idx_scan, 'table_writes', i.table_writes,
           'statements_using', i.statements_using, 'observed_since', i.observed_since),
         i.action,
         100 * i.size_bytes / dbsize
    FROM medianest_perf.index_usage i
   WHERE i.verdict <> 'ok' AND i.kind <> 'partition';

  RETURN QUERY
  SELECT 'seq_scan_heavy'::text,
         'warning'::text,
         pg_catalog.format('%I.%I', t.schemaname, t.tablename),
         t.reason,
         pg_catalog.jsonb_build_object('kind', t.kind, 'seq_scan', t.seq_scan, 'seq_tup_read', t.seq_tup_read,
           'avg_seq_tup_read', t.avg_seq_tup_read, 'idx_scan', t.idx_scan,
           'seq_scan_share', t.seq_scan_share, 'n_live_tup', t.n_live_tup, 'size_bytes', t.size_bytes,
           'index_count', t.index_count),
         CASE WHEN pg_catalog.to_regproc('medianest_perf.index_advice') IS NOT NULL
              THEN pg_catalog.format('SELECT ddl FROM medianest_perf.index_advice() WHERE relid = %L::regclass;',
                                     pg_catalog.format('%I.%I', t.schemaname, t.tablename)) END,
         100 * t.seq_tup_read / NULLIF(x.all_rows, 0)
    FROM medianest_perf.table_scans t
    CROSS JOIN (SELECT pg_catalog.sum(a.seq_tup_read + a.idx_tup_fetch)::double precision AS all_rows
                  FROM medianest_perf.table_scans a WHERE a.kind <> 'partition') x
   WHERE t.missing_index_suspected AND t.kind <> 'partition';

  ------------------------------------------------- N+1 (src/nplus1.c, optional)
  IF preloaded AND medianest_perf.can_read('medianest_perf.n_plus_one') THEN
    RETURN QUERY EXECUTE $q$
    SELECT CASE n.kind WHEN 'repeated_identical' THEN 'repeated_query' ELSE n.kind END::text,
           CASE WHEN n.share >= $3 THEN 'critical'
                WHEN n.kind <> 'repeated_identical' OR n.share >= $4 THEN 'warning'
                ELSE 'info' END::text,
           medianest_perf.statement_object(n.repeated_queryid),
           CASE n.kind
             WHEN 'n_plus_one' THEN pg_catalog.format(
               'N+1: after one statement returned rows, this statement ran once per row, up to %s times in one unit of work (%s units of work, %s calls, %s ms in all); one batched statement would save about %s ms (%s%% of the recorded statement time): %s  <- driven by: %s',
               n.max_repeats, n.occurrences, n.total_repeated_calls, pg_catalog.round(n.total_time_ms::numeric, 1),
               pg_catalog.round(n.estimated_saving_ms::numeric, 1), pg_catalog.round((100 * n.share)::numeric, 1),
               medianest_perf.short_query(n.repeated_query), medianest_perf.short_query(n.source_query))
             WHEN 'write_loop' THEN pg_catalog.format(
               'write loop: this statement changed rows one at a time, up to %s times in one unit of work (%s units of work, %s calls, %s ms in all); one set-based statement would save about %s ms (%s%% of the recorded statement time): %s',
               n.max_repeats, n.occurrences, n.total_repeated_calls, pg_catalog.round(n.total_time_ms::numeric, 1),
               pg_catalog.round(n.estimated_saving_ms::numeric, 1), pg_catalog.round((100 * n.share)::numeric, 1),
               medianest_perf.short_query(n.repeated_query))
             ELSE pg_catalog.format(
               'repeated query: the same statement with the same parameters ran up to %s times in one unit of work (%s units of work, %s calls, %s ms in all); caching the first result would save about %s ms (%s%% of the recorded statement time): %s',
               n.max_repeats, n.occurrences, n.total_repeated_calls, pg_catalog.round(n.total_time_ms::numeric, 1),
               pg_catalog.round(n.estimated_saving_ms::numeric, 1), pg_catalog.round((100 * n.share)::numeric, 1),
               medianest_perf.short_query(n.repeated_query))
           END,
           pg_catalog.jsonb_build_object('kind', n.kind, 'userid', n.userid,
             'application_name', n.application_name,
             'source_queryid', n.source_queryid, 'source_query', n.source_query,
             'repeated_queryid', n.repeated_queryid, 'repeated_query', n.repeated_query,
             'occurrences', n.occurrences, 'max_repeats', n.max_repeats,
             'total_repeated_calls', n.total_repeated_calls, 'total_time_ms', n.total_time_ms,
             'estimated_saving_ms', n.estimated_saving_ms, 'time_share', n.share,
             'first_seen', n.first_seen, 'last_seen', n.last_seen),
           n.suggestion,
           100 * n.share
      FROM (SELECT p.*, COALESCE(p.estimated_saving_ms / NULLIF($2, 0), 0) AS share
              FROM medianest_perf.n_plus_one p
             WHERE p.dbid = $1) n
    $q$ USING dboid, tot, s.time_share_critical, s.time_share_warning;
  END IF;

  ---------------------------------------------- bloat (src/bloat.c, optional)
  SELECT * INTO b FROM medianest_perf.bloat_inputs();
  IF b.available THEN
    RETURN QUERY
    SELECT CASE WHEN r->>'kind' = 'btree index' THEN 'index_bloat' ELSE 'table_bloat' END,
           CASE WHEN (r->>'bloat_pct')::double precision >= 100 * s.bloat_share_critical
                THEN 'critical' ELSE 'warning' END,
           pg_catalog.format('%I.%I', r->>'schemaname', r->>'relname'),
           pg_catalog.format('%s of its %s could be reclaimed (%s%%%s, measured by %s at %s); %s in dead rows',
             pg_catalog.pg_size_pretty((r->>'reclaimable_bytes')::bigint),
             pg_catalog.pg_size_pretty((r->>'total_bytes')::bigint),
             pg_catalog.round((r->>'bloat_pct')::numeric, 1),
             CASE WHEN (r->>'bloat_pct_error')::numeric > 0
                  THEN ' ± ' || pg_catalog.round((r->>'bloat_pct_error')::numeric, 1) ELSE '' END,
             r->>'method', pg_catalog.to_char(b.measured_at, 'YYYY-MM-DD HH24:MI:SSOF'),
             pg_catalog.pg_size_pretty(COALESCE((r->>'dead_bytes')::bigint, 0))),
           r || pg_catalog.jsonb_build_object('measured_at', b.measured_at),
           (r->>'action') || ';',
           100 * (r->>'reclaimable_bytes')::double precision / dbsize
      FROM pg_catalog.jsonb_array_elements(b.relations) r
     WHERE COALESCE(r->>'action', 'none') <> 'none';
  END IF;

  ----------------------------------------- missing indexes (advisor, optional)
  SELECT * INTO a FROM medianest_perf.advice_inputs();
  IF a.available THEN
    RETURN QUERY
    SELECT 'missing_index'::text,
           CASE WHEN x.share >= s.time_share_critical THEN 'critical'
                WHEN x.share >= s.time_share_warning THEN 'warning' ELSE 'info' END,
           x.r->>'table_name',
           pg_catalog.format('an index on %s (%s)%s%s would cut the planner cost of the %s statement(s) it helps by %s%% (workload cost %s -> %s, %s%% of it) for about %s (advice of %s)',
             x.r->>'table_name',
             (SELECT pg_catalog.string_agg(c, ', ') FROM pg_catalog.jsonb_array_elements_text(x.r->'key_columns') c),
             COALESCE(' INCLUDE (' || (SELECT pg_catalog.string_agg(c, ', ')
                                         FROM pg_catalog.jsonb_array_elements_text(x.r->'include_columns') c) || ')', ''),
             COALESCE(' WHERE ' || (x.r->>'predicate'), ''),
             COALESCE(pg_catalog.jsonb_array_length(CASE WHEN pg_catalog.jsonb_typeof(x.r->'queries') = 'array'
                                                         THEN x.r->'queries' END), 0),
             pg_catalog.round((x.r->>'improvement_pct')::numeric, 1),
             pg_catalog.round((x.r->>'workload_cost_before')::numeric),
             pg_catalog.round((x.r->>'workload_cost_after')::numeric),
             pg_catalog.round((100 * x.share)::numeric, 1),
             pg_catalog.pg_size_pretty((x.r->>'estimated_size_bytes')::bigint),
             pg_catalog.to_char(a.advised_at, 'YYYY-MM-DD HH24:MI:SSOF')),
           x.r || pg_catalog.jsonb_build_object('advised_at', a.advised_at),
           x.r->>'ddl',
           100 * x.share
      FROM (SELECT e AS r,
                   COALESCE(((e->>'workload_cost_before')::double precision
                             - (e->>'workload_cost_after')::double precision)
                            / NULLIF((e->>'workload_cost_before')::double precision, 0), 0) AS share
              FROM pg_catalog.jsonb_array_elements(a.advice) e) x;
  END IF;
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.recommendations_1_0() IS
  'Rows of the recommendations view, unordered';

CREATE VIEW medianest_perf.recommendations AS
  SELECT r.category, r.severity, r.object, r.finding, r.evidence, r.action,
         pg_catalog.round(r.impact::numeric, 2) AS impact
    FROM medianest_perf.recommendations_1_0() r
   ORDER BY medianest_perf.severity_rank(r.severity), r.impact DESC NULLS LAST,
            r.category COLLATE "C", r.object COLLATE "C", r.finding COLLATE "C";

GRANT SELECT ON medianest_perf.recommendations TO PUBLIC;

COMMENT ON VIEW medianest_perf.recommendations IS
  'Every finding of every part for the current database (connections and long transactions: the cluster), one row each, critical first, then by estimated impact: what is wrong, the numbers, and what to run';
COMMENT ON COLUMN medianest_perf.recommendations.category IS 'missing_index, unused_index, duplicate_index, redundant_index, invalid_index, table_bloat, index_bloat, n_plus_one, repeated_query, write_loop, slow_query, seq_scan_heavy, offset_pagination, cache_hit_ratio, temp_spill, stale_statistics, vacuum_lag, connection_saturation or long_transaction';
COMMENT ON COLUMN medianest_perf.recommendations.severity IS 'critical, warning or info (rules in the README and the install script)';
COMMENT ON COLUMN medianest_perf.recommendations.object IS 'What the finding is about: schema.table or schema.index (quoted as needed), query <queryid> (query <insufficient privilege> for other users'' statements without pg_read_all_stats), database <name>, pid <pid>, or max_connections';
COMMENT ON COLUMN medianest_perf.recommendations.finding IS 'One sentence with the numbers behind the finding';
COMMENT ON COLUMN medianest_perf.recommendations.evidence IS 'The figures behind the finding as jsonb (statement text only as the statements view shows it to the caller)';
COMMENT ON COLUMN medianest_perf.recommendations.action IS 'SQL to run or the setting to change, identifiers quoted; for offset_pagination the keyset clause to use in place of OFFSET; NULL when the fix lies outside the database';
COMMENT ON COLUMN medianest_perf.recommendations.impact IS 'Estimated weight 0-100 of the finding: its share, in percent, of the recorded statement time, of the database size, of rows read, of connection slots, ... (per category in the README)';

CREATE FUNCTION medianest_perf.health_sub(
    value double precision, ideal double precision,
    warning double precision, critical double precision)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.jsonb_build_object(
           'value', $1,
           'score', pg_catalog.round(medianest_perf.score_ramp($1, $2, $3, $4)::numeric, 1),
           'ideal', $2, 'warning', $3, 'critical', $4)
$$;

COMMENT ON FUNCTION medianest_perf.health_sub(double precision, double precision, double precision, double precision) IS
  'One figure of health() details: its value, its sub-score (score_ramp) and the ramp it was scored on; score is null when the value is unknown';

CREATE FUNCTION medianest_perf.health(
    OUT component text,
    OUT score integer,
    OUT grade text,
    OUT details jsonb)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
  s record;
  dboid oid;
  preloaded boolean := medianest_perf.is_preloaded();
  names text[] := ARRAY['query_performance', 'indexes', 'cache_efficiency',
                        'maintenance_bloat', 'connections', 'transactions'];
  weights double precision[] := ARRAY[25, 20, 15, 15, 10, 15];
  det jsonb[] := ARRAY['{}', '{}', '{}', '{}', '{}', '{}']::jsonb[];
  scores double precision[] := ARRAY[NULL, NULL, NULL, NULL, NULL, NULL]::double precision[];
  cc double precision;
  q record;
  x record;
  b record;
  np double precision;
  sc double precision;
  wsum double precision := 0;
  ssum double precision := 0;
BEGIN
  SELECT * INTO s FROM medianest_perf.health_settings();
  cc := s.health_count_critical;
  SELECT d.oid INTO dboid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database();

  -- 1. query performance (and the statement figures cache_efficiency uses)
  IF preloaded THEN
    SELECT COALESCE(pg_catalog.sum(st.calls), 0) AS calls,
           COALESCE(pg_catalog.sum(st.slow_calls), 0) AS slow_calls,
           COALESCE(pg_catalog.sum(st.critical_calls), 0) AS critical_calls,
           COALESCE(pg_catalog.sum(st.total_time_ms), 0) AS total_ms,
           COALESCE(pg_catalog.sum(st.total_time_ms) FILTER (WHERE st.temp_blks_written > 0), 0) AS spill_ms
      INTO q
      FROM medianest_perf.statements_1_0(false) st WHERE st.dbid = dboid;
    det[1] := pg_catalog.jsonb_build_object(
      'statements', pg_catalog.jsonb_build_object('calls', q.calls, 'slow_calls', q.slow_calls,
                                                  'critical_calls', q.critical_calls, 'total_time_ms', q.total_ms),
      'slow_call_share', medianest_perf.health_sub(q.slow_calls::double precision / NULLIF(q.calls, 0), 0,
                                                   s.slow_call_share_warning, s.slow_call_share_critical));
    IF medianest_perf.can_read('medianest_perf.n_plus_one') THEN
      EXECUTE 'SELECT COALESCE(pg_catalog.sum(n.estimated_saving_ms), 0) FROM medianest_perf.n_plus_one n WHERE n.dbid = $1'
        INTO np USING dboid;
      det[1] := det[1] || pg_catalog.jsonb_build_object(
        'n_plus_one_time_share', medianest_perf.health_sub(np / NULLIF(q.total_ms, 0), 0,
                                                          s.time_share_warning, s.time_share_critical));
    END IF;
    det[3] := pg_catalog.jsonb_build_object(
      'temp_spill_time_share', medianest_perf.health_sub(q.spill_ms / NULLIF(q.total_ms, 0), 0,
                                                          s.time_share_warning, s.time_share_critical));
  ELSE
    det[1] := '{"note": "medianest_perf is not preloaded: no statement statistics"}';
  END IF;

  -- 2. indexes
  SELECT COALESCE(pg_catalog.sum(i.size_bytes) FILTER (
                    WHERE i.verdict IN ('unused', 'duplicate', 'redundant', 'invalid')), 0) AS wasted,
         COALESCE(pg_catalog.sum(i.size_bytes), 0) AS total,
         pg_catalog.count(*) FILTER (WHERE i.verdict = 'invalid') AS invalid,
         pg_catalog.count(*) AS indexes
    INTO x
    FROM medianest_perf.index_usage i WHERE i.kind <> 'partition';
  det[2] := pg_catalog.jsonb_build_object(
    'indexes', x.indexes, 'index_bytes', x.total, 'wasted_bytes', x.wasted,
    'wasted_index_share', medianest_perf.health_sub(x.wasted::double precision / NULLIF(x.total, 0), 0,
                                                    s.index_waste_warning, s.index_waste_critical),
    'invalid_indexes', medianest_perf.health_sub(x.invalid, 0, 1, cc),
    'seq_scan_heavy_tables', medianest_perf.health_sub(
       (SELECT pg_catalog.count(*) FROM medianest_perf.table_scans t
         WHERE t.missing_index_suspected AND t.kind <> 'partition'), 0, 1, cc));

  -- 3. cache efficiency
  SELECT d.blks_hit, d.blks_read, d.temp_bytes INTO x
    FROM pg_catalog.pg_stat_database d WHERE d.datid = dboid;
  det[3] := det[3] || pg_catalog.jsonb_build_object(
    'blks_hit', x.blks_hit, 'blks_read', x.blks_read, 'temp_bytes', x.temp_bytes,
    'hit_ratio', medianest_perf.health_sub(
       CASE WHEN x.blks_hit + x.blks_read >= s.cache_min_blocks
            THEN x.blks_hit::double precision / (x.blks_hit + x.blks_read) END,
       1, s.cache_hit_ratio_warning, s.cache_hit_ratio_critical));

  -- 4. maintenance and bloat
  SELECT COALESCE(pg_catalog.sum(m.n_dead_tup), 0) AS dead,
         COALESCE(pg_catalog.sum(m.n_live_tup), 0) AS live,
         pg_catalog.count(*) FILTER (WHERE m.vacuum_lag) AS lagging,
         pg_catalog.count(*) FILTER (WHERE m.stale_statistics) AS stale
    INTO x
    FROM medianest_perf.table_maintenance() m;
  det[4] := pg_catalog.jsonb_build_object(
    'dead_rows', x.dead, 'live_rows', x.live,
    'dead_row_ratio', medianest_perf.health_sub(
       CASE WHEN x.dead + x.live > 0 THEN x.dead::double precision / GREATEST(x.live, 1) END,
       0, s.vacuum_dead_ratio, s.vacuum_dead_ratio_critical),
    'tables_vacuum_lag', medianest_perf.health_sub(x.lagging, 0, 1, cc),
    'tables_stale_statistics', medianest_perf.health_sub(x.stale, 0, 1, cc),
    'frozen_xid_age', medianest_perf.health_sub(
       (SELECT pg_catalog.age(d.datfrozenxid) FROM pg_catalog.pg_database d WHERE d.oid = dboid),
       pg_catalog.current_setting('autovacuum_freeze_max_age')::double precision, 1e9, 1.5e9));
  SELECT * INTO b FROM medianest_perf.bloat_inputs();
  IF b.available THEN
    SELECT COALESCE(pg_catalog.sum((r->>'reclaimable_bytes')::double precision), 0) AS reclaimable,
           COALESCE(pg_catalog.sum((r->>'total_bytes')::double precision), 0) AS total
      INTO x
      FROM pg_catalog.jsonb_array_elements(b.relations) r
     WHERE (r->>'reclaimable_bytes') IS NOT NULL;
    det[4] := det[4] || pg_catalog.jsonb_build_object(
      'bloat_measured_at', b.measured_at, 'reclaimable_bytes', x.reclaimable,
      'bloat_share', medianest_perf.health_sub(x.reclaimable / NULLIF(x.total, 0), 0,
                                               s.bloat_share_warning, s.bloat_share_critical));
  END IF;

  -- 5. connections (cluster)
  SELECT pg_catalog.count(*) AS used,
         pg_catalog.count(*) FILTER (WHERE a.state LIKE 'idle in transaction%') AS idle_tx,
         GREATEST(pg_catalog.current_setting('max_connections')::integer
                  - pg_catalog.current_setting('superuser_reserved_connections')::integer, 1) AS usable
    INTO x
    FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend';
  det[5] := pg_catalog.jsonb_build_object(
    'connections', x.used, 'usable', x.usable,
    'connection_usage', medianest_perf.health_sub(x.used::double precision / x.usable,
                                                  s.connection_warning_ratio / 2,
                                                  s.connection_warning_ratio, s.connection_critical_ratio),
    'idle_in_transaction', medianest_perf.health_sub(x.idle_tx, 0, 1, cc));

  -- 6. transactions
  SELECT d.xact_commit, d.xact_rollback, d.deadlocks, d.conflicts INTO x
    FROM pg_catalog.pg_stat_database d WHERE d.datid = dboid;
  det[6] := pg_catalog.jsonb_build_object(
    'xact_commit', x.xact_commit, 'xact_rollback', x.xact_rollback,
    'rollback_ratio', medianest_perf.health_sub(
       x.xact_rollback::double precision / NULLIF(x.xact_commit + x.xact_rollback, 0),
       0, s.rollback_ratio_warning, s.rollback_ratio_critical),
    'deadlocks', medianest_perf.health_sub(x.deadlocks, 0, 1, cc),
    'conflicts', medianest_perf.health_sub(x.conflicts, 0, 1, cc),
    'oldest_transaction_s', medianest_perf.health_sub(
       (SELECT COALESCE(pg_catalog.max(pg_catalog.date_part('epoch', pg_catalog.now() - a.xact_start)), 0)
          FROM pg_catalog.pg_stat_activity a
         WHERE a.backend_type = 'client backend' AND a.pid <> pg_catalog.pg_backend_pid()
           AND a.xact_start IS NOT NULL),
       0, pg_catalog.date_part('epoch', s.long_transaction_warning),
       pg_catalog.date_part('epoch', s.long_transaction_critical)));

  FOR i IN 1 .. 6 LOOP
    SELECT pg_catalog.round(pg_catalog.avg((e.v->>'score')::double precision)) INTO sc
      FROM pg_catalog.jsonb_each(det[i]) e(k, v)
     WHERE pg_catalog.jsonb_typeof(e.v) = 'object' AND (e.v->>'score') IS NOT NULL;
    scores[i] := sc;
    IF scores[i] IS NOT NULL THEN
      wsum := wsum + weights[i];
      ssum := ssum + weights[i] * scores[i];
    END IF;
    component := names[i];
    score := scores[i];
    grade := medianest_perf.grade(scores[i]);
    details := det[i];
    RETURN NEXT;
  END LOOP;

  component := 'overall';
  score := pg_catalog.round(ssum / NULLIF(wsum, 0));
  grade := medianest_perf.grade(score);
  details := (SELECT pg_catalog.jsonb_object_agg(names[i], pg_catalog.jsonb_build_object(
                       'score', scores[i], 'weight', weights[i]))
                FROM pg_catalog.generate_series(1, 6) i);
  RETURN NEXT;
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.health() IS
  'Health scores 0-100 with letter grades for query_performance, indexes, cache_efficiency, maintenance_bloat, connections and transactions, then overall (their weighted mean); details holds every figure with its sub-score and thresholds. Formulas in the README';

-- Prometheus text exposition (format version 0.0.4): label values escaped
-- by prom_escape(), one HELP and TYPE line per family, histograms cumulative
-- with +Inf, _sum and _count.

CREATE FUNCTION medianest_perf.prom_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(COALESCE($1, ''),
           '\', '\\'), '"', '\"'), E'\n', '\n')
$$;

COMMENT ON FUNCTION medianest_perf.prom_escape(text) IS
  'A label value escaped for the Prometheus text format: backslash, double quote and line feed as \\, \" and \n';

CREATE FUNCTION medianest_perf.prom_value(value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN $1 IS NULL THEN NULL
              WHEN $1 = 'Infinity'::double precision THEN '+Inf'
              WHEN $1 = '-Infinity'::double precision THEN '-Inf'
              WHEN $1 = 'NaN'::double precision THEN 'NaN'
              ELSE $1::text END
$$;

COMMENT ON FUNCTION medianest_perf.prom_value(double precision) IS
  'A sample value in the Prometheus text format (+Inf, -Inf, NaN, else the shortest exact decimal form)';

CREATE FUNCTION medianest_perf.prom_sample(name text, labels text[], value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN $3 IS NULL THEN NULL ELSE
           $1 || COALESCE('{' || (SELECT pg_catalog.string_agg(
                                    $2[2 * k - 1] || '="' || medianest_perf.prom_escape($2[2 * k]) || '"',
                                    ',' ORDER BY k)
                                    FROM pg_catalog.generate_series(1, COALESCE(pg_catalog.cardinality($2), 0) / 2) k)
                          || '}', '')
              || ' ' || medianest_perf.prom_value($3) END
$$;

COMMENT ON FUNCTION medianest_perf.prom_sample(text, text[], double precision) IS
  'One sample line: name{label="value",...} value, from labels given as {name, value, name, value, ...}; NULL when the value is NULL';

CREATE FUNCTION medianest_perf.prom_family(name text, type text, help text, samples text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN COALESCE(pg_catalog.array_length(pg_catalog.array_remove($4, NULL), 1), 0) = 0 THEN NULL
              ELSE '# HELP ' || $1 || ' ' || pg_catalog.replace(pg_catalog.replace($3, '\', '\\'), E'\n', '\n')
                   || E'\n# TYPE ' || $1 || ' ' || $2 || E'\n'
                   || pg_catalog.array_to_string(pg_catalog.array_remove($4, NULL), E'\n') || E'\n' END
$$;

COMMENT ON FUNCTION medianest_perf.prom_family(text, text, text, text[]) IS
  'One metric family: its HELP and TYPE lines and its samples; NULL when it has no sample';

CREATE FUNCTION medianest_perf.metrics(top_n integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  s record;
  n integer;
  dboid oid;
  dbname text;
  preloaded boolean := medianest_perf.is_preloaded();
  fam text[] := '{}';
  le_ms double precision[];
  r record;
  b record;
  lbl text[];
  calls_s text[] := '{}';
  rows_s text[] := '{}';
  time_s text[] := '{}';
  slow_s text[] := '{}';
  crit_s text[] := '{}';
  p95_s text[] := '{}';
  p99_s text[] := '{}';
  hist_s text[] := '{}';
BEGIN
  SELECT * INTO s FROM medianest_perf.health_settings();
  n := COALESCE(top_n, s.metrics_top_statements);
  IF n < 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'top_n must not be negative',
      HINT = 'Pass NULL to use medianest_perf.metrics_top_statements, or 0 to leave statements out.';
  END IF;
  SELECT d.oid, d.datname INTO dboid, dbname
    FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database();

  fam := fam || medianest_perf.prom_family('medianest_perf_info', 'gauge',
    'Always 1; labels say the extension version and whether the library is preloaded.',
    ARRAY[medianest_perf.prom_sample('medianest_perf_info',
            ARRAY['version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'medianest_perf'),
                  'preloaded', preloaded::text], 1)]);

  IF preloaded THEN
    -- the store bucket boundaries (0.01 ms * 1.1^k) nearest to the usual ones
    le_ms := ARRAY(SELECT DISTINCT 0.01 * pg_catalog.power(1.1::double precision,
                            pg_catalog.round(pg_catalog.ln(t / 0.01) / pg_catalog.ln(1.1)))
                     FROM pg_catalog.unnest(ARRAY[0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500,
                                                  1000, 2500, 5000, 10000, 30000, 60000]::double precision[]) t
                    ORDER BY 1);
    FOR r IN
      SELECT m.*, COALESCE(d.datname::text, m.dbid::text) AS datname,
             pg_catalog.pg_get_userbyid(m.userid)::text AS username
        FROM medianest_perf.statement_metrics_1_0(n, le_ms) m
        LEFT JOIN pg_catalog.pg_database d ON d.oid = m.dbid
       ORDER BY m.total_time_ms DESC, m.queryid, m.userid, m.dbid, m.toplevel
    LOOP
      lbl := ARRAY['datname', r.datname, 'user', r.username, 'queryid', r.queryid::text,
                   'toplevel', r.toplevel::text];
      calls_s := calls_s || medianest_perf.prom_sample('medianest_perf_statement_calls_total', lbl, r.calls);
      rows_s := rows_s || medianest_perf.prom_sample('medianest_perf_statement_rows_total', lbl, r.rows);
      time_s := time_s || medianest_perf.prom_sample('medianest_perf_statement_exec_time_seconds_total', lbl, r.total_time_ms / 1000);
      slow_s := slow_s || medianest_perf.prom_sample('medianest_perf_statement_slow_calls_total', lbl, r.slow_calls);
      crit_s := crit_s || medianest_perf.prom_sample('medianest_perf_statement_critical_calls_total', lbl, r.critical_calls);
      p95_s := p95_s || medianest_perf.prom_sample('medianest_perf_statement_p95_seconds', lbl, r.p95_ms / 1000);
      p99_s := p99_s || medianest_perf.prom_sample('medianest_perf_statement_p99_seconds', lbl, r.p99_ms / 1000);
      FOR i IN 1 .. pg_catalog.cardinality(r.bucket_le_ms) LOOP
        hist_s := hist_s || medianest_perf.prom_sample('medianest_perf_statement_duration_seconds_bucket',
                              lbl || ARRAY['le', medianest_perf.prom_value(r.bucket_le_ms[i] / 1000)],
                              r.bucket_calls[i]);
      END LOOP;
      hist_s := hist_s
        || medianest_perf.prom_sample('medianest_perf_statement_duration_seconds_bucket', lbl || ARRAY['le', '+Inf'], r.calls)
        || medianest_perf.prom_sample('medianest_perf_statement_duration_seconds_sum', lbl, r.total_time_ms / 1000)
        || medianest_perf.prom_sample('medianest_perf_statement_duration_seconds_count', lbl, r.calls);
    END LOOP;
    fam := fam
      || medianest_perf.prom_family('medianest_perf_statement_calls_total', 'counter',
           'Executions of the statement (top statements by total time).', calls_s)
      || medianest_perf.prom_family('medianest_perf_statement_rows_total', 'counter',
           'Rows returned or affected by the statement.', rows_s)
      || medianest_perf.prom_family('medianest_perf_statement_exec_time_seconds_total', 'counter',
           'Total execution time of the statement, in seconds.', time_s)
      || medianest_perf.prom_family('medianest_perf_statement_slow_calls_total', 'counter',
           'Executions at or over medianest_perf.slow_query_ms.', slow_s)
      || medianest_perf.prom_family('medianest_perf_statement_critical_calls_total', 'counter',
           'Executions at or over medianest_perf.critical_query_ms.', crit_s)
      || medianest_perf.prom_family('medianest_perf_statement_p95_seconds', 'gauge',
           '95th percentile execution time since the statistics reset, from the latency histogram, in seconds.', p95_s)
      || medianest_perf.prom_family('medianest_perf_statement_p99_seconds', 'gauge',
           '99th percentile execution time since the statistics reset, from the latency histogram, in seconds.', p99_s)
      || medianest_perf.prom_family('medianest_perf_statement_duration_seconds', 'histogram',
           'Execution time of the statement, in seconds (bucket bounds are latency histogram boundaries, 0.01 ms * 1.1^k).', hist_s);

    SELECT * INTO r FROM medianest_perf.statements_info();
    fam := fam
      || medianest_perf.prom_family('medianest_perf_statements_entries', 'gauge',
           'Statement entries kept in shared memory.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_statements_entries', '{}', r.entries)])
      || medianest_perf.prom_family('medianest_perf_statements_max_entries', 'gauge',
           'medianest_perf.max_statements.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_statements_max_entries', '{}', r.max_entries)])
      || medianest_perf.prom_family('medianest_perf_statements_evicted_entries_total', 'counter',
           'Statement entries evicted to make room.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_statements_evicted_entries_total', '{}', r.evicted_entries)])
      || medianest_perf.prom_family('medianest_perf_statements_dropped_samples_total', 'counter',
           'Executions that could not be recorded.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_statements_dropped_samples_total', '{}', r.dropped_samples)]);

    SELECT * INTO r FROM medianest_perf.slow_queries_info();
    fam := fam
      || medianest_perf.prom_family('medianest_perf_slow_queries_captured_total', 'counter',
           'Slow executions captured (with text and plan) since the last reset.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_slow_queries_captured_total', '{}', r.captured)])
      || medianest_perf.prom_family('medianest_perf_slow_queries_overwritten_total', 'counter',
           'Captured slow executions overwritten because the ring was full.',
           ARRAY[medianest_perf.prom_sample('medianest_perf_slow_queries_overwritten_total', '{}', r.overwritten)]);
    SELECT COALESCE(pg_catalog.sum(st.slow_calls - st.critical_calls), 0) AS warning,
           COALESCE(pg_catalog.sum(st.critical_calls), 0) AS critical
      INTO r FROM medianest_perf.statements_1_0(false) st;
    fam := fam || medianest_perf.prom_family('medianest_perf_slow_calls_total', 'counter',
      'Executions of recorded statements by severity: warning (at or over slow_query_ms, under critical_query_ms) and critical.',
      ARRAY[medianest_perf.prom_sample('medianest_perf_slow_calls_total', ARRAY['severity', 'warning'], r.warning),
            medianest_perf.prom_sample('medianest_perf_slow_calls_total', ARRAY['severity', 'critical'], r.critical)]);

    IF medianest_perf.can_read('medianest_perf.n_plus_one') THEN
      EXECUTE $q$
        WITH k AS (
          SELECT x.dbid, y.kind FROM
            (SELECT DISTINCT n.dbid FROM medianest_perf.n_plus_one n UNION SELECT $1) x(dbid)
            CROSS JOIN (VALUES ('n_plus_one'), ('repeated_identical'), ('write_loop')) y(kind)
        ),
        g AS (
          SELECT k.dbid, k.kind, COALESCE(d.datname::text, k.dbid::text) AS datname,
                 pg_catalog.count(n.kind) AS incidents,
                 COALESCE(pg_catalog.sum(n.occurrences), 0) AS occurrences,
                 COALESCE(pg_catalog.sum(n.total_repeated_calls), 0) AS calls,
                 COALESCE(pg_catalog.sum(n.estimated_saving_ms), 0) / 1000 AS saving
            FROM k
            LEFT JOIN medianest_perf.n_plus_one n ON n.dbid = k.dbid AND n.kind = k.kind
            LEFT JOIN pg_catalog.pg_database d ON d.oid = k.dbid
           GROUP BY k.dbid, k.kind, d.datname
        )
        SELECT pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_n_plus_one_incidents',
                 ARRAY['datname', g.datname, 'kind', g.kind], g.incidents) ORDER BY g.datname, g.kind) AS incidents,
               pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_n_plus_one_occurrences_total',
                 ARRAY['datname', g.datname, 'kind', g.kind], g.occurrences) ORDER BY g.datname, g.kind) AS occurrences,
               pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_n_plus_one_repeated_calls_total',
                 ARRAY['datname', g.datname, 'kind', g.kind], g.calls) ORDER BY g.datname, g.kind) AS calls,
               pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_n_plus_one_saving_seconds',
                 ARRAY['datname', g.datname, 'kind', g.kind], g.saving) ORDER BY g.datname, g.kind) AS saving
          FROM g
      $q$ INTO r USING dboid;
      fam := fam
        || medianest_perf.prom_family('medianest_perf_n_plus_one_incidents', 'gauge',
             'Distinct access-pattern incidents kept (kind n_plus_one, repeated_identical or write_loop).', r.incidents)
        || medianest_perf.prom_family('medianest_perf_n_plus_one_occurrences_total', 'counter',
             'Units of work in which an incident reached n_plus_one_min_repeats.', r.occurrences)
        || medianest_perf.prom_family('medianest_perf_n_plus_one_repeated_calls_total', 'counter',
             'Repeated calls of the incidents.', r.calls)
        || medianest_perf.prom_family('medianest_perf_n_plus_one_saving_seconds', 'gauge',
             'Executor time batching or caching would save, estimated, in seconds.', r.saving);
    END IF;
  END IF;

  -- indexes of this database
  SELECT pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_indexes',
           ARRAY['datname', dbname, 'verdict', v.verdict], COALESCE(g.n, 0)) ORDER BY v.verdict) AS counts,
         pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_index_size_bytes',
           ARRAY['datname', dbname, 'verdict', v.verdict], COALESCE(g.bytes, 0)) ORDER BY v.verdict) AS bytes
    INTO r
    FROM (VALUES ('ok'), ('unused'), ('rarely_used'), ('duplicate'), ('redundant'),
                 ('invalid'), ('write_heavy')) v(verdict)
    LEFT JOIN (SELECT i.verdict, pg_catalog.count(*) AS n, pg_catalog.sum(i.size_bytes) AS bytes
                 FROM medianest_perf.index_usage i WHERE i.kind <> 'partition'
                GROUP BY i.verdict) g ON g.verdict = v.verdict;
  fam := fam
    || medianest_perf.prom_family('medianest_perf_indexes', 'gauge',
         'Indexes of the database by index_usage verdict.', r.counts)
    || medianest_perf.prom_family('medianest_perf_index_size_bytes', 'gauge',
         'Size of the indexes of the database by index_usage verdict, in bytes.', r.bytes)
    || medianest_perf.prom_family('medianest_perf_seq_scan_heavy_tables', 'gauge',
         'Tables whose sequential scans suggest a missing index (table_scans.missing_index_suspected).',
         ARRAY[medianest_perf.prom_sample('medianest_perf_seq_scan_heavy_tables', ARRAY['datname', dbname],
                 (SELECT pg_catalog.count(*) FROM medianest_perf.table_scans t
                   WHERE t.missing_index_suspected AND t.kind <> 'partition'))]);

  -- bloat of this database
  SELECT * INTO b FROM medianest_perf.bloat_inputs();
  IF b.available THEN
    SELECT pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_bloat_reclaimable_bytes',
             ARRAY['datname', dbname, 'kind', k.kind], COALESCE(g.reclaimable, 0)) ORDER BY k.kind) AS reclaimable,
           pg_catalog.array_agg(medianest_perf.prom_sample('medianest_perf_bloat_measured_bytes',
             ARRAY['datname', dbname, 'kind', k.kind], COALESCE(g.total, 0)) ORDER BY k.kind) AS total
      INTO r
      FROM (VALUES ('index'), ('table')) k(kind)
      LEFT JOIN (SELECT CASE WHEN e->>'kind' = 'btree index' THEN 'index' ELSE 'table' END AS kind,
                        pg_catalog.sum((e->>'reclaimable_bytes')::double precision) AS reclaimable,
                        pg_catalog.sum((e->>'total_bytes')::double precision) AS total
                   FROM pg_catalog.jsonb_array_elements(b.relations) e
                  GROUP BY 1) g ON g.kind = k.kind;
    fam := fam
      || medianest_perf.prom_family('medianest_perf_bloat_reclaimable_bytes', 'gauge',
           'Bytes a rewrite or rebuild would give back, summed over the measured relations (bloat_report).', r.reclaimable)
      || medianest_perf.prom_family('medianest_perf_bloat_measured_bytes', 'gauge',
           'Size of the relations bloat_report measured, in bytes.', r.total)
      || medianest_perf.prom_family('medianest_perf_relation_bloat_reclaimable_bytes', 'gauge',
           'Reclaimable bytes of each relation for which bloat_report proposes an action.',
           ARRAY(SELECT medianest_perf.prom_sample('medianest_perf_relation_bloat_reclaimable_bytes',
                          ARRAY['datname', dbname, 'schema', e->>'schemaname', 'relation', e->>'relname',
                                'kind', e->>'kind'], (e->>'reclaimable_bytes')::double precision)
                   FROM pg_catalog.jsonb_array_elements(b.relations) e
                  WHERE COALESCE(e->>'action', 'none') <> 'none'
                  ORDER BY e->>'schemaname', e->>'relname'));
  END IF;

  -- health
  fam := fam || medianest_perf.prom_family('medianest_perf_health_score', 'gauge',
    'Health score 0-100 of each component of health() and overall.',
    ARRAY(SELECT medianest_perf.prom_sample('medianest_perf_health_score',
                   ARRAY['datname', dbname, 'component', h.component], h.score)
            FROM medianest_perf.health() h));

  RETURN pg_catalog.array_to_string(pg_catalog.array_remove(fam, NULL), '');
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.metrics(integer) IS
  'Prometheus text exposition (version 0.0.4): the top_n statements by total time (default medianest_perf.metrics_top_statements; calls, rows, time, slow calls, p95/p99 and a latency histogram, labelled datname, user, queryid, toplevel), store counters, slow calls by severity, N+1 incidents by kind, indexes by verdict, bloat bytes, health scores. EXECUTE is granted to pg_monitor';

REVOKE ALL ON FUNCTION medianest_perf.metrics(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION medianest_perf.metrics(integer) TO pg_monitor;


-----------------------------------------------------------------------------
-- Report (HTML and text)
-----------------------------------------------------------------------------

-- report() puts what every part found on one page: report_data() gathers it
-- as one jsonb document (reading the views, so a caller sees what the views
-- show him: other users' texts stay masked), report_html() renders it as one
-- self-contained HTML document and report_text() as plain text.  Parts that
-- are not installed (bloat_report, index_advice) are reached through dynamic
-- SQL after a catalog check and simply leave their section out.
--
-- The small helpers called once per value (html_escape, report_ms, ...) are
-- PL/pgSQL functions returning one expression: PL/pgSQL evaluates those
-- without the executor, so a report costs no executor run per value and
-- leaves no nested statements in the statement store (track = all).
--
-- The HTML page has no script and loads nothing: inline CSS, charts drawn as
-- inline SVG by the report_svg_*() functions, and a Content-Security-Policy
-- that forbids scripts and every external resource should anything slip
-- through.  Every text that comes from the database (query texts, plans,
-- parameters, identifiers, application and role names, findings, actions,
-- settings) is passed through html_escape() exactly once, at the point where
-- it is written into the page, whether into HTML or into SVG text and
-- attributes; texts are cut (report_cut) before they are escaped, never
-- after.  The markup and the numbers the report formats itself are not
-- escaped.
--
-- Bounds (the page stays small and fast whatever the store holds): the top
-- 10 statements by total time (histograms for the first 5), the 25 newest
-- slow executions in the table and at most 2000 in the timeline, 50 N+1
-- incidents, 100 index verdicts (5 statements each), 15 bloated relations,
-- 100 recommendations (report_data() sets them and lists them under
-- "limits"); every list says how many rows it left out and where to read
-- them all, and long lists show their first 10 rows and fold the rest under
-- a <details>.  The bloat report and the index advice
-- come from bloat_inputs() and advice_inputs(), which the recommendations
-- share: within bloat_cache_max_age / advice_cache_max_age they are computed
-- once per session.

CREATE FUNCTION medianest_perf.html_escape(value text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
             pg_catalog.translate($1, E'\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f', ''),
             '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
END;
$$;

COMMENT ON FUNCTION medianest_perf.html_escape(text) IS
  'Text made safe for HTML and SVG text nodes and quoted attribute values: & < > " and '' become entities, control characters other than tab, line feed and carriage return are dropped';

CREATE FUNCTION medianest_perf.report_array(value jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT COALESCE(pg_catalog.array_agg(e.v ORDER BY e.k), '{}')
    FROM pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof($1) = 'array' THEN $1 ELSE '[]' END)
         WITH ORDINALITY AS e(v, k)
$$;

COMMENT ON FUNCTION medianest_perf.report_array(jsonb) IS
  'The elements of a jsonb array as a text array, in order (empty for anything else)';

CREATE FUNCTION medianest_perf.report_cut(value text, max_chars integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v text := pg_catalog.btrim(pg_catalog.regexp_replace(value, '\s+', ' ', 'g'));
BEGIN
  IF pg_catalog.length(v) > max_chars THEN
    RETURN pg_catalog.rtrim(pg_catalog.left(v, GREATEST(max_chars - 1, 1))) || '…';
  END IF;
  RETURN v;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_cut(text, integer) IS
  'A text on one line (runs of white space made one space), cut to at most max_chars characters with an ellipsis';

CREATE FUNCTION medianest_perf.report_ms(ms double precision)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $1 IS NULL OR $1 = 'NaN'::double precision THEN '-'
                WHEN $1 < 0.001 THEN '0 ms'
                WHEN $1 < 1 THEN pg_catalog.trim_scale(pg_catalog.round($1::numeric, 3)) || ' ms'
                WHEN $1 < 10 THEN pg_catalog.trim_scale(pg_catalog.round($1::numeric, 2)) || ' ms'
                WHEN $1 < 100 THEN pg_catalog.trim_scale(pg_catalog.round($1::numeric, 1)) || ' ms'
                WHEN $1 < 1000 THEN pg_catalog.round($1::numeric) || ' ms'
                WHEN $1 < 60000 THEN pg_catalog.trim_scale(pg_catalog.round(($1 / 1000)::numeric, 2)) || ' s'
                WHEN $1 < 3600000 THEN pg_catalog.trim_scale(pg_catalog.round(($1 / 60000)::numeric, 1)) || ' min'
                ELSE pg_catalog.trim_scale(pg_catalog.round(($1 / 3600000)::numeric, 1)) || ' h' END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_ms(double precision) IS
  'A duration in milliseconds as a short text with about three significant digits: 0.042 ms, 3.21 ms, 123 ms, 1.25 s, 2.5 min, 1.2 h';

CREATE FUNCTION medianest_perf.report_num(n double precision)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $1 IS NULL THEN '-'
                WHEN pg_catalog.abs($1) >= 1e15 THEN pg_catalog.btrim(pg_catalog.to_char($1, '9.99EEEE'))
                WHEN $1 = pg_catalog.trunc($1) THEN pg_catalog.to_char($1, 'FM999,999,999,999,990')
                ELSE pg_catalog.to_char($1, 'FM999,999,999,999,990.0') END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_num(double precision) IS
  'A count with comma thousands separators (one decimal when it is not whole), independent of lc_numeric';

CREATE FUNCTION medianest_perf.report_pct(share double precision)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $1 IS NULL THEN '-'
                WHEN $1 > 0 AND $1 < 0.001 THEN '<0.1%'
                ELSE pg_catalog.round((100 * $1)::numeric, 1) || '%' END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_pct(double precision) IS
  'A share 0-1 as a percentage with one decimal (<0.1% for a small positive share)';

CREATE FUNCTION medianest_perf.report_tick_ms(ms double precision)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $1 < 1 THEN pg_catalog.trim_scale(pg_catalog.round(($1 * 1000)::numeric, 3)) || ' us'
                WHEN $1 < 1000 THEN pg_catalog.trim_scale(pg_catalog.round($1::numeric, 3)) || ' ms'
                ELSE pg_catalog.trim_scale(pg_catalog.round(($1 / 1000)::numeric, 3)) || ' s' END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_tick_ms(double precision) IS
  'Label of a power-of-ten duration on a chart axis: 10 us, 1 ms, 100 ms, 10 s';

CREATE FUNCTION medianest_perf.report_band(score double precision)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $1 IS NULL THEN 'none' WHEN $1 >= 90 THEN 'good' WHEN $1 >= 75 THEN 'fair'
                WHEN $1 >= 60 THEN 'poor' ELSE 'bad' END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_band(double precision) IS
  'Colour band of a health score in the report: good >= 90, fair >= 75, poor >= 60, bad below, none when unknown';

-- Horizontal bar chart: one row per value, the label on the left (in a
-- monospace font, cut to label_chars), the bar, and value_texts[i] after it.
-- Labels, value texts and tooltips are escaped here.
CREATE FUNCTION medianest_perf.report_svg_bars(
    labels text[], vals double precision[], value_texts text[], tips text[],
    classes text[] DEFAULT NULL, label_chars integer DEFAULT 48,
    max_value double precision DEFAULT NULL, aria text DEFAULT 'bar chart')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := COALESCE(pg_catalog.cardinality(vals), 0);
  w integer := 1080;
  row_h integer := 26;
  lab_w integer := LEAST(GREATEST(label_chars, 4), 80) * 7.4 + 16;
  val_w integer := 150;
  bar_w integer;
  h integer;
  m double precision;
  y integer;
  bw double precision;
  parts text[] := '{}';
BEGIN
  IF n = 0 THEN
    RETURN '';
  END IF;
  bar_w := w - lab_w - val_w;
  h := n * row_h + 4;
  SELECT GREATEST(COALESCE(max_value, pg_catalog.max(v)), 1e-300) INTO m FROM pg_catalog.unnest(vals) v;
  parts := parts || pg_catalog.format(
    '<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">',
    w, h, w, h, medianest_perf.html_escape(aria));
  FOR i IN 1 .. n LOOP
    y := (i - 1) * row_h + 4;
    bw := GREATEST(COALESCE(vals[i], 0), 0) / m * bar_w;
    IF bw > 0 AND bw < 2 THEN
      bw := 2;
    END IF;
    parts := parts || pg_catalog.format(
      '<g><title>%s</title><text class="lbl mono" x="%s" y="%s">%s</text>'
      '<rect class="track" x="%s" y="%s" width="%s" height="18" rx="3"/>'
      '<rect class="bar %s" x="%s" y="%s" width="%s" height="18" rx="3"/>'
      '<text class="val" x="%s" y="%s">%s</text></g>',
      medianest_perf.html_escape(COALESCE(tips[i], labels[i], '')),
      0, y + 13, medianest_perf.html_escape(medianest_perf.report_cut(COALESCE(labels[i], ''), label_chars)),
      lab_w, y, bar_w,
      COALESCE(medianest_perf.html_escape(classes[i]), ''), lab_w, y, pg_catalog.round(bw::numeric, 1),
      lab_w + pg_catalog.round(bw::numeric, 1) + 8, y + 13, medianest_perf.html_escape(COALESCE(value_texts[i], '')));
  END LOOP;
  parts := parts || '</svg>'::text;
  RETURN pg_catalog.array_to_string(parts, '');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_bars(text[], double precision[], text[], text[], text[], integer, double precision, text) IS
  'Inline SVG horizontal bar chart for the report: labels (cut to label_chars), bars scaled to max_value (default: the largest value), value texts after the bars, a tooltip and a CSS class per row; every text is escaped';

-- Latency histogram of one statement: x is the duration on a log scale
-- (whole decades), y the calls per bucket, with p50/p95/p99 markers.
CREATE FUNCTION medianest_perf.report_svg_histogram(
    lo double precision[], hi double precision[], calls bigint[],
    p50 double precision, p95 double precision, p99 double precision,
    aria text DEFAULT 'latency histogram')
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := COALESCE(pg_catalog.cardinality(calls), 0);
  w integer := 520;
  h integer := 190;
  l integer := 52;
  r integer := 30;
  t integer := 46;
  b integer := 26;
  pw integer;
  ph integer;
  dmin integer;
  dmax integer;
  ymax double precision;
  x1 double precision;
  x2 double precision;
  bh double precision;
  parts text[] := '{}';
  pv double precision[];
  pn text[] := ARRAY['p50', 'p95', 'p99'];
BEGIN
  IF n = 0 THEN
    RETURN '';
  END IF;
  pw := w - l - r;
  ph := h - t - b;
  SELECT pg_catalog.floor(pg_catalog.log(pg_catalog.min(v)::numeric))::integer INTO dmin
    FROM pg_catalog.unnest(lo) v WHERE v > 0;
  SELECT pg_catalog.ceil(pg_catalog.log(pg_catalog.max(v)::numeric))::integer INTO dmax
    FROM pg_catalog.unnest(hi) v WHERE v > 0;
  dmin := COALESCE(dmin, -2);
  dmax := GREATEST(COALESCE(dmax, dmin + 1), dmin + 1);
  SELECT GREATEST(pg_catalog.max(c), 1) INTO ymax FROM pg_catalog.unnest(calls) c;
  parts := parts || pg_catalog.format(
    '<svg class="chart hist" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">',
    w, h, w, h, medianest_perf.html_escape(aria));
  -- grid: decades, and half and full height
  FOR d IN dmin .. dmax LOOP
    x1 := l + (d - dmin)::double precision / (dmax - dmin) * pw;
    parts := parts || pg_catalog.format(
      '<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
      pg_catalog.round(x1::numeric, 1), t, pg_catalog.round(x1::numeric, 1), t + ph,
      pg_catalog.round(x1::numeric, 1), h - 8, medianest_perf.report_tick_ms(pg_catalog.power(10::double precision, d)));
  END LOOP;
  parts := parts || pg_catalog.format(
    '<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>'
    '<text class="tick" x="%s" y="%s" text-anchor="end">0</text>'
    '<text class="tick" x="%s" y="%s" text-anchor="end">calls</text>',
    l, t, l + pw, t, l - 6, t + 4, medianest_perf.report_num(ymax), l - 6, t + ph + 4, l - 6, t - 8);
  FOR i IN 1 .. n LOOP
    x1 := l + (pg_catalog.log(GREATEST(lo[i], 1e-12)::numeric)::double precision - dmin) / (dmax - dmin) * pw;
    x2 := l + (pg_catalog.log(GREATEST(hi[i], 1e-12)::numeric)::double precision - dmin) / (dmax - dmin) * pw;
    bh := GREATEST(calls[i]::double precision / ymax * ph, 1.5);
    parts := parts || pg_catalog.format(
      '<rect class="hbar" x="%s" y="%s" width="%s" height="%s"><title>%s to %s: %s calls</title></rect>',
      pg_catalog.round(x1::numeric, 2), pg_catalog.round((t + ph - bh)::numeric, 2),
      pg_catalog.round(GREATEST(x2 - x1 - 0.6, 0.8)::numeric, 2), pg_catalog.round(bh::numeric, 2),
      medianest_perf.report_ms(lo[i]), medianest_perf.report_ms(hi[i]), medianest_perf.report_num(calls[i]));
  END LOOP;
  parts := parts || pg_catalog.format('<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>', l, t + ph, l + pw, t + ph);
  -- percentile markers, labels staggered so that close ones stay readable
  pv := ARRAY[p50, p95, p99];
  FOR i IN 1 .. 3 LOOP
    CONTINUE WHEN pv[i] IS NULL OR pv[i] <= 0;
    x1 := l + (pg_catalog.log(pv[i]::numeric)::double precision - dmin) / (dmax - dmin) * pw;
    x1 := LEAST(GREATEST(x1, l), l + pw);
    parts := parts || pg_catalog.format(
      '<line class="pct %s" x1="%s" y1="%s" x2="%s" y2="%s"><title>%s %s</title></line>'
      '<text class="pctl %s" x="%s" y="%s" text-anchor="%s">%s %s</text>',
      pn[i], pg_catalog.round(x1::numeric, 1), 2 + i * 12, pg_catalog.round(x1::numeric, 1), t + ph,
      pn[i], medianest_perf.report_ms(pv[i]),
      pn[i], pg_catalog.round((x1 + CASE WHEN x1 > l + pw - 90 THEN -4 ELSE 4 END)::numeric, 1),
      i * 12, CASE WHEN x1 > l + pw - 90 THEN 'end' ELSE 'start' END,
      pn[i], medianest_perf.report_ms(pv[i]));
  END LOOP;
  parts := parts || '</svg>'::text;
  RETURN pg_catalog.array_to_string(parts, '');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_histogram(double precision[], double precision[], bigint[], double precision, double precision, double precision, text) IS
  'Inline SVG latency histogram for the report: buckets [lo, hi) with their calls on a log-scale duration axis (whole decades), p50/p95/p99 markers';

-- Slow-query timeline: one dot per captured execution, x its time, y its
-- duration (log scale), coloured by severity, with the thresholds in force.
CREATE FUNCTION medianest_perf.report_svg_timeline(
    at_epoch double precision[], ms double precision[], severities text[], tips text[],
    slow_ms double precision DEFAULT NULL, critical_ms double precision DEFAULT NULL,
    aria text DEFAULT 'slow query timeline')
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := COALESCE(pg_catalog.cardinality(ms), 0);
  w integer := 1080;
  h integer := 240;
  l integer := 64;
  r integer := 18;
  t integer := 16;
  b integer := 30;
  pw integer;
  ph integer;
  t0 double precision;
  t1 double precision;
  dmin integer;
  dmax integer;
  x double precision;
  y double precision;
  fmt text;
  parts text[] := '{}';
  lines double precision[];
  names text[] := ARRAY['slow', 'critical'];
  i integer;
BEGIN
  IF n = 0 THEN
    RETURN '';
  END IF;
  pw := w - l - r;
  ph := h - t - b;
  SELECT pg_catalog.min(e), pg_catalog.max(e) INTO t0, t1 FROM pg_catalog.unnest(at_epoch) e;
  IF t1 - t0 < 60 THEN
    t0 := (t0 + t1) / 2 - 30;
    t1 := t0 + 60;
  ELSE
    -- a margin so that the first and last dots are not cut
    x := (t1 - t0) * 0.02;
    t0 := t0 - x;
    t1 := t1 + x;
  END IF;
  SELECT pg_catalog.floor(pg_catalog.log(pg_catalog.min(v)::numeric))::integer,
         pg_catalog.ceil(pg_catalog.log(pg_catalog.max(v)::numeric))::integer
    INTO dmin, dmax FROM pg_catalog.unnest(ms) v WHERE v > 0;
  dmin := COALESCE(dmin, 0);
  dmax := GREATEST(COALESCE(dmax, dmin + 1), dmin + 1);
  fmt := CASE WHEN t1 - t0 <= 1800 THEN 'HH24:MI:SS' WHEN t1 - t0 <= 86400 THEN 'HH24:MI'
              ELSE 'MM-DD HH24:MI' END;
  parts := parts || pg_catalog.format(
    '<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">',
    w, h, w, h, medianest_perf.html_escape(aria));
  FOR d IN dmin .. dmax LOOP
    y := t + ph - (d - dmin)::double precision / (dmax - dmin) * ph;
    parts := parts || pg_catalog.format(
      '<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>',
      l, pg_catalog.round(y::numeric, 1), l + pw, pg_catalog.round(y::numeric, 1),
      l - 8, pg_catalog.round((y + 4)::numeric, 1), medianest_perf.report_tick_ms(pg_catalog.power(10::double precision, d)));
  END LOOP;
  FOR i IN 0 .. 5 LOOP
    x := l + i * pw / 5.0;
    parts := parts || pg_catalog.format(
      '<line class="grid light" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="%s">%s</text>',
      pg_catalog.round(x::numeric, 1), t, pg_catalog.round(x::numeric, 1), t + ph,
      pg_catalog.round(x::numeric, 1), h - 10, CASE i WHEN 0 THEN 'start' WHEN 5 THEN 'end' ELSE 'middle' END,
      pg_catalog.to_char(pg_catalog.to_timestamp(t0 + i * (t1 - t0) / 5), fmt));
  END LOOP;
  lines := ARRAY[slow_ms, critical_ms];
  FOR i IN 1 .. 2 LOOP
    CONTINUE WHEN lines[i] IS NULL OR lines[i] <= 0
               OR pg_catalog.log(lines[i]::numeric) < dmin OR pg_catalog.log(lines[i]::numeric) > dmax;
    y := t + ph - (pg_catalog.log(lines[i]::numeric)::double precision - dmin) / (dmax - dmin) * ph;
    parts := parts || pg_catalog.format(
      '<line class="threshold %s" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="thl %s" x="%s" y="%s" text-anchor="end">%s %s</text>',
      names[i], l, pg_catalog.round(y::numeric, 1), l + pw, pg_catalog.round(y::numeric, 1),
      names[i], l + pw - 4, pg_catalog.round((y - 4)::numeric, 1), names[i], medianest_perf.report_ms(lines[i]));
  END LOOP;
  parts := parts || pg_catalog.format('<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>', l, t + ph, l + pw, t + ph);
  -- warnings first, so that critical dots are drawn on top
  FOREACH i IN ARRAY ARRAY(SELECT k FROM pg_catalog.generate_subscripts(ms, 1) k
                           ORDER BY (severities[k] = 'critical'), k) LOOP
    CONTINUE WHEN ms[i] IS NULL OR at_epoch[i] IS NULL;
    x := l + (at_epoch[i] - t0) / (t1 - t0) * pw;
    y := t + ph - (pg_catalog.log(GREATEST(ms[i], 1e-12)::numeric)::double precision - dmin) / (dmax - dmin) * ph;
    parts := parts || pg_catalog.format(
      '<circle class="dot %s" cx="%s" cy="%s" r="5"><title>%s</title></circle>',
      CASE WHEN severities[i] = 'critical' THEN 'critical' ELSE 'warning' END,
      pg_catalog.round(x::numeric, 1), pg_catalog.round(LEAST(GREATEST(y, t), t + ph)::numeric, 1),
      medianest_perf.html_escape(COALESCE(tips[i], '')));
  END LOOP;
  parts := parts || '</svg>'::text;
  RETURN pg_catalog.array_to_string(parts, '');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_timeline(double precision[], double precision[], text[], text[], double precision, double precision, text) IS
  'Inline SVG timeline of slow executions for the report: time across, duration on a log scale up, dots coloured by severity with a tooltip each, lines at the slow and critical thresholds';

-- Overall health score as a ring.
CREATE FUNCTION medianest_perf.report_svg_gauge(score double precision, grade text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.format(
      '<svg class="chart gauge" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160" width="160" height="160" role="img" aria-label="overall health %s">'
      '<circle class="ring" cx="80" cy="80" r="64"/>'
      '<circle class="arc %s" cx="80" cy="80" r="64" stroke-dasharray="%s %s" transform="rotate(-90 80 80)"/>'
      '<text class="gscore" x="80" y="84" text-anchor="middle">%s</text>'
      '<text class="ggrade" x="80" y="110" text-anchor="middle">%s</text></svg>',
      COALESCE($1::integer::text, 'unknown'), medianest_perf.report_band($1),
      pg_catalog.round((COALESCE($1, 0) / 100 * 2 * pi() * 64)::numeric, 1),
      pg_catalog.round((2 * pi() * 64)::numeric, 1),
      COALESCE($1::integer::text, '?'), medianest_perf.html_escape(COALESCE($2, 'no score')));
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_gauge(double precision, text) IS
  'Inline SVG ring showing a score 0-100 and its grade, for the report';

-- A small horizontal meter 0-100 (a health score in a table row).
CREATE FUNCTION medianest_perf.report_svg_meter(score double precision, aria text DEFAULT 'score')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.format(
      '<svg class="chart meter" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 260 12" width="260" height="12" role="img" aria-label="%s">'
      '<rect class="track" x="0" y="0" width="260" height="12" rx="6"/>%s</svg>',
      medianest_perf.html_escape($2),
      CASE WHEN $1 > 0 THEN pg_catalog.format('<rect class="bar %s" x="0" y="0" width="%s" height="12" rx="6"/>',
                                             medianest_perf.report_band($1),
                                             pg_catalog.round((GREATEST(LEAST($1, 100), 5) * 2.6)::numeric, 1))
           ELSE '' END);
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_meter(double precision, text) IS
  'Inline SVG meter of a score 0-100, coloured by its band, for the report';

-- Before/after pairs (the advisor's workload cost), one pair per row.
CREATE FUNCTION medianest_perf.report_svg_pairs(
    labels text[], before double precision[], after double precision[], tips text[],
    aria text DEFAULT 'before and after')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := COALESCE(pg_catalog.cardinality(before), 0);
  w integer := 1080;
  row_h integer := 40;
  lab_w integer := 360;
  val_w integer := 150;
  bar_w integer;
  h integer;
  m double precision;
  y integer;
  b1 double precision;
  b2 double precision;
  parts text[] := '{}';
BEGIN
  IF n = 0 THEN
    RETURN '';
  END IF;
  bar_w := w - lab_w - val_w;
  h := n * row_h + 24;
  SELECT GREATEST(pg_catalog.max(v), 1e-300) INTO m FROM pg_catalog.unnest(before) v;
  parts := parts || pg_catalog.format(
    '<svg class="chart pairs" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">'
    '<rect class="bar before" x="%s" y="4" width="12" height="10" rx="2"/><text class="val" x="%s" y="13">workload cost now</text>'
    '<rect class="bar after" x="%s" y="4" width="12" height="10" rx="2"/><text class="val" x="%s" y="13">with the index</text>',
    w, h, w, h, medianest_perf.html_escape(aria), lab_w, lab_w + 18, lab_w + 160, lab_w + 178);
  FOR i IN 1 .. n LOOP
    y := (i - 1) * row_h + 24;
    b1 := GREATEST(COALESCE(before[i], 0), 0) / m * bar_w;
    b2 := GREATEST(COALESCE(after[i], 0), 0) / m * bar_w;
    parts := parts || pg_catalog.format(
      '<g><title>%s</title><text class="lbl mono" x="%s" y="%s">%s</text>'
      '<rect class="bar before" x="%s" y="%s" width="%s" height="14" rx="3"/>'
      '<rect class="bar after" x="%s" y="%s" width="%s" height="14" rx="3"/>'
      '<text class="val" x="%s" y="%s">%s</text></g>',
      medianest_perf.html_escape(COALESCE(tips[i], labels[i], '')),
      0, y + 20, medianest_perf.html_escape(medianest_perf.report_cut(COALESCE(labels[i], ''), 46)),
      lab_w, y, pg_catalog.round(GREATEST(b1, 1)::numeric, 1),
      lab_w, y + 16, pg_catalog.round(GREATEST(b2, 1)::numeric, 1),
      lab_w + pg_catalog.round(GREATEST(b1, b2)::numeric, 1) + 8, y + 20,
      CASE WHEN before[i] > 0 THEN '-' || medianest_perf.report_pct(1 - after[i] / before[i]) ELSE '' END);
  END LOOP;
  parts := parts || '</svg>'::text;
  RETURN pg_catalog.array_to_string(parts, '');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_pairs(text[], double precision[], double precision[], text[], text) IS
  'Inline SVG chart of before/after pairs for the report (the advisor''s workload cost without and with each index), with the reduction in percent';

-- One bar split into parts (index bytes by verdict), with a legend.
CREATE FUNCTION medianest_perf.report_svg_stack(
    labels text[], vals double precision[], classes text[], value_texts text[],
    aria text DEFAULT 'shares')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer := COALESCE(pg_catalog.cardinality(vals), 0);
  w integer := 1080;
  tot double precision;
  x double precision := 0;
  sw double precision;
  lx integer := 0;
  ly integer := 44;
  item text;
  parts text[] := '{}';
  legend text[] := '{}';
BEGIN
  SELECT pg_catalog.sum(GREATEST(v, 0)) INTO tot FROM pg_catalog.unnest(vals) v;
  IF n = 0 OR COALESCE(tot, 0) <= 0 THEN
    RETURN '';
  END IF;
  FOR i IN 1 .. n LOOP
    CONTINUE WHEN COALESCE(vals[i], 0) <= 0;
    sw := vals[i] / tot * w;
    parts := parts || pg_catalog.format(
      '<rect class="seg %s" x="%s" y="0" width="%s" height="26"><title>%s: %s</title></rect>',
      medianest_perf.html_escape(classes[i]), pg_catalog.round(x::numeric, 2),
      pg_catalog.round(GREATEST(sw, 1.5)::numeric, 2),
      medianest_perf.html_escape(labels[i]), medianest_perf.html_escape(value_texts[i]));
    x := x + sw;
    item := labels[i] || ' ' || value_texts[i];
    IF lx + 24 + pg_catalog.length(item) * 7 > w THEN
      lx := 0;
      ly := ly + 22;
    END IF;
    legend := legend || pg_catalog.format(
      '<rect class="seg %s" x="%s" y="%s" width="12" height="12" rx="2"/><text class="val" x="%s" y="%s">%s</text>',
      medianest_perf.html_escape(classes[i]), lx, ly - 10, lx + 18, ly,
      medianest_perf.html_escape(item));
    lx := lx + 40 + pg_catalog.length(item) * 7;
  END LOOP;
  RETURN pg_catalog.format(
    '<svg class="chart stack" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">%s%s</svg>',
    w, ly + 8, w, ly + 8, medianest_perf.html_escape(aria),
    pg_catalog.array_to_string(parts, ''), pg_catalog.array_to_string(legend, ''));
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_svg_stack(text[], double precision[], text[], text[], text) IS
  'Inline SVG single bar split into parts proportional to the values, with a legend (label and value text of each part), for the report';

CREATE FUNCTION medianest_perf.report_data()
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  started timestamptz := pg_catalog.clock_timestamp();
  dboid oid;
  preloaded boolean := medianest_perf.is_preloaded();
  doc jsonb;
  sec jsonb;
  x record;
  b record;
  a record;
  bloat_age integer;
  advice_age integer;
  -- bounds of the lists (see the section comment)
  top_n constant integer := 10;
  hist_n constant integer := 5;
  slow_list constant integer := 25;
  slow_points constant integer := 2000;
  np_n constant integer := 50;
  idx_n constant integer := 100;
  idx_q constant integer := 5;
  bloat_n constant integer := 15;
  reco_n constant integer := 100;
BEGIN
  SELECT d.oid INTO dboid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database();
  SELECT s.bloat_cache_max_age, s.advice_cache_max_age INTO bloat_age, advice_age
    FROM medianest_perf.health_settings() s;

  doc := pg_catalog.jsonb_build_object(
    'database', pg_catalog.current_database(),
    'generated_at', started,
    'server_version', pg_catalog.current_setting('server_version'),
    'extension_version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'medianest_perf'),
    'preloaded', preloaded,
    'role', pg_catalog.current_user(),
    'sees_all_texts', pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE'),
    'limits', pg_catalog.jsonb_build_object(
      'statements', top_n, 'histograms', hist_n, 'slow_list', slow_list, 'slow_points', slow_points,
      'n_plus_one', np_n, 'indexes', idx_n, 'index_queries', idx_q, 'bloat', bloat_n,
      'recommendations', reco_n));

  ------------------------------------------------------------------ health
  doc := doc || pg_catalog.jsonb_build_object('health', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'component', h.component, 'score', h.score, 'grade', h.grade,
             'note', h.details->>'note',
             'weakest', w.k, 'weakest_value', w.v, 'weakest_score', w.s) ORDER BY h.ord)
      FROM medianest_perf.health() WITH ORDINALITY AS h(component, score, grade, details, ord)
      LEFT JOIN LATERAL (
        SELECT e.key AS k, (e.value->>'value')::double precision AS v, (e.value->>'score')::double precision AS s
          FROM pg_catalog.jsonb_each(h.details) e
         WHERE pg_catalog.jsonb_typeof(e.value) = 'object' AND (e.value->>'score') IS NOT NULL
         ORDER BY (e.value->>'score')::double precision, e.key COLLATE "C"
         LIMIT 1) w ON h.component <> 'overall'));

  --------------------------------------------------------- recommendations
  SELECT pg_catalog.count(*) AS n,
         pg_catalog.count(*) FILTER (WHERE r.severity = 'critical') AS critical,
         pg_catalog.count(*) FILTER (WHERE r.severity = 'warning') AS warning,
         pg_catalog.count(*) FILTER (WHERE r.severity = 'info') AS info,
         COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'category', r.category, 'severity', r.severity, 'object', r.object,
                    'finding', r.finding, 'action', r.action, 'impact', r.impact) ORDER BY r.k)
                    FILTER (WHERE r.k <= reco_n), '[]') AS items
    INTO x
    FROM (SELECT v.*, pg_catalog.row_number() OVER (
                   ORDER BY medianest_perf.severity_rank(v.severity), v.impact DESC NULLS LAST,
                            v.category COLLATE "C", v.object COLLATE "C", v.finding COLLATE "C") AS k
            FROM medianest_perf.recommendations v) r;
  doc := doc || pg_catalog.jsonb_build_object('recommendations', pg_catalog.jsonb_build_object(
    'count', x.n, 'critical', x.critical, 'warning', x.warning, 'info', x.info, 'items', x.items));

  ------------------------------------------------------------- statements
  IF preloaded THEN
    WITH s AS (
      SELECT st.*, pg_catalog.pg_get_userbyid(st.userid)::text AS username
        FROM medianest_perf.statements st
       WHERE st.dbid = dboid
    ),
    agg AS (
      SELECT pg_catalog.count(*) AS n, COALESCE(pg_catalog.sum(s.calls), 0) AS calls,
             COALESCE(pg_catalog.sum(s.total_time_ms), 0) AS ms,
             COALESCE(pg_catalog.sum(s.slow_calls), 0) AS slow_calls,
             COALESCE(pg_catalog.sum(s.critical_calls), 0) AS critical_calls
        FROM s
    ),
    top AS (
      SELECT s.*, pg_catalog.row_number() OVER (
               ORDER BY s.total_time_ms DESC, s.calls DESC, s.queryid, s.userid, s.toplevel) AS rank
        FROM s
       ORDER BY rank
       LIMIT top_n
    )
    SELECT agg.n, agg.calls, agg.ms, agg.slow_calls, agg.critical_calls,
           (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                     'rank', t.rank, 'queryid', t.queryid, 'username', t.username, 'toplevel', t.toplevel,
                     'query', pg_catalog.left(t.query, 4000), 'query_length', pg_catalog.length(t.query),
                     'calls', t.calls, 'rows', t.rows, 'total_time_ms', t.total_time_ms,
                     'mean_time_ms', t.mean_time_ms, 'max_time_ms', t.max_time_ms,
                     'p50_ms', t.p50_ms, 'p95_ms', t.p95_ms, 'p99_ms', t.p99_ms,
                     'share', t.total_time_ms / NULLIF(agg.ms, 0),
                     'cache_hit_ratio', t.cache_hit_ratio, 'temp_blks_written', t.temp_blks_written,
                     'slow_calls', t.slow_calls, 'critical_calls', t.critical_calls,
                     'histogram', CASE WHEN t.rank <= hist_n AND t.queryid IS NOT NULL THEN (
                        SELECT pg_catalog.jsonb_build_object(
                                 'lo', pg_catalog.array_agg(hb.lower_ms ORDER BY hb.lower_ms),
                                 'hi', pg_catalog.array_agg(hb.upper_ms ORDER BY hb.lower_ms),
                                 'calls', pg_catalog.array_agg(hb.calls ORDER BY hb.lower_ms))
                          FROM medianest_perf.statement_histogram(t.queryid) hb) END)
                     ORDER BY t.rank), '[]')
              FROM top t) AS items
      INTO x
      FROM agg;
    doc := doc || pg_catalog.jsonb_build_object('statements', pg_catalog.jsonb_build_object(
      'count', x.n, 'calls', x.calls, 'total_time_ms', x.ms, 'slow_calls', x.slow_calls,
      'critical_calls', x.critical_calls, 'items', x.items,
      'store', (SELECT pg_catalog.to_jsonb(i) FROM medianest_perf.statements_info() i)));

    ---------------------------------------------------------- slow queries
    WITH q AS (
      SELECT v.*, pg_catalog.row_number() OVER (ORDER BY v.seq DESC) AS k
        FROM medianest_perf.slow_queries v
       WHERE v.dbid = dboid
    )
    SELECT pg_catalog.count(*) AS n,
           pg_catalog.count(*) FILTER (WHERE q.severity = 'critical') AS critical,
           pg_catalog.min(q.captured_at) AS first_at, pg_catalog.max(q.captured_at) AS last_at,
           pg_catalog.jsonb_build_object(
             'at', COALESCE(pg_catalog.array_agg(pg_catalog.date_part('epoch', q.captured_at) ORDER BY q.k)
                              FILTER (WHERE q.k <= slow_points), '{}'),
             'ms', COALESCE(pg_catalog.array_agg(q.duration_ms ORDER BY q.k) FILTER (WHERE q.k <= slow_points), '{}'),
             'severity', COALESCE(pg_catalog.array_agg(q.severity ORDER BY q.k) FILTER (WHERE q.k <= slow_points), '{}'),
             'query', COALESCE(pg_catalog.array_agg(medianest_perf.report_cut(q.query, 90) ORDER BY q.k)
                                 FILTER (WHERE q.k <= slow_points), '{}')) AS points,
           COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                      'seq', q.seq, 'captured_at', q.captured_at, 'pid', q.pid, 'username', q.username,
                      'application_name', q.application_name, 'queryid', q.queryid,
                      'nesting_level', q.nesting_level, 'severity', q.severity,
                      'duration_ms', q.duration_ms, 'rows', q.rows, 'query', q.query,
                      'query_truncated', q.query_truncated, 'plan', q.plan, 'plan_format', q.plan_format,
                      'plan_truncated', q.plan_truncated, 'plan_analyzed', q.plan_analyzed,
                      'parameters', q.parameters) ORDER BY q.k)
                      FILTER (WHERE q.k <= slow_list), '[]') AS items
      INTO x
      FROM q;
    doc := doc || pg_catalog.jsonb_build_object('slow_queries', pg_catalog.jsonb_build_object(
      'count', x.n, 'critical', x.critical, 'first_at', x.first_at, 'last_at', x.last_at,
      'points', x.points, 'items', x.items,
      'slow_query_ms', pg_catalog.current_setting('medianest_perf.slow_query_ms', true),
      'critical_query_ms', pg_catalog.current_setting('medianest_perf.critical_query_ms', true),
      'slow_ms', (SELECT s.setting::double precision FROM pg_catalog.pg_settings s
                   WHERE s.name = 'medianest_perf.slow_query_ms'),
      'critical_ms', (SELECT s.setting::double precision FROM pg_catalog.pg_settings s
                       WHERE s.name = 'medianest_perf.critical_query_ms'),
      'ring', (SELECT pg_catalog.to_jsonb(i) FROM medianest_perf.slow_queries_info() i)));

    -------------------------------------------------------------- N+1
    IF medianest_perf.can_read('medianest_perf.n_plus_one') THEN
      SELECT pg_catalog.count(*) AS n,
             COALESCE(pg_catalog.sum(n.estimated_saving_ms), 0) AS saving,
             COALESCE(pg_catalog.sum(n.total_time_ms), 0) AS ms,
             COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'kind', n.kind, 'application_name', n.application_name,
                        'username', pg_catalog.pg_get_userbyid(n.userid)::text,
                        'source_queryid', n.source_queryid, 'source_query', pg_catalog.left(n.source_query, 4000),
                        'repeated_queryid', n.repeated_queryid, 'repeated_query', pg_catalog.left(n.repeated_query, 4000),
                        'occurrences', n.occurrences, 'max_repeats', n.max_repeats,
                        'total_repeated_calls', n.total_repeated_calls, 'total_time_ms', n.total_time_ms,
                        'estimated_saving_ms', n.estimated_saving_ms, 'suggestion', n.suggestion,
                        'first_seen', n.first_seen, 'last_seen', n.last_seen) ORDER BY n.k)
                        FILTER (WHERE n.k <= np_n), '[]') AS items
        INTO x
        FROM (SELECT p.*, pg_catalog.row_number() OVER (
                       ORDER BY p.estimated_saving_ms DESC, p.total_time_ms DESC, p.kind COLLATE "C",
                                p.repeated_queryid, p.source_queryid, p.userid) AS k
                FROM medianest_perf.n_plus_one p
               WHERE p.dbid = dboid) n;
      doc := doc || pg_catalog.jsonb_build_object('n_plus_one', pg_catalog.jsonb_build_object(
        'count', x.n, 'estimated_saving_ms', x.saving, 'total_time_ms', x.ms, 'items', x.items,
        'min_repeats', pg_catalog.current_setting('medianest_perf.n_plus_one_min_repeats', true)));
    END IF;
  END IF;

  ---------------------------------------------------------------- indexes
  WITH i AS (
    SELECT u.*, pg_catalog.row_number() OVER (
             ORDER BY CASE u.verdict WHEN 'invalid' THEN 1 WHEN 'duplicate' THEN 2 WHEN 'unused' THEN 3
                                     WHEN 'redundant' THEN 4 WHEN 'rarely_used' THEN 5 ELSE 6 END,
                      u.size_bytes DESC, u.schemaname COLLATE "C", u.indexname COLLATE "C") AS k
      FROM medianest_perf.index_usage u
     WHERE u.kind <> 'partition'
  )
  SELECT pg_catalog.count(*) AS n,
         COALESCE(pg_catalog.sum(i.size_bytes), 0) AS bytes,
         pg_catalog.count(*) FILTER (WHERE i.verdict <> 'ok') AS flagged,
         COALESCE(pg_catalog.sum(i.size_bytes) FILTER (
           WHERE i.verdict IN ('unused', 'duplicate', 'redundant', 'invalid')), 0) AS wasted,
         (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'verdict', v.verdict, 'count', COALESCE(g.n, 0), 'bytes', COALESCE(g.bytes, 0)) ORDER BY v.o)
            FROM (VALUES ('ok', 1), ('write_heavy', 2), ('rarely_used', 3), ('redundant', 4),
                         ('duplicate', 5), ('unused', 6), ('invalid', 7)) v(verdict, o)
            LEFT JOIN (SELECT j.verdict, pg_catalog.count(*) AS n, pg_catalog.sum(j.size_bytes) AS bytes
                         FROM i j GROUP BY j.verdict) g ON g.verdict = v.verdict) AS by_verdict,
         COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'schemaname', i.schemaname, 'tablename', i.tablename, 'indexname', i.indexname,
                    'kind', i.kind, 'access_method', i.access_method, 'size_bytes', i.size_bytes,
                    'idx_scan', i.idx_scan, 'table_writes', i.table_writes,
                    'statements_using', i.statements_using, 'score', i.score, 'verdict', i.verdict,
                    'reason', i.reason, 'action', i.action,
                    'queries', CASE WHEN i.statements_using > 0 THEN (
                       SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                'queryid', q.queryid, 'calls', q.calls, 'query', pg_catalog.left(q.query, 2000),
                                'username', pg_catalog.pg_get_userbyid(q.userid)::text) ORDER BY q.calls DESC, q.queryid)
                         FROM (SELECT iq.* FROM medianest_perf.index_queries(i.indexrelid::regclass) iq
                                ORDER BY iq.calls DESC, iq.queryid LIMIT idx_q) q) END) ORDER BY i.k)
                    FILTER (WHERE i.verdict <> 'ok' AND i.k <= idx_n), '[]') AS items
    INTO x
    FROM i;
  doc := doc || pg_catalog.jsonb_build_object('indexes', pg_catalog.jsonb_build_object(
    'count', x.n, 'bytes', x.bytes, 'flagged', x.flagged, 'wasted_bytes', x.wasted,
    'by_verdict', x.by_verdict, 'items', x.items));

  ------------------------------------------------------ bloat (optional)
  IF pg_catalog.to_regclass('medianest_perf.bloat_report') IS NOT NULL THEN
    SELECT * INTO b FROM medianest_perf.bloat_inputs();
    IF b.available THEN
      SELECT pg_catalog.count(*) AS n,
             COALESCE(pg_catalog.sum((e->>'total_bytes')::double precision), 0) AS total,
             COALESCE(pg_catalog.sum((e->>'reclaimable_bytes')::double precision), 0) AS reclaimable,
             pg_catalog.count(*) FILTER (WHERE (e->>'reclaimable_bytes')::double precision > 0) AS bloated,
             pg_catalog.count(*) FILTER (WHERE COALESCE(e->>'action', 'none') <> 'none') AS actions,
             COALESCE((SELECT pg_catalog.jsonb_agg(t.e ORDER BY t.k)
                         FROM (SELECT r AS e, pg_catalog.row_number() OVER (
                                        ORDER BY (r->>'reclaimable_bytes')::double precision DESC,
                                                 r->>'schemaname', r->>'relname') AS k
                                 FROM pg_catalog.jsonb_array_elements(b.relations) r
                                WHERE (r->>'reclaimable_bytes')::double precision > 0) t
                        WHERE t.k <= bloat_n), '[]') AS items
        INTO x
        FROM pg_catalog.jsonb_array_elements(b.relations) e;
      sec := pg_catalog.jsonb_build_object(
        'available', true, 'measured_at', b.measured_at, 'relations', x.n, 'total_bytes', x.total,
        'reclaimable_bytes', x.reclaimable, 'bloated', x.bloated, 'actions', x.actions, 'items', x.items);
    ELSE
      sec := pg_catalog.jsonb_build_object('available', false, 'reason',
        CASE WHEN bloat_age < 0 THEN 'medianest_perf.bloat_cache_max_age = -1 leaves bloat out of the report'
             WHEN NOT medianest_perf.can_read('medianest_perf.bloat_report')
               THEN 'measuring bloat needs superuser or membership in pg_stat_scan_tables'
             ELSE 'bloat_report failed (the warning above says why)' END);
    END IF;
    doc := doc || pg_catalog.jsonb_build_object('bloat', sec);
  END IF;

  -------------------------------------------------- index advice (optional)
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'medianest_perf'::regnamespace AND p.proname = 'index_advice') THEN
    SELECT * INTO a FROM medianest_perf.advice_inputs();
    IF a.available THEN
      sec := pg_catalog.jsonb_build_object(
        'available', true, 'advised_at', a.advised_at,
        'time_limit_ms', (SELECT s.advice_time_limit_ms FROM medianest_perf.health_settings() s),
        'items', COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                    'rank', e->'rank', 'table_name', e->'table_name', 'key_columns', e->'key_columns',
                    'include_columns', e->'include_columns', 'predicate', e->'predicate',
                    'estimated_size_bytes', e->'estimated_size_bytes',
                    'workload_cost_before', e->'workload_cost_before',
                    'workload_cost_after', e->'workload_cost_after',
                    'improvement_pct', e->'improvement_pct', 'write_penalty', e->'write_penalty',
                    'statements', CASE WHEN pg_catalog.jsonb_typeof(e->'queries') = 'array'
                                       THEN pg_catalog.jsonb_array_length(e->'queries') END,
                    'ddl', e->'ddl') ORDER BY o.k)
             FROM pg_catalog.jsonb_array_elements(a.advice) WITH ORDINALITY o(e, k)), '[]'));
    ELSE
      sec := pg_catalog.jsonb_build_object('available', false, 'reason',
        CASE WHEN advice_age < 0 THEN 'medianest_perf.advice_cache_max_age = -1 leaves the index advisor out of the report'
             WHEN NOT preloaded THEN 'the index advisor plans the recorded statements: medianest_perf must be in shared_preload_libraries'
             WHEN a.advice ? 'error' THEN 'index_advice() failed: ' || (a.advice->>'error')
             ELSE 'the index advisor is not available to this role (EXECUTE on index_advice)' END);
    END IF;
    doc := doc || pg_catalog.jsonb_build_object('index_advice', sec);
  END IF;

  --------------------------------------------------------------- settings
  doc := doc || pg_catalog.jsonb_build_object('settings', (
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'name', s.name, 'setting', pg_catalog.current_setting(s.name, true), 'source', s.source,
             'description', s.short_desc)
             ORDER BY s.name LIKE 'medianest\_perf.%', s.name COLLATE "C")
      FROM pg_catalog.pg_settings s
     WHERE s.name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem',
                      'max_connections', 'random_page_cost', 'effective_io_concurrency',
                      'default_statistics_target', 'jit', 'autovacuum', 'track_io_timing',
                      'shared_preload_libraries', 'idle_in_transaction_session_timeout',
                      'statement_timeout', 'max_parallel_workers_per_gather',
                      'medianest_perf.track', 'medianest_perf.slow_query_ms',
                      'medianest_perf.critical_query_ms', 'medianest_perf.slow_query_plan',
                      'medianest_perf.max_statements', 'medianest_perf.n_plus_one',
                      'medianest_perf.n_plus_one_min_repeats')
        OR (s.name LIKE 'medianest\_perf.%' AND s.source NOT IN ('default', 'override'))));

  RETURN doc || pg_catalog.jsonb_build_object(
    'data_ms', 1000 * pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - started));
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.report_data() IS
  'Everything report() shows, as one jsonb document: health, recommendations, top statements with histograms, slow executions, N+1 incidents, index verdicts, bloat and index advice when those parts are installed, settings; bounded lists, read through the views (other users'' texts masked as there)';

CREATE FUNCTION medianest_perf.report_css()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $css$
  SELECT $$
:root{--bg:#f3f5f9;--card:#fff;--ink:#1c2333;--muted:#566074;--faint:#8a93a5;--line:#e2e6ee;--track:#edf0f5;
--accent:#3a6ad6;--accent2:#9cb6ee;--good:#2a9d68;--fair:#8db43a;--poor:#e39a2c;--bad:#d8473f;
--crit:#d8473f;--warn:#e39a2c;--info:#4a84c4;--code:#f2f4f8;--head:#18213a;
--mono:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
.wrap{max-width:1180px;margin:0 auto;padding:0 28px}
header.top{background:var(--head);color:#fff;padding:26px 0 0}
header.top .brand{font:600 12px/1 var(--mono);letter-spacing:.12em;text-transform:uppercase;color:#9fb3dd}
header.top h1{margin:8px 0 4px;font-size:26px;font-weight:650;letter-spacing:-.01em}
header.top h1 .db{color:#c9d7f7}
header.top .meta{margin:0;color:#b5c0d8;font-size:13px}
header.top nav{margin-top:18px;display:flex;flex-wrap:wrap;gap:2px}
header.top nav a{color:#d5def2;text-decoration:none;font-size:13px;padding:8px 12px;border-radius:8px 8px 0 0}
header.top nav a:hover{background:#263253;color:#fff}
main{padding:24px 0 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:22px 26px;margin:0 0 22px;box-shadow:0 1px 2px rgba(20,30,60,.04)}
h2{font-size:19px;margin:0 0 4px;letter-spacing:-.005em}
h3{font-size:15px;margin:22px 0 10px}
.sub{color:var(--muted);margin:0 0 16px;max-width:900px}
.note{color:var(--muted);background:var(--code);border-radius:8px;padding:10px 14px;margin:8px 0}
.more{color:var(--muted);font-size:13px;margin:10px 0 0}
a{color:var(--accent)}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:var(--muted);border-bottom:2px solid var(--line);padding:7px 8px;white-space:nowrap;font-size:12px}
td{border-bottom:1px solid var(--line);padding:8px 8px;vertical-align:top}
tr:last-child td{border-bottom:0}
th.main{width:56%}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,pre{font-family:var(--mono);font-size:12px}
code{background:var(--code);border-radius:4px;padding:1px 5px;overflow-wrap:anywhere}
code.q{display:block;background:none;padding:0;color:#23304d;white-space:pre-wrap;overflow-wrap:anywhere}
pre{background:var(--code);padding:10px 12px;border-radius:8px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;max-height:460px;margin:6px 0}
.dim{color:var(--faint);font-size:12px}
details{margin-top:4px}
details summary{cursor:pointer;color:var(--accent);font-size:12px;user-select:none}
details[open] summary{margin-bottom:4px}
.pill{display:inline-block;padding:2px 9px;border-radius:999px;font-size:11px;font-weight:650;letter-spacing:.03em;white-space:nowrap}
.pill.critical{background:#fbe1df;color:#a3241d}
.pill.warning{background:#fcefd8;color:#8a5400}
.pill.info{background:#e0ebf8;color:#1f4f8c}
.pill.neutral{background:var(--track);color:var(--muted)}
.pill.v-unused,.pill.v-invalid{background:#fbe1df;color:#a3241d}
.pill.v-duplicate{background:#fde6d8;color:#98400f}
.pill.v-redundant{background:#dff0fa;color:#1b5d86}
.pill.v-rarely_used{background:#fcf1cf;color:#7a5b00}
.pill.v-write_heavy{background:#efe3fa;color:#5c2a8a}
.fix{margin-top:6px;display:flex;gap:8px;align-items:baseline}
.fix>span{font-size:11px;font-weight:650;color:var(--good);text-transform:uppercase;letter-spacing:.05em;flex:none}
.fix pre{margin:0;flex:1}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:14px;background:none;border:0;padding:0;box-shadow:none}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:12px 14px;border-top:4px solid var(--accent2)}
.kpi .k{font-size:12px;color:var(--muted);font-weight:600}
.kpis.n7,.kpis.n8{grid-template-columns:repeat(4,1fr)}
.kpi .v{white-space:nowrap;font-size:24px;font-weight:700;letter-spacing:-.02em;margin:2px 0;font-variant-numeric:tabular-nums}
.kpi .v span{font-size:15px;color:var(--muted);font-weight:600;margin-left:4px}
.kpi .s{font-size:12px;color:var(--faint)}
.kpi.good{border-top-color:var(--good)} .kpi.fair{border-top-color:var(--fair)}
.kpi.poor{border-top-color:var(--poor)} .kpi.bad{border-top-color:var(--bad)}
.health{display:flex;gap:28px;align-items:center;flex-wrap:wrap}
.health .ring-box{text-align:center;flex:none}
.health .ring-box div{color:var(--muted);font-size:12px;margin-top:-4px}
.health .bars-box{flex:1;min-width:420px}
table.scores td{border:0;padding:5px 8px;vertical-align:middle}
table.scores td.comp{font-weight:600;white-space:nowrap;width:1%}
table.scores td.meter{width:1%}
svg.chart.meter{max-width:none}
.grade{display:inline-block;min-width:30px;text-align:center;padding:1px 6px;border-radius:6px;font-weight:700;font-size:12px;color:#fff}
.grade.good{background:var(--good)} .grade.fair{background:var(--fair)} .grade.poor{background:var(--poor)} .grade.bad{background:var(--bad)} .grade.none{background:#b9c0cc}
details.rest{margin-top:12px}
details.rest>summary{font-size:13px}
tr.idx code{overflow-wrap:normal}
.charts{margin:4px 0 8px}
.chart{max-width:100%;height:auto;display:block}
.hists{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:18px}
figure{margin:0;border:1px solid var(--line);border-radius:10px;padding:12px 12px 8px}
figcaption{font-size:12px;margin-bottom:6px;display:flex;gap:8px;align-items:baseline}
figcaption code{background:none;padding:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;min-width:0}
.legend{font-size:12px;color:var(--muted);margin-top:2px}
.legend b{font-weight:600}
.lp50{color:var(--good)} .lp95{color:#b8741a} .lp99{color:var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0 0 18px;font-size:13px}
dl.facts dt{color:var(--muted)} dl.facts dd{margin:0}
footer{color:var(--faint);font-size:12px;text-align:center;padding:0 0 30px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif;font-size:11px;fill:var(--muted)}
svg text.mono{font-family:var(--mono);font-size:12px}
svg text.lbl{fill:var(--ink)}
svg text.val{fill:var(--ink);font-size:12px}
svg text.tick{fill:var(--faint)}
svg .track{fill:var(--track)}
svg .bar{fill:var(--accent)}
svg .bar.alt{fill:#6b8fe0}
svg .bar.critical{fill:var(--crit)} svg .bar.warning{fill:var(--warn)} svg .bar.info{fill:var(--info)}
svg .bar.good{fill:var(--good)} svg .bar.fair{fill:var(--fair)} svg .bar.poor{fill:var(--poor)} svg .bar.bad{fill:var(--bad)} svg .bar.none{fill:#c3c9d4}
svg .bar.table{fill:#3a6ad6} svg .bar.index{fill:#8a63d2} svg .bar.toast{fill:#4aa3a0}
svg .bar.before{fill:#c3cad8} svg .bar.after{fill:var(--good)}
svg .bar.n_plus_one{fill:var(--crit)} svg .bar.repeated_identical{fill:var(--info)} svg .bar.write_loop{fill:var(--warn)}
svg .grid{stroke:var(--line);stroke-width:1}
svg .grid.light{stroke-dasharray:2 4}
svg .axis{stroke:#b9c0cf;stroke-width:1}
svg .hbar{fill:var(--accent)}
svg .hbar:hover,svg g:hover .bar{opacity:.8}
svg .pct{stroke-width:1.5;stroke-dasharray:4 3}
svg .pct.p50{stroke:var(--good)} svg .pct.p95{stroke:var(--warn)} svg .pct.p99{stroke:var(--bad)}
svg text.pctl{font-size:11px;font-weight:600}
svg text.pctl.p50{fill:var(--good)} svg text.pctl.p95{fill:#b8741a} svg text.pctl.p99{fill:var(--bad)}
svg .dot{stroke:#fff;stroke-width:1.5;fill-opacity:.9}
svg .dot.warning{fill:var(--warn)} svg .dot.critical{fill:var(--crit)}
svg .threshold{stroke-width:1;stroke-dasharray:6 4}
svg .threshold.slow{stroke:var(--warn)} svg .threshold.critical{stroke:var(--crit)}
svg text.thl.slow{fill:#b8741a} svg text.thl.critical{fill:var(--crit)}
svg .ring{fill:none;stroke:var(--track);stroke-width:14}
svg .arc{fill:none;stroke-width:14;stroke-linecap:round}
svg .arc.good{stroke:var(--good)} svg .arc.fair{stroke:var(--fair)} svg .arc.poor{stroke:var(--poor)} svg .arc.bad{stroke:var(--bad)} svg .arc.none{stroke:none}
svg text.gscore{font-size:42px;font-weight:700;fill:var(--ink)}
svg text.ggrade{font-size:15px;font-weight:600;fill:var(--muted)}
svg .seg.v-ok{fill:#c9d2e2} svg .seg.v-write_heavy{fill:#a77bd6} svg .seg.v-rarely_used{fill:#eec052}
svg .seg.v-redundant{fill:#5aa9dc} svg .seg.v-duplicate{fill:#e7834f} svg .seg.v-unused{fill:var(--bad)} svg .seg.v-invalid{fill:#7c1d2a}
@media (prefers-color-scheme:dark){
:root{--bg:#10141d;--card:#171c28;--ink:#e3e8f2;--muted:#a3adc2;--faint:#7c869b;--line:#2a3142;--track:#232a3a;--code:#1f2533;--head:#0b0f17}
code.q{color:#d5ddf0}
.pill.critical,.pill.v-unused,.pill.v-invalid{background:#4a1d1b;color:#ffb4ad}
.pill.warning{background:#4a3412;color:#ffd08a}
.pill.info{background:#15314f;color:#a9cdf5}
}
@media print{header.top nav{display:none}section{break-inside:avoid-page;box-shadow:none}}
$$
$css$;

COMMENT ON FUNCTION medianest_perf.report_css() IS
  'The style sheet inlined in the HTML report (light and dark colour schemes, print)';

-- Humanized name of a health component or figure: query_performance -> query performance.
CREATE FUNCTION medianest_perf.report_label(name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.replace(pg_catalog.replace($1, 'n_plus_one', 'N+1'), '_', ' ');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_label(text) IS
  'A snake_case name as words, for the report';

-- The value of a health figure as the report shows it.
CREATE FUNCTION medianest_perf.report_figure(name text, value double precision)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN CASE WHEN $2 IS NULL THEN '-'
                WHEN $1 ~ '(share|ratio|usage)$' THEN medianest_perf.report_pct($2)
                WHEN $1 ~ '_s$' THEN medianest_perf.report_ms($2 * 1000)
                ELSE medianest_perf.report_num(pg_catalog.round($2::numeric, 1)::double precision) END;
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_figure(text, double precision) IS
  'A health() figure formatted by its kind: shares and ratios as percentages, seconds as durations, counts as numbers';

CREATE FUNCTION medianest_perf.report_table(head text, first_rows text, more_rows text, more_label text DEFAULT 'more')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN '<table><thead><tr>' || $1 || '</tr></thead><tbody>' || COALESCE($2, '') || '</tbody></table>'
           || COALESCE('<details class="rest"><summary>' || $4 || '</summary><table><thead><tr>' || $1
                       || '</tr></thead><tbody>' || $3 || '</tbody></table></details>', '');
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_table(text, text, text, text) IS
  'An HTML table of the report: header cells, the first rows, and further rows folded under a <details> labelled more_label (markup in, markup out: the caller escapes)';

CREATE FUNCTION medianest_perf.report_html(doc jsonb, started timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  o text[] := '{}';
  nav text[] := '{}';
  kpi text[] := '{}';
  s jsonb;
  r record;
  t text;
  t2 text;
  m_before double precision;
  m_after double precision;
  esc_db text := medianest_perf.html_escape(doc->>'database');
BEGIN
  ---------------------------------------------------------------- health
  s := doc->'health';
  SELECT x.score, x.grade INTO r
    FROM pg_catalog.jsonb_to_recordset(s) AS x(component text, score double precision, grade text)
   WHERE x.component = 'overall';
  kpi := kpi || pg_catalog.format(
    '<div class="kpi %s"><div class="k">Health</div><div class="v">%s<span>%s</span></div><div class="s">overall score of 100</div></div>',
    medianest_perf.report_band(r.score), COALESCE(r.score::integer::text, '?'),
    medianest_perf.html_escape(COALESCE(r.grade, '')));
  nav := nav || '<a href="#health">Health</a>'::text;
  o := o || pg_catalog.format(
    '<section id="health"><h2>Health</h2><p class="sub">Each component is scored 0-100 from the figures behind it (100: nothing to worry about); the overall score is their weighted mean. The figure that pulls each component down most is named beside it.</p>'
    '<div class="health"><div class="ring-box">%s<div>overall</div></div><div class="bars-box"><table class="scores"><tbody>%s</tbody></table></div></div></section>',
    medianest_perf.report_svg_gauge(r.score, r.grade),
    (SELECT pg_catalog.string_agg(pg_catalog.format(
              '<tr><td class="comp">%s</td><td class="meter">%s</td><td class="num"><b>%s</b></td><td><span class="grade %s">%s</span></td><td class="dim">%s</td></tr>',
              medianest_perf.html_escape(medianest_perf.report_label(x.component)),
              medianest_perf.report_svg_meter(x.score, medianest_perf.report_label(x.component) || ' score'),
              COALESCE(x.score::integer::text, '-'), medianest_perf.report_band(x.score),
              medianest_perf.html_escape(COALESCE(x.grade, 'n/a')),
              medianest_perf.html_escape(CASE WHEN x.note IS NOT NULL THEN x.note
                                              WHEN x.weakest IS NULL THEN 'no figure available'
                                              WHEN x.weakest_score >= 100 THEN 'every figure at its ideal'
                                              ELSE pg_catalog.format('%s %s (sub-score %s)', medianest_perf.report_label(x.weakest),
                                                     medianest_perf.report_figure(x.weakest, x.weakest_value),
                                                     pg_catalog.round(x.weakest_score::numeric)) END)), '' ORDER BY x_e.ord)
       FROM pg_catalog.jsonb_array_elements(s) WITH ORDINALITY AS x_e(v, ord)
            CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(component text, score double precision, grade text,
                                                                  note text, weakest text, weakest_value double precision,
                                                                  weakest_score double precision)
      WHERE x.component <> 'overall'));

  ------------------------------------------------------- recommendations
  s := doc->'recommendations';
  kpi := kpi || pg_catalog.format(
    '<div class="kpi %s"><div class="k">Findings</div><div class="v">%s</div><div class="s">%s critical, %s warning, %s info</div></div>',
    CASE WHEN (s->>'critical')::bigint > 0 THEN 'bad' WHEN (s->>'warning')::bigint > 0 THEN 'poor' ELSE 'good' END,
    medianest_perf.report_num((s->>'count')::double precision),
    s->>'critical', s->>'warning', s->>'info');
  nav := nav || '<a href="#recommendations">What to fix</a>'::text;
  SELECT pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
           pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord > 10)
      INTO t, t2
      FROM (SELECT x_e.ord, pg_catalog.format(
           '<tr class="reco"><td><span class="pill %s">%s</span></td><td><div><b>%s</b> <code>%s</code></div><div>%s</div>%s</td><td class="num">%s</td></tr>',
           medianest_perf.html_escape(x.severity), medianest_perf.html_escape(x.severity),
           medianest_perf.html_escape(medianest_perf.report_label(x.category)),
           medianest_perf.html_escape(x.object), medianest_perf.html_escape(x.finding),
           COALESCE('<div class="fix"><span>fix</span><pre>' || medianest_perf.html_escape(x.action) || '</pre></div>', ''),
           COALESCE(pg_catalog.round(x.impact::numeric, 1) || '%', '-')) AS html
              FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(category text, severity text, object text,
                                                                        finding text, action text, impact double precision)) y;
  o := o || pg_catalog.format(
    '<section id="recommendations"><h2>What to fix first</h2><p class="sub">%s findings in this database (connections and long transactions: the whole server): <span class="pill critical">%s critical</span> <span class="pill warning">%s warning</span> <span class="pill info">%s info</span>. Critical first, then by impact: the share of the statement time, database size or other resource the finding accounts for.</p>%s%s</section>',
    medianest_perf.report_num((s->>'count')::double precision), s->>'critical', s->>'warning', s->>'info',
    CASE WHEN t IS NULL THEN '<p class="note">Nothing to recommend.</p>'
         ELSE medianest_perf.report_table('<th>severity</th><th class="main">finding and fix</th><th class="num">impact</th>', t, t2,
                                          pg_catalog.format('the next %s findings', pg_catalog.jsonb_array_length(s->'items') - 10)) END,
    CASE WHEN (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items')
         THEN pg_catalog.format('<p class="more">%s more: <code>SELECT * FROM medianest_perf.recommendations;</code></p>',
                                (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'))
         ELSE '' END);

  ------------------------------------------------------------ statements
  s := doc->'statements';
  nav := nav || '<a href="#statements">Statements</a>'::text;
  IF s IS NULL THEN
    o := o || '<section id="statements"><h2>Top statements by total time</h2><p class="note">medianest_perf is not in shared_preload_libraries: there are no statement statistics, slow queries or N+1 incidents.</p></section>'::text;
  ELSE
    kpi := kpi || pg_catalog.format(
      '<div class="kpi"><div class="k">Execution time</div><div class="v">%s</div><div class="s">%s calls of %s statements</div></div>',
      medianest_perf.report_ms((s->>'total_time_ms')::double precision),
      medianest_perf.report_num((s->>'calls')::double precision),
      medianest_perf.report_num((s->>'count')::double precision));
    o := o || pg_catalog.format(
      '<section id="statements"><h2>Top statements by total time</h2><p class="sub">%s statements recorded in database <b>%s</b>: %s calls, %s of execution time since %s%s. The %s that take the most time:</p>',
      medianest_perf.report_num((s->>'count')::double precision), esc_db,
      medianest_perf.report_num((s->>'calls')::double precision),
      medianest_perf.report_ms((s->>'total_time_ms')::double precision),
      medianest_perf.html_escape(pg_catalog.to_char((s->'store'->>'stats_reset')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')),
      CASE WHEN (s->'store'->>'evicted_entries')::bigint > 0
           THEN pg_catalog.format(' (%s entries were evicted for room: raise medianest_perf.max_statements = %s to keep more)',
                                  medianest_perf.report_num((s->'store'->>'evicted_entries')::double precision),
                                  s->'store'->>'max_entries')
           ELSE '' END,
      pg_catalog.jsonb_array_length(s->'items'));
    IF pg_catalog.jsonb_array_length(s->'items') = 0 THEN
      o := o || '<p class="note">No statement recorded yet.</p></section>'::text;
    ELSE
      SELECT medianest_perf.report_svg_bars(
               pg_catalog.array_agg('#' || x.rank || ' ' || x.query ORDER BY x.rank),
               pg_catalog.array_agg(x.total_time_ms ORDER BY x.rank),
               pg_catalog.array_agg(medianest_perf.report_ms(x.total_time_ms) || '  ' || medianest_perf.report_pct(x.share) ORDER BY x.rank),
               pg_catalog.array_agg(medianest_perf.report_cut(x.query, 300) || ' - ' || medianest_perf.report_num(x.calls)
                                    || ' calls, mean ' || medianest_perf.report_ms(x.mean_time_ms) ORDER BY x.rank),
               NULL, 52, NULL, 'total execution time of the top statements') AS chart,
             pg_catalog.string_agg(pg_catalog.format(
               '<tr class="stmt"><td class="num">%s</td><td><code class="q">%s</code><div class="dim">%s%s%s%s</div>%s</td>'
               '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
               '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
               x.rank, medianest_perf.html_escape(medianest_perf.report_cut(x.query, 160)),
               medianest_perf.html_escape('user ' || COALESCE(x.username, '?')),
               COALESCE(' · queryid ' || x.queryid, ''),
               CASE WHEN NOT x.toplevel THEN ' · nested' ELSE '' END,
               CASE WHEN x.slow_calls > 0 THEN pg_catalog.format(' · <b>%s slow</b> (%s critical)', x.slow_calls, x.critical_calls) ELSE '' END,
               CASE WHEN pg_catalog.length(pg_catalog.regexp_replace(x.query, '\s+', ' ', 'g')) > 160
                    THEN '<details><summary>full text</summary><pre>' || medianest_perf.html_escape(x.query)
                         || CASE WHEN x.query_length > 4000 THEN '…' ELSE '' END || '</pre></details>'
                    ELSE '' END,
               medianest_perf.report_num(x.calls), medianest_perf.report_ms(x.total_time_ms),
               medianest_perf.report_pct(x.share), medianest_perf.report_ms(x.mean_time_ms),
               medianest_perf.report_ms(x.p50_ms), medianest_perf.report_ms(x.p95_ms),
               medianest_perf.report_ms(x.p99_ms), medianest_perf.report_num(pg_catalog.round((x.rows::numeric / NULLIF(x.calls, 0)), 1)::double precision)),
               '' ORDER BY x.rank) AS body
        INTO r
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(rank integer, queryid bigint, username text, toplevel boolean,
               query text, query_length integer, calls bigint, rows bigint, total_time_ms double precision,
               mean_time_ms double precision, p50_ms double precision, p95_ms double precision, p99_ms double precision,
               share double precision, slow_calls bigint, critical_calls bigint);
      o := o || pg_catalog.format(
        '<div class="charts">%s</div><table><thead><tr><th class="num">#</th><th class="main">statement</th><th class="num">calls</th><th class="num">total</th><th class="num">share</th><th class="num">mean</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">rows/call</th></tr></thead><tbody>%s</tbody></table>',
        r.chart, r.body);
      SELECT pg_catalog.string_agg(pg_catalog.format(
               '<figure class="hist"><figcaption><b>#%s</b><code>%s</code></figcaption>%s'
               '<div class="legend"><b class="lp50">p50</b> %s · <b class="lp95">p95</b> %s · <b class="lp99">p99</b> %s · max %s · %s calls</div></figure>',
               x.rank, medianest_perf.html_escape(medianest_perf.report_cut(x.query, 90)),
               medianest_perf.report_svg_histogram(
                 medianest_perf.report_array(x.histogram->'lo')::double precision[],
                 medianest_perf.report_array(x.histogram->'hi')::double precision[],
                 medianest_perf.report_array(x.histogram->'calls')::bigint[],
                 x.p50_ms, x.p95_ms, x.p99_ms, 'latency histogram of statement #' || x.rank),
               medianest_perf.report_ms(x.p50_ms), medianest_perf.report_ms(x.p95_ms),
               medianest_perf.report_ms(x.p99_ms), medianest_perf.report_ms(x.max_time_ms),
               medianest_perf.report_num(x.calls)), '' ORDER BY x.rank)
        INTO t
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(rank integer, query text, calls bigint,
               p50_ms double precision, p95_ms double precision, p99_ms double precision,
               max_time_ms double precision, histogram jsonb)
       WHERE x.histogram IS NOT NULL AND pg_catalog.jsonb_typeof(x.histogram->'lo') = 'array';
      o := o || (COALESCE('<h3>Latency distribution of the top statements</h3><p class="sub">Calls per latency bucket (each bucket 10% wider than the one before) on a logarithmic time axis, with the 50th, 95th and 99th percentiles.</p><div class="hists">' || t || '</div>', '')
                 || '</section>');
    END IF;

    ---------------------------------------------------------- slow queries
    s := doc->'slow_queries';
    nav := nav || '<a href="#slow-queries">Slow queries</a>'::text;
    kpi := kpi || pg_catalog.format(
      '<div class="kpi %s"><div class="k">Slow executions</div><div class="v">%s</div><div class="s">%s critical, captured with plans</div></div>',
      CASE WHEN (s->>'critical')::bigint > 0 THEN 'bad' WHEN (s->>'count')::bigint > 0 THEN 'poor' ELSE 'good' END,
      medianest_perf.report_num((s->>'count')::double precision), medianest_perf.report_num((s->>'critical')::double precision));
    o := o || pg_catalog.format(
      '<section id="slow-queries"><h2>Slow queries</h2><p class="sub">%s executions in this database were captured as slow, <span class="pill critical">%s critical</span>, by the thresholds in force when they ran (now medianest_perf.slow_query_ms = %s and critical_query_ms = %s, the dashed lines). The ring keeps the last %s slow executions of the whole server (%s overwritten so far). Each dot is one execution; point at it for the statement.</p>',
      medianest_perf.report_num((s->>'count')::double precision),
      medianest_perf.report_num((s->>'critical')::double precision),
      medianest_perf.html_escape(COALESCE(s->>'slow_query_ms', '?')),
      medianest_perf.html_escape(COALESCE(s->>'critical_query_ms', '?')),
      medianest_perf.report_num((s->'ring'->>'max_entries')::double precision),
      medianest_perf.report_num((s->'ring'->>'overwritten')::double precision));
    IF (s->>'count')::bigint = 0 THEN
      o := o || '<p class="note">No slow execution captured.</p></section>'::text;
    ELSE
      o := o || ('<div class="charts">' || medianest_perf.report_svg_timeline(
        medianest_perf.report_array(s->'points'->'at')::double precision[],
        medianest_perf.report_array(s->'points'->'ms')::double precision[],
        medianest_perf.report_array(s->'points'->'severity'),
        ARRAY(SELECT pg_catalog.to_char(pg_catalog.to_timestamp(a.v::double precision), 'YYYY-MM-DD HH24:MI:SS')
                     || '  ' || medianest_perf.report_ms(m.v::double precision) || '  ' || q.v
                FROM pg_catalog.jsonb_array_elements_text(s->'points'->'at') WITH ORDINALITY a(v, k)
                JOIN pg_catalog.jsonb_array_elements_text(s->'points'->'ms') WITH ORDINALITY m(v, k) ON m.k = a.k
                JOIN pg_catalog.jsonb_array_elements_text(s->'points'->'query') WITH ORDINALITY q(v, k) ON q.k = a.k
               ORDER BY a.k),
        (s->>'slow_ms')::double precision, (s->>'critical_ms')::double precision,
        'slow executions over time, duration on a log scale') || '</div>');
      SELECT pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
               pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord > 10)
          INTO t, t2
          FROM (SELECT x_e.ord, pg_catalog.format(
               '<tr class="slow"><td class="num">%s</td><td><span class="pill %s">%s</span></td><td class="num"><b>%s</b></td><td class="num">%s</td>'
               '<td>%s<div class="dim">%s</div></td><td><code class="q">%s</code>%s</td></tr>',
               medianest_perf.html_escape(pg_catalog.to_char(x.captured_at, 'MM-DD HH24:MI:SS')),
               medianest_perf.html_escape(x.severity), medianest_perf.html_escape(x.severity),
               medianest_perf.report_ms(x.duration_ms), medianest_perf.report_num(x.rows),
               medianest_perf.html_escape(COALESCE(x.username, '?')),
               medianest_perf.html_escape(COALESCE(NULLIF(x.application_name, ''), '-')
                                          || ' · pid ' || x.pid
                                          || CASE WHEN x.nesting_level > 0 THEN ' · nested' ELSE '' END),
               medianest_perf.html_escape(medianest_perf.report_cut(x.query, 140)),
               CASE WHEN x.plan IS NOT NULL OR pg_catalog.length(x.query) > 140 OR x.parameters IS NOT NULL THEN
                 '<details><summary>' || CASE WHEN x.plan IS NOT NULL THEN 'plan' || CASE WHEN x.plan_analyzed THEN ' (with actual rows)' ELSE '' END
                                              ELSE 'statement' END || '</summary>'
                 || '<pre>' || medianest_perf.html_escape(x.query) || CASE WHEN x.query_truncated THEN '…' ELSE '' END || '</pre>'
                 || COALESCE('<pre>' || medianest_perf.html_escape(x.parameters) || '</pre>', '')
                 || COALESCE('<pre>' || medianest_perf.html_escape(x.plan) || CASE WHEN x.plan_truncated THEN E'\n…' ELSE '' END || '</pre>', '')
                 || '</details>'
               ELSE '' END) AS html
                  FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(captured_at timestamptz, pid integer, username text,
               application_name text, nesting_level integer, severity text, duration_ms double precision, rows bigint,
               query text, query_truncated boolean, plan text, plan_truncated boolean, plan_analyzed boolean,
               parameters text)) y;
      o := o || pg_catalog.format(
        '<h3>Newest first</h3>%s%s</section>',
        medianest_perf.report_table('<th class="num">when</th><th>severity</th><th class="num">duration</th><th class="num">rows</th><th>user</th><th class="main">statement</th>',
                                    t, t2, pg_catalog.format('%s more', pg_catalog.jsonb_array_length(s->'items') - 10)),
        CASE WHEN (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items')
             THEN pg_catalog.format('<p class="more">%s older ones: <code>SELECT * FROM medianest_perf.slow_queries;</code></p>',
                                    (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'))
             ELSE '' END);
    END IF;

    ------------------------------------------------------------------ N+1
    s := doc->'n_plus_one';
    IF s IS NOT NULL THEN
      nav := nav || '<a href="#n-plus-one">N+1</a>'::text;
      kpi := kpi || pg_catalog.format(
        '<div class="kpi %s"><div class="k">N+1 and loops</div><div class="v">%s</div><div class="s">batching saves about %s</div></div>',
        CASE WHEN (s->>'count')::bigint > 0 THEN 'poor' ELSE 'good' END,
        medianest_perf.report_num((s->>'count')::double precision),
        medianest_perf.report_ms((s->>'estimated_saving_ms')::double precision));
      o := o || pg_catalog.format(
        '<section id="n-plus-one"><h2>N+1 queries, repeated statements and write loops</h2><p class="sub">%s incidents: a statement ran once per row of another (N+1), the same statement ran again and again with the same values (repeated), or rows were written one at a time (write loop), at least n_plus_one_min_repeats = %s times in one unit of work. Their calls took %s; the rewrite would save about %s of executor time (round trips come on top).</p>',
        medianest_perf.report_num((s->>'count')::double precision),
        medianest_perf.html_escape(COALESCE(s->>'min_repeats', '?')),
        medianest_perf.report_ms((s->>'total_time_ms')::double precision),
        medianest_perf.report_ms((s->>'estimated_saving_ms')::double precision));
      IF (s->>'count')::bigint = 0 THEN
        o := o || '<p class="note">No incident detected.</p></section>'::text;
      ELSE
        SELECT medianest_perf.report_svg_bars(
                 pg_catalog.array_agg(medianest_perf.report_label(y.kind) || ': ' || y.repeated_query ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
                 pg_catalog.array_agg(y.estimated_saving_ms ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
                 pg_catalog.array_agg('saves ' || medianest_perf.report_ms(y.estimated_saving_ms) ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
                 pg_catalog.array_agg(medianest_perf.report_cut(y.repeated_query, 300) ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
                 pg_catalog.array_agg(y.kind ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
                 56, NULL, 'executor time the rewrites would save') AS chart,
               pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord <= 10) AS body,
               pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord > 10) AS more
          INTO r
          FROM (SELECT x_e.ord, x.*, pg_catalog.format(
                 '<tr class="np"><td><span class="pill %s">%s</span></td><td><code class="q">%s</code>%s<div class="dim">%s</div>%s</td>'
                 '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num"><b>%s</b></td></tr>',
                 CASE x.kind WHEN 'n_plus_one' THEN 'critical' WHEN 'write_loop' THEN 'warning' ELSE 'info' END,
                 medianest_perf.html_escape(medianest_perf.report_label(x.kind)),
                 medianest_perf.html_escape(medianest_perf.report_cut(x.repeated_query, 140)),
                 COALESCE('<div class="dim">driven by <code>' || medianest_perf.html_escape(medianest_perf.report_cut(x.source_query, 110)) || '</code></div>', ''),
                 medianest_perf.html_escape('application ' || COALESCE(NULLIF(x.application_name, ''), '-') || ' · user ' || COALESCE(x.username, '?')
                                            || ' · last seen ' || pg_catalog.to_char(x.last_seen, 'YYYY-MM-DD HH24:MI:SS')),
                 COALESCE('<div class="fix"><span>rewrite</span><pre>' || medianest_perf.html_escape(x.suggestion) || '</pre></div>', ''),
                 medianest_perf.report_num(x.occurrences), medianest_perf.report_num(x.max_repeats),
                 medianest_perf.report_num(x.total_repeated_calls), medianest_perf.report_ms(x.total_time_ms),
                 medianest_perf.report_ms(x.estimated_saving_ms)) AS html
          FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(kind text, application_name text, username text,
                 source_query text, repeated_query text, occurrences bigint, max_repeats bigint,
                 total_repeated_calls bigint, total_time_ms double precision, estimated_saving_ms double precision,
                 suggestion text, last_seen timestamptz)) y;
        o := o || pg_catalog.format(
          '<div class="charts">%s</div>%s%s</section>',
          r.chart,
          medianest_perf.report_table('<th>kind</th><th class="main">repeated statement and rewrite</th><th class="num">units of work</th><th class="num">max repeats</th><th class="num">calls</th><th class="num">time</th><th class="num">saving</th>',
                                      r.body, r.more, pg_catalog.format('%s more', pg_catalog.jsonb_array_length(s->'items') - 10)),
          CASE WHEN (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items')
               THEN pg_catalog.format('<p class="more">%s more: <code>SELECT * FROM medianest_perf.n_plus_one;</code></p>',
                                      (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'))
               ELSE '' END);
      END IF;
    END IF;
  END IF;

  --------------------------------------------------------------- indexes
  s := doc->'indexes';
  nav := nav || '<a href="#indexes">Indexes</a>'::text;
  kpi := kpi || pg_catalog.format(
    '<div class="kpi %s"><div class="k">Index space to free</div><div class="v">%s</div><div class="s">%s of %s indexes flagged</div></div>',
    CASE WHEN (s->>'wasted_bytes')::bigint > 0 THEN 'poor' ELSE 'good' END,
    pg_catalog.pg_size_pretty((s->>'wasted_bytes')::bigint),
    medianest_perf.report_num((s->>'flagged')::double precision), medianest_perf.report_num((s->>'count')::double precision));
  o := o || pg_catalog.format(
    '<section id="indexes"><h2>Index verdicts</h2><p class="sub">%s indexes take %s. Unused, duplicate, redundant and invalid ones take %s that dropping them frees, and every write to their tables pays for them. Index space by verdict:</p><div class="charts">%s</div>',
    medianest_perf.report_num((s->>'count')::double precision), pg_catalog.pg_size_pretty((s->>'bytes')::bigint),
    pg_catalog.pg_size_pretty((s->>'wasted_bytes')::bigint),
    (SELECT medianest_perf.report_svg_stack(
              pg_catalog.array_agg(medianest_perf.report_label(x.verdict) ORDER BY x_e.ord),
              pg_catalog.array_agg(x.bytes::double precision ORDER BY x_e.ord),
              pg_catalog.array_agg('v-' || x.verdict ORDER BY x_e.ord),
              pg_catalog.array_agg(x.count || ' (' || pg_catalog.pg_size_pretty(x.bytes) || ')' ORDER BY x_e.ord),
              'index space by verdict')
       FROM pg_catalog.jsonb_array_elements(s->'by_verdict') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(verdict text, count bigint, bytes bigint)
      WHERE x.count > 0));
  IF pg_catalog.jsonb_array_length(s->'items') = 0 THEN
    o := o || '<p class="note">Every index earns its keep.</p></section>'::text;
  ELSE
    SELECT pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord <= 10),
             pg_catalog.string_agg(y.html, '' ORDER BY y.ord) FILTER (WHERE y.ord > 10)
        INTO t, t2
        FROM (SELECT x_e.ord, pg_catalog.format(
             '<tr class="idx"><td><code>%s</code><div class="dim">on %s · %s</div></td><td><span class="pill v-%s">%s</span></td>'
             '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td>%s%s%s</td></tr>',
             medianest_perf.html_escape(pg_catalog.quote_ident(x.schemaname) || '.' || pg_catalog.quote_ident(x.indexname)),
             medianest_perf.html_escape(pg_catalog.quote_ident(x.tablename)),
             medianest_perf.html_escape(x.access_method || CASE WHEN x.kind = 'partitioned' THEN ', partitioned' ELSE '' END),
             medianest_perf.html_escape(x.verdict), medianest_perf.html_escape(medianest_perf.report_label(x.verdict)),
             pg_catalog.pg_size_pretty(x.size_bytes), medianest_perf.report_num(x.idx_scan),
             COALESCE(medianest_perf.report_num(x.statements_using), '-'),
             medianest_perf.html_escape(x.reason),
             COALESCE('<div class="fix"><span>fix</span><pre>' || medianest_perf.html_escape(x.action) || '</pre></div>', ''),
             CASE WHEN pg_catalog.jsonb_array_length(COALESCE(x.queries, '[]')) > 0 THEN
               pg_catalog.format('<details><summary>statements using it (%s)</summary>%s</details>',
                 x.statements_using,
                 (SELECT pg_catalog.string_agg(pg_catalog.format('<pre>%s</pre><div class="dim">%s calls · user %s</div>',
                           medianest_perf.html_escape(q.query), medianest_perf.report_num(q.calls),
                           medianest_perf.html_escape(COALESCE(q.username, '?'))), '' ORDER BY q_e.k)
                    FROM pg_catalog.jsonb_array_elements(x.queries) WITH ORDINALITY AS q_e(v, k) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(q_e.v) AS q(query text, calls bigint, username text)))
             ELSE '' END) AS html
                FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(schemaname text, tablename text, indexname text,
             kind text, access_method text, size_bytes bigint, idx_scan bigint, statements_using bigint,
             verdict text, reason text, action text, queries jsonb)) y;
    o := o || pg_catalog.format(
      '%s%s</section>',
      medianest_perf.report_table('<th>index</th><th>verdict</th><th class="num">size</th><th class="num">scans</th><th class="num">statements</th><th class="main">why, and what to do</th>',
                                  t, t2, pg_catalog.format('%s more', pg_catalog.jsonb_array_length(s->'items') - 10)),
      CASE WHEN (s->>'flagged')::bigint > pg_catalog.jsonb_array_length(s->'items')
           THEN pg_catalog.format('<p class="more">%s more: <code>SELECT * FROM medianest_perf.index_usage WHERE verdict &lt;&gt; &#39;ok&#39;;</code></p>',
                                  (s->>'flagged')::bigint - pg_catalog.jsonb_array_length(s->'items'))
           ELSE '' END);
  END IF;

  ----------------------------------------------------------------- bloat
  s := doc->'bloat';
  IF s IS NOT NULL THEN
    nav := nav || '<a href="#bloat">Bloat</a>'::text;
    IF NOT (s->>'available')::boolean THEN
      o := o || pg_catalog.format('<section id="bloat"><h2>Bloat</h2><p class="note">%s.</p></section>',
                                  medianest_perf.html_escape(s->>'reason'));
    ELSE
      kpi := kpi || pg_catalog.format(
        '<div class="kpi %s"><div class="k">Bloat</div><div class="v">%s</div><div class="s">reclaimable in %s relations</div></div>',
        CASE WHEN (s->>'actions')::bigint > 0 THEN 'poor' ELSE 'good' END,
        pg_catalog.pg_size_pretty((s->>'reclaimable_bytes')::bigint), medianest_perf.report_num((s->>'bloated')::double precision));
      o := o || pg_catalog.format(
        '<section id="bloat"><h2>Bloat</h2><p class="sub">%s of the %s measured in %s tables and indexes could be given back by VACUUM, a rewrite or REINDEX (bloat_report, measured %s); %s relations reach the thresholds for an action.</p>',
        pg_catalog.pg_size_pretty((s->>'reclaimable_bytes')::bigint), pg_catalog.pg_size_pretty((s->>'total_bytes')::bigint),
        medianest_perf.report_num((s->>'relations')::double precision),
        medianest_perf.html_escape(pg_catalog.to_char((s->>'measured_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')),
        medianest_perf.report_num((s->>'actions')::double precision));
      IF pg_catalog.jsonb_array_length(s->'items') = 0 THEN
        o := o || '<p class="note">Nothing to reclaim.</p></section>'::text;
      ELSE
        SELECT medianest_perf.report_svg_bars(
                 pg_catalog.array_agg(pg_catalog.quote_ident(x.schemaname) || '.' || pg_catalog.quote_ident(x.relname) ORDER BY x_e.ord),
                 pg_catalog.array_agg(x.reclaimable_bytes::double precision ORDER BY x_e.ord),
                 pg_catalog.array_agg(pg_catalog.pg_size_pretty(x.reclaimable_bytes) || '  of ' || pg_catalog.pg_size_pretty(x.total_bytes) ORDER BY x_e.ord),
                 pg_catalog.array_agg(x.kind || ', ' || pg_catalog.round(x.bloat_pct::numeric, 1) || '% reclaimable' ORDER BY x_e.ord),
                 pg_catalog.array_agg(CASE WHEN x.kind LIKE '%index' THEN 'index' WHEN x.kind LIKE 'toast%' THEN 'toast' ELSE 'table' END ORDER BY x_e.ord),
                 44, NULL, 'reclaimable bytes per relation') AS chart,
               pg_catalog.string_agg(pg_catalog.format(
                 '<tr class="bloat"><td><code>%s</code><div class="dim">%s</div></td><td class="num">%s</td><td class="num"><b>%s</b></td><td class="num">%s</td><td>%s</td><td>%s%s</td></tr>',
                 medianest_perf.html_escape(pg_catalog.quote_ident(x.schemaname) || '.' || pg_catalog.quote_ident(x.relname)),
                 medianest_perf.html_escape(x.kind), pg_catalog.pg_size_pretty(x.total_bytes),
                 pg_catalog.pg_size_pretty(x.reclaimable_bytes),
                 pg_catalog.round(x.bloat_pct::numeric, 1) || '%'
                   || CASE WHEN x.bloat_pct_error > 0 THEN ' ± ' || pg_catalog.round(x.bloat_pct_error::numeric, 1) ELSE '' END,
                 medianest_perf.html_escape(x.method || CASE WHEN x.reliable THEN '' ELSE ' (unreliable)' END),
                 CASE WHEN COALESCE(x.action, 'none') <> 'none'
                      THEN '<div class="fix"><span>fix</span><pre>' || medianest_perf.html_escape(x.action) || ';</pre></div>'
                      ELSE '<span class="dim">below the action thresholds</span>' END,
                 COALESCE('<div class="dim">' || medianest_perf.html_escape(x.note) || '</div>', '')), '' ORDER BY x_e.ord) AS body
          INTO r
          FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(schemaname text, relname text, kind text,
                 method text, total_bytes bigint, reclaimable_bytes bigint, bloat_pct double precision,
                 bloat_pct_error double precision, reliable boolean, note text, action text);
        o := o || pg_catalog.format(
          '<div class="charts">%s</div><table><thead><tr><th>relation</th><th class="num">size</th><th class="num">reclaimable</th><th class="num">bloat</th><th>method</th><th class="main">action</th></tr></thead><tbody>%s</tbody></table>%s</section>',
          r.chart, r.body,
          CASE WHEN (s->>'bloated')::bigint > pg_catalog.jsonb_array_length(s->'items')
               THEN pg_catalog.format('<p class="more">%s more: <code>SELECT * FROM medianest_perf.bloat_report;</code></p>',
                                      (s->>'bloated')::bigint - pg_catalog.jsonb_array_length(s->'items'))
               ELSE '' END);
      END IF;
    END IF;
  END IF;

  ---------------------------------------------------------- index advice
  s := doc->'index_advice';
  IF s IS NOT NULL THEN
    nav := nav || '<a href="#index-advice">Missing indexes</a>'::text;
    IF NOT (s->>'available')::boolean THEN
      o := o || pg_catalog.format('<section id="index-advice"><h2>Missing indexes</h2><p class="note">%s.</p></section>',
                                  medianest_perf.html_escape(s->>'reason'));
    ELSE
      -- the advisor's costs are cumulative: each index is added to those
      -- ranked before it, so the first before and the last after bound it all
      m_before := (s->'items'->0->>'workload_cost_before')::double precision;
      m_after := (s->'items'->(pg_catalog.jsonb_array_length(s->'items') - 1)->>'workload_cost_after')::double precision;
      kpi := kpi || pg_catalog.format(
        '<div class="kpi %s"><div class="k">Missing indexes</div><div class="v">%s</div><div class="s">%s</div></div>',
        CASE WHEN pg_catalog.jsonb_array_length(s->'items') > 0 THEN 'poor' ELSE 'good' END,
        pg_catalog.jsonb_array_length(s->'items'),
        CASE WHEN m_before > 0 THEN 'cut the workload cost by ' || medianest_perf.report_pct(1 - m_after / m_before)
             ELSE 'advised by the planner' END);
      o := o || pg_catalog.format(
        '<section id="index-advice"><h2>Missing indexes</h2><p class="sub">The index advisor planned the recorded statements with hypothetical indexes (nothing was created or executed; advice of %s, time limit %s).%s Each row adds one index to those above it: the grey bar is the planner''s cost of the workload (each statement''s cost times its calls) before, the green one after.</p>',
        medianest_perf.html_escape(pg_catalog.to_char((s->>'advised_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')),
        medianest_perf.report_ms((s->>'time_limit_ms')::double precision),
        CASE WHEN m_before > 0 THEN pg_catalog.format(' With all %s indexes the workload cost falls from %s to %s (%s).',
               pg_catalog.jsonb_array_length(s->'items'), medianest_perf.report_num(pg_catalog.round(m_before)),
               medianest_perf.report_num(pg_catalog.round(m_after)), '-' || medianest_perf.report_pct(1 - m_after / m_before))
             ELSE '' END);
      IF pg_catalog.jsonb_array_length(s->'items') = 0 THEN
        o := o || '<p class="note">No index would help the recorded workload enough.</p></section>'::text;
      ELSE
        SELECT medianest_perf.report_svg_pairs(
                 pg_catalog.array_agg('+ ' || x.table_name || ' (' || pg_catalog.array_to_string(x.key_columns, ', ') || ')' ORDER BY x_e.ord),
                 pg_catalog.array_agg(x.workload_cost_before ORDER BY x_e.ord),
                 pg_catalog.array_agg(x.workload_cost_after ORDER BY x_e.ord),
                 pg_catalog.array_agg(x.ddl ORDER BY x_e.ord), 'workload cost before and after each index') AS chart,
               pg_catalog.string_agg(pg_catalog.format(
                 '<tr class="advice"><td class="num">%s</td><td><code>%s (%s)</code><div class="dim">%s%s</div></td><td class="num">%s</td>'
                 '<td class="num">%s → %s</td><td class="num"><b>%s</b></td><td class="num">%s</td></tr>',
                 x_e.ord, medianest_perf.html_escape(x.table_name),
                 medianest_perf.html_escape(pg_catalog.array_to_string(x.key_columns, ', ')),
                 medianest_perf.html_escape(COALESCE(' INCLUDE (' || NULLIF(pg_catalog.array_to_string(x.include_columns, ', '), '') || ')', '')),
                 medianest_perf.html_escape(COALESCE(' WHERE ' || x.predicate, '')),
                 pg_catalog.pg_size_pretty(x.estimated_size_bytes),
                 medianest_perf.report_num(pg_catalog.round(x.workload_cost_before)), medianest_perf.report_num(pg_catalog.round(x.workload_cost_after)),
                 COALESCE(pg_catalog.round(x.improvement_pct::numeric, 1) || '%', '-'),
                 COALESCE(x.statements::text, '-')), '' ORDER BY x_e.ord) AS body,
               pg_catalog.string_agg(medianest_perf.html_escape(x.ddl), E'\n' ORDER BY x_e.ord) AS ddl
          INTO r
          FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(table_name text, key_columns text[],
                 include_columns text[], predicate text, estimated_size_bytes bigint,
                 workload_cost_before double precision, workload_cost_after double precision,
                 improvement_pct double precision, statements integer, ddl text);
        o := o || pg_catalog.format(
          '<div class="charts">%s</div><table><thead><tr><th class="num">#</th><th>index</th><th class="num">estimated size</th><th class="num">workload cost</th><th class="num">saved on the statements it helps</th><th class="num">statements</th></tr></thead><tbody>%s</tbody></table>'
          '<h3>The DDL</h3><p class="sub">CONCURRENTLY does not block writes; run it outside a transaction block (in psql: <code>SELECT ddl FROM medianest_perf.index_advice() \gexec</code>).</p><pre class="ddl">%s</pre></section>',
          r.chart, r.body, r.ddl);
      END IF;
    END IF;
  END IF;

  ----------------------------------------------------------------- about
  nav := nav || '<a href="#about">About</a>'::text;
  SELECT pg_catalog.string_agg(pg_catalog.format(
           '<tr><td><code>%s</code></td><td><b>%s</b></td><td class="dim">%s</td><td>%s</td></tr>',
           medianest_perf.html_escape(x.name), medianest_perf.html_escape(COALESCE(x.setting, '')),
           medianest_perf.html_escape(x.source), medianest_perf.html_escape(COALESCE(x.description, ''))), '' ORDER BY x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(doc->'settings') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(name text, setting text, source text,
                                                                             description text);
  o := o || pg_catalog.format(
    '<section id="about"><h2>About this report</h2><dl class="facts">'
    '<dt>database</dt><dd>%s</dd><dt>generated</dt><dd>%s, in %s</dd><dt>server</dt><dd>PostgreSQL %s</dd>'
    '<dt>medianest_perf</dt><dd>%s%s</dd><dt>generated for</dt><dd>%s%s</dd>%s</dl>'
    '<h3>Settings that matter</h3><table><thead><tr><th>setting</th><th>value</th><th>source</th><th>what it does</th></tr></thead><tbody>%s</tbody></table></section>',
    esc_db,
    medianest_perf.html_escape(pg_catalog.to_char((doc->>'generated_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')),
    medianest_perf.report_ms(COALESCE(1000 * pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - started),
                                      (doc->>'data_ms')::double precision)),
    medianest_perf.html_escape(doc->>'server_version'),
    medianest_perf.html_escape(COALESCE(doc->>'extension_version', '?')),
    CASE WHEN (doc->>'preloaded')::boolean THEN '' ELSE ' (not in shared_preload_libraries: no statement statistics)' END,
    medianest_perf.html_escape(doc->>'role'),
    CASE WHEN (doc->>'sees_all_texts')::boolean THEN ' (sees every user''s statements)'
         ELSE ' (other users'' statement texts are hidden: they need pg_read_all_stats to be shown)' END,
    CASE WHEN doc ? 'statements' THEN pg_catalog.format(
           '<dt>statement store</dt><dd>%s of %s entries, %s evicted, %s executions not recorded</dd>',
           medianest_perf.report_num((doc->'statements'->'store'->>'entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'max_entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'evicted_entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'dropped_samples')::double precision))
         ELSE '' END,
    COALESCE(t, ''));

  RETURN pg_catalog.concat(
    '<!DOCTYPE html>', E'\n', '<html lang="en">', E'\n', '<head>', E'\n', '<meta charset="utf-8">', E'\n',
    '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''; img-src data:; base-uri ''none''; form-action ''none''">', E'\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">', E'\n',
    '<meta name="generator" content="medianest_perf ', medianest_perf.html_escape(COALESCE(doc->>'extension_version', '')), '">', E'\n',
    '<title>medianest_perf report: ', esc_db, '</title>', E'\n',
    '<style>', medianest_perf.report_css(), '</style>', E'\n', '</head>', E'\n', '<body>', E'\n',
    '<header class="top"><div class="wrap"><div class="brand">medianest_perf</div>',
    '<h1>Performance report · <span class="db">', esc_db, '</span></h1>',
    pg_catalog.format('<p class="meta">%s · PostgreSQL %s</p>',
      medianest_perf.html_escape(pg_catalog.to_char((doc->>'generated_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')),
      medianest_perf.html_escape(doc->>'server_version')),
    '<nav>', pg_catalog.array_to_string(nav, ''), '</nav></div></header>', E'\n',
    '<main class="wrap">', E'\n',
    '<section class="kpis n', pg_catalog.cardinality(kpi), '" id="summary">', pg_catalog.array_to_string(kpi, ''), '</section>', E'\n',
    pg_catalog.array_to_string(o, E'\n'), E'\n',
    '</main>', E'\n',
    '<footer>medianest_perf ', medianest_perf.html_escape(COALESCE(doc->>'extension_version', '')),
    ' · one self-contained page: no script, no external resource</footer>', E'\n',
    '</body>', E'\n', '</html>');
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.report_html(jsonb, timestamptz) IS
  'Render a report_data() document as one self-contained HTML page (inline CSS and SVG, no script); started is when the report began, for the generation time it shows';

CREATE FUNCTION medianest_perf.report_wrap(value text, width integer, indent text DEFAULT '')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN $3 || pg_catalog.replace(pg_catalog.rtrim(pg_catalog.regexp_replace(
             pg_catalog.btrim(pg_catalog.regexp_replace($1, '\s+', ' ', 'g')),
             '(.{1,' || GREATEST($2, 10) || '})( |$)', E'\\1\n', 'g'), E'\n'), E'\n', E'\n' || $3);
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_wrap(text, integer, text) IS
  'A text on lines of at most width characters (broken at spaces; a longer word keeps its line), each line starting with indent, for the text report';

CREATE FUNCTION medianest_perf.report_text_bar(value double precision, max_value double precision, width integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN pg_catalog.repeat('#', CASE WHEN COALESCE($1, 0) <= 0 OR COALESCE($2, 0) <= 0 THEN 0
                                       ELSE GREATEST(pg_catalog.round($1 / $2 * $3)::integer, 1) END);
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_text_bar(double precision, double precision, integer) IS
  'A bar of # characters, value / max_value of width (at least one for a positive value), for the text report';

CREATE FUNCTION medianest_perf.report_text_heading(title text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RETURN E'\n== ' || $1 || ' ' || pg_catalog.repeat('=', GREATEST(96 - pg_catalog.length($1), 3)) || E'\n';
END;
$$;

COMMENT ON FUNCTION medianest_perf.report_text_heading(text) IS
  'A section heading of the text report: == title ====';

CREATE FUNCTION medianest_perf.report_text_histogram(lo double precision[], calls bigint[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- bands of 1/d decade, d chosen so that the range fits in at most 16 lines
  WITH u AS (
    SELECT pg_catalog.log(x.lo::numeric)::double precision AS l, x.n
      FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS x(lo, n)
     WHERE x.lo > 0
  ),
  d AS (
    SELECT GREATEST(1, LEAST(10, pg_catalog.floor(16 / GREATEST(pg_catalog.max(u.l) - pg_catalog.min(u.l) + 0.05, 0.1))))::integer AS per
      FROM u
  ),
  b AS (
    SELECT pg_catalog.floor(u.l * d.per)::integer AS k, pg_catalog.sum(u.n) AS n
      FROM u, d
     GROUP BY 1
  ),
  g AS (
    SELECT s.k, COALESCE(b.n, 0) AS n, (SELECT pg_catalog.max(b2.n) FROM b b2) AS mx
      FROM pg_catalog.generate_series((SELECT pg_catalog.min(b3.k) FROM b b3),
                                      (SELECT pg_catalog.max(b4.k) FROM b b4)) s(k)
      LEFT JOIN b ON b.k = s.k
  )
  SELECT pg_catalog.string_agg(pg_catalog.format('  %s - %s  %s %s',
           pg_catalog.lpad(medianest_perf.report_ms(pg_catalog.power(10::double precision, g.k::double precision / d.per)), 10),
           pg_catalog.rpad(medianest_perf.report_ms(pg_catalog.power(10::double precision, (g.k + 1)::double precision / d.per)), 10),
           pg_catalog.rpad(medianest_perf.report_text_bar(g.n, g.mx, 50), 50), g.n), E'\n' ORDER BY g.k)
    FROM g, d
$$;

COMMENT ON FUNCTION medianest_perf.report_text_histogram(double precision[], bigint[]) IS
  'A latency histogram for the text report: the buckets (lower bounds lo, calls) summed into bands of a tenth to a whole decade (whatever fits the range in 16 lines), one line each with a bar';

CREATE FUNCTION medianest_perf.report_text(doc jsonb, started timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  o text[] := '{}';
  s jsonb;
  t text;
  m double precision;
  step double precision;
  t0 double precision;
BEGIN
  o := o || pg_catalog.format(
    E'medianest_perf report: database %s\ngenerated %s - PostgreSQL %s - medianest_perf %s\nfor role %s%s',
    doc->>'database', pg_catalog.to_char((doc->>'generated_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ'),
    doc->>'server_version', COALESCE(doc->>'extension_version', '?'), doc->>'role',
    CASE WHEN (doc->>'sees_all_texts')::boolean THEN ' (sees every user''s statements)'
         ELSE ' (other users'' statement texts are hidden: they need pg_read_all_stats)' END);

  ---------------------------------------------------------------- health
  o := o || medianest_perf.report_text_heading('Health');
  SELECT pg_catalog.string_agg(pg_catalog.format('  %s %s %s  [%s]%s',
           pg_catalog.rpad(medianest_perf.report_label(x.component), 20),
           pg_catalog.lpad(COALESCE(x.score::integer::text, '-'), 3), pg_catalog.rpad(COALESCE(x.grade, ''), 3),
           pg_catalog.rpad(medianest_perf.report_text_bar(x.score, 100, 25), 25, '.'),
           CASE WHEN x.note IS NOT NULL THEN '  ' || x.note
                WHEN x.weakest IS NOT NULL THEN pg_catalog.format('  weakest: %s %s (sub-score %s)',
                  medianest_perf.report_label(x.weakest), medianest_perf.report_figure(x.weakest, x.weakest_value),
                  pg_catalog.round(x.weakest_score::numeric))
                ELSE '' END), E'\n' ORDER BY x.component = 'overall' DESC, x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(doc->'health') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(component text, score double precision, grade text,
           note text, weakest text, weakest_value double precision, weakest_score double precision);
  o := o || t;

  ------------------------------------------------------- recommendations
  s := doc->'recommendations';
  o := o || medianest_perf.report_text_heading(pg_catalog.format('What to fix first: %s findings (%s critical, %s warning, %s info)',
              s->>'count', s->>'critical', s->>'warning', s->>'info'));
  SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s. %s  %s  %s  (impact %s)\n%s%s',
           pg_catalog.lpad(x_e.ord::text, 3), pg_catalog.upper(x.severity), medianest_perf.report_label(x.category),
           x.object, COALESCE(pg_catalog.round(x.impact::numeric, 1) || '%', '-'),
           medianest_perf.report_wrap(x.finding, 92, '       '),
           COALESCE(E'\n' || medianest_perf.report_wrap('fix: ' || x.action, 92, '       '), '')), E'\n' ORDER BY x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(category text, severity text, object text,
           finding text, action text, impact double precision);
  o := o || COALESCE(t, '  Nothing to recommend.');
  IF (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items') THEN
    o := o || pg_catalog.format(E'\n  ... %s more: SELECT * FROM medianest_perf.recommendations;',
                                (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'));
  END IF;

  ------------------------------------------------------------ statements
  s := doc->'statements';
  IF s IS NULL THEN
    o := o || medianest_perf.report_text_heading('Top statements by total time')
           || '  medianest_perf is not in shared_preload_libraries: no statement statistics, slow queries or N+1 incidents.'::text;
  ELSE
    o := o || medianest_perf.report_text_heading(pg_catalog.format('Top statements by total time: %s of %s (%s in %s calls)',
                pg_catalog.jsonb_array_length(s->'items'), medianest_perf.report_num((s->>'count')::double precision),
                medianest_perf.report_ms((s->>'total_time_ms')::double precision),
                medianest_perf.report_num((s->>'calls')::double precision)));
    IF pg_catalog.jsonb_array_length(s->'items') = 0 THEN
      o := o || '  No statement recorded yet.'::text;
    ELSE
      SELECT pg_catalog.max(x.total_time_ms) INTO m
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(total_time_ms double precision);
      SELECT pg_catalog.format('  %s %s %s %s %s %s %s %s  %s', pg_catalog.lpad('#', 3), pg_catalog.lpad('total', 9),
               pg_catalog.lpad('share', 6), pg_catalog.lpad('calls', 10), pg_catalog.lpad('mean', 9),
               pg_catalog.lpad('p50', 9), pg_catalog.lpad('p95', 9), pg_catalog.lpad('p99', 9), 'statement')
             || E'\n' ||
             pg_catalog.string_agg(pg_catalog.format(E'  %s %s %s %s %s %s %s %s  %s\n      %s%s',
               pg_catalog.lpad(x.rank::text, 3), pg_catalog.lpad(medianest_perf.report_ms(x.total_time_ms), 9),
               pg_catalog.lpad(medianest_perf.report_pct(x.share), 6), pg_catalog.lpad(medianest_perf.report_num(x.calls), 10),
               pg_catalog.lpad(medianest_perf.report_ms(x.mean_time_ms), 9), pg_catalog.lpad(medianest_perf.report_ms(x.p50_ms), 9),
               pg_catalog.lpad(medianest_perf.report_ms(x.p95_ms), 9), pg_catalog.lpad(medianest_perf.report_ms(x.p99_ms), 9),
               medianest_perf.report_cut(x.query, 40),
               medianest_perf.report_text_bar(x.total_time_ms, m, 60),
               CASE WHEN x.slow_calls > 0 THEN pg_catalog.format('  %s slow, %s critical', x.slow_calls, x.critical_calls) ELSE '' END),
               E'\n' ORDER BY x.rank)
        INTO t
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(rank integer, query text, calls bigint,
               total_time_ms double precision, share double precision, mean_time_ms double precision,
               p50_ms double precision, p95_ms double precision, p99_ms double precision,
               slow_calls bigint, critical_calls bigint);
      o := o || t;
      -- full texts, then the histograms in quarter decades
      SELECT pg_catalog.string_agg(pg_catalog.format(E'  #%s  user %s%s\n%s',
               x.rank, COALESCE(x.username, '?'), COALESCE(', queryid ' || x.queryid, ''),
               medianest_perf.report_wrap(x.query, 92, '      ')), E'\n' ORDER BY x.rank)
        INTO t
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(rank integer, query text, username text, queryid bigint);
      o := o || (E'\n\n  Statements:\n' || t);
      SELECT pg_catalog.string_agg(pg_catalog.format(E'\n  Latency of #%s (calls per latency band; p50 %s, p95 %s, p99 %s, max %s)\n%s',
               x.rank, medianest_perf.report_ms(x.p50_ms), medianest_perf.report_ms(x.p95_ms),
               medianest_perf.report_ms(x.p99_ms), medianest_perf.report_ms(x.max_time_ms),
               medianest_perf.report_text_histogram(
                 medianest_perf.report_array(x.histogram->'lo')::double precision[],
                 medianest_perf.report_array(x.histogram->'calls')::bigint[])), E'\n' ORDER BY x.rank)
        INTO t
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(rank integer, p50_ms double precision,
               p95_ms double precision, p99_ms double precision, max_time_ms double precision, histogram jsonb)
       WHERE x.histogram IS NOT NULL AND pg_catalog.jsonb_typeof(x.histogram->'lo') = 'array';
      o := o || COALESCE(t, '');
    END IF;

    ---------------------------------------------------------- slow queries
    s := doc->'slow_queries';
    o := o || medianest_perf.report_text_heading(pg_catalog.format('Slow queries: %s in this database, %s critical (thresholds now: slow_query_ms = %s, critical_query_ms = %s)',
                medianest_perf.report_num((s->>'count')::double precision), medianest_perf.report_num((s->>'critical')::double precision),
                COALESCE(s->>'slow_query_ms', '?'), COALESCE(s->>'critical_query_ms', '?')));
    IF (s->>'count')::bigint = 0 THEN
      o := o || '  No slow execution captured.'::text;
    ELSE
      -- timeline: at most 24 rows of a round step
      SELECT pg_catalog.min(a.v::double precision), pg_catalog.max(a.v::double precision) - pg_catalog.min(a.v::double precision)
        INTO t0, m
        FROM pg_catalog.jsonb_array_elements_text(s->'points'->'at') a(v);
      SELECT pg_catalog.min(st) INTO step
        FROM pg_catalog.unnest(ARRAY[60, 300, 900, 3600, 21600, 86400, 604800]::double precision[]) st
       WHERE m / st < 24;
      step := COALESCE(step, 604800);
      t0 := pg_catalog.floor(t0 / step) * step;
      SELECT pg_catalog.string_agg(pg_catalog.format('  %s  %s %s',
               pg_catalog.to_char(pg_catalog.to_timestamp(t0 + g.k * step), 'MM-DD HH24:MI'),
               pg_catalog.rpad(pg_catalog.repeat('!', LEAST(COALESCE(c.crit, 0), 60)::integer)
                               || pg_catalog.repeat('x', LEAST(COALESCE(c.n - c.crit, 0), 60 - LEAST(COALESCE(c.crit, 0), 60))::integer), 60),
               CASE WHEN COALESCE(c.n, 0) > 0 THEN pg_catalog.format('%s (%s critical)', c.n, c.crit) ELSE '' END), E'\n' ORDER BY g.k)
        INTO t
        FROM pg_catalog.generate_series(0, pg_catalog.floor(m / step)::integer) g(k)
        LEFT JOIN (SELECT pg_catalog.floor((a.v::double precision - t0) / step)::integer AS k,
                          pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE sv.v = 'critical') AS crit
                     FROM pg_catalog.jsonb_array_elements_text(s->'points'->'at') WITH ORDINALITY a(v, i)
                     JOIN pg_catalog.jsonb_array_elements_text(s->'points'->'severity') WITH ORDINALITY sv(v, i) ON sv.i = a.i
                    GROUP BY 1) c ON c.k = g.k;
      o := o || pg_catalog.format(E'  When (one row per %s; ! critical, x warning):\n%s\n',
                                  medianest_perf.format_duration(step * interval '1 second'), t);
      SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s  %s %s  rows %s  user %s  application %s\n%s%s',
               pg_catalog.to_char(x.captured_at, 'YYYY-MM-DD HH24:MI:SS'), pg_catalog.rpad(pg_catalog.upper(x.severity), 8),
               pg_catalog.lpad(medianest_perf.report_ms(x.duration_ms), 9), medianest_perf.report_num(x.rows),
               COALESCE(x.username, '?'), COALESCE(NULLIF(x.application_name, ''), '-'),
               medianest_perf.report_wrap(pg_catalog.left(x.query, 600) || CASE WHEN pg_catalog.length(x.query) > 600 THEN '…' ELSE '' END, 92, '      '),
               CASE WHEN x.plan IS NOT NULL THEN
                 E'\n      plan:\n' || (SELECT pg_catalog.string_agg('        ' || l.v, E'\n' ORDER BY l.i)
                                           FROM pg_catalog.regexp_split_to_table(x.plan, E'\n') WITH ORDINALITY l(v, i)
                                          WHERE l.i <= 30)
                 || CASE WHEN (SELECT pg_catalog.count(*) FROM pg_catalog.regexp_split_to_table(x.plan, E'\n')) > 30
                         THEN E'\n        ...' ELSE '' END
               ELSE '' END), E'\n' ORDER BY x_e.ord)
        INTO t
        FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(captured_at timestamptz, username text,
               application_name text, severity text, duration_ms double precision, rows bigint,
               query text, plan text);
      o := o || (pg_catalog.format(E'\n  Newest %s:\n', pg_catalog.jsonb_array_length(s->'items')) || t);
      IF (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items') THEN
        o := o || pg_catalog.format(E'\n  ... %s older ones: SELECT * FROM medianest_perf.slow_queries;',
                                    (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'));
      END IF;
    END IF;

    ------------------------------------------------------------------ N+1
    s := doc->'n_plus_one';
    IF s IS NOT NULL THEN
      o := o || medianest_perf.report_text_heading(pg_catalog.format('N+1 queries, repeated statements and write loops: %s incidents, saving about %s',
                  medianest_perf.report_num((s->>'count')::double precision),
                  medianest_perf.report_ms((s->>'estimated_saving_ms')::double precision)));
      SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s. %s  saves %s  (%s units of work, up to %s repeats, %s calls, %s)\n%s%s%s',
               pg_catalog.lpad(x_e.ord::text, 3), pg_catalog.upper(medianest_perf.report_label(x.kind)),
               medianest_perf.report_ms(x.estimated_saving_ms), medianest_perf.report_num(x.occurrences),
               medianest_perf.report_num(x.max_repeats), medianest_perf.report_num(x.total_repeated_calls),
               medianest_perf.report_ms(x.total_time_ms),
               medianest_perf.report_wrap('repeated: ' || x.repeated_query, 92, '       '),
               COALESCE(E'\n' || medianest_perf.report_wrap('driven by: ' || x.source_query, 92, '       '), ''),
               COALESCE(E'\n' || medianest_perf.report_wrap('rewrite: ' || x.suggestion, 92, '       '), '')), E'\n' ORDER BY x_e.ord)
        INTO t
        FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(kind text, source_query text, repeated_query text,
               occurrences bigint, max_repeats bigint, total_repeated_calls bigint, total_time_ms double precision,
               estimated_saving_ms double precision, suggestion text);
      o := o || COALESCE(t, '  No incident detected.');
      IF (s->>'count')::bigint > pg_catalog.jsonb_array_length(s->'items') THEN
        o := o || pg_catalog.format(E'\n  ... %s more: SELECT * FROM medianest_perf.n_plus_one;',
                                    (s->>'count')::bigint - pg_catalog.jsonb_array_length(s->'items'));
      END IF;
    END IF;
  END IF;

  --------------------------------------------------------------- indexes
  s := doc->'indexes';
  o := o || medianest_perf.report_text_heading(pg_catalog.format('Index verdicts: %s of %s indexes flagged, %s to free',
              medianest_perf.report_num((s->>'flagged')::double precision), medianest_perf.report_num((s->>'count')::double precision),
              pg_catalog.pg_size_pretty((s->>'wasted_bytes')::bigint)));
  SELECT '  By verdict: ' || pg_catalog.string_agg(pg_catalog.format('%s %s (%s)', x.verdict, x.count, pg_catalog.pg_size_pretty(x.bytes)), ', ' ORDER BY x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(s->'by_verdict') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(verdict text, count bigint, bytes bigint)
   WHERE x.count > 0;
  o := o || COALESCE(t, '  No index.');
  SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s  %s  %s, %s scans, %s statements  (on %s)\n%s%s%s',
           pg_catalog.quote_ident(x.schemaname) || '.' || pg_catalog.quote_ident(x.indexname),
           pg_catalog.upper(pg_catalog.replace(x.verdict, '_', ' ')), pg_catalog.pg_size_pretty(x.size_bytes),
           medianest_perf.report_num(x.idx_scan), COALESCE(medianest_perf.report_num(x.statements_using), '-'),
           pg_catalog.quote_ident(x.tablename),
           medianest_perf.report_wrap(x.reason, 92, '      '),
           COALESCE(E'\n' || medianest_perf.report_wrap('fix: ' || x.action, 92, '      '), ''),
           COALESCE((SELECT pg_catalog.string_agg(E'\n' || medianest_perf.report_wrap(
                              pg_catalog.format('used by (%s calls): %s', q.calls, medianest_perf.report_cut(q.query, 300)), 92, '      '), '' ORDER BY q_e.k)
                       FROM pg_catalog.jsonb_array_elements(x.queries) WITH ORDINALITY AS q_e(v, k) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(q_e.v) AS q(query text, calls bigint)), '')),
           E'\n' ORDER BY x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(schemaname text, tablename text, indexname text,
           size_bytes bigint, idx_scan bigint, statements_using bigint, verdict text, reason text, action text,
           queries jsonb);
  o := o || COALESCE(E'\n' || t, '');
  IF (s->>'flagged')::bigint > pg_catalog.jsonb_array_length(s->'items') THEN
    o := o || pg_catalog.format(E'\n  ... %s more: SELECT * FROM medianest_perf.index_usage WHERE verdict <> ''ok'';',
                                (s->>'flagged')::bigint - pg_catalog.jsonb_array_length(s->'items'));
  END IF;

  ----------------------------------------------------------------- bloat
  s := doc->'bloat';
  IF s IS NOT NULL THEN
    IF NOT (s->>'available')::boolean THEN
      o := o || medianest_perf.report_text_heading('Bloat') || ('  ' || (s->>'reason') || '.');
    ELSE
      o := o || medianest_perf.report_text_heading(pg_catalog.format('Bloat: %s reclaimable of %s measured in %s relations',
                  pg_catalog.pg_size_pretty((s->>'reclaimable_bytes')::bigint), pg_catalog.pg_size_pretty((s->>'total_bytes')::bigint),
                  medianest_perf.report_num((s->>'relations')::double precision)));
      SELECT pg_catalog.max(x.reclaimable_bytes) INTO m
        FROM pg_catalog.jsonb_to_recordset(s->'items') AS x(reclaimable_bytes double precision);
      SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s %s %s of %s  %s\n      %s%s',
               pg_catalog.rpad(pg_catalog.quote_ident(x.schemaname) || '.' || pg_catalog.quote_ident(x.relname), 40),
               pg_catalog.rpad(x.kind, 12), pg_catalog.lpad(pg_catalog.pg_size_pretty(x.reclaimable_bytes), 10),
               pg_catalog.pg_size_pretty(x.total_bytes),
               pg_catalog.round(x.bloat_pct::numeric, 1) || '%'
                 || CASE WHEN x.bloat_pct_error > 0 THEN ' +- ' || pg_catalog.round(x.bloat_pct_error::numeric, 1) ELSE '' END
                 || ' (' || x.method || ')',
               medianest_perf.report_text_bar(x.reclaimable_bytes, m, 50),
               CASE WHEN COALESCE(x.action, 'none') <> 'none' THEN E'\n      fix: ' || x.action || ';' ELSE '' END), E'\n' ORDER BY x_e.ord)
        INTO t
        FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(schemaname text, relname text, kind text,
               method text, total_bytes bigint, reclaimable_bytes bigint, bloat_pct double precision,
               bloat_pct_error double precision, action text);
      o := o || COALESCE(t, '  Nothing to reclaim.');
    END IF;
  END IF;

  ---------------------------------------------------------- index advice
  s := doc->'index_advice';
  IF s IS NOT NULL THEN
    IF NOT (s->>'available')::boolean THEN
      o := o || medianest_perf.report_text_heading('Missing indexes') || ('  ' || (s->>'reason') || '.');
    ELSE
      o := o || medianest_perf.report_text_heading(pg_catalog.format('Missing indexes: %s (advice of %s)',
                  pg_catalog.jsonb_array_length(s->'items'),
                  pg_catalog.to_char((s->>'advised_at')::timestamptz, 'YYYY-MM-DD HH24:MI:SS TZ')));
      SELECT pg_catalog.string_agg(pg_catalog.format(E'  %s. %s (%s)%s%s  about %s\n      workload cost %s -> %s (%s cheaper on the %s statement(s) it helps)\n      %s',
               pg_catalog.lpad(x_e.ord::text, 3), x.table_name, pg_catalog.array_to_string(x.key_columns, ', '),
               COALESCE(' INCLUDE (' || NULLIF(pg_catalog.array_to_string(x.include_columns, ', '), '') || ')', ''),
               COALESCE(' WHERE ' || x.predicate, ''), pg_catalog.pg_size_pretty(x.estimated_size_bytes),
               medianest_perf.report_num(pg_catalog.round(x.workload_cost_before)),
               medianest_perf.report_num(pg_catalog.round(x.workload_cost_after)),
               COALESCE(pg_catalog.round(x.improvement_pct::numeric, 1) || '%', '?'),
               COALESCE(x.statements::text, '?'), x.ddl), E'\n' ORDER BY x_e.ord)
        INTO t
        FROM pg_catalog.jsonb_array_elements(s->'items') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(table_name text, key_columns text[],
               include_columns text[], predicate text, estimated_size_bytes bigint,
               workload_cost_before double precision, workload_cost_after double precision,
               improvement_pct double precision, statements integer, ddl text);
      IF t IS NOT NULL AND (s->'items'->0->>'workload_cost_before')::double precision > 0 THEN
        o := o || pg_catalog.format(E'  With all of them the workload cost falls from %s to %s (-%s); each one below is added to those above it.\n',
                   medianest_perf.report_num(pg_catalog.round((s->'items'->0->>'workload_cost_before')::double precision)),
                   medianest_perf.report_num(pg_catalog.round((s->'items'->(pg_catalog.jsonb_array_length(s->'items') - 1)->>'workload_cost_after')::double precision)),
                   medianest_perf.report_pct(1 - (s->'items'->(pg_catalog.jsonb_array_length(s->'items') - 1)->>'workload_cost_after')::double precision
                                                 / (s->'items'->0->>'workload_cost_before')::double precision));
      END IF;
      o := o || COALESCE(t, '  No index would help the recorded workload enough.');
    END IF;
  END IF;

  ----------------------------------------------------------------- about
  o := o || medianest_perf.report_text_heading('About this report');
  SELECT pg_catalog.string_agg(pg_catalog.format('    %s = %s  (%s)', pg_catalog.rpad(x.name, 40), COALESCE(x.setting, ''), x.source),
                               E'\n' ORDER BY x_e.ord)
    INTO t
    FROM pg_catalog.jsonb_array_elements(doc->'settings') WITH ORDINALITY AS x_e(v, ord) CROSS JOIN LATERAL pg_catalog.jsonb_to_record(x_e.v) AS x(name text, setting text, source text);
  o := o || pg_catalog.format(E'  generated in %s%s\n  settings that matter:\n%s\n',
    medianest_perf.report_ms(COALESCE(1000 * pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - started),
                                      (doc->>'data_ms')::double precision)),
    CASE WHEN doc ? 'statements' THEN pg_catalog.format(E'\n  statement store: %s of %s entries, %s evicted, %s executions not recorded',
           medianest_perf.report_num((doc->'statements'->'store'->>'entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'max_entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'evicted_entries')::double precision),
           medianest_perf.report_num((doc->'statements'->'store'->>'dropped_samples')::double precision))
         ELSE '' END,
    COALESCE(t, ''));
  -- no control character from a name or a statement reaches the terminal
  -- (an escape sequence could clear or repaint it): only line feeds remain
  RETURN pg_catalog.translate(pg_catalog.array_to_string(o, E'\n'),
           E'\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f',
           '');
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.report_text(jsonb, timestamptz) IS
  'Render a report_data() document as plain text for psql (the same sections as the HTML page, charts drawn with # characters); control characters other than line feed and tab are dropped';

CREATE FUNCTION medianest_perf.report(format text DEFAULT 'html')
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  started timestamptz := pg_catalog.clock_timestamp();
  f text := pg_catalog.lower(pg_catalog.btrim(format));
BEGIN
  IF f IS NULL THEN
    RAISE EXCEPTION 'report format must not be null'
      USING ERRCODE = 'null_value_not_allowed', HINT = 'Use ''html'' or ''text''.';
  END IF;
  IF f NOT IN ('html', 'text') THEN
    RAISE EXCEPTION 'unknown report format "%"', format
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''html'' or ''text''.';
  END IF;
  IF f = 'html' THEN
    RETURN medianest_perf.report_html(medianest_perf.report_data(), started);
  END IF;
  RETURN medianest_perf.report_text(medianest_perf.report_data(), started);
END;
$fn$;

COMMENT ON FUNCTION medianest_perf.report(text) IS
  'One report of everything medianest_perf found in this database: format ''html'' (default) gives a self-contained page with charts (inline CSS and SVG, no script, no external resource: psql -XAtc "SELECT medianest_perf.report()" -o report.html), ''text'' the same content as plain text. Other users'' statement texts are hidden as in the views';


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
  PERFORM medianest_perf.reset_n_plus_one();
END;
$$;

COMMENT ON FUNCTION medianest_perf.reset() IS
  'Reset everything medianest_perf has recorded (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset() FROM PUBLIC;
