-- Each part of the extension that is present in this build contributes.
\pset footer off
SELECT to_regclass('medianest_perf.n_plus_one') IS NOT NULL AS has_nplus1,
       to_regclass('medianest_perf.index_usage') IS NOT NULL AS has_index_usage,
       to_regclass('medianest_perf.bloat_report') IS NOT NULL AS has_bloat,
       to_regclass('medianest_perf.recommendations') IS NOT NULL AS has_recommendations,
       to_regproc('medianest_perf.health') IS NOT NULL AS has_health,
       to_regproc('medianest_perf.index_advice') IS NOT NULL AS has_advice \gset

\if :has_recommendations
\echo '--- recommendations (most severe first) ---'
SELECT severity, category, object, left(finding, 90) AS finding
  FROM medianest_perf.recommendations LIMIT 15;
\endif

\if :has_health
\echo '--- health ---'
SELECT component, score, grade FROM medianest_perf.health();
\endif

\if :has_nplus1
\echo '--- N+1 and repeated-statement incidents ---'
SELECT kind, occurrences, max_repeats, round(total_time_ms::numeric, 1) AS total_ms,
       round(estimated_saving_ms::numeric, 1) AS saving_ms,
       left(regexp_replace(repeated_query, '\s+', ' ', 'g'), 50) AS repeated_query,
       left(suggestion, 70) AS suggestion
  FROM medianest_perf.n_plus_one ORDER BY total_time_ms DESC LIMIT 6;
\endif

\if :has_index_usage
\echo '--- indexes that do not earn their keep ---'
SELECT tablename, indexname, verdict, score, left(reason, 70) AS reason
  FROM medianest_perf.index_usage WHERE verdict <> 'ok' ORDER BY score, indexname LIMIT 10;
\endif

\if :has_bloat
\echo '--- bloat ---'
SELECT schemaname || '.' || relname AS relation, kind, method,
       pg_size_pretty(total_bytes) AS size, pg_size_pretty(reclaimable_bytes) AS reclaimable,
       round(bloat_pct::numeric, 1) AS bloat_pct, action
  FROM medianest_perf.bloat_report ORDER BY reclaimable_bytes DESC NULLS LAST LIMIT 8;
\endif

\if :has_advice
\echo '--- index advice (planner-verified) ---'
SELECT table_name, key_columns, include_columns, predicate,
       pg_size_pretty(estimated_size_bytes) AS size, round(improvement_pct::numeric, 1) AS improvement_pct
  FROM medianest_perf.index_advice();
\endif
