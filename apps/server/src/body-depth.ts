// Request bodies nested deeper than MAX_BODY_DEPTH are refused right after parsing: a deeply
// nested (but small) JSON document would otherwise overflow the stack of whatever walks it
// later (validation, redaction, JSON.stringify) and turn bad input into a 500.
import type { NextFunction, Request, Response } from 'express';
import { ServerError } from './errors';

export const MAX_BODY_DEPTH = 64;

/** Depth of a parsed JSON value (iterative, so it cannot overflow itself); stops past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_BODY_DEPTH): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return max;
}

export function limitBodyDepth(req: Request, _res: Response, next: NextFunction): void {
  if (req.body !== undefined && jsonDepth(req.body) > MAX_BODY_DEPTH) {
    throw new ServerError(
      'VALIDATION_FAILED',
      `the request body is nested deeper than ${MAX_BODY_DEPTH} levels`,
    );
  }
  next();
}
