// Egress binding (invariant 4): a secret that lists allowedHosts may only travel to those
// hosts. The check runs on the final URL (after variables, so a host produced by a template is
// judged too) before any byte is sent, and again on every redirect hop.
import { ApiBlockError } from './errors';
import type { SecretMeta } from './types';

/** Does `allowed` (exact hosts, `*.example.com`, or `host:port`) cover this URL's host? */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = stripDot(url.hostname.toLowerCase());
  const hostPort = url.port ? `${host}:${url.port}` : host;
  for (const raw of allowed) {
    const entry = stripDot(raw.trim().toLowerCase());
    if (entry.startsWith('*.')) {
      const suffix = entry.slice(1);
      if (host.length > suffix.length && host.endsWith(suffix)) return true;
    } else if (entry === host || entry === hostPort) return true;
  }
  return false;
}

function stripDot(h: string): string {
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** Refuse the request when a secret it carries is bound to other hosts. */
export function checkEgress(url: URL, carried: Iterable<SecretMeta>): void {
  for (const meta of carried) {
    if (meta.allowedHosts && meta.allowedHosts.length > 0 && !hostAllowed(url, meta.allowedHosts)) {
      throw new ApiBlockError(
        'EGRESS_HOST_NOT_ALLOWED',
        `secret ${meta.name} may only be sent to ${meta.allowedHosts.join(', ')}; this request goes to ${url.host}`,
      );
    }
  }
}

/** A secret in the host part is allowed only when its allowedHosts will be checked. */
export function checkOriginSecret(meta: SecretMeta): void {
  if (!meta.allowedHosts || meta.allowedHosts.length === 0) {
    throw new ApiBlockError(
      'EGRESS_HOST_NOT_ALLOWED',
      `secret ${meta.name} is used in the host part of the URL but has no allowedHosts; list the hosts it may go to`,
    );
  }
}
