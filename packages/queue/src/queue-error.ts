// One error base class for the queue, with a stable `code` the server maps to HTTP statuses.

export type QueueErrorCode = 'QUEUE_STOPPED' | 'DUPLICATE_RUN' | 'INVALID_JOB' | 'CANCELLED' | 'SHUTDOWN';

export class QueueError extends Error {
  override readonly name = 'QueueError';
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
