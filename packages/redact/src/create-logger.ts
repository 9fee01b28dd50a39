// The project's pino logger factory: every serialized line (messages, objects, errors with
// their stacks) passes the redactor right before it reaches the destination, so no code path
// can log a known value, whatever it puts in the log call.

import { pino, type DestinationStream, type Logger } from 'pino';
import { bufferedDestination } from './buffered-destination';
import type { Redactor } from './redactor';

export interface CreateLoggerOptions {
  level?: string;
  /** Where lines go (default: stdout, buffered: see bufferedDestination). */
  destination?: NodeJS.WritableStream | DestinationStream;
  name?: string;
}

/** A pino logger whose every output line is redacted by `redactor` (or by what the getter returns now). */
export function createLogger(
  redactor: Redactor | (() => Redactor),
  options: CreateLoggerOptions = {},
): Logger {
  const current = typeof redactor === 'function' ? redactor : () => redactor;
  const destination = options.destination ?? bufferedDestination(1);
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name !== undefined ? { name: options.name } : {}),
      hooks: { streamWrite: (line: string) => current().redact(line) },
    },
    destination as pino.DestinationStream,
  );
}
