// One dedicated PostgreSQL connection per queue process that LISTENs on flowsafe's own
// channels (run finished, run cancelled). Graphile Worker keeps its own LISTEN connection for
// new jobs; this one only carries flowsafe's notifications. A lost connection is re-opened
// with backoff, and `onReconnect` lets the queue re-check whatever it may have missed.
import type pg from 'pg';
import type { RunnerLogger } from '@flowsafe/runner';

export interface PostgresListenerOptions {
  pool: pg.Pool;
  channels: readonly string[];
  onNotify(channel: string, payload: string): void;
  /** called after a lost connection is listening again: notifications may have been missed */
  onReconnect(): void;
  logger?: RunnerLogger;
}

export interface PostgresListener {
  /** connects and LISTENs; rejects if the first connection fails */
  start(): Promise<void>;
  stop(): Promise<void>;
  connected(): boolean;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Creates a listener; channel names must be plain identifiers (they are quoted, not bound). */
export function createPostgresListener(options: PostgresListenerOptions): PostgresListener {
  for (const channel of options.channels) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  }
  let client: { conn: pg.PoolClient; detach(): void } | undefined;
  let stopped = false;
  let backoff = MIN_BACKOFF_MS;
  let timer: NodeJS.Timeout | undefined;

  const onNotification = (message: pg.Notification): void => {
    options.onNotify(message.channel, message.payload ?? '');
  };

  const connect = async (): Promise<void> => {
    const fresh = await options.pool.connect();
    let lost = false;
    const entry = {
      conn: fresh,
      detach() {
        lost = true;
        fresh.off('notification', onNotification);
      },
    };
    const onLost = (err?: unknown): void => {
      if (lost) return;
      entry.detach();
      if (client === entry) client = undefined;
      // release(true) destroys the connection rather than returning it to the pool
      fresh.release(err instanceof Error ? err : true);
      if (stopped) return;
      options.logger?.warn(
        { err: err === undefined ? 'connection ended' : messageOf(err) },
        'run queue LISTEN connection lost; reconnecting',
      );
      schedule();
    };
    fresh.on('error', onLost);
    fresh.on('end', () => onLost());
    fresh.on('notification', onNotification);
    try {
      for (const channel of options.channels) await fresh.query(`LISTEN "${channel}"`);
    } catch (err) {
      onLost(err);
      throw err;
    }
    client = entry;
    backoff = MIN_BACKOFF_MS;
  };

  const schedule = (): void => {
    if (stopped || timer) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      connect().then(
        () => options.onReconnect(),
        () => schedule(),
      );
    }, wait);
    timer.unref();
  };

  return {
    async start() {
      stopped = false;
      await connect();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const current = client;
      client = undefined;
      if (!current) return;
      current.detach();
      try {
        await current.conn.query('UNLISTEN *');
        current.conn.release();
      } catch (err) {
        current.conn.release(err instanceof Error ? err : true);
      }
    },
    connected() {
      return client !== undefined;
    },
  };
}
