// @flowsafe/queue: the run queue interface, its embedded (in-process) adapter and its
// PostgreSQL adapter on Graphile Worker.
export type { ExecuteJob, RunJob, RunQueue } from './types';
export { isFinished, TERMINAL_STATUSES } from './types';
export { QueueError, type QueueErrorCode } from './queue-error';
export { createInProcessQueue, type InProcessQueue, type InProcessQueueOptions } from './in-process-queue';
export {
  createPostgresQueue,
  type AlongsideStatement,
  type FinalStatement,
  type LostInfo,
  type OnLost,
  type PostgresQueue,
  type PostgresQueueOptions,
} from './postgres-queue';
