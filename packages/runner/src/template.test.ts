import { describe, expect, it } from 'vitest';
import { getPath, renderTemplate, renderTemplateValue } from './template';

const scope = {
  variables: { name: 'Ada', user: { id: 7, tags: ['a', 'b'] }, empty: null },
  settings: { REGION: 'eu' },
};

describe('templates', () => {
  it('renders variables, dotted paths and settings', () => {
    expect(renderTemplate('Hi {{name}} #{{ user.id }} in {{settings.REGION}} {{user.tags.1}}', scope)).toBe(
      'Hi Ada #7 in eu b',
    );
  });

  it('renders missing names and null as empty text, objects as JSON', () => {
    expect(renderTemplate('[{{nope}}][{{empty}}][{{user.tags}}]', scope)).toBe('[][][["a","b"]]');
  });

  it('keeps the value type when a string is one tag alone', () => {
    expect(renderTemplate('{{user}}', scope)).toEqual({ id: 7, tags: ['a', 'b'] });
    expect(renderTemplate('{{ user.id }}', scope)).toBe(7);
  });

  it('does not walk prototypes', () => {
    expect(getPath({}, 'constructor')).toBeUndefined();
    expect(renderTemplate('{{__proto__.x}}{{name.length}}', scope)).toBe('');
  });

  it('renders every string leaf of a value and keeps keys', () => {
    expect(renderTemplateValue({ '{{name}}': ['{{name}}', 1, { n: '{{user.id}}' }] }, scope)).toEqual({
      '{{name}}': ['Ada', 1, { n: 7 }],
    });
  });
});
