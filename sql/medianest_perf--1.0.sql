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
