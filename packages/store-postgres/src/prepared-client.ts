// Server-side prepared statements for every parameterised statement sent through the store's
// pool (the store's, the run queue's and Graphile Worker's own, which come already named).
// PostgreSQL mode's hot path sends a few fixed statements per run; unnamed, PostgreSQL parses
// and plans each one every time, and planning those CTEs cost more than running them (issue
// 16's benchmark: about half of the server's time). Named, each connection parses a text once
// and reuses its plan. A text gets a name on its second use, so one-off statements stay
// unnamed, and at most MAX_NAMES texts are named per process, so SQL built with a varying
// shape cannot fill the server's memory. A statement whose cached plan no longer fits the
// table (a migration changed it while this process ran: "cached plan must not change result
// type") is sent again unnamed, and unnamed from then on on that connection.
import { createHash } from 'node:crypto';
import pg from 'pg';

/** texts named per process at most */
export const MAX_NAMES = 500;
/** texts counted (seen once, not named yet) at most; the count starts over when full */
const MAX_SEEN = 5000;

const names = new Map<string, string>();
const seen = new Set<string>();

/** The statement name of a text on its second use, else undefined (send it unnamed). */
export function statementName(text: string): string | undefined {
  const known = names.get(text);
  if (known !== undefined) return known;
  if (!seen.has(text)) {
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.add(text);
    return undefined;
  }
  if (names.size >= MAX_NAMES) return undefined;
  seen.delete(text);
  const name = `flowsafe_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  names.set(text, name);
  return name;
}

function isStalePlan(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '0A000' && /cached plan must not change result type/.test(e.message ?? '');
}

type Query = (...args: unknown[]) => unknown;

/**
 * pg.Client that names `query(text, values)` calls with at least one value (the ones that
 * already use the extended protocol: one statement each). Give it to a pool as `Client`.
 */
export class PreparingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const base = this.query.bind(this) as Query;
    // names whose plan went stale on this connection: sent unnamed from then on
    let stale: Set<string> | undefined;
    const named = (text: string, values: unknown[]): Promise<pg.QueryResult> => {
      const name = statementName(text);
      const plain = () => base(text, values) as Promise<pg.QueryResult>;
      if (name === undefined || stale?.has(name)) return plain();
      return (base({ name, text, values }) as Promise<pg.QueryResult>).catch((err: unknown) => {
        if (!isStalePlan(err)) throw err;
        (stale ??= new Set()).add(name);
        return plain();
      });
    };
    const query: Query = (...args) => {
      const [text, values, callback] = args;
      if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return base(...args);
      if (callback === undefined) return named(text, values);
      // pg-pool's query passes a callback
      if (typeof callback !== 'function') return base(...args);
      const done = callback as (err: unknown, result?: pg.QueryResult) => void;
      named(text, values).then(
        (result) => done(undefined, result),
        (err: unknown) => done(err),
      );
      return undefined;
    };
    // pg's overloads all go through `query`: only (text, values) calls with values change
    this.query = query as pg.Client['query'];
  }
}
