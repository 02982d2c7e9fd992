-- Contract of report(): shape, privileges, bad input, the escaping helper
-- (every character, and a round trip over hostile strings), the document
-- report_data() builds, and the optional sections (bloat, index advice):
-- present exactly when the part is installed, rows that match the part's
-- output, names escaped, a note instead of rows when the caller may not read
-- the part or it failed, and the advisor called once per report thanks to the
-- session cache.  Where the parts are not installed, stand-ins with their
-- exact columns are created in this (rolled back) transaction; once the real
-- parts are merged the same checks run against them where they can.
BEGIN;
SELECT plan(41);

SET LOCAL client_min_messages = warning;

-- shape and privileges
SELECT has_function('medianest_perf', 'report', ARRAY['text']);
SELECT function_returns('medianest_perf', 'report', ARRAY['text'], 'text');
SELECT has_function('medianest_perf', 'report_data', '{}'::name[]);
SELECT function_returns('medianest_perf', 'report_data', '{}'::name[], 'jsonb');
SELECT has_function('medianest_perf', 'html_escape', ARRAY['text']);
SELECT ok(has_function_privilege('public', 'medianest_perf.report(text)', 'EXECUTE'),
          'report() is executable by PUBLIC (it reads the views, which mask)');
SELECT ok(medianest_perf.report() LIKE E'<!DOCTYPE html>\n%', 'html is the default format');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND (p.proname LIKE 'report%' OR p.proname = 'html_escape')
              AND NOT COALESCE(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
          0, 'every report function pins search_path');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'medianest_perf'::regnamespace
              AND (p.proname LIKE 'report%' OR p.proname = 'html_escape')
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          0, 'every report function has a COMMENT');
SELECT ok((SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'medianest_perf'::regnamespace
            AND (p.proname LIKE 'report%' OR p.proname = 'html_escape')) >= 20,
          'the report functions are there');

-- bad input
SELECT throws_ok($$SELECT medianest_perf.report('pdf')$$, '22023', 'unknown report format "pdf"',
                 'an unknown format is refused');
SELECT throws_ok($$SELECT medianest_perf.report(NULL)$$, '22004', 'report format must not be null',
                 'a null format is refused');

