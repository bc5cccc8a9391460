import { type Kysely, type Migration, sql } from 'kysely';

/** What the webhooks table and its columns hold, for `\d+` and SQL clients' tooltips. */
const COMMENTS: Readonly<Record<string, string>> = {
  '': 'Webhooks: HTTP endpoints the lifecycle events are POSTed to, each delivered by the subscription webhook:<id> (its checkpoint, lease and dead letters).',
  id: 'The webhook id; its subscription is named webhook:<id>.',
  url: 'Where the events are POSTed; must match the operator allowlist at create and at each delivery.',
  types:
    'Only events of these short types (e.g. WorkerEphemeralCreated) are sent; NULL: every type.',
  secret:
    'The Standard Webhooks signing secret, whsec_<base64>; kept in clear because signing needs it, never returned after create.',
  created_at: 'When it was created; its subscription starts at the log head of that moment.',
  delivered: 'Requests answered with a 2xx, by every process.',
  failures: 'Requests that failed (error, timeout or non-2xx), retried or dead-lettered.',
  last_delivered_at: 'The last 2xx answer.',
  last_failed_at: 'The last failed request.',
  last_error: 'Why the last request failed; NULL once one succeeds.',
};

/** Migration 0006: the webhooks table. Frozen once released, like every migration. */
export function webhooksMigration(schema: string): Migration {
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const t = `"${schema}".webhooks`;
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
    up: async (db: Kysely<any>) => {
      await sql
        .raw(
          `CREATE TABLE ${t} (
            id uuid PRIMARY KEY,
            url text NOT NULL,
            types text[],
            secret text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            delivered bigint NOT NULL DEFAULT 0,
            failures bigint NOT NULL DEFAULT 0,
            last_delivered_at timestamptz,
            last_failed_at timestamptz,
            last_error text
          )`,
        )
        .execute(db);
      for (const [column, text] of Object.entries(COMMENTS)) {
        await sql
          .raw(
            column === ''
              ? `COMMENT ON TABLE ${t} IS ${quote(text)}`
              : `COMMENT ON COLUMN ${t}.${column} IS ${quote(text)}`,
          )
          .execute(db);
      }
    },
  };
}
