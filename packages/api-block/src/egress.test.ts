// allowedHosts matching: exact names, `*.` wildcards (subdomains only), host:port entries.
import { describe, expect, it } from 'vitest';
import { checkEgress, hostAllowed } from './egress';

describe('allowedHosts', () => {
  it('invariant 4: matches exact hosts and wildcard subdomains only', () => {
    const allowed = ['api.example.com', '*.corp.example', '127.0.0.1:8443'];
    const ok = [
      'https://api.example.com/x',
      'https://API.example.com./x',
      'https://a.corp.example',
      'https://a.b.corp.example',
      'https://127.0.0.1:8443/',
    ];
    const refused = [
      'https://example.com',
      'https://corp.example',
      'https://xcorp.example',
      'https://api.example.com.evil.net',
      'https://127.0.0.1/',
      'https://user@evil.net/api.example.com',
    ];
    for (const u of ok) expect(hostAllowed(new URL(u), allowed), u).toBe(true);
    for (const u of refused) expect(hostAllowed(new URL(u), allowed), u).toBe(false);
  });

  it('invariant 4: names the secret and the host it was refused for', () => {
    expect(() =>
      checkEgress(new URL('https://evil.net/'), [
        { name: 'K', type: 'text', allowedHosts: ['api.example.com'] },
      ]),
    ).toThrow('secret K may only be sent to api.example.com; this request goes to evil.net');
    expect(() => checkEgress(new URL('https://evil.net/'), [{ name: 'FREE', type: 'text' }])).not.toThrow();
  });
});
