// Template compilation: secret slots are found before mustache runs, and every variable gets
// the encoding of its position in the URL.
import { describe, expect, it } from 'vitest';
import { ApiBlockError } from './errors';
import { compileTemplate, compileUrlTemplate, fillSecrets, renderVars } from './template';

const scope = { variables: { a: { b: 'x y' }, v: '<secret:T>', n: 7, o: { k: 1 } }, settings: { S: 's/1' } };

describe('templates', () => {
  it('invariant 3: splits secret slots before mustache, so rendered variables are never resolved', () => {
    const t = compileTemplate('pre {{v}} <secret:T> <secret:B.password> post');
    expect(t.secrets.map((s) => [s.name, s.field])).toEqual([
      ['T', undefined],
      ['B', 'password'],
    ]);
    const r = renderVars(t, scope);
    expect(fillSecrets(r, (s) => `[${s.name}]`)).toBe('pre <secret:T> [T] [B] post');
  });

  it('renders dotted names, settings, numbers, objects and missing values', () => {
    const t = compileTemplate('{{a.b}}|{{settings.S}}|{{n}}|{{o}}|{{missing.x}}|{{{a.b}}}|{{a.constructor}}');
    expect(renderVars(t, scope)).toBe('x y|s/1|7|{"k":1}||x y|');
  });

  it('gives URL variables the encoding of their position', () => {
    const t = compileUrlTemplate('https://{{host}}/p/{{settings.S}}?q={{a.b}}#{{a.b}}');
    expect(t.parts.filter((p) => typeof p !== 'string').map((p) => (p as { enc: string }).enc)).toEqual([
      'raw',
      'segment',
      'component',
      'component',
    ]);
    expect(renderVars(t, { ...scope, variables: { ...scope.variables, host: 'api.example.com' } })).toBe(
      'https://api.example.com/p/s%2F1?q=x%20y#x%20y',
    );
    const base = compileUrlTemplate('{{settings.S}}/x/<secret:K>');
    expect(base.secrets[0]!.enc).toBe('segment');
    expect(compileUrlTemplate('https://<secret:K>.example.com/').secrets[0]!.enc).toBe('raw');
  });

  it('refuses sections, unknown fields and non-http URLs', () => {
    for (const bad of ['{{#a}}x{{/a}}', '{{> partial}}', '<secret:T.token>', '{{unclosed']) {
      expect(() => compileTemplate(bad)).toThrow(ApiBlockError);
    }
    expect(() => compileUrlTemplate('file:///etc/passwd')).toThrow(/http or https/);
    expect(() => compileUrlTemplate('api.example.com/x')).toThrow(/must start with/);
  });
});
