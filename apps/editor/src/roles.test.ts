import { describe, expect, it } from 'vitest';
import { permissionsFor } from './roles';
import { formatRoute, parseHash } from './use-hash-route';

describe('permissions per role (invariant 10 as the editor shows it)', () => {
  it('owners and admins manage and reveal secrets', () => {
    for (const r of ['owner', 'admin'] as const)
      expect(permissionsFor(r)).toEqual({
        manageSecrets: true,
        reveal: true,
        edit: true,
        deleteProject: true,
      });
  });
  it('editors edit and run flows but cannot manage or reveal secrets', () => {
    expect(permissionsFor('editor')).toEqual({
      manageSecrets: false,
      reveal: false,
      edit: true,
      deleteProject: false,
    });
  });
  it('viewers and unknown roles only read', () => {
    expect(permissionsFor('viewer')).toEqual({
      manageSecrets: false,
      reveal: false,
      edit: false,
      deleteProject: false,
    });
    expect(permissionsFor(undefined).edit).toBe(false);
  });
});

describe('hash routes', () => {
  it('round-trips views and flow ids', () => {
    for (const r of [
      { view: 'flows' },
      { view: 'secrets' },
      { view: 'settings' },
      { view: 'flow', id: 'a b/c' },
    ] as const) {
      expect(parseHash(formatRoute(r))).toEqual(r);
    }
    expect(parseHash('#/nonsense')).toEqual({ view: 'flows' });
  });
});
