// Last line of defence for error text built from a store's answer: a store (or a proxy in
// front of it) may echo what it was sent, so every credential the store holds is masked in
// any message before it leaves this package.

const MIN_SCRUB_LENGTH = 4;
const MAX_DETAIL_LENGTH = 200;

/** Masks each credential in `text` and clips it to a short single line. */
export function scrubMessage(text: string, credentials: readonly (string | undefined)[]): string {
  let out = text.replace(/\s+/g, ' ').trim();
  for (const credential of credentials) {
    if (credential === undefined || credential.length < MIN_SCRUB_LENGTH) continue;
    out = out.split(credential).join('[REDACTED]');
  }
  return out.length > MAX_DETAIL_LENGTH ? `${out.slice(0, MAX_DETAIL_LENGTH)}…` : out;
}
