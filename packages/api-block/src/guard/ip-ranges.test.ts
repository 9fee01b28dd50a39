import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeVerdict, isNonPublicAddress } from './ip-ranges';

// Every range SPEC §12 names, with an address at each end of it.
const SPEC_IPV4: readonly (readonly [string, string, string])[] = [
  ['0.0.0.0', '0.0.0.0/8', 'unspecified'],
  ['0.255.255.255', '0.0.0.0/8', 'unspecified'],
  ['127.0.0.1', '127.0.0.0/8', 'loopback'],
  ['127.255.255.254', '127.0.0.0/8', 'loopback'],
  ['10.0.0.0', '10.0.0.0/8', 'private'],
  ['10.255.255.255', '10.0.0.0/8', 'private'],
  ['172.16.0.0', '172.16.0.0/12', 'private'],
  ['172.31.255.255', '172.16.0.0/12', 'private'],
  ['192.168.0.1', '192.168.0.0/16', 'private'],
  ['192.168.255.255', '192.168.0.0/16', 'private'],
  ['169.254.169.254', '169.254.0.0/16', 'link-local, where cloud metadata lives'],
  ['169.254.0.0', '169.254.0.0/16', 'link-local, where cloud metadata lives'],
  ['100.64.0.0', '100.64.0.0/10', 'shared, carrier-grade NAT'],
  ['100.127.255.255', '100.64.0.0/10', 'shared, carrier-grade NAT'],
  ['198.18.0.0', '198.18.0.0/15', 'benchmarking'],
  ['198.19.255.255', '198.18.0.0/15', 'benchmarking'],
  ['224.0.0.1', '224.0.0.0/4', 'multicast'],
  ['239.255.255.255', '224.0.0.0/4', 'multicast'],
  ['240.0.0.0', '240.0.0.0/4', 'reserved'],
  ['255.255.255.254', '240.0.0.0/4', 'reserved'],
  ['255.255.255.255', '255.255.255.255/32', 'broadcast'],
];

// Beyond the SPEC: IANA special-purpose ranges that are not globally reachable.
const EXTRA_IPV4: readonly (readonly [string, string])[] = [
  ['192.0.0.170', '192.0.0.0/24'],
  ['192.0.2.1', '192.0.2.0/24'],
  ['198.51.100.7', '198.51.100.0/24'],
  ['203.0.113.255', '203.0.113.0/24'],
];

// Just outside each range, and a few ordinary public addresses.
const PUBLIC_IPV4 = [
  '1.0.0.0',
  '1.1.1.1',
  '8.8.8.8',
  '9.255.255.255',
  '11.0.0.0',
  '93.184.216.34',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
];

