-- MediaNest-like schema with realistic skew and planted problems:
--   * users.email has no index although logins look users up by email;
--   * media_requests has no index on user_id although every request page
--     filters on it and sorts by requested_at;
--   * session_tokens has a duplicate index on token and an index on
--     created_at that nothing uses;
--   * playlist_items has an index that is a prefix of its primary key;
--   * media_items is bloated: half its rows were updated with autovacuum off.
-- psql variable :scale multiplies the row counts.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE TABLE users (
  id          bigint PRIMARY KEY,
  email       text NOT NULL,
  display_name text,
  role        text NOT NULL DEFAULT 'user',
  created_at  timestamptz NOT NULL
);
INSERT INTO users
SELECT g, 'user' || g || '@medianest.test', 'User ' || g,
       CASE WHEN g % 500 = 0 THEN 'admin' ELSE 'user' END,
       now() - (g % 1000) * interval '1 day'
  FROM generate_series(1, 50000 * :scale) g;

CREATE TABLE media_items (
  id         bigint PRIMARY KEY,
  tmdb_id    integer NOT NULL,
  title      text NOT NULL,
  media_type text NOT NULL,
  year       integer,
  status     text NOT NULL,
  added_at   timestamptz NOT NULL
);
INSERT INTO media_items
SELECT g, 100000 + g, 'Title ' || g || repeat(' ', 40),
       CASE WHEN g % 5 = 0 THEN 'tv' ELSE 'movie' END,
       1950 + g % 75,
       CASE WHEN g % 10 = 0 THEN 'unavailable' ELSE 'available' END,
       now() - (g % 3650) * interval '1 day'
  FROM generate_series(1, 100000 * :scale) g;
ALTER TABLE media_items SET (autovacuum_enabled = false);

-- request status is skewed: 1 % pending, 9 % approved, 90 % completed;
-- a few heavy users make most requests
CREATE TABLE media_requests (
  id            bigint PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users,
  media_item_id bigint NOT NULL REFERENCES media_items,
  status        text NOT NULL,
  requested_at  timestamptz NOT NULL,
  updated_at    timestamptz
);
INSERT INTO media_requests
SELECT g,
       1 + (floor(power(random(), 3) * 50000 * :scale))::bigint,
       1 + (g::bigint * 7919) % (100000 * :scale),
       CASE WHEN g % 100 = 0 THEN 'pending' WHEN g % 10 = 0 THEN 'approved' ELSE 'completed' END,
       now() - (g % 20000) * interval '37 minutes',
       NULL
  FROM generate_series(1, 400000 * :scale) g;

CREATE TABLE session_tokens (
  id         bigint PRIMARY KEY,
  user_id    bigint NOT NULL,
  token      text NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO session_tokens
SELECT g, 1 + g % (50000 * :scale), md5(g::text), now() + interval '30 days', now() - (g % 30) * interval '1 day'
  FROM generate_series(1, 100000 * :scale) g;
CREATE INDEX session_tokens_token_idx ON session_tokens (token);
CREATE INDEX session_tokens_token_lookup ON session_tokens (token);      -- duplicate
CREATE INDEX session_tokens_created_at_idx ON session_tokens (created_at); -- unused

CREATE TABLE playlists (
  id         bigint PRIMARY KEY,
  user_id    bigint NOT NULL,
  name       text NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO playlists SELECT g, 1 + g % (50000 * :scale), 'Playlist ' || g, now() FROM generate_series(1, 10000 * :scale) g;

CREATE TABLE playlist_items (
  playlist_id   bigint NOT NULL,
  position      integer NOT NULL,
  media_item_id bigint NOT NULL,
  PRIMARY KEY (playlist_id, position)
);
INSERT INTO playlist_items
SELECT 1 + g % (10000 * :scale), g / (10000 * :scale), 1 + (g * 31) % (100000 * :scale)
  FROM generate_series(0, 100000 * :scale - 1) g;
CREATE INDEX playlist_items_playlist_idx ON playlist_items (playlist_id);   -- redundant

-- bloat: half of media_items rewritten, never vacuumed
UPDATE media_items SET status = status WHERE id % 2 = 0;

ANALYZE;
