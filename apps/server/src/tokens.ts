// Bearer tokens: generated with 32 random bytes, stored only as their hex SHA-256 (SPEC §8).
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new bearer token (shown once, never stored). */
export function generateToken(): string {
  return `fs_${randomBytes(32).toString('base64url')}`;
}

/** hex SHA-256 of a token, the only form that is stored */
export function hashToken(token: string): string {
  // one-shot hash: no Hash object per request
  return hash('sha256', token, 'hex');
}

/** Constant-time comparison of two hex hashes. */
export function hashesEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) return false;
  return timingSafeEqual(ba, bb);
}