const SPEC_IPV6: readonly (readonly [string, string, string])[] = [
  ['::', '::/128', 'unspecified'],
  ['0:0:0:0:0:0:0:0', '::/128', 'unspecified'],
  ['::1', '::1/128', 'loopback'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', '::1/128', 'loopback'],
  ['fc00::1', 'fc00::/7', 'private, unique local'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fc00::/7', 'private, unique local'],
  ['fe80::1', 'fe80::/10', 'link-local'],
  ['fe80::1%eth0', 'fe80::/10', 'link-local'],
  ['febf:ffff::1', 'fe80::/10', 'link-local'],
  ['ff02::1', 'ff00::/8', 'multicast'],
  ['ff0e::1', 'ff00::/8', 'multicast'],
];

// IPv6 forms that carry IPv4: judged by the IPv4 address inside.
const EMBEDDED: readonly (readonly [string, string, string, string])[] = [
  ['::ffff:127.0.0.1', 'IPv4-mapped', '127.0.0.1', '127.0.0.0/8'],
  ['::ffff:7f00:1', 'IPv4-mapped', '127.0.0.1', '127.0.0.0/8'],
  ['::ffff:169.254.169.254', 'IPv4-mapped', '169.254.169.254', '169.254.0.0/16'],
  ['::ffff:a00:1', 'IPv4-mapped', '10.0.0.1', '10.0.0.0/8'],
  ['::ffff:0.0.0.0', 'IPv4-mapped', '0.0.0.0', '0.0.0.0/8'],
  ['::ffff:ffff:ffff', 'IPv4-mapped', '255.255.255.255', '255.255.255.255/32'],
  ['0:0:0:0:0:ffff:c0a8:101', 'IPv4-mapped', '192.168.1.1', '192.168.0.0/16'],
  ['64:ff9b::7f00:1', 'NAT64', '127.0.0.1', '127.0.0.0/8'],
  ['64:ff9b::169.254.169.254', 'NAT64', '169.254.169.254', '169.254.0.0/16'],
  ['64:ff9b::ac10:1', 'NAT64', '172.16.0.1', '172.16.0.0/12'],
  ['64:ff9b::6440:1', 'NAT64', '100.64.0.1', '100.64.0.0/10'],
  ['2002:7f00:1::1', '6to4', '127.0.0.1', '127.0.0.0/8'],
  ['2002:a9fe:a9fe::', '6to4', '169.254.169.254', '169.254.0.0/16'],
];

// Beyond the SPEC: see the comment over IPV6_RANGES in ip-ranges.ts.
const EXTRA_IPV6: readonly (readonly [string, string])[] = [
  ['::127.0.0.1', '::/96'],
  ['::a9fe:a9fe', '::/96'],
  ['64:ff9b:1::a9fe:a9fe', '64:ff9b:1::/48'],
  ['fec0::1', 'fec0::/10'],
  ['2001::1', '2001::/32'],
  ['2001:2::1', '2001:2::/48'],
  ['2001:20::1', '2001:20::/28'],
  ['2001:db8::1', '2001:db8::/32'],
  ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::/32'],
  ['3fff::1', '3fff::/20'],
  ['100::1', '2000::/3'],
  ['4000::1', '2000::/3'],
  ['::ffff:0:7f00:1', '2000::/3'],
];

const PUBLIC_IPV6 = [
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001:82a::200e',
  '2001:db7:ffff::1',
  '2001:db9::1',
  '::ffff:8.8.8.8',
  '::ffff:5db8:d822',
  '64:ff9b::808:808',
  '64:ff9b::1.1.1.1',
  '2002:808:808::1',
];

describe('isNonPublicAddress', () => {
  it.each(SPEC_IPV4)('invariant 13: refuses %s (%s, %s)', (ip, range, kind) => {
    expect(isNonPublicAddress(ip)).toEqual({ blocked: true, range, kind });
  });

  it.each(EXTRA_IPV4)('invariant 13: refuses %s (%s, beyond the SPEC)', (ip, range) => {
    expect(isNonPublicAddress(ip)).toMatchObject({ blocked: true, range });
  });

  it.each(PUBLIC_IPV4)('invariant 13: lets public %s through', (ip) => {
    expect(isNonPublicAddress(ip)).toEqual({ blocked: false });
  });

  it.each(SPEC_IPV6)('invariant 13: refuses %s (%s, %s)', (ip, range, kind) => {
    expect(isNonPublicAddress(ip)).toEqual({ blocked: true, range, kind });
  });

  it.each(EMBEDDED)('invariant 13: refuses %s as %s %s (%s)', (ip, via, embedded, range) => {
    expect(isNonPublicAddress(ip)).toMatchObject({ blocked: true, via, embedded, range });
  });

  it.each(EXTRA_IPV6)('invariant 13: refuses %s (%s, beyond the SPEC)', (ip, range) => {
    expect(isNonPublicAddress(ip)).toMatchObject({ blocked: true, range });
  });

  it.each(PUBLIC_IPV6)('invariant 13: lets public %s through', (ip) => {
    expect(isNonPublicAddress(ip)).toMatchObject({ blocked: false });
  });

  it.each(['localhost', 'example.com', '', '1.2.3', '127.1', '0x7f.0.0.1', '[::1'])(
    'invariant 13: refuses %j, which is not an IP address (fail closed)',
    (text) => {
      expect(isNonPublicAddress(text).blocked).toBe(true);
    },
  );

  it('invariant 13: agrees with node:net BlockList on every IPv4 range boundary and on random addresses', () => {
    const ranges = [...SPEC_IPV4.map(([, range]) => range), ...EXTRA_IPV4.map(([, range]) => range)];
    const oracle = new BlockList();
    for (const range of new Set(ranges)) {
      const [network = '', prefix = ''] = range.split('/');
      oracle.addSubnet(network, Number(prefix), 'ipv4');
    }
    const toText = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    const toNumber = (ip: string): number => ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
    const samples: number[] = [];
    for (const range of ranges) {
      const [network = '', prefix = ''] = range.split('/');
      const start = toNumber(network);
      const end = start + 2 ** (32 - Number(prefix)) - 1;
      samples.push(start - 1, start, start + 1, end - 1, end, end + 1);
    }
    let seed = 0x13579bdf;
    for (let index = 0; index < 20_000; index += 1) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      samples.push(seed);
    }
    for (const sample of samples.filter((n) => n >= 0 && n <= 0xffffffff)) {
      const ip = toText(sample);
      expect(isNonPublicAddress(ip).blocked, ip).toBe(oracle.check(ip, 'ipv4'));
    }
  });
});

describe('describeVerdict', () => {
  it('names the address, the form that embeds it and the range', () => {
    expect(describeVerdict('::ffff:7f00:1', isNonPublicAddress('::ffff:7f00:1'))).toBe(
      '::ffff:7f00:1 is IPv4-mapped 127.0.0.1, loopback (127.0.0.0/8)',
    );
    expect(describeVerdict('169.254.169.254', isNonPublicAddress('169.254.169.254'))).toBe(
      '169.254.169.254 is link-local, where cloud metadata lives (169.254.0.0/16)',
    );
  });
});
