// Authentication: `Authorization: Bearer <token>` → SHA-256 → the user holding that hash. The
// hash found by the store is compared again in constant time, so a store that matches loosely
// (prefix, case) cannot let a wrong token in.
import type { NextFunction, Request, Response } from 'express';
import type { Store, User } from '@flowsafe/store';
import { ServerError } from './errors';
import { hashToken, hashesEqual } from './tokens';

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** How long a token → user lookup is reused (users are never deleted or re-keyed in place). */
const CACHE_MS = 10_000;
const CACHE_SIZE = 1_000;

/** Express middleware: sets res.locals.user or answers 401. */
export function authenticate(store: Store) {
  const cache = new Map<string, { user: User; until: number }>();
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header.trim());
    if (!match) {
      throw new ServerError(
        'UNAUTHORIZED',
        'missing or malformed Authorization header (use: Authorization: Bearer <token>)',
      );
    }
    const hash = hashToken(match[1] as string);
    const now = Date.now();
    // a cache hit matches the hash exactly (it is the key); the stored hash was compared in
    // constant time when it was cached
    const hit = cache.get(hash);
    let user = hit && hit.until > now ? hit.user : undefined;
    if (!user) {
      user = await store.users.findByTokenHash(hash);
      if (!user || !hashesEqual(user.tokenHash, hash)) throw new ServerError('UNAUTHORIZED', 'invalid token');
      if (cache.size >= CACHE_SIZE) cache.clear();
      cache.set(hash, { user, until: now + CACHE_MS });
    }
    res.locals.user = user;
    next();
  };
}

/** The authenticated user of a request (after `authenticate`). */
export function currentUser(res: Response): User {
  const user = res.locals.user as User | undefined;
  if (!user) throw new ServerError('UNAUTHORIZED', 'not authenticated');
  return user;
}
