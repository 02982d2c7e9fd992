#!/usr/bin/env bash
# Index advice quality: medianest_perf.index_advice() against pg_qualstats'
# pg_qualstats_index_advisor() on the same observed workload (prints
# figures, asserts nothing).
#
#  1. A generated schema: TPC-H-shaped tables (region ... lineitem, scale
#     factor SF, primary keys only) and an OLTP application (users, orders,
#     events, sessions; primary keys only), analyzed.
#  2. A weighted workload of about 210 distinct statements (point lookups,
#     recent-items-with-LIMIT, rare-status queues, covered range reads,
#     joins, GROUP BYs, TPC-H-like reports, and PK UPDATEs / INSERTs), each
#     run its weight times with fresh random constants, in one replay file.
#     It is replayed once with both extensions preloaded
#     (pg_qualstats.sample_rate = 1), so both advisors see the same
#     executions.
#  3. Each advisor is asked for its indexes (ours: index_advice() with
#     top_n = 200 over the statement store; its call time is the advisor's
#     runtime for a 200-statement workload); its indexes are built, and
#     the workload is measured: planner cost = sum over every executed line
#     of EXPLAIN's total cost (so calls weigh in), and actual runtime =
#     best of RUNS timed replays (inside BEGIN ... ROLLBACK, so writes do
#     not accumulate).  Then the indexes are dropped.
#
# Usage: test/bench/advisor_quality.sh   (as root; installs what is missing)
#   SF      TPC-H scale factor (default 0.05: 300k lineitems)
#   OLTP    OLTP scale (default 1: 50k users, 200k orders, 300k events)
#   RUNS    timed replays per index set (default 2, best kept)
#   KEEP=1  keep the cluster's directory
set -euo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

SF=${SF:-0.05}
OLTP=${OLTP:-1}
RUNS=${RUNS:-2}

bash test/install_deps.sh postgresql-15-pg-qualstats
mnp_build_install
# a private install tree made before pg_qualstats was installed lacks it
if [ -n "${MNP_SANDBOX:-}" ]; then
  tree=$(dirname "$MNP_PGBIN")
  cp -n "$(pg_config --pkglibdir)"/pg_qualstats.so "$tree/lib/" 2>/dev/null || true
  cp -n "$(pg_config --sharedir)"/extension/pg_qualstats* \
    "$MNP_SANDBOX/usr/share/postgresql/$(basename "$tree")/extension/" 2>/dev/null || true
fi

