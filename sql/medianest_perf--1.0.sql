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


-----------------------------------------------------------------------------
-- Index usage scoring
-----------------------------------------------------------------------------


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
  'Bloat of a table, materialized view, TOAST table or btree index: mode sample (random pages, with an error bound; the whole relation when it is smaller), exact (every page) or estimate (catalog statistics only), and the action to take. Needs superuser or pg_stat_scan_tables';

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
  'bloat() of every user table, materialized view, their TOAST tables and valid btree indexes, largest first: sampled with medianest_perf.bloat_report_sample_pages pages each until medianest_perf.bloat_report_max_pages pages were read, estimated from the catalog after that; relations locked by others are skipped, not waited for';

REVOKE ALL ON medianest_perf.bloat_report FROM PUBLIC;
GRANT SELECT ON medianest_perf.bloat_report TO pg_stat_scan_tables;

COMMENT ON COLUMN medianest_perf.bloat_report.relid IS 'OID of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.schemaname IS 'Schema of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.relname IS 'Name of the relation';
COMMENT ON COLUMN medianest_perf.bloat_report.kind IS 'table, materialized view, toast table or btree index';
COMMENT ON COLUMN medianest_perf.bloat_report.method IS 'How the figures were obtained: sample (random pages), exact (every page), estimate (catalog statistics, no page read) or skipped (bloat_report only: the relation was locked)';
COMMENT ON COLUMN medianest_perf.bloat_report.pages IS 'Size of the relation in pages when it was measured';
COMMENT ON COLUMN medianest_perf.bloat_report.pages_read IS 'Pages read (0 for estimate; the btree metapage is not read)';
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
COMMENT ON COLUMN medianest_perf.bloat_report.bloat_pct_error IS '~95% bound on bloat_pct in percentage points (1.96 standard errors from the per-page variance, with finite population correction); 0 for exact, NULL for estimate';
COMMENT ON COLUMN medianest_perf.bloat_report.reliable IS 'false when a known failure case applies: missing or stale statistics, dropped columns, TOAST or deduplicated index (estimate), a sample under 30 pages, a skipped relation; note says which';
COMMENT ON COLUMN medianest_perf.bloat_report.note IS 'Explanations: why the result is unreliable, dead tuples an old snapshot keeps, deduplication, locks the action takes';
COMMENT ON COLUMN medianest_perf.bloat_report.action IS 'What to run: VACUUM (dead tuples), VACUUM FULL (space only a rewrite returns; pg_repack does it online), REINDEX INDEX CONCURRENTLY (index bloat), or none; thresholds medianest_perf.bloat_min_ratio and medianest_perf.bloat_min_bytes';

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
END;
$$;

COMMENT ON FUNCTION medianest_perf.reset() IS
  'Reset everything medianest_perf has recorded (superuser only unless granted)';

REVOKE ALL ON FUNCTION medianest_perf.reset() FROM PUBLIC;