-- html_escape
SELECT results_eq(
  $$SELECT medianest_perf.html_escape(v) FROM unnest(ARRAY['&', '<', '>', '"', '''', 'plain', '&amp;', '<<>>', E'a\u0001b', '']) WITH ORDINALITY u(v, k) ORDER BY k$$,
  $$VALUES ('&amp;'), ('&lt;'), ('&gt;'), ('&quot;'), ('&#39;'), ('plain'), ('&amp;amp;'), ('&lt;&lt;&gt;&gt;'), ('ab'), ('')$$,
  'html_escape replaces the five characters and drops control characters');
SELECT is(medianest_perf.html_escape(NULL), NULL, 'html_escape(NULL) is NULL');
-- 2000 random strings over an alphabet of markup characters: the escaped text
-- has no raw markup character, every & starts one of the five entities, and
-- decoding gives the input back
SELECT is((SELECT count(*)::int
             FROM (SELECT s, medianest_perf.html_escape(s) AS e
                     FROM (SELECT string_agg(substr('<>&"''/ =ax;#' || E'\n', 1 + (random() * 13)::int % 14, 1), '') AS s
                             FROM generate_series(1, 2000) g, generate_series(1, 30) c
                            GROUP BY g) r) x
            WHERE x.e ~ '[<>"'']'
               OR x.e ~ '&(?!(amp|lt|gt|quot|#39);)'
               OR replace(replace(replace(replace(replace(x.e, '&lt;', '<'), '&gt;', '>'), '&quot;', '"'),
                                  '&#39;', ''''), '&amp;', '&') <> x.s),
          0, 'random hostile strings: no raw markup left, entities well formed, decoding round-trips');

-- the document
SELECT ok(medianest_perf.report_data() ?& ARRAY['database', 'generated_at', 'server_version', 'extension_version',
                                                 'preloaded', 'role', 'sees_all_texts', 'limits', 'health',
                                                 'recommendations', 'statements', 'slow_queries', 'n_plus_one',
                                                 'indexes', 'settings', 'data_ms'],
          'report_data() has every section of a preloaded server');
SELECT is((SELECT jsonb_array_length(medianest_perf.report_data()->'health')), 7,
          'the six health components and overall');
SELECT ok((SELECT bool_and(s->>'setting' IS NOT NULL)
             FROM jsonb_array_elements(medianest_perf.report_data()->'settings') s)
          AND (SELECT count(*) FROM jsonb_array_elements(medianest_perf.report_data()->'settings') s
                WHERE s->>'name' IN ('shared_buffers', 'work_mem', 'medianest_perf.slow_query_ms')) = 3,
          'settings that matter, with their values');

-- optional parts: stand-ins when absent
CREATE FUNCTION pg_temp.report_optional_tests() RETURNS SETOF text
LANGUAGE plpgsql AS $t$
DECLARE
  html text;
  txt text;
  b record;
  a record;
  n integer;
BEGIN
  ------------------------------------------------------------------- bloat
  IF to_regclass('medianest_perf.bloat_report') IS NULL THEN
    CREATE TABLE public."<svg onload=alert(1)>" (a int);
    CREATE VIEW medianest_perf.bloat_report AS
    SELECT * FROM (VALUES
      ('public."<svg onload=alert(1)>"'::regclass::oid, 'public'::name, '<svg onload=alert(1)>'::name, 'table'::text, 'sample'::text,
       1000::bigint, 1000::bigint, 8192000::bigint, 4000000::bigint, 3000000::bigint, 1000000::bigint, 0::bigint, 0::bigint,
       10000::bigint, 8000::bigint, 0::bigint, NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint, 100,
       4100000::bigint, 4092000::bigint, 49.95::float8, 2.1::float8, true, 'a note with <b>markup</b>'::text,
       'VACUUM FULL public."<svg onload=alert(1)>"'::text),
      (0::oid, 'public', 'Idx "q"', 'btree index', 'exact',
       100, 100, 819200, 300000, 0, 500000, 0, NULL, 3000, 0, NULL, 3000, 36.6, 0, 0, 90,
       333000, 486200, 59.35, 0.0, true, NULL, 'REINDEX INDEX CONCURRENTLY public."Idx ""q"""'),
      (0::oid, 'public', 'fine', 'table', 'sample',
       100, 100, 819200, 800000, 0, 19200, 0, 0, 3000, 0, 0, NULL, NULL, NULL, NULL, 100,
       810000, 0, 0.0, 0.5, true, NULL, 'none')
    ) v(relid, schemaname, relname, kind, method, pages, pages_read, total_bytes, live_bytes, dead_bytes,
        free_bytes, reserved_bytes, dropped_column_bytes, live_tuples, dead_tuples, dead_line_pointers,
        heap_tids, leaf_density, deleted_pages, half_dead_pages, fillfactor, expected_bytes,
        reclaimable_bytes, bloat_pct, bloat_pct_error, reliable, note, action);
  END IF;
  SET LOCAL medianest_perf.bloat_cache_max_age = 3600;
  PERFORM medianest_perf.session_cache_clear();
  SELECT * INTO b FROM medianest_perf.bloat_inputs();
  html := medianest_perf.report();
  txt := medianest_perf.report('text');
  SELECT count(*) INTO n FROM jsonb_array_elements(b.relations) e WHERE (e->>'reclaimable_bytes')::float8 > 0;
  RETURN NEXT ok(html ~ '<section id="bloat"><h2>Bloat</h2><p class="sub">', 'an installed bloat part gets its section');
  RETURN NEXT is(regexp_count(html, '<tr class="bloat">'), LEAST(n, 15),
                 'one row per relation with reclaimable bytes (at most 15)');
  RETURN NEXT is(regexp_count(html, '<svg class="chart bars"[^>]*aria-label="reclaimable bytes per relation"'),
                 CASE WHEN n > 0 THEN 1 ELSE 0 END, 'and a bar chart of them');
  RETURN NEXT ok(txt ~ E'\n== Bloat: [^\n]* reclaimable of [^\n]* measured in [0-9,]+ relations', 'the text report has the bloat heading');
  IF to_regclass('public."<svg onload=alert(1)>"') IS NOT NULL THEN
    RETURN NEXT ok(html LIKE '%public.&quot;&lt;svg onload=alert(1)&gt;&quot;%' AND html NOT LIKE '%<svg onload%',
                   'a relation named <svg onload=alert(1)> is escaped in rows, chart and action');
    RETURN NEXT ok(html LIKE '%a note with &lt;b&gt;markup&lt;/b&gt;%', 'the bloat note is escaped');
    RETURN NEXT ok(txt LIKE '%fix: VACUUM FULL public."<svg onload=alert(1)>";%', 'the text report keeps the action as it is');
  ELSE
    RETURN NEXT skip('the real bloat part is installed: the stand-in''s hostile name is not there', 3);
  END IF;
  -- a role that may not read bloat_report: a note, no rows
  CREATE ROLE report_tap_plain;
  SET LOCAL ROLE report_tap_plain;
  html := medianest_perf.report();
  RESET ROLE;
  RETURN NEXT ok(html LIKE '%<section id="bloat"><h2>Bloat</h2><p class="note">measuring bloat needs superuser or membership in pg_stat_scan_tables.</p></section>%',
                 'without pg_stat_scan_tables the bloat section says why it is empty');
  SET LOCAL medianest_perf.bloat_cache_max_age = -1;
  RETURN NEXT ok(medianest_perf.report() LIKE '%<p class="note">medianest_perf.bloat_cache_max_age = -1 leaves bloat out of the report.</p>%',
                 'bloat_cache_max_age = -1 leaves it out, and says so');
  SET LOCAL medianest_perf.bloat_cache_max_age = 3600;

  ------------------------------------------------------------ index advice
  IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'index_advice'
                    AND pronamespace = 'medianest_perf'::regnamespace) THEN
    CREATE FUNCTION medianest_perf.index_advice(
        time_limit_ms integer DEFAULT 10000,
        OUT rank integer, OUT relid regclass, OUT table_name text, OUT key_columns text[],
        OUT include_columns text[], OUT predicate text, OUT estimated_size_bytes bigint,
        OUT workload_cost_before double precision, OUT workload_cost_after double precision,
        OUT improvement_pct double precision, OUT write_penalty double precision,
        OUT queries jsonb, OUT ddl text)
    RETURNS SETOF record LANGUAGE plpgsql AS $a$
    BEGIN
      PERFORM set_config('report_tap.advisor_calls',
                         (COALESCE(NULLIF(current_setting('report_tap.advisor_calls', true), ''), '0')::int + 1)::text, true);
      PERFORM set_config('report_tap.advisor_path', current_setting('search_path'), true);
      rank := 1; relid := NULL; table_name := 'public."</svg><b>orders"'; key_columns := ARRAY['customer_id', '"<i>c"'];
      include_columns := ARRAY['total']; predicate := $p$(status = '<pending>'::text)$p$; estimated_size_bytes := 2 * 1024 * 1024;
      workload_cost_before := 1000; workload_cost_after := 400; improvement_pct := 75; write_penalty := 3;
      queries := '[{"queryid": 1, "calls": 10}, {"queryid": 2, "calls": 5}]';
      ddl := $d$CREATE INDEX CONCURRENTLY IF NOT EXISTS "o_<i>" ON public."</svg><b>orders" (customer_id, "<i>c") INCLUDE (total) WHERE (status = '<pending>'::text);$d$;
      RETURN NEXT;
      rank := 2; table_name := 'public.items'; key_columns := ARRAY['sku']; include_columns := '{}'; predicate := NULL;
      estimated_size_bytes := 65536; workload_cost_before := 400; workload_cost_after := 300; improvement_pct := 40;
      queries := '[{"queryid": 3, "calls": 2}]';
      ddl := 'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_sku_idx ON public.items (sku);';
      RETURN NEXT;
    END $a$;
    SET LOCAL medianest_perf.advice_cache_max_age = 3600;
    PERFORM medianest_perf.session_cache_clear();
    PERFORM set_config('report_tap.advisor_calls', '0', true);
    html := medianest_perf.report();
    RETURN NEXT is(current_setting('report_tap.advisor_calls'), '1',
                   'one report calls the advisor once (the recommendations and the advice section share the session cache)');
    RETURN NEXT is(current_setting('report_tap.advisor_path'),
                   'pg_catalog, ' || (SELECT reset_val FROM pg_settings WHERE name = 'search_path'),
                   'the advisor plans with the session''s own search_path (pg_catalog first), not the pinned one');
    txt := medianest_perf.report('text');
    RETURN NEXT is(current_setting('report_tap.advisor_calls'), '1', 'and the next report reuses it');
    RETURN NEXT ok(html ~ '<section id="index-advice"><h2>Missing indexes</h2>', 'an installed advisor gets its section');
    RETURN NEXT is(regexp_count(html, '<tr class="advice">'), 2, 'one row per advised index');
    RETURN NEXT ok(html ~ '<svg class="chart pairs"[^>]*aria-label="workload cost before and after each index"',
                   'with a before/after chart');
    RETURN NEXT ok(html LIKE '%<pre class="ddl">CREATE INDEX CONCURRENTLY IF NOT EXISTS &quot;o_&lt;i&gt;&quot; ON public.&quot;&lt;/svg&gt;&lt;b&gt;orders&quot; (customer_id, &quot;&lt;i&gt;c&quot;) INCLUDE (total) WHERE (status = &#39;&lt;pending&gt;&#39;::text);'
                         || E'\n' || 'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_sku_idx ON public.items (sku);</pre>%',
                   'the DDL, escaped, ready to copy');
    RETURN NEXT ok(html NOT LIKE '%</svg><b>orders%' AND html NOT LIKE '%<i>c%' AND html NOT LIKE '%<pending>%',
                   'no raw markup from the advice anywhere (rows, chart labels, tooltips)');
    RETURN NEXT ok(html ~ '<td class="num">1,000 → 400</td><td class="num"><b>75.0%</b></td><td class="num">2</td>',
                   'cost before and after, improvement and statements helped');
    RETURN NEXT ok(txt ~ E'\n== Missing indexes: 2 \\(advice of ' AND txt LIKE E'%workload cost 1,000 -> 400 (75.0% cheaper on the 2 statement(s) it helps)%',
                   'the text report lists the advice');
    CREATE OR REPLACE FUNCTION medianest_perf.index_advice(
        time_limit_ms integer DEFAULT 10000,
        OUT rank integer, OUT relid regclass, OUT table_name text, OUT key_columns text[],
        OUT include_columns text[], OUT predicate text, OUT estimated_size_bytes bigint,
        OUT workload_cost_before double precision, OUT workload_cost_after double precision,
        OUT improvement_pct double precision, OUT write_penalty double precision,
        OUT queries jsonb, OUT ddl text)
    RETURNS SETOF record LANGUAGE plpgsql AS $a$
    BEGIN
      RAISE EXCEPTION 'advisor broke <on purpose>';
    END $a$;
    PERFORM medianest_perf.session_cache_clear();
    SET LOCAL client_min_messages = error;
    html := medianest_perf.report();
    SET LOCAL client_min_messages = warning;
    RETURN NEXT ok(html LIKE '%<section id="index-advice"><h2>Missing indexes</h2><p class="note">index_advice() failed: advisor broke &lt;on purpose&gt;.</p></section>%',
                   'a failing advisor leaves a note (escaped) and the rest of the report');
  ELSE
    SET LOCAL medianest_perf.advice_cache_max_age = 3600;
    SELECT * INTO a FROM medianest_perf.advice_inputs();
    html := medianest_perf.report();
    txt := medianest_perf.report('text');
    RETURN NEXT ok(html ~ '<section id="index-advice"><h2>Missing indexes</h2>', 'an installed advisor gets its section');
    RETURN NEXT is(regexp_count(html, '<tr class="advice">'),
                   CASE WHEN a.available THEN jsonb_array_length(a.advice) ELSE 0 END,
                   'one row per advised index');
    RETURN NEXT ok(txt ~ E'\n== Missing indexes', 'the text report has the advice heading');
    RETURN NEXT skip('the real index_advice() is installed: the stand-in''s checks do not apply', 8);
  END IF;
  SET LOCAL medianest_perf.advice_cache_max_age = -1;
  RETURN NEXT ok(medianest_perf.report() LIKE '%<p class="note">medianest_perf.advice_cache_max_age = -1 leaves the index advisor out of the report.</p>%',
                 'advice_cache_max_age = -1 leaves the advisor out, and says so');
END
$t$;

SELECT * FROM pg_temp.report_optional_tests();

-- with neither part, their sections are left out entirely
CREATE FUNCTION pg_temp.report_absent_tests() RETURNS SETOF text
LANGUAGE plpgsql AS $t$
DECLARE
  html text;
BEGIN
  IF to_regclass('medianest_perf.bloat_report') IS NOT NULL
     AND pg_get_viewdef('medianest_perf.bloat_report') LIKE '%VALUES%' THEN
    DROP VIEW medianest_perf.bloat_report;
  END IF;
  IF to_regclass('medianest_perf.bloat_report') IS NULL THEN
    html := medianest_perf.report();
    RETURN NEXT ok(html NOT LIKE '%id="bloat"%' AND html NOT LIKE '%href="#bloat"%',
                   'without the bloat part there is no bloat section nor link');
  ELSE
    RETURN NEXT skip('the real bloat part is installed', 1);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'index_advice' AND pronamespace = 'medianest_perf'::regnamespace
                AND prosrc LIKE '%advisor broke%') THEN
    DROP FUNCTION medianest_perf.index_advice(integer);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'index_advice' AND pronamespace = 'medianest_perf'::regnamespace) THEN
    html := medianest_perf.report();
    RETURN NEXT ok(html NOT LIKE '%id="index-advice"%' AND html NOT LIKE '%href="#index-advice"%',
                   'without the advisor there is no advice section nor link');
  ELSE
    RETURN NEXT skip('the real index_advice() is installed', 1);
  END IF;
END
$t$;

SELECT * FROM pg_temp.report_absent_tests();

SELECT * FROM finish();
ROLLBACK;
