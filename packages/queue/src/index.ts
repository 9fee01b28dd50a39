// @flowsafe/queue: the run queue interface and its embedded (in-process) adapter.
export type { ExecuteJob, RunJob, RunQueue } from './types';
export { isFinished, TERMINAL_STATUSES } from './types';
export { QueueError, type QueueErrorCode } from './queue-error';
export { createInProcessQueue, type InProcessQueue, type InProcessQueueOptions } from './in-process-queue';
