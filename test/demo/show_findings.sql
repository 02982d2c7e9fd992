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
SELECT "table", "index", verdict, score, left(reason, 70) AS reason
  FROM medianest_perf.index_usage WHERE verdict <> 'ok' ORDER BY score, "index" LIMIT 10;
\endif

\if :has_bloat
\echo '--- bloat ---'
SELECT * FROM medianest_perf.bloat_report LIMIT 8;
\endif

\if :has_advice
\echo '--- index advice (planner-verified) ---'
SELECT * FROM medianest_perf.index_advice();
\endif
