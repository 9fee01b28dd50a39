// The egress guard (SPEC §3 invariant 13, §12): every connection a flow opens — API blocks, their
// redirects, OAuth2 token fetches — goes through an undici connector that resolves the host once,
// refuses it if any resolved address is non-public and not allowed, and then connects to exactly the
// address it checked (an IP literal, so the socket does no second lookup that DNS rebinding could answer).
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';
import { parseEgressAllow } from './allow-list';
import type { EgressAllowList } from './allow-list';
import { EgressConfigError, EgressError } from './errors';
import { bareAddress } from './ip-address';
import { describeVerdict, isNonPublicAddress } from './ip-ranges';

/** One resolved address, as `dns.lookup(host, { all: true })` gives it. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Resolves a host name to all its addresses; injectable so tests never touch real DNS. */
export type EgressLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface EgressGuardOptions {
  /** The parsed FLOWSAFE_EGRESS_ALLOW (or its raw text); nothing is allowed when absent. */
  readonly allow?: EgressAllowList | string | undefined;
  /** Name resolution; defaults to `dns.lookup(host, { all: true })`. */
  readonly lookup?: EgressLookup | undefined;
}

export interface EgressGuard {
  /** The allow-list in force. */
  readonly allow: EgressAllowList;
  /**
   * An undici Agent whose every connection is checked. `options.connect` may carry TLS options
   * (`cert`, `key`, `ca` for mTLS) or a connector function; either way the check runs first and the
   * connector is handed the checked address as `hostname`. `socketPath` is refused (not an address).
   */
  agent(options?: Agent.Options): Dispatcher;
  /** undici's default connector behind the check, for a Client or Pool built elsewhere. */
  readonly connect: buildConnector.connector;
  /**
   * Resolves `hostname` once (no DNS for an IP literal) and checks every address; resolves to the
   * address to connect to, rejects with EgressError when one is non-public and not allowed.
   */
  check(hostname: string): Promise<string>;
  /** Synchronous pre-flight for a URL whose host is an IP literal; host names are left to `check`. */
  checkUrl(url: URL): void;
}

const defaultLookup: EgressLookup = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

function refusal(allow: EgressAllowList, host: string, address: string): EgressError | undefined {
  if (allow.allows(host, address)) return undefined;
  const verdict = isNonPublicAddress(address);
  if (!verdict.blocked) return undefined;
  return new EgressError(host, address, describeVerdict(address, verdict), verdict.range);
}

/**
 * Throws EgressError when `url`'s host is an IP literal that is non-public and not allowed. The WHATWG
 * URL parser has already turned `2130706433`, `0x7f.1` and `0177.0.0.1` into `127.0.0.1`, so every
 * spelling of an address is judged the same. Host names pass; the connection check judges them.
 */
export function checkUrl(url: URL, allow: EgressAllowList): void {
  const host = bareAddress(url.hostname);
  if (isIP(host) === 0) return;
  const refused = refusal(allow, host, host);
  if (refused) throw refused;
}

/** Wraps `inner` so it only ever receives a checked IP address as `hostname`. */
function guardConnector(
  check: (hostname: string) => Promise<string>,
  inner: buildConnector.connector,
): buildConnector.connector {
  return (options, callback) => {
    const hostname = bareAddress(options.hostname);
    check(hostname).then(
      (address) => {
        // Keep the name for TLS (SNI, certificate check) when the URL named a host, not an address.
        const servername =
          options.servername ??
          (options.protocol === 'https:' && isIP(hostname) === 0 ? hostname : undefined);
        try {
          inner(
            { ...options, hostname: address, ...(servername === undefined ? {} : { servername }) },
            callback,
          );
        } catch (error) {
          callback(error instanceof Error ? error : new Error(String(error)), null);
        }
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };
}

/** Builds the guard from the allow-list; see EgressGuard for what each member does. */
export function createEgressGuard(options: EgressGuardOptions = {}): EgressGuard {
  const allow =
    typeof options.allow === 'string'
      ? parseEgressAllow(options.allow)
      : (options.allow ?? parseEgressAllow(''));
  const resolve = options.lookup ?? defaultLookup;

  const check = async (hostname: string): Promise<string> => {
    const host = bareAddress(hostname);
    if (isIP(host) !== 0) {
      const refused = refusal(allow, host, host);
      if (refused) throw refused;
      return host;
    }
    const addresses = await resolve(host);
    const first = addresses[0];
    if (!first) throw new EgressError(host, host, `${host} resolved to no address`);
    for (const { address } of addresses) {
      const refused = refusal(allow, host, address);
      if (refused) throw refused;
    }
    return first.address;
  };

  // The connector hands net/tls an IP literal, so node never calls this lookup; it is there so that
  // any path that did resolve a name inside the socket would go through the same check.
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    check(hostname).then(
      (address) => {
        const family = isIP(address);
        if (lookupOptions.all === true) {
          (callback as unknown as (error: null, addresses: ResolvedAddress[]) => void)(null, [
            { address, family },
          ]);
        } else {
          callback(null, address, family);
        }
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };

  const agent = (agentOptions: Agent.Options = {}): Dispatcher => {
    const {
      connect,
      socketPath,
      maxCachedSessions,
      allowH2,
      connectTimeout,
      autoSelectFamily,
      autoSelectFamilyAttemptTimeout,
      ...rest
    } = agentOptions;
    if (socketPath != null || (typeof connect === 'object' && connect.socketPath != null)) {
      throw new EgressConfigError(
        'socketPath',
        'cannot be used through the egress guard (it is not an address)',
      );
    }
    const inner =
      typeof connect === 'function'
        ? connect
        : buildConnector({
            ...(maxCachedSessions === undefined ? {} : { maxCachedSessions }),
            ...(allowH2 === undefined ? {} : { allowH2 }),
            ...(connectTimeout === undefined ? {} : { timeout: connectTimeout }),
            ...(typeof autoSelectFamily === 'boolean'
              ? { autoSelectFamily, autoSelectFamilyAttemptTimeout }
              : {}),
            ...connect,
            lookup: guardedLookup,
          } as buildConnector.BuildOptions);
    return new Agent({
      ...rest,
      ...(allowH2 === undefined ? {} : { allowH2 }),
      connect: guardConnector(check, inner),
    });
  };

  return {
    allow,
    agent,
    connect: guardConnector(check, buildConnector({ lookup: guardedLookup })),
    check,
    checkUrl: (url) => checkUrl(url, allow),
  };
}
