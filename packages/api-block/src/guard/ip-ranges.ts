// The address ranges that no flow may reach unless the operator allows them (SPEC §3 invariant 13,
// §12 "Egress guard"): one table per family, judged on bytes. Forms that carry an IPv4 address inside
// IPv6 (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry.
import { cidr, cidrContains, formatIpv4, parseIp } from './ip-address';
import type { Cidr, IpBytes } from './ip-address';

/** Why an address is refused; `blocked: false` means it is public. */
export interface AddressVerdict {
  readonly blocked: boolean;
  /** The CIDR range that matched (`127.0.0.0/8`); for embedded IPv4, the IPv4 range. */
  readonly range?: string;
  /** What the range is, in words (`loopback`, `private`). */
  readonly kind?: string;
  /** For an IPv6 form that embeds IPv4: the form (`IPv4-mapped`, `NAT64`, `6to4`) and the IPv4 address. */
  readonly via?: string;
  readonly embedded?: string;
}

interface NamedRange {
  readonly text: string;
  readonly range: Cidr;
  readonly kind: string;
}

function named(text: string, kind: string): NamedRange {
  return { text, range: cidr(text), kind };
}

// SPEC §12 lists the first ten. Beyond the SPEC, the IANA special-purpose ranges that are not
// globally reachable are refused too: 192.0.0.0/24 (IETF protocol assignments) and the three
// documentation networks (TEST-NET-1/2/3). 255.255.255.255 is named on its own for a clearer message.
const IPV4_RANGES: readonly NamedRange[] = [
  named('0.0.0.0/8', 'unspecified'),
  named('10.0.0.0/8', 'private'),
  named('100.64.0.0/10', 'shared, carrier-grade NAT'),
  named('127.0.0.0/8', 'loopback'),
  named('169.254.0.0/16', 'link-local, where cloud metadata lives'),
  named('172.16.0.0/12', 'private'),
  named('192.0.0.0/24', 'IETF protocol assignments'),
  named('192.0.2.0/24', 'documentation TEST-NET-1'),
  named('192.168.0.0/16', 'private'),
  named('198.18.0.0/15', 'benchmarking'),
  named('198.51.100.0/24', 'documentation TEST-NET-2'),
  named('203.0.113.0/24', 'documentation TEST-NET-3'),
  named('224.0.0.0/4', 'multicast'),
  named('255.255.255.255/32', 'broadcast'),
  named('240.0.0.0/4', 'reserved'),
];

// IPv6 forms judged by the IPv4 address inside them: `offset` is where its four bytes start.
const IPV6_EMBEDDING: readonly (NamedRange & { readonly offset: number })[] = [
  { ...named('::ffff:0:0/96', 'IPv4-mapped'), offset: 12 },
  { ...named('64:ff9b::/96', 'NAT64'), offset: 12 },
  { ...named('2002::/16', '6to4'), offset: 2 },
];

// SPEC §12 lists ::, ::1, fc00::/7, fe80::/10 and ff00::/8. Beyond the SPEC: everything outside the
// global unicast block 2000::/3 is refused (that covers ::/128, ::1/128, the deprecated IPv4-compatible
// ::/96, fc00::/7, fe80::/10, fec0::/10 site-local and ff00::/8 — named below for clearer messages —
// and every unassigned block), and inside it the ranges that are not globally reachable: NAT64
// local-use 64:ff9b:1::/48 (outside 2000::/3 anyway), Teredo 2001::/32, benchmarking 2001:2::/48,
// ORCHIDv2 2001:20::/28, documentation 2001:db8::/32 and 3fff::/20.
const IPV6_RANGES: readonly NamedRange[] = [
  named('::/128', 'unspecified'),
  named('::1/128', 'loopback'),
  named('::/96', 'deprecated IPv4-compatible'),
  named('64:ff9b:1::/48', 'NAT64 local-use'),
  named('fc00::/7', 'private, unique local'),
  named('fe80::/10', 'link-local'),
  named('fec0::/10', 'deprecated site-local'),
  named('ff00::/8', 'multicast'),
  named('2001::/32', 'Teredo tunnelling'),
  named('2001:2::/48', 'benchmarking'),
  named('2001:20::/28', 'ORCHIDv2'),
  named('2001:db8::/32', 'documentation'),
  named('3fff::/20', 'documentation'),
];

const GLOBAL_UNICAST = cidr('2000::/3');

function firstMatch(ranges: readonly NamedRange[], address: IpBytes): AddressVerdict | undefined {
  const match = ranges.find((entry) => cidrContains(entry.range, address));
  return match && { blocked: true, range: match.text, kind: match.kind };
}

function judgeIpv4(address: IpBytes): AddressVerdict {
  return firstMatch(IPV4_RANGES, address) ?? { blocked: false };
}

function judgeIpv6(address: IpBytes): AddressVerdict {
  for (const form of IPV6_EMBEDDING) {
    if (!cidrContains(form.range, address)) continue;
    const embedded = formatIpv4(address.subarray(form.offset, form.offset + 4));
    const inner = judgeIpv4(address.subarray(form.offset, form.offset + 4));
    return { ...inner, via: form.kind, embedded };
  }
  return (
    firstMatch(IPV6_RANGES, address) ??
    (cidrContains(GLOBAL_UNICAST, address)
      ? { blocked: false }
      : { blocked: true, range: '2000::/3', kind: 'reserved, outside global unicast' })
  );
}

/**
 * Whether `ip` is an address no flow may reach without the operator's allow-list: loopback, private,
 * link-local, shared, benchmarking, multicast, reserved and the IPv6 forms that carry one of them.
 * Text that is not an IP address is blocked (fail closed).
 */
export function isNonPublicAddress(ip: string): AddressVerdict {
  const bytes = parseIp(ip);
  if (!bytes) return { blocked: true, kind: 'not an IP address' };
  return bytes.length === 4 ? judgeIpv4(bytes) : judgeIpv6(bytes);
}

/** `127.0.0.1 is loopback (127.0.0.0/8)` or `::ffff:7f00:1 is IPv4-mapped 127.0.0.1, loopback (127.0.0.0/8)`. */
export function describeVerdict(ip: string, verdict: AddressVerdict): string {
  const via = verdict.via && verdict.embedded ? `${verdict.via} ${verdict.embedded}, ` : '';
  const range = verdict.range ? ` (${verdict.range})` : '';
  return `${ip} is ${via}${verdict.kind ?? 'not public'}${range}`;
}
