--
-- report(): the escaping helper, the number formats, bad input, the
-- structure of both formats (sections, row counts that match the views),
-- text that tries to break out of the page (a table named
-- <script>alert(1)</script>, a statement containing </svg>, an application
-- name with markup), every inline SVG well-formed, nothing external, and a
-- plain role's report without other users' texts.
--
-- The optional parts (bloat, index advice) are covered by the pgTAP suite;
-- the page as a browser renders it by test/scripts/report_browser.sh.
--
CREATE EXTENSION medianest_perf;
SET medianest_perf.track = top;
SET medianest_perf.unused_index_min_age = 0;
SET medianest_perf.advice_cache_max_age = -1;
SET medianest_perf.bloat_cache_max_age = -1;

-- html_escape: the five characters, control characters, everything else kept
SELECT medianest_perf.html_escape('a & b < c > d " e '' f') AS escaped;
SELECT medianest_perf.html_escape('<script>alert(1)</script>') AS escaped;
SELECT medianest_perf.html_escape('&lt;') AS escaped_twice_is_visible;
SELECT medianest_perf.html_escape(E'tab\there\nline\rcr') = E'tab\there\nline\rcr' AS keeps_white_space,
       medianest_perf.html_escape(E'bell\x07 esc\x1b[31m del\x7f') AS drops_controls,
       medianest_perf.html_escape('naïve — ∑ 日本') AS keeps_non_ascii,
       medianest_perf.html_escape(NULL) IS NULL AS strict,
       medianest_perf.html_escape('') = '' AS empty;
-- every printable ASCII character: only the five are changed
SELECT string_agg(c, '') FILTER (WHERE medianest_perf.html_escape(c) <> c) AS changed,
       count(*) FILTER (WHERE medianest_perf.html_escape(c) = c) AS unchanged
  FROM (SELECT chr(g) AS c FROM generate_series(32, 126) g) x;

-- formats
SELECT medianest_perf.report_ms(v) AS ms
  FROM unnest(ARRAY[NULL, 0, 0.0421, 3.214, 42.06, 123.4, 1250, 150000, 7200000]::float8[]) v;
SELECT medianest_perf.report_num(v) AS num
  FROM unnest(ARRAY[NULL, 0, 7, 1234, 1234567.25, 1e16]::float8[]) v;
SELECT medianest_perf.report_pct(v) AS pct FROM unnest(ARRAY[NULL, 0, 0.00001, 0.4567, 1]::float8[]) v;
SELECT medianest_perf.report_cut(E'SELECT  a,\n\tb   FROM t', 100) AS one_line,
       medianest_perf.report_cut('abcdefghij', 5) AS cut,
       length(medianest_perf.report_cut(repeat('x', 500), 90)) AS cut_length;
SELECT medianest_perf.report_wrap('one two three four five six seven eight nine ten', 15, '  ') AS wrapped;

-- bad input
SELECT medianest_perf.report('pdf');
SELECT medianest_perf.report(NULL);
SELECT length(medianest_perf.report(' TEXT ')) > 0 AS format_is_case_insensitive;

-- hostile names and texts
SELECT medianest_perf.reset();
CREATE TABLE "<script>alert(1)</script>" (id int PRIMARY KEY, v int);
INSERT INTO "<script>alert(1)</script>" SELECT g, g % 10 FROM generate_series(1, 2000) g;
CREATE INDEX "<b>dup</b>" ON "<script>alert(1)</script>" (v);
CREATE INDEX "dup2 ""quoted"" & <i>" ON "<script>alert(1)</script>" (v);
-- a name with a terminal escape sequence (clear screen) and a bell
DO $$ BEGIN EXECUTE format('CREATE INDEX %I ON %I (v)', E'esc\x1b[2J\x07', '<script>alert(1)</script>'); END $$;
ANALYZE "<script>alert(1)</script>";
SELECT count(*) FROM "<script>alert(1)</script>" WHERE v = 3;
SELECT 1 AS "</svg><script>alert(2)</script>";
SET application_name = '<img src=x onerror=alert(3)>';
SET medianest_perf.slow_query_ms = 10;
SELECT pg_sleep(0.02), '</svg></text><script>alert(4)</script>' AS payload;
SET medianest_perf.slow_query_ms = 100000;
RESET application_name;
-- an N+1 loop: one statement's rows drive one lookup each
BEGIN;
SELECT id FROM "<script>alert(1)</script>" WHERE id <= 8 ORDER BY id;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 1;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 2;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 3;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 4;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 5;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 6;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 7;
SELECT v FROM "<script>alert(1)</script>" WHERE id = 8;
COMMIT;
SELECT pg_stat_force_next_flush();

