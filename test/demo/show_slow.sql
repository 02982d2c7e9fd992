\pset footer off
SELECT severity, count(*) AS executions, round(max(duration_ms)) AS max_ms,
       left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
  FROM medianest_perf.slow_queries
 GROUP BY severity, query ORDER BY max(duration_ms) DESC LIMIT 5;
\echo 'plan of the slowest execution:'
SELECT plan FROM medianest_perf.slow_queries ORDER BY duration_ms DESC LIMIT 1 \g (format=unaligned tuples_only)
