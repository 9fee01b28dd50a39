// The server's logger: pino through @flowsafe/redact's createLogger, so every line passes the
// redactor that knows every secret value loaded in this process. Request logs carry method,
// path, status, duration and user id — never a token, a query string or a body.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { createLogger, type Redactor } from '@flowsafe/redact';

export function createServerLogger(
  redactor: Redactor,
  opts: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  return createLogger(redactor, { name: 'flowsafe', ...opts });
}

/** One line per request when the response is finished. */
export function requestLogger(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const user = (res.locals.user as { id?: string } | undefined)?.id;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        ...(user ? { user } : {}),
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}