WORK=$(mktemp -d /tmp/mnp-advq.XXXXXX)
chown postgres: "$WORK"
cleanup() {
  mnp_cluster_stop
  if [ "${KEEP:-0}" = 1 ]; then mnp_log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

mnp_cluster_init "$WORK/c" \
  "shared_preload_libraries = 'medianest_perf,pg_qualstats'" \
  "pg_qualstats.sample_rate = 1" \
  "medianest_perf.max_statements = 5000" \
  "shared_buffers = 256MB" \
  "jit = off" \
  "max_parallel_workers_per_gather = 0" \
  "autovacuum = off" \
  "log_min_messages = warning"
mnp_cluster_start
DB=advq
psql -XAtq -d postgres -c "CREATE DATABASE $DB" >/dev/null
P() { psql -XAtq -v ON_ERROR_STOP=1 -d $DB "$@"; }

mnp_log "generating the schema (SF=$SF, OLTP=$OLTP)"
P -v sf="$SF" -v oltp="$OLTP" >/dev/null <<'SQL'
CREATE EXTENSION medianest_perf;
CREATE EXTENSION pg_qualstats;
SELECT setseed(0.17);
-- TPC-H-shaped
CREATE TABLE region (r_regionkey int PRIMARY KEY, r_name text NOT NULL);
INSERT INTO region SELECT g, (ARRAY['AFRICA','AMERICA','ASIA','EUROPE','MIDDLE EAST'])[g + 1] FROM generate_series(0, 4) g;
CREATE TABLE nation (n_nationkey int PRIMARY KEY, n_name text NOT NULL, n_regionkey int NOT NULL);
INSERT INTO nation SELECT g, 'NATION' || g, g % 5 FROM generate_series(0, 24) g;
CREATE TABLE supplier (s_suppkey int PRIMARY KEY, s_name text, s_nationkey int NOT NULL, s_acctbal numeric);
INSERT INTO supplier SELECT g, 'Supplier#' || g, g % 25, (g * 37) % 10000 FROM generate_series(1, (10000 * :sf)::int) g;
CREATE TABLE customer (c_custkey int PRIMARY KEY, c_name text NOT NULL, c_nationkey int NOT NULL,
  c_mktsegment text NOT NULL, c_acctbal numeric, c_phone text NOT NULL);
INSERT INTO customer SELECT g, 'Customer#' || g, g % 25,
  (ARRAY['AUTOMOBILE','BUILDING','FURNITURE','HOUSEHOLD','MACHINERY'])[1 + g % 5],
  (g * 7919) % 10000 - 1000, lpad((g * 104729 % 1000000000)::text, 10, '0')
  FROM generate_series(1, (150000 * :sf)::int) g;
CREATE TABLE part (p_partkey int PRIMARY KEY, p_name text, p_brand text NOT NULL, p_type text NOT NULL,
  p_size int NOT NULL, p_container text NOT NULL, p_retailprice numeric);
INSERT INTO part SELECT g, 'part ' || g, 'Brand#' || (1 + g % 5) || (1 + g / 5 % 5),
  (ARRAY['STANDARD','SMALL','MEDIUM','LARGE','ECONOMY','PROMO'])[1 + g % 6] || ' ' ||
  (ARRAY['ANODIZED','BURNISHED','PLATED','POLISHED','BRUSHED'])[1 + g / 6 % 5] || ' ' ||
  (ARRAY['TIN','NICKEL','BRASS','STEEL','COPPER'])[1 + g / 30 % 5],
  1 + g % 50, (ARRAY['SM','MED','LG','JUMBO','WRAP'])[1 + g % 5] || ' ' || (ARRAY['CASE','BOX','BAG','JAR','PKG','PACK','CAN','DRUM'])[1 + g / 5 % 8],
  900 + g % 1000 FROM generate_series(1, (200000 * :sf)::int) g;
CREATE TABLE partsupp (ps_partkey int, ps_suppkey int, ps_availqty int, ps_supplycost numeric,
  PRIMARY KEY (ps_partkey, ps_suppkey));
INSERT INTO partsupp SELECT p, 1 + (p + s * ((10000 * :sf)::int / 4)) % (10000 * :sf)::int, (p * s * 31) % 9999 + 1, (p * 13 + s) % 1000 + 1
  FROM generate_series(1, (200000 * :sf)::int) p, generate_series(0, 3) s;
CREATE TABLE orders (o_orderkey int PRIMARY KEY, o_custkey int NOT NULL, o_orderstatus char(1) NOT NULL,
  o_totalprice numeric, o_orderdate date NOT NULL, o_orderpriority text NOT NULL);
INSERT INTO orders SELECT g, 1 + (g * 7) % (150000 * :sf)::int,
  (ARRAY['O','F','P'])[1 + (g % 3)], (g * 7919) % 500000, date '1992-01-01' + (g * 17) % 2400,
  (ARRAY['1-URGENT','2-HIGH','3-MEDIUM','4-NOT SPECIFIED','5-LOW'])[1 + g % 5]
  FROM generate_series(1, (1500000 * :sf)::int) g;
CREATE TABLE lineitem (l_orderkey int, l_linenumber int, l_partkey int NOT NULL, l_suppkey int NOT NULL,
  l_quantity numeric NOT NULL, l_extendedprice numeric NOT NULL, l_discount numeric NOT NULL, l_tax numeric NOT NULL,
  l_returnflag char(1) NOT NULL, l_linestatus char(1) NOT NULL, l_shipdate date NOT NULL, l_commitdate date NOT NULL,
  l_receiptdate date NOT NULL, l_shipmode text NOT NULL, PRIMARY KEY (l_orderkey, l_linenumber));
INSERT INTO lineitem SELECT o.o_orderkey, l, 1 + (o.o_orderkey * 31 + l * 7) % (200000 * :sf)::int,
  1 + (o.o_orderkey + l) % (10000 * :sf)::int, 1 + (o.o_orderkey + l) % 50, 1000 + (o.o_orderkey * l) % 90000,
  ((o.o_orderkey + l) % 11) / 100.0, ((o.o_orderkey + l) % 9) / 100.0,
  (ARRAY['R','A','N'])[1 + (o.o_orderkey + l) % 3], (ARRAY['O','F'])[1 + l % 2],
  o.o_orderdate + 1 + l * 7 % 120, o.o_orderdate + 30 + l % 60, o.o_orderdate + 2 + l * 7 % 120 + l % 30,
  (ARRAY['REG AIR','AIR','RAIL','SHIP','TRUCK','MAIL','FOB'])[1 + (o.o_orderkey + l) % 7]
  FROM orders o, generate_series(1, 4) l;
-- OLTP
CREATE TABLE app_users (id int PRIMARY KEY, email text NOT NULL, username text NOT NULL, status text NOT NULL,
  country text NOT NULL, created_at timestamptz NOT NULL, last_login timestamptz, bio text);
INSERT INTO app_users SELECT g, 'user' || g || '@example.com', 'u' || (g * 7919 % 1000003),
  CASE WHEN g % 100 = 0 THEN 'deleted' WHEN g % 20 = 0 THEN 'suspended' ELSE 'active' END,
  'C' || (g % 60), timestamptz '2022-01-01' + (g::bigint * 104729 % 730) * interval '1 day',
  timestamptz '2024-01-01' + (g * 31 % 365) * interval '1 day', repeat('bio ', 10)
  FROM generate_series(1, (50000 * :oltp)::int) g;
CREATE TABLE app_orders (id bigint PRIMARY KEY, user_id int NOT NULL, status text NOT NULL, total numeric NOT NULL,
  created_at timestamptz NOT NULL, shipped_at timestamptz, note text);
INSERT INTO app_orders SELECT g, 1 + (g::bigint * 7919) % (50000 * :oltp)::int,
  CASE WHEN g % 50 = 0 THEN 'pending' WHEN g % 4 = 0 THEN 'shipped' ELSE 'delivered' END,
  g % 997, timestamptz '2023-01-01' + g * interval '2 minutes', NULL, repeat('n', 30)
  FROM generate_series(1, (200000 * :oltp)::int) g;
CREATE TABLE app_events (id bigint PRIMARY KEY, user_id int NOT NULL, kind text NOT NULL,
  created_at timestamptz NOT NULL, payload text);
INSERT INTO app_events SELECT g, 1 + (g::bigint * 104729) % (50000 * :oltp)::int, 'k' || (g % 20),
  timestamptz '2023-06-01' + g * interval '1 minute', repeat('p', 40)
  FROM generate_series(1, (300000 * :oltp)::int) g;
CREATE TABLE app_sessions (token text PRIMARY KEY, user_id int NOT NULL, expires_at timestamptz NOT NULL);
INSERT INTO app_sessions SELECT md5(g::text), g, timestamptz '2024-06-01' + g * interval '1 second'
  FROM generate_series(1, (50000 * :oltp)::int) g;
VACUUM ANALYZE;
SQL

mnp_log "generating the workload"
P -v sf="$SF" -v oltp="$OLTP" >/dev/null <<'SQL'
CREATE SCHEMA wl;
-- one family per line: weight (calls), template with %1$s for a column list,
-- the column lists, and :placeholders filled with fresh values per call
CREATE TABLE wl.family (id serial, calls int, tmpl text, cols text[]);
INSERT INTO wl.family (calls, tmpl, cols) VALUES
 (40, 'SELECT %1$s FROM app_users WHERE email = :email', ARRAY['id','id, username','id, status','username, country','id, username, status','id, created_at','status, last_login','*','bio','email, bio']),
 (25, 'SELECT %1$s FROM app_users WHERE username = :uname', ARRAY['id','id, email','email, status','id, country, status','*']),
 (30, 'SELECT %1$s FROM app_orders WHERE user_id = :uid ORDER BY created_at DESC LIMIT 10', ARRAY['id','id, total','id, status, total','id, created_at, total','*']),
 (15, 'SELECT %1$s FROM app_orders WHERE user_id = :uid AND status = ''delivered'' ORDER BY created_at DESC LIMIT 5', ARRAY['id','id, total','*']),
 (20, 'SELECT %1$s FROM app_orders WHERE status = ''pending'' ORDER BY created_at LIMIT 50', ARRAY['id','id, user_id','id, user_id, total','*']),
 (10, 'SELECT status, %1$s FROM app_orders WHERE user_id = :uid GROUP BY status', ARRAY['count(*)','sum(total)','max(created_at)','avg(total)']),
 (10, 'SELECT %1$s FROM app_events WHERE user_id = :uid AND kind = :kind ORDER BY created_at DESC LIMIT 20', ARRAY['id','id, created_at','kind, created_at','*']),
 (12, 'SELECT %1$s FROM app_events WHERE kind = :kind AND created_at >= :ets AND created_at < :ets::timestamptz + interval ''1 hour''', ARRAY['count(*)','id','id, user_id','user_id, created_at']),
 (8, 'SELECT %1$s FROM app_events WHERE created_at >= :ets AND created_at < :ets::timestamptz + interval ''10 minutes''', ARRAY['count(*)','id, kind','user_id, kind, created_at']),
 (40, 'SELECT %1$s FROM app_sessions WHERE token = :token', ARRAY['user_id','user_id, expires_at','*']),
 (12, 'SELECT %1$s FROM app_users WHERE country = :country AND status = ''suspended''', ARRAY['count(*)','id','id, email','email, last_login']),
 (6, 'SELECT %1$s FROM app_users WHERE status = ''deleted'' AND last_login < :ts', ARRAY['count(*)','id','id, email']),
 (6, 'SELECT %1$s FROM app_users WHERE created_at >= :ts AND created_at < :ts::timestamptz + interval ''1 day''', ARRAY['count(*)','id','id, username','email, status']),
 (8, 'SELECT %1$s FROM app_orders o JOIN app_users u ON u.id = o.user_id WHERE u.email = :email', ARRAY['o.id','o.id, o.total','o.id, o.status, o.created_at','u.username, o.total']),
 (6, 'SELECT %1$s FROM app_orders o JOIN app_users u ON u.id = o.user_id WHERE o.status = ''pending'' AND u.country = :country', ARRAY['o.id','count(*)','o.id, u.email']),
 (5, 'SELECT %1$s FROM app_users u WHERE u.id IN (SELECT user_id FROM app_events WHERE kind = :kind AND created_at >= :ets AND created_at < :ets::timestamptz + interval ''1 hour'')', ARRAY['u.id','u.email','u.id, u.status']),
 (30, 'UPDATE app_users SET %1$s WHERE id = :uid', ARRAY['last_login = now()','bio = ''x''','status = ''active''']),
 (15, 'UPDATE app_orders SET %1$s WHERE id = :oid', ARRAY['status = ''shipped'', shipped_at = now()','note = ''changed''']),
 (20, 'INSERT INTO app_events (id, user_id, kind, created_at, payload) VALUES (:newid, :uid, :kind, now(), %1$s)', ARRAY['''x''','NULL']),
 (20, 'SELECT %1$s FROM orders WHERE o_custkey = :cust', ARRAY['o_orderkey','o_orderkey, o_orderdate','o_orderkey, o_totalprice','o_orderkey, o_orderstatus, o_totalprice','*']),
 (20, 'SELECT %1$s FROM lineitem WHERE l_orderkey = :okey', ARRAY['l_linenumber','l_partkey, l_quantity','l_extendedprice, l_discount','*']),
 (15, 'SELECT %1$s FROM partsupp WHERE ps_suppkey = :supp', ARRAY['ps_partkey','ps_partkey, ps_availqty','ps_partkey, ps_supplycost','*']),
 (12, 'SELECT %1$s FROM customer WHERE c_phone = :phone', ARRAY['c_custkey','c_custkey, c_name','c_custkey, c_acctbal','*']),
 (10, 'SELECT %1$s FROM part WHERE p_brand = :brand AND p_size = :size', ARRAY['p_partkey','p_partkey, p_type','count(*)','p_partkey, p_retailprice']),
 (8, 'SELECT %1$s FROM lineitem WHERE l_partkey = :pkey', ARRAY['l_orderkey','l_orderkey, l_quantity','sum(l_quantity)','l_orderkey, l_shipdate']),
 (6, 'SELECT %1$s FROM orders WHERE o_orderdate >= :dt AND o_orderdate < :dt::date + 7', ARRAY['count(*)','o_orderkey','o_orderkey, o_custkey','sum(o_totalprice)']),
 (4, 'SELECT %1$s FROM lineitem WHERE l_shipdate >= :dt AND l_shipdate < :dt::date + 3', ARRAY['count(*)','sum(l_extendedprice * l_discount)','l_orderkey, l_linenumber']),
 (3, 'SELECT l_returnflag, l_linestatus, %1$s FROM lineitem WHERE l_shipdate <= date ''1998-12-01'' - 90 GROUP BY l_returnflag, l_linestatus ORDER BY 1, 2', ARRAY['sum(l_quantity)','sum(l_extendedprice)','avg(l_discount), count(*)']),
 (3, 'SELECT o.o_orderkey, %1$s FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE c.c_mktsegment = ''BUILDING'' AND o.o_orderdate < :dt AND l.l_shipdate > :dt GROUP BY o.o_orderkey ORDER BY 2 DESC LIMIT 10', ARRAY['sum(l.l_extendedprice * (1 - l.l_discount))','count(*)','max(l.l_quantity)']),
 (3, 'SELECT n.n_name, %1$s FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE o.o_orderdate >= :dt AND o.o_orderdate < :dt::date + 30 GROUP BY n.n_name', ARRAY['sum(o.o_totalprice)','count(*)']),
 (4, 'SELECT %1$s FROM lineitem WHERE l_shipdate >= :dt AND l_shipdate < :dt::date + 365 AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24', ARRAY['sum(l_extendedprice * l_discount)','count(*)']),
 (4, 'SELECT %1$s FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey WHERE c.c_name = :cname', ARRAY['o.o_orderkey','o.o_orderkey, o.o_totalprice','count(*)']),
 (4, 'SELECT %1$s FROM partsupp ps JOIN part p ON p.p_partkey = ps.ps_partkey WHERE p.p_type = :ptype AND p.p_size = :size', ARRAY['ps.ps_suppkey','min(ps.ps_supplycost)','ps.ps_suppkey, ps.ps_availqty']),
 (3, 'SELECT %1$s FROM lineitem l JOIN orders o ON o.o_orderkey = l.l_orderkey WHERE l.l_shipmode = :mode AND l.l_receiptdate >= :dt AND l.l_receiptdate < :dt::date + 30 AND l.l_commitdate < l.l_receiptdate', ARRAY['count(*)','count(DISTINCT o.o_orderpriority)']),
 (2, 'SELECT %1$s FROM supplier s WHERE s.s_nationkey = :nat', ARRAY['s_suppkey','s_suppkey, s_name','count(*)']),
 (30, 'SELECT %1$s FROM app_users WHERE id = :uid', ARRAY['email','username, status','email, country, last_login','*','bio']),
 (20, 'SELECT %1$s FROM app_orders WHERE id = :oid', ARRAY['status','user_id, total','*','status, shipped_at']),
 (10, 'SELECT %1$s FROM app_events WHERE id = :oid', ARRAY['kind','user_id, kind','*']),
 (8, 'SELECT %1$s FROM app_users WHERE country = :country AND status = ''active'' ORDER BY created_at DESC LIMIT 20', ARRAY['id','id, email','id, username, created_at','*']),
 (6, 'SELECT %1$s FROM app_orders WHERE created_at >= :ots AND created_at < :ots::timestamptz + interval ''1 hour''', ARRAY['count(*)','id, total','user_id, status','sum(total)']),
 (10, 'SELECT %1$s FROM app_orders WHERE user_id = :uid AND created_at >= :ots', ARRAY['count(*)','id','id, total','max(total)']),
 (5, 'SELECT %1$s FROM lineitem WHERE l_suppkey = :supp AND l_shipdate > :dt', ARRAY['count(*)','l_orderkey','l_orderkey, l_quantity','sum(l_extendedprice)']),
 (5, 'SELECT %1$s FROM orders WHERE o_orderstatus = ''P'' AND o_orderdate > :dt ORDER BY o_orderdate LIMIT 20', ARRAY['o_orderkey','o_orderkey, o_custkey','o_orderkey, o_totalprice','*']),
 (5, 'SELECT %1$s FROM customer WHERE c_nationkey = :nat AND c_acctbal > 8900', ARRAY['count(*)','c_custkey','c_custkey, c_name','c_custkey, c_acctbal']),
 (8, 'SELECT %1$s FROM part WHERE p_name = :pname', ARRAY['p_partkey','p_partkey, p_brand','*']),
 (10, 'SELECT %1$s FROM partsupp WHERE ps_partkey = :pkey', ARRAY['ps_suppkey','ps_suppkey, ps_availqty','*']),
 (6, 'SELECT %1$s FROM supplier WHERE s_name = :sname', ARRAY['s_suppkey','s_suppkey, s_acctbal','*']),
 (15, 'SELECT %1$s FROM app_sessions WHERE user_id = :uid', ARRAY['token','token, expires_at','count(*)','*']),
 (12, 'SELECT %1$s FROM app_events WHERE user_id = :uid ORDER BY created_at DESC LIMIT 10', ARRAY['id','id, kind','kind, created_at','*']),
 (6, 'SELECT %1$s FROM app_sessions WHERE expires_at < :sts', ARRAY['count(*)','token','user_id']),
 (4, 'SELECT %1$s FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE o.o_custkey = :cust', ARRAY['o.o_orderkey, l.l_linenumber','sum(l.l_quantity)','l.l_partkey, l.l_shipdate']),
 (8, 'SELECT %1$s FROM app_orders WHERE status = ''shipped'' AND user_id = :uid', ARRAY['count(*)','id','id, total','max(created_at)']),
 (6, 'SELECT %1$s FROM app_events WHERE kind = :kind ORDER BY created_at DESC LIMIT 20', ARRAY['id','id, user_id','user_id, created_at','*']),
 (6, 'SELECT %1$s FROM customer WHERE c_mktsegment = :seg AND c_nationkey = :nat ORDER BY c_acctbal DESC LIMIT 10', ARRAY['c_custkey','c_custkey, c_name','c_custkey, c_acctbal, c_phone','*']),
 (5, 'SELECT %1$s FROM part WHERE p_container = :cont AND p_size < 10', ARRAY['p_partkey','count(*)','p_partkey, p_name']),
 (4, 'DELETE FROM app_sessions WHERE expires_at < :sts AND user_id = :uid%1$s', ARRAY['']),
 (5, 'SELECT %1$s FROM app_orders WHERE user_id = :uid AND total > 900', ARRAY['count(*)','id','id, total']);
-- one statement per (family, column list)
CREATE TABLE wl.stmt AS
  SELECT row_number() OVER (ORDER BY f.id, c.n) AS id, f.calls,
         format(f.tmpl, c.col) AS tmpl
    FROM wl.family f, unnest(f.cols) WITH ORDINALITY c(col, n);
-- fill the placeholders with fresh values
CREATE FUNCTION wl.fill(t text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  users int := (50000 * current_setting('wl.oltp')::numeric)::int;
  custs int := (150000 * current_setting('wl.sf')::numeric)::int;
  ords int := (1500000 * current_setting('wl.sf')::numeric)::int;
  parts int := (200000 * current_setting('wl.sf')::numeric)::int;
  supps int := (10000 * current_setting('wl.sf')::numeric)::int;
  u int;
BEGIN
  u := 1 + floor(random() * users)::int;
  t := replace(t, ':email', quote_literal('user' || u || '@example.com'));
  t := replace(t, ':uname', quote_literal('u' || (u * 7919 % 1000003)));
  t := replace(t, ':uid', u::text);
  t := replace(t, ':oid', (1 + floor(random() * 200000 * current_setting('wl.oltp')::numeric))::text);
  t := replace(t, ':newid', (10000000 + n)::text);
  t := replace(t, ':kind', quote_literal('k' || floor(random() * 20)));
  t := replace(t, ':ets', quote_literal(timestamptz '2023-06-01' + floor(random() * 290000) * interval '1 minute'));
  t := replace(t, ':ts', quote_literal(timestamptz '2022-01-01' + floor(random() * 900) * interval '1 day'));
  t := replace(t, ':ots', quote_literal(timestamptz '2023-01-01' + floor(random() * 400000) * interval '1 minute'));
  t := replace(t, ':sts', quote_literal(timestamptz '2024-06-01' + floor(random() * 50000) * interval '1 second'));
  t := replace(t, ':pname', quote_literal('part ' || (1 + floor(random() * parts))));
  t := replace(t, ':sname', quote_literal('Supplier#' || (1 + floor(random() * supps))));
  t := replace(t, ':token', quote_literal(md5((1 + floor(random() * users))::text)));
  t := replace(t, ':country', quote_literal('C' || floor(random() * 60)));
  t := replace(t, ':cust', (1 + floor(random() * custs))::text);
  t := replace(t, ':cname', quote_literal('Customer#' || (1 + floor(random() * custs))));
  t := replace(t, ':phone', quote_literal(lpad(((1 + floor(random() * custs))::bigint * 104729 % 1000000000)::text, 10, '0')));
  t := replace(t, ':okey', (1 + floor(random() * ords))::text);
  t := replace(t, ':pkey', (1 + floor(random() * parts))::text);
  t := replace(t, ':supp', (1 + floor(random() * supps))::text);
  t := replace(t, ':brand', quote_literal('Brand#' || (1 + floor(random() * 5)) || (1 + floor(random() * 5))));
  t := replace(t, ':size', (1 + floor(random() * 50))::text);
  t := replace(t, ':ptype', quote_literal((ARRAY['STANDARD','SMALL','MEDIUM','LARGE','ECONOMY','PROMO'])[1 + floor(random() * 6)::int] || ' POLISHED TIN'));
  t := replace(t, ':dt', quote_literal(date '1992-03-01' + floor(random() * 2200)::int));
  t := replace(t, ':mode', quote_literal((ARRAY['REG AIR','AIR','RAIL','SHIP','TRUCK','MAIL','FOB'])[1 + floor(random() * 7)::int]));
  t := replace(t, ':nat', floor(random() * 25)::text);
  t := replace(t, ':seg', quote_literal((ARRAY['AUTOMOBILE','BUILDING','FURNITURE','HOUSEHOLD','MACHINERY'])[1 + floor(random() * 5)::int]));
  t := replace(t, ':cont', quote_literal((ARRAY['SM','MED','LG','JUMBO','WRAP'])[1 + floor(random() * 5)::int] || ' BOX'));
  RETURN t;
END $$;
SELECT set_config('wl.sf', :'sf', false), set_config('wl.oltp', :'oltp', false), setseed(0.42);
-- every execution, in a shuffled order
CREATE TABLE wl.exec AS
  SELECT row_number() OVER () AS n, s.id AS stmt, s.calls
    FROM wl.stmt s, generate_series(1, s.calls) k;
ALTER TABLE wl.exec ADD COLUMN sql text;
UPDATE wl.exec SET sql = wl.fill((SELECT tmpl FROM wl.stmt WHERE id = stmt), n::int);
CREATE TABLE wl.replay AS SELECT row_number() OVER (ORDER BY md5(n::text)) AS pos, stmt, sql FROM wl.exec;
SQL

NSTMT=$(P -c "SELECT count(*) FROM wl.stmt")
NEXEC=$(P -c "SELECT count(*) FROM wl.replay")
REPLAY="$WORK/replay.sql"
{ echo "BEGIN;"; P -c "SELECT sql || ';' FROM wl.replay ORDER BY pos"; echo "ROLLBACK;"; } > "$REPLAY"
chmod a+r "$REPLAY"
mnp_log "workload: $NSTMT distinct statements, $NEXEC executions"

# planner cost of the whole workload: sum of EXPLAIN's total cost over every executed line
P >/dev/null <<'SQL'
CREATE FUNCTION wl.workload_cost() RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
  r record;
  plan json;
  total numeric := 0;
BEGIN
  FOR r IN SELECT sql FROM wl.replay LOOP
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || r.sql INTO plan;
    total := total + (plan -> 0 -> 'Plan' ->> 'Total Cost')::numeric;
  END LOOP;
  RETURN total;
END $$;
SQL

replay_seconds() {	# best of RUNS timed replays
  local best="" t0 t1 s
  for _ in $(seq 1 "$RUNS"); do
    t0=$(date +%s.%N)
    psql -XAtq -v ON_ERROR_STOP=1 -d $DB -f "$REPLAY" >/dev/null
    t1=$(date +%s.%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$s; fi
  done
  echo "$best"
}

mnp_log "observing the workload (one replay, both extensions recording)"
P -c "SELECT medianest_perf.reset(), pg_qualstats_reset()" >/dev/null
psql -XAtq -v ON_ERROR_STOP=1 -d $DB -f "$REPLAY" >/dev/null
SEEN=$(P -c "SELECT count(*) FROM medianest_perf.statements WHERE query NOT LIKE '%medianest_perf%' AND query NOT LIKE 'BEGIN%' AND query NOT LIKE 'ROLLBACK%'")

mnp_log "asking the advisors"
OURS_MS=$(P -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" -c "CREATE TABLE wl.ours AS SELECT * FROM medianest_perf.index_advice(top_n => 200)" -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" | awk 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", $1 - a }')
OURS_MS2=$(P -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" -c "SELECT count(*) FROM medianest_perf.index_advice(top_n => 200)" -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" | awk 'NR == 1 { a = $1 } NR == 3 { printf "%.0f", $1 - a }')
QS_MS=$(P -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" -c "CREATE TABLE wl.qs AS SELECT json_array_elements_text(pg_qualstats_index_advisor() -> 'indexes') AS ddl" -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" | awk 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", $1 - a }')
OURS_PLANNED=$(P -c "SELECT count(*) FROM medianest_perf.index_advice_skipped() WHERE statement IS NULL")
OURS_EST=$(P -c "SELECT coalesce(sum(estimated_size_bytes), 0) FROM wl.ours")

echo
echo "== medianest_perf recommendations =="
P -c "SELECT rank || '. ' || ddl || '  -- est. ' || pg_size_pretty(estimated_size_bytes) || ', helps ' || jsonb_array_length(queries) || ' statements, ' || round(improvement_pct::numeric, 1) || '%' FROM wl.ours ORDER BY rank"
echo "== pg_qualstats recommendations =="
P -c "SELECT ddl FROM wl.qs"

# measure one index set: label, DDL query
measure() {
  local label=$1 ddlq=$2 n size cost secs
  P -c "$ddlq" | while IFS= read -r ddl; do
    [ -n "$ddl" ] && psql -XAtq -d $DB -c "$ddl" >/dev/null 2>&1 || true
  done
  n=$(P -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT i.indisprimary")
  size=$(P -c "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT i.indisprimary")
  cost=$(P -c "SELECT round(wl.workload_cost())")
  P -c "SELECT medianest_perf.reset()" >/dev/null
  secs=$(replay_seconds)
  echo "$label|$n|$size|$cost|$secs"
  # where the replay time goes with this index set (all RUNS replays)
  P -c "SELECT format('  %s: %s ms in %s calls: %s', '$label', round(total_time_ms), calls, left(regexp_replace(query, '\s+', ' ', 'g'), 110))
          FROM medianest_perf.statements
         WHERE query NOT LIKE '%medianest_perf%' AND query NOT IN ('BEGIN', 'ROLLBACK')
         ORDER BY total_time_ms DESC LIMIT 5" >> "$WORK/top.txt"
  # drop the set again
  P -c "SELECT format('DROP INDEX %I.%I', s.nspname, ic.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT i.indisprimary" |
    while IFS= read -r drop; do [ -n "$drop" ] && psql -XAtq -d $DB -c "$drop" >/dev/null; done
}

mnp_log "measuring: no new index"
BASE=$(measure none "SELECT NULL WHERE false")
mnp_log "measuring: medianest_perf's indexes"
OURS=$(measure medianest_perf "SELECT ddl FROM wl.ours ORDER BY rank")
mnp_log "measuring: pg_qualstats' indexes"
QS=$(measure pg_qualstats "SELECT ddl FROM wl.qs")

base_cost=$(echo "$BASE" | cut -d'|' -f4)
base_secs=$(echo "$BASE" | cut -d'|' -f5)
echo
echo "Index advice quality (SF=$SF, OLTP=$OLTP; $NSTMT distinct statements, $NEXEC executions; runtime = best of $RUNS replays)"
printf '%-16s %8s %12s %12s %14s %14s %8s %11s %11s %8s\n' advisor indexes "est. size" "built size" "cost before" "cost after" "after %" "run before" "run after" "after %"
for row in "$OURS" "$QS"; do
  IFS='|' read -r label n size cost secs <<<"$row"
  est="-"
  [ "$label" = medianest_perf ] && est=$(awk -v b="$OURS_EST" 'BEGIN { printf "%.1f MB", b / 1048576 }')
  printf '%-16s %8s %12s %12s %14s %14s %7.1f%% %10ss %10ss %7.1f%%\n' "$label" "$n" "$est" \
    "$(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1048576 }')" "$base_cost" "$cost" \
    "$(awk -v a="$cost" -v b="$base_cost" 'BEGIN { print a * 100 / b }')" "$base_secs" "$secs" \
    "$(awk -v a="$secs" -v b="$base_secs" 'BEGIN { print a * 100 / b }')"
done
echo
echo "Where the replay time goes (top statements by total time over the timed replays):"
cat "$WORK/top.txt"
echo
echo "Advisor runtime: medianest_perf.index_advice(top_n => 200) over $SEEN recorded statements: ${OURS_MS} ms (again: ${OURS_MS2} ms; limit notes: $OURS_PLANNED); pg_qualstats_index_advisor(): ${QS_MS} ms"
