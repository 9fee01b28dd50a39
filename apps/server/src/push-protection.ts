// Push protection (invariant 8): a flow or setting whose text holds the value of one of the
// project's secrets, raw or in any encoding the redactor knows, is refused with 422 and the
// placeholder to write instead — before it reaches the store, exports or the editor of others.
import type { Redactor } from '@flowsafe/redact';
import { ServerError } from './errors';

/** Throw PUSH_PROTECTION when `texts` contain the value of a secret of the project. */
export function assertNoSecretValues(redactor: Redactor, what: string, texts: string[]): void {
  for (const text of texts) {
    const hit = redactor.findFirst(text);
    if (hit) {
      throw new ServerError(
        'PUSH_PROTECTION',
        `${what} contains what looks like the value of ${hit.name} — use <secret:${hit.name}> instead`,
        { secret: hit.name, placeholder: `<secret:${hit.name}>` },
      );
    }
  }
}
