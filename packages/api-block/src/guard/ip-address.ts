// Turns IP address text into bytes and does CIDR arithmetic on them, so the egress guard and its
// allow-list compare numbers, never strings (`::ffff:7f00:1` and `::ffff:127.0.0.1` are one address).
import { isIP } from 'node:net';

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address in network order. */
export type IpBytes = Uint8Array;

/** A CIDR range: the network's bytes (host bits zero) and its prefix length. */
export interface Cidr {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

/** Removes the brackets of a URL host (`[::1]`) and an IPv6 zone id (`fe80::1%eth0`). */
export function bareAddress(text: string): string {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = unbracketed.indexOf('%');
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

/** The bytes of an IP address (dotted-decimal IPv4 or any IPv6 text form), or undefined if it is not one. */
export function parseIp(text: string): IpBytes | undefined {
  const bare = bareAddress(text);
  const family = isIP(bare);
  if (family === 4) return parseIpv4(bare);
  if (family === 6) return parseIpv6(bare);
  return undefined;
}

function parseIpv4(text: string): IpBytes {
  return Uint8Array.from(text.split('.'), (part) => Number(part));
}

// Only called on text that node:net already accepted as IPv6, so the shape is known to be valid.
function parseIpv6(text: string): IpBytes {
  const [head = '', tail] = text.split('::');
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...new Array<number>(tail === undefined ? 0 : missing).fill(0),
    ...tailGroups,
  ];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

// The 16-bit groups of one side of `::`; a trailing dotted quad counts as two groups.
function groupsOf(side: string): number[] {
  if (side === '') return [];
  const groups: number[] = [];
  for (const part of side.split(':')) {
    if (part.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(part);
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}

/** Dotted-decimal text of four bytes. */
export function formatIpv4(bytes: IpBytes): string {
  return Array.from(bytes).join('.');
}

/** Whether `address` lies in `range` (always false across families). */
export function cidrContains(range: Cidr, address: IpBytes): boolean {
  if (range.bytes.length !== address.length) return false;
  let bits = range.prefix;
  for (let index = 0; bits > 0; index += 1) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
    bits -= 8;
  }
  return true;
}

/** The network of `address` under `prefix`: host bits cleared. */
export function networkOf(address: IpBytes, prefix: number): IpBytes {
  return address.map((byte, index) => {
    const bits = Math.min(8, Math.max(0, prefix - index * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
}

/** A CIDR range from trusted constant text (`10.0.0.0/8`); throws on a typo in a constant. */
export function cidr(text: string): Cidr {
  const [address = '', prefix = ''] = text.split('/');
  const bytes = parseIp(address);
  if (!bytes) throw new Error(`not a CIDR range: ${text}`);
  return { bytes, prefix: Number(prefix) };
}

/** Canonical text of an address: dotted decimal, or compressed lower-case IPv6 (RFC 5952, via WHATWG URL). */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push((((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0)).toString(16));
  }
  return bareAddress(new URL(`http://[${groups.join(':')}]/`).hostname);
}
