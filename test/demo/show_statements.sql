\pset footer off
SELECT calls,
       round(total_time_ms::numeric)      AS total_ms,
       round(mean_time_ms::numeric, 2)    AS mean_ms,
       round(p50_ms::numeric, 2)          AS p50_ms,
       round(p95_ms::numeric, 2)          AS p95_ms,
       round(p99_ms::numeric, 2)          AS p99_ms,
       round(cache_hit_ratio::numeric, 3) AS hit,
       left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query
  FROM medianest_perf.statements
 WHERE toplevel
 ORDER BY total_time_ms DESC
 LIMIT 8;
