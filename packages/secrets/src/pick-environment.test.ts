import { describe, expect, it } from 'vitest';
import { pickEnvironment } from './pick-environment';

describe('pickEnvironment', () => {
  it('uses the override for the environment, else the default', () => {
    expect(pickEnvironment({ default: 1, production: 2 }, 'TOKEN', 'production')).toBe('production');
    expect(pickEnvironment({ default: 1, production: 2 }, 'TOKEN', 'development')).toBe('default');
    expect(pickEnvironment({ staging: 1 }, 'TOKEN', 'staging')).toBe('staging');
  });

  it('names the secret and the environment when neither exists', () => {
    expect(() => pickEnvironment({ development: 1 }, 'ZENDESK_TOKEN', 'production')).toThrow(
      expect.objectContaining({
        code: 'SECRET_VALUE_MISSING',
        message: 'secret ZENDESK_TOKEN has no value for environment production',
      }),
    );
  });

  it('does not treat inherited properties as values', () => {
    expect(() => pickEnvironment({}, 'TOKEN', 'constructor')).toThrow(
      expect.objectContaining({ code: 'SECRET_VALUE_MISSING' }),
    );
  });
});
