import type pg from 'pg';

/**
 * The PostgreSQL store's schema, created and migrated on start from the numbered migrations below. Each sink
 * applies what is missing inside one transaction holding an advisory lock, so sinks starting at once on an
 * empty database take turns: the first creates the tables, the others find them done. A migration, once
 * released, is never edited: a change is a new migration with the next number.
 *
 * sink_webhooks is the table people query (see docs/team.md): one row per webhook, `body` as jsonb and
 * `body_text` as received, byte for byte. sink_counter is one row every append locks, so keys stay
 * consecutive across sinks: whoever holds the row takes the next key and releases it at COMMIT.
 */

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'webhooks table, key counter, append function',
    sql: `
CREATE TABLE sink_webhooks (
  key bigint PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  event text,
  status text,
  -- the status as the dump's filter compares it (upper case, underscores): FAILED PERMANENTLY = FAILED_PERMANENTLY
  status_key text,
  live_mode boolean,
  message_id text,
  -- null only when jsonb cannot hold the body (a \\u0000 in a string, or nesting too deep)
  body jsonb,
  body_text text NOT NULL
);
CREATE UNIQUE INDEX sink_webhooks_message_id ON sink_webhooks (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX sink_webhooks_event ON sink_webhooks (event, key);
CREATE INDEX sink_webhooks_status ON sink_webhooks (status_key, key);
CREATE INDEX sink_webhooks_live_mode ON sink_webhooks (live_mode, key);
CREATE INDEX sink_webhooks_received_at ON sink_webhooks (received_at);
COMMENT ON TABLE sink_webhooks IS 'Webhooks received by the UP42 webhook sinks, one row each, key 1, 2, 3, ...';

CREATE TABLE sink_counter (
  id smallint PRIMARY KEY CHECK (id = 1),
  last_key bigint NOT NULL,
  bytes bigint NOT NULL,
  -- +1 at each clear, so a sink can tell a clear it has not heard of yet
  epoch bigint NOT NULL
);
INSERT INTO sink_counter VALUES (1, 0, 0, 1);

CREATE FUNCTION sink_try_jsonb(value text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  RETURN value::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$fn$;

-- Stores a batch of webhooks in one transaction (one call, one COMMIT: a result row means committed), in
-- order. One row per webhook, i from 1: outcome stored, duplicate (key: the first's) or full.
CREATE FUNCTION sink_append(p_bodies text[], p_message_ids text[], p_events text[], p_statuses text[],
                            p_status_keys text[], p_live_modes boolean[], p_max_bytes bigint)
RETURNS TABLE (i integer, outcome text, key bigint, epoch bigint, last_key bigint, bytes bigint,
               received_at timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
  c sink_counter%ROWTYPE;
  found_key bigint;
  size bigint;
BEGIN
  -- Every sink takes this row before a key: keys are consecutive, and the messageId check below is exact.
  SELECT * INTO c FROM sink_counter WHERE id = 1 FOR UPDATE;
  FOR n IN 1 .. coalesce(array_length(p_bodies, 1), 0) LOOP
    IF p_message_ids[n] IS NOT NULL THEN
      SELECT w.key INTO found_key FROM sink_webhooks w WHERE w.message_id = p_message_ids[n];
      IF found THEN
        RETURN QUERY SELECT n, 'duplicate'::text, found_key, c.epoch, c.last_key, c.bytes, now();
        CONTINUE;
      END IF;
    END IF;
    size := octet_length(p_bodies[n]);
    IF c.bytes + size > p_max_bytes THEN
      RETURN QUERY SELECT n, 'full'::text, 0::bigint, c.epoch, c.last_key, c.bytes, now();
      CONTINUE;
    END IF;
    c.last_key := c.last_key + 1;
    c.bytes := c.bytes + size;
    INSERT INTO sink_webhooks (key, received_at, event, status, status_key, live_mode, message_id, body, body_text)
      VALUES (c.last_key, now(), p_events[n], p_statuses[n], p_status_keys[n], p_live_modes[n], p_message_ids[n],
              sink_try_jsonb(p_bodies[n]), p_bodies[n]);
    RETURN QUERY SELECT n, 'stored'::text, c.last_key, c.epoch, c.last_key, c.bytes, now();
  END LOOP;
  UPDATE sink_counter SET last_key = c.last_key, bytes = c.bytes WHERE id = 1;
  -- Delivered at COMMIT, to every sink listening: epoch, last key, bytes.
  PERFORM pg_notify('sink_webhooks', 'a:' || c.epoch || ':' || c.last_key || ':' || c.bytes);
END
$fn$;

-- Drops every webhook; keys start again at 1. DELETE rather than TRUNCATE: a dump reading meanwhile is not blocked.
CREATE FUNCTION sink_clear() RETURNS TABLE (epoch bigint, deleted bigint) LANGUAGE plpgsql AS $fn$
DECLARE
  c sink_counter%ROWTYPE;
BEGIN
  SELECT * INTO c FROM sink_counter WHERE id = 1 FOR UPDATE;
  DELETE FROM sink_webhooks;
  UPDATE sink_counter SET last_key = 0, bytes = 0, epoch = c.epoch + 1 WHERE id = 1;
  PERFORM pg_notify('sink_webhooks', 'c:' || (c.epoch + 1));
  RETURN QUERY SELECT c.epoch + 1, c.last_key;
END
$fn$;
`,
  },
  {
    version: 2,
    description: 'whether the sink verified UP42 signature, and the headers it covered',
    sql: `
ALTER TABLE sink_webhooks ADD COLUMN verified boolean, ADD COLUMN signed_components text[];
COMMENT ON COLUMN sink_webhooks.verified IS 'true: the sink verified UP42 signature on arrival; null: not checked';

-- sink_append of version 1 with the two columns more. An overload, not a replacement: a sink of the previous
-- version still running beside a newer one goes on storing through the old one (its rows read as not checked).
-- p_signed holds each webhook's covered headers space-separated (header names have no spaces).
CREATE FUNCTION sink_append(p_bodies text[], p_message_ids text[], p_events text[], p_statuses text[],
                            p_status_keys text[], p_live_modes boolean[], p_verified boolean[], p_signed text[],
                            p_max_bytes bigint)
RETURNS TABLE (i integer, outcome text, key bigint, epoch bigint, last_key bigint, bytes bigint,
               received_at timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
  c sink_counter%ROWTYPE;
  found_key bigint;
  size bigint;
BEGIN
  SELECT * INTO c FROM sink_counter WHERE id = 1 FOR UPDATE;
  FOR n IN 1 .. coalesce(array_length(p_bodies, 1), 0) LOOP
    IF p_message_ids[n] IS NOT NULL THEN
      SELECT w.key INTO found_key FROM sink_webhooks w WHERE w.message_id = p_message_ids[n];
      IF found THEN
        RETURN QUERY SELECT n, 'duplicate'::text, found_key, c.epoch, c.last_key, c.bytes, now();
        CONTINUE;
      END IF;
    END IF;
    size := octet_length(p_bodies[n]);
    IF c.bytes + size > p_max_bytes THEN
      RETURN QUERY SELECT n, 'full'::text, 0::bigint, c.epoch, c.last_key, c.bytes, now();
      CONTINUE;
    END IF;
    c.last_key := c.last_key + 1;
    c.bytes := c.bytes + size;
    INSERT INTO sink_webhooks (key, received_at, event, status, status_key, live_mode, message_id, body, body_text,
                               verified, signed_components)
      VALUES (c.last_key, now(), p_events[n], p_statuses[n], p_status_keys[n], p_live_modes[n], p_message_ids[n],
              sink_try_jsonb(p_bodies[n]), p_bodies[n], p_verified[n], string_to_array(p_signed[n], ' '));
    RETURN QUERY SELECT n, 'stored'::text, c.last_key, c.epoch, c.last_key, c.bytes, now();
  END LOOP;
  UPDATE sink_counter SET last_key = c.last_key, bytes = c.bytes WHERE id = 1;
  PERFORM pg_notify('sink_webhooks', 'a:' || c.epoch || ':' || c.last_key || ':' || c.bytes);
END
$fn$;
`,
  },
];

/** Any constant both sinks agree on: the lock that makes migrations take turns. */
const MIGRATION_LOCK = 4242_0020;

export const NOTIFY_CHANNEL = 'sink_webhooks';

/** Brings the schema to the newest version; returns the versions it applied (none when already there). */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const encoding = await client.query<{ server_encoding: string }>('SHOW server_encoding');
  const name = encoding.rows[0]?.server_encoding;
  if (name !== 'UTF8') {
    throw new Error(`the database's encoding is ${name}; the sink needs UTF8 to keep bodies byte for byte`);
  }
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS sink_schema_version (version integer PRIMARY KEY, description text NOT NULL, ' +
        'applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const current = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM sink_schema_version');
    const at = current.rows[0]?.v ?? 0;
    const newest = migrations.at(-1)?.version ?? 0;
    if (at > newest) {
      throw new Error(`the database's schema is at version ${at}, newer than this sink's ${newest}: update the sink`);
    }
    for (const m of migrations) {
      if (m.version <= at) continue;
      await client.query(m.sql);
      const record = 'INSERT INTO sink_schema_version (version, description) VALUES ($1, $2)';
      await client.query(record, [m.version, m.description]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}
