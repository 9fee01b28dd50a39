import { describe, expect, it } from 'vitest';
import { parseEgressAllow } from './allow-list';
import { EgressConfigError } from './errors';

describe('parseEgressAllow', () => {
  it('allows nothing when unset or empty', () => {
    for (const value of [undefined, '', ' , ,']) {
      const list = parseEgressAllow(value);
      expect(list.entries).toEqual([]);
      expect(list.allows('localhost', '127.0.0.1')).toBe(false);
    }
  });

  it('reads addresses, CIDR ranges and host names, in canonical form', () => {
    const list = parseEgressAllow(
      ' 127.0.0.1, 10.20.0.0/16 ,API.Internal.,*.corp.example,[::1],FD00::/8,0:0:0:0:0:0:0:2 ',
    );
    expect(list.entries).toEqual([
      '127.0.0.1',
      '10.20.0.0/16',
      'api.internal',
      '*.corp.example',
      '::1',
      'fd00::/8',
      '::2',
    ]);
  });

  it('invariant 13: allows by address, range and name, and nothing else', () => {
    const list = parseEgressAllow('127.0.0.1,10.20.0.0/16,fd00::/8,api.internal,*.corp.example');
    expect(list.allowsAddress('127.0.0.1')).toBe(true);
    expect(list.allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(list.allowsAddress('127.0.0.2')).toBe(false);
    expect(list.allowsAddress('10.20.255.255')).toBe(true);
    expect(list.allowsAddress('10.21.0.0')).toBe(false);
    expect(list.allowsAddress('fd12::1')).toBe(true);
    expect(list.allowsAddress('fe80::1')).toBe(false);
    expect(list.allowsAddress('not-an-ip')).toBe(false);
    expect(list.allowsHost('api.internal')).toBe(true);
    expect(list.allowsHost('API.internal.')).toBe(true);
    expect(list.allowsHost('x.api.internal')).toBe(false);
    expect(list.allowsHost('a.corp.example')).toBe(true);
    expect(list.allowsHost('a.b.corp.example')).toBe(true);
    expect(list.allowsHost('corp.example')).toBe(false);
    expect(list.allowsHost('evilcorp.example')).toBe(false);
    expect(list.allows('api.internal', '192.168.1.1')).toBe(true);
    expect(list.allows('other.internal', '10.20.1.1')).toBe(true);
    expect(list.allows('other.internal', '192.168.1.1')).toBe(false);
  });

  it('invariant 13: a mapped IPv4 entry does not open the IPv4 address, nor an IPv6 range an IPv4 one', () => {
    const list = parseEgressAllow('::/0');
    expect(list.allowsAddress('2001:db8::1')).toBe(true);
    expect(list.allowsAddress('127.0.0.1')).toBe(false);
  });

  it.each([
    ['10.0.0.1/8', 'has address bits set past /8; write 10.0.0.0/8'],
    ['fd00::1/8', 'has address bits set past /8; write fd00::/8'],
    ['10.0.0.0/33', 'prefix length that is not a number from 0 to 32'],
    ['10.0.0.0/', 'prefix length that is not a number from 0 to 32'],
    ['10.0.0.0/-1', 'prefix length'],
    ['10.0.0.0/8/8', 'is not a CIDR range'],
    ['10.0.0/8', 'is not a CIDR range'],
    ['http://api.internal', 'is a URL; write only its host name'],
    ['127.0.0.1:8080', 'ports are not supported'],
    ['api.*.internal', 'wildcard that is not the first label'],
    ['*', 'wildcard'],
    ['0x7f.1', 'is read by URL parsers as the address 127.0.0.1; write that instead'],
    ['2130706433', 'is read by URL parsers as the address 127.0.0.1'],
    ['0177.0.0.1', 'is read by URL parsers as the address 127.0.0.1'],
    ['bücher.example', 'write xn--bcher-kva.example'],
    ['bad host', 'is not an address, a CIDR range or a host name'],
    ['a..b', 'is not an address, a CIDR range or a host name'],
    ['-a.example', 'is not an address, a CIDR range or a host name'],
    ['a!b.example', 'is not an address, a CIDR range or a host name'],
    ['1.2.3.999', 'is not an address, a CIDR range or a host name'],
  ])('refuses the bad entry %j, naming it', (entry, problem) => {
    let thrown: unknown;
    try {
      parseEgressAllow(`127.0.0.1, ${entry} ,api.internal`);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EgressConfigError);
    const error = thrown as EgressConfigError;
    expect(error.code).toBe('EGRESS_CONFIG_INVALID');
    expect(error.entry).toBe(entry);
    expect(error.message).toContain(`FLOWSAFE_EGRESS_ALLOW: "${entry}" `);
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain('\n');
  });
});
