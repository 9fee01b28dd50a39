// Helpers both queue adapters share: the ids-only copy of a job (the one place that decides
// what may travel through a queue), a cancellable bounded timer and an error's message.
import { QueueError } from './queue-error';
import type { RunJob } from './types';

/** setTimeout's largest delay; longer waits are clamped to it */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const ID_KEYS = ['runId', 'workspaceId', 'projectId', 'flowId', 'environment'] as const;

/** Copies the ids of a job and nothing else, so no payload can smuggle values into the queue. */
export function idsOnly(job: RunJob): RunJob {
  for (const key of ID_KEYS) {
    if (typeof job?.[key] !== 'string' || job[key] === '') {
      throw new QueueError('INVALID_JOB', `a run job needs a non-empty string ${key}`);
    }
  }
  return {
    runId: job.runId,
    workspaceId: job.workspaceId,
    projectId: job.projectId,
    flowId: job.flowId,
    environment: job.environment,
  };
}

/** A timer that resolves after `ms` (clamped to what setTimeout accepts) unless cancelled. */
export function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
