// The egress guard's two failures, each with a stable `code`: a refused connection (a step fails with
// it) and a bad FLOWSAFE_EGRESS_ALLOW (the server refuses to start with it). Both are ApiBlockErrors,
// the package's one error class, so the API block passes them through as they are.
import { ApiBlockError } from '../errors';

/** The environment variable operators set to allow non-public destinations. */
export const EGRESS_ALLOW_VARIABLE = 'FLOWSAFE_EGRESS_ALLOW';

/** A request was refused because the address it would connect to is not public and not allowed. */
export class EgressError extends ApiBlockError {
  /** The host as the request named it (a name or an IP literal). */
  readonly host: string;
  /** The refused address (equal to `host` for an IP literal). */
  readonly address: string;
  /** The refused range, e.g. `169.254.0.0/16`, when one matched. */
  readonly range: string | undefined;

  /** `reason` says what the address is: `169.254.169.254 is link-local, … (169.254.0.0/16)`. */
  constructor(host: string, address: string, reason: string, range?: string) {
    const toAdd = host === address ? `"${host}"` : `"${host}" (or its address ${address})`;
    super(
      'EGRESS_PRIVATE_ADDRESS',
      `refused to connect to ${host}: ${reason}; add ${toAdd} to ${EGRESS_ALLOW_VARIABLE} to allow it`,
    );
    this.host = host;
    this.address = address;
    this.range = range;
  }
}

/** FLOWSAFE_EGRESS_ALLOW holds an entry that is not an address, a CIDR range or a host name. */
export class EgressConfigError extends ApiBlockError {
  /** The offending entry, as written. */
  readonly entry: string;

  constructor(entry: string, problem: string) {
    super('EGRESS_CONFIG_INVALID', `${EGRESS_ALLOW_VARIABLE}: "${entry}" ${problem}`);
    this.entry = entry;
  }
}