-- both formats and the figures of the views, read in one statement
CREATE TEMP TABLE rep AS
SELECT medianest_perf.report() AS html,
       medianest_perf.report('text') AS txt,
       (SELECT count(*) FROM medianest_perf.recommendations) AS recos,
       (SELECT count(*) FROM medianest_perf.statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = current_database()) AS stmts,
       (SELECT count(*) FROM medianest_perf.slow_queries q WHERE q.datname = current_database()) AS slow,
       (SELECT count(*) FROM medianest_perf.n_plus_one n JOIN pg_database d ON d.oid = n.dbid
         WHERE d.datname = current_database()) AS nplus1,
       (SELECT count(*) FROM medianest_perf.index_usage WHERE kind <> 'partition') AS indexes,
       (SELECT count(*) FROM medianest_perf.index_usage WHERE kind <> 'partition' AND verdict <> 'ok') AS flagged;

-- HTML: one document, the sections in order, nothing that loads or runs
SELECT html LIKE E'<!DOCTYPE html>\n<html lang="en">%' AS starts, html LIKE E'%</body>\n</html>' AS ends,
       regexp_count(html, '<html') AS html_tags, regexp_count(html, '</body>') AS body_ends
  FROM rep;
-- (the optional parts' sections come and go with the parts: checked apart)
SELECT array_agg(m[1] ORDER BY n) FILTER (WHERE m[1] NOT IN ('bloat', 'index-advice')) AS sections
  FROM rep, regexp_matches(html, '<section (?:class="[^"]*" )?id="([a-z-]+)"', 'g') WITH ORDINALITY AS x(m, n);
SELECT (html ~ '<section id="bloat">') = (to_regclass('medianest_perf.bloat_report') IS NOT NULL) AS bloat_iff_installed,
       (html ~ '<section id="index-advice">') = (to_regproc('medianest_perf.index_advice') IS NOT NULL) AS advice_iff_installed
  FROM rep;
SELECT html ~* '<script' AS has_script_tag, html ~* '<[a-z][^>]*\son[a-z]+\s*=' AS has_event_handler,
       html ~* '<(link|img|iframe|object|embed|base|form|input)\M' AS has_loading_tag,
       html ~* '(@import|url\s*\()' AS css_loads,
       html ~* '<[a-z][^>]*\s(src|href|action)\s*=\s*(?!"#)' AS has_external_reference,
       regexp_count(html, '<a href="#[a-z-]+">') = regexp_count(html, '<section id=') AS a_link_per_section,
       html ~ 'javascript:' AS has_js_url,
       html LIKE '%<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''; img-src data:; base-uri ''none''; form-action ''none''">%' AS csp
  FROM rep;
-- the hostile texts are there, as text
SELECT html LIKE '%&lt;script&gt;alert(1)&lt;/script&gt;%' AS table_name_escaped,
       html LIKE '%&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;%' AS alias_escaped,
       html LIKE '%&lt;/svg&gt;&lt;/text&gt;&lt;script&gt;alert(4)&lt;/script&gt;%' AS slow_text_escaped,
       html LIKE '%&lt;img src=x onerror=alert(3)&gt;%' AS application_name_escaped,
       html LIKE '%dup2 &quot;&quot;quoted&quot;&quot; &amp; &lt;i&gt;%' AS quoted_identifier_escaped,
       html LIKE '%alert(1)</script>%' OR html LIKE '%<img src=x%' OR html LIKE '%</svg><script>%' AS raw_anywhere
  FROM rep;
-- every chart is a well-formed XML document with a positive size, and the
-- <svg> elements balance
SELECT count(*) AS svgs,
       bool_and(xml_is_well_formed_document(m[1])) AS all_well_formed,
       bool_and(m[1] ~ '^<svg class="chart [a-z]+" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 [0-9]+ [0-9]+" width="[1-9][0-9]*" height="[1-9][0-9]*" role="img" aria-label="[^"<>]*">') AS sized_and_labelled
  FROM rep, regexp_matches(html, '(<svg .*?</svg>)', 'g') AS x(m);
SELECT regexp_count(html, '<svg ') = regexp_count(html, '</svg>') AS balanced,
       regexp_count(html, '<svg class="chart hist"') AS histograms,
       regexp_count(html, '<svg class="chart timeline"') AS timelines,
       regexp_count(html, '<circle class="dot critical"') + regexp_count(html, '<circle class="dot warning"') = slow AS a_dot_per_slow_execution
  FROM rep;
-- rows match the views
SELECT regexp_count(html, '<tr class="reco">') = least(recos, 100) AS reco_rows,
       (regexp_match(html, '<p class="sub">([0-9,]+) findings'))[1] = to_char(recos, 'FM999,999,990') AS reco_count,
       regexp_count(html, '<tr class="stmt">') = least(stmts, 10) AS stmt_rows,
       (regexp_match(html, '<p class="sub">([0-9,]+) statements recorded'))[1] = to_char(stmts, 'FM999,999,990') AS stmt_count,
       regexp_count(html, '<tr class="slow">') = least(slow, 25) AS slow_rows,
       (regexp_match(html, '<p class="sub">([0-9,]+) executions in this database were captured as slow'))[1] = slow::text AS slow_count,
       regexp_count(html, '<tr class="np">') = least(nplus1, 50) AND nplus1 > 0 AS nplus1_rows,
       regexp_count(html, '<tr class="idx">') = least(flagged, 100) AND flagged > 0 AS index_rows,
       (regexp_match(html, '<p class="sub">([0-9,]+) indexes take'))[1] = indexes::text AS index_count
  FROM rep;
-- the duplicate index and what to run, with its statements
SELECT html ~ '<span class="pill v-duplicate">duplicate</span>' AS duplicate_verdict,
       html LIKE '%DROP INDEX CONCURRENTLY IF EXISTS public.&quot;&lt;b&gt;dup&lt;/b&gt;&quot;;%'
         OR html LIKE '%DROP INDEX CONCURRENTLY IF EXISTS public.&quot;dup2 &quot;&quot;quoted&quot;&quot; &amp; &lt;i&gt;&quot;;%' AS drop_ddl_escaped,
       html ~ '<span class="pill critical">N\+1</span>' AS nplus1_kind,
       html ~ '<span>rewrite</span><pre>' AS rewrite_shown,
       html ~ '<details><summary>plan</summary><pre>' AS plan_expandable
  FROM rep;

-- text: the same sections and counts; texts as they are
SELECT array_agg(m[1] ORDER BY n) FILTER (WHERE m[1] NOT IN ('Bloat', 'Missing indexes')) AS headings
  FROM rep, regexp_matches(txt, E'\n== ([^=:\n]*[^=: \n])', 'g') WITH ORDINALITY AS x(m, n);
SELECT (txt ~ E'\n== Bloat') = (to_regclass('medianest_perf.bloat_report') IS NOT NULL) AS bloat_iff_installed,
       (txt ~ E'\n== Missing indexes') = (to_regproc('medianest_perf.index_advice') IS NOT NULL) AS advice_iff_installed
  FROM rep;
SELECT txt LIKE 'medianest_perf report: database ' || current_database() || E'\n%' AS first_line,
       (regexp_match(txt, '== What to fix first: ([0-9]+) findings'))[1] = recos::text AS reco_count,
       regexp_count(txt, E'\n +[0-9]+\\. (CRITICAL|WARNING|INFO)  ') = least(recos, 100) AS reco_rows,
       (regexp_match(txt, '== Top statements by total time: ([0-9]+) of ([0-9,]+)'))[2] = to_char(stmts, 'FM999,999,990') AS stmt_count,
       (regexp_match(txt, '== Slow queries: ([0-9,]+) in this database'))[1] = slow::text AS slow_count,
       (regexp_match(txt, '== N\+1 queries, repeated statements and write loops: ([0-9,]+) incidents'))[1] = nplus1::text AS nplus1_count,
       (regexp_match(txt, '== Index verdicts: ([0-9,]+) of ([0-9,]+) indexes flagged'))[1] = flagged::text AS flagged_count,
       txt LIKE '%<script>alert(1)</script>%' AS raw_table_name,
       txt LIKE '%</svg></text><script>alert(4)</script>%' AS raw_slow_text,
       txt ~ E'\n  Latency of #1 \\(calls per latency band' AS histogram,
       txt ~ '#{10,}' AS bars,
       txt !~ '<(svg|div|span|table|section)' AS no_markup
  FROM rep;
-- control characters from names reach neither format
SELECT html LIKE '%esc[2J%' AS html_has_name, html ~ E'[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' AS html_has_controls,
       txt LIKE '%esc[2J%' AS text_has_name, txt ~ E'[\\x01-\\x08\\x0b-\\x1f\\x7f]' AS text_has_controls
  FROM rep;

-- a plain role: other users' statement texts stay hidden, in both formats
CREATE ROLE regress_report_reader;
SET ROLE regress_report_reader;
CREATE TEMP TABLE rep_plain AS SELECT medianest_perf.report() AS html, medianest_perf.report('text') AS txt;
SELECT html LIKE '%alert(2)%' OR html LIKE '%alert(4)%' OR html LIKE '%pg_sleep%' AS html_shows_texts,
       txt LIKE '%alert(2)%' OR txt LIKE '%alert(4)%' OR txt LIKE '%pg_sleep%' AS text_shows_texts,
       html LIKE '%&lt;insufficient privilege&gt;%' AS html_masked,
       txt LIKE '%<insufficient privilege>%' AS text_masked,
       html LIKE '%other users&#39; statement texts are hidden%' OR html LIKE '%other users'' statement texts are hidden%' AS says_so
  FROM rep_plain;
RESET ROLE;
DROP TABLE rep_plain;
DROP ROLE regress_report_reader;

DROP TABLE rep;
DROP TABLE "<script>alert(1)</script>";
DROP EXTENSION medianest_perf;
