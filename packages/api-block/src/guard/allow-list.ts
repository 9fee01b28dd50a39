// FLOWSAFE_EGRESS_ALLOW: the operator's list of non-public destinations flows may reach all the same
// (SPEC §12). Read once at start-up; a bad entry stops the start with a message naming it, because a
// silently ignored entry would either break a flow or, worse, be read as something else.
import { bareAddress, cidrContains, formatIp, networkOf, parseIp } from './ip-address';
import type { Cidr } from './ip-address';
import { EgressConfigError } from './errors';

/** The parsed allow-list. Host names match exactly; `*.example.com` matches names below it, not itself. */
export interface EgressAllowList {
  /** The entries in canonical form (`10.20.0.0/16`, `api.internal`, `*.corp.example`), for start-up logs. */
  readonly entries: readonly string[];
  /** Whether the host name (as the URL names it) is allowed, whatever it resolves to. */
  allowsHost(host: string): boolean;
  /** Whether the IP address is allowed (an IPv4-mapped IPv6 address matches IPv4 entries too). */
  allowsAddress(ip: string): boolean;
  /** Whether a connection to `ip`, reached through the name `host`, is allowed. */
  allows(host: string, ip: string): boolean;
}

type Entry =
  | { readonly kind: 'range'; readonly range: Cidr; readonly text: string }
  | { readonly kind: 'host'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const MAPPED = { bytes: parseIp('::ffff:0:0') ?? new Uint8Array(16), prefix: 96 };

function parseRange(raw: string, entry: string): Entry {
  const [address = '', prefixText = '', ...rest] = entry.split('/');
  const bytes = parseIp(address);
  if (!bytes || rest.length > 0)
    return fail(raw, 'is not a CIDR range (write it like 10.20.0.0/16 or fd00::/8)');
  const bits = bytes.length * 8;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits))
    return fail(raw, `has a prefix length that is not a number from 0 to ${bits}`);
  const network = networkOf(bytes, prefix);
  const text = `${formatIp(network)}/${prefix}`;
  if (formatIp(network) !== formatIp(bytes))
    return fail(raw, `has address bits set past /${prefix}; write ${text}`);
  return { kind: 'range', range: { bytes: network, prefix }, text };
}

function hostName(raw: string, text: string): string {
  if (text.includes('://')) return fail(raw, 'is a URL; write only its host name');
  if (text.includes('*'))
    return fail(raw, 'has a wildcard that is not the first label (write *.example.com)');
  if (text.includes(':')) return fail(raw, 'is not an address or host name (ports are not supported)');
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  let parsed: string;
  try {
    parsed = new URL(`http://${name}/`).hostname;
  } catch {
    return fail(raw, 'is not an address, a CIDR range or a host name');
  }
  if (parsed !== name) {
    return parseIp(parsed)
      ? fail(raw, `is read by URL parsers as the address ${bareAddress(parsed)}; write that instead`)
      : fail(raw, `is not a host name in canonical form; write ${parsed}`);
  }
  if (name.length > 253 || !name.split('.').every((label) => LABEL.test(label))) {
    return fail(raw, 'is not an address, a CIDR range or a host name');
  }
  return name;
}

function fail(raw: string, problem: string): never {
  throw new EgressConfigError(raw, problem);
}

function parseEntry(raw: string): Entry {
  const entry = raw.toLowerCase();
  if (entry.includes('/') && !entry.includes('://')) return parseRange(raw, entry);
  const bytes = parseIp(entry);
  if (bytes) return { kind: 'range', range: { bytes, prefix: bytes.length * 8 }, text: formatIp(bytes) };
  if (entry.startsWith('*.')) return { kind: 'suffix', suffix: `.${hostName(raw, entry.slice(2))}` };
  return { kind: 'host', name: hostName(raw, entry) };
}

function normaliseHost(host: string): string {
  const lower = bareAddress(host).toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Parses FLOWSAFE_EGRESS_ALLOW: comma-separated IP addresses, CIDR ranges (IPv4 or IPv6) and host
 * names (`api.internal`, `*.corp.example`); empty or unset allows nothing. Throws EgressConfigError
 * naming the first bad entry.
 */
export function parseEgressAllow(value: string | undefined): EgressAllowList {
  const entries = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseEntry);
  const ranges = entries.flatMap((entry) => (entry.kind === 'range' ? [entry.range] : []));
  const names = new Set(entries.flatMap((entry) => (entry.kind === 'host' ? [entry.name] : [])));
  const suffixes = entries.flatMap((entry) => (entry.kind === 'suffix' ? [entry.suffix] : []));

  const allowsAddress = (ip: string): boolean => {
    const bytes = parseIp(ip);
    if (!bytes) return false;
    const forms = cidrContains(MAPPED, bytes) ? [bytes, bytes.subarray(12)] : [bytes];
    return ranges.some((range) => forms.some((form) => cidrContains(range, form)));
  };
  const allowsHost = (host: string): boolean => {
    const name = normaliseHost(host);
    return names.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
  };
  return {
    entries: entries.map((entry) =>
      entry.kind === 'range' ? entry.text : entry.kind === 'host' ? entry.name : `*${entry.suffix}`,
    ),
    allowsHost,
    allowsAddress,
    allows: (host, ip) => allowsHost(host) || allowsAddress(ip),
  };
}
