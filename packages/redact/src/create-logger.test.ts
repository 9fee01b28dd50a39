import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Redactor, createLogger } from './index';

function sink(): { stream: Writable; text: () => string } {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      parts.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => parts.join('') };
}

const CANARY = 'canary-log-"quoted"\\token\nline2';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('createLogger', () => {
  it('invariant 6: every log line passes the redactor (message, objects, errors, encodings)', () => {
    const r = new Redactor();
    r.add('LOG_TOKEN', CANARY);
    r.addBasic('BASIC', 'canary-user', 'canary-password');
    const out = sink();
    const logger = createLogger(r, { destination: out.stream, name: 'test', level: 'debug' });
    logger.info(`message with ${CANARY}`);
    logger.debug(
      {
        headers: { authorization: `Basic ${b64('canary-user:canary-password')}` },
        url: `https://x/?t=${encodeURIComponent(CANARY)}`,
      },
      'request',
    );
    logger.warn({ nested: { deep: [CANARY, { [CANARY]: 1 }] } }, 'objects');
    const err = new Error(`upstream failed for ${CANARY}`);
    logger.error({ err }, 'with error');
    logger.error(err);
    const text = out.text();
    expect(text).not.toContain('canary-log');
    expect(text).not.toContain('canary-password');
    expect(text).not.toContain(b64('canary-user:canary-password'));
    expect(text).not.toContain('canary-user');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ msg: 'message with [REDACTED:LOG_TOKEN]', name: 'test' });
    expect(JSON.stringify(lines[3])).toContain('upstream failed for [REDACTED:LOG_TOKEN]');
    expect((lines[4]!.err as { stack: string }).stack).toContain('[REDACTED:LOG_TOKEN]');
  });

  it('a getter sees values added after the logger was created', () => {
    let r = new Redactor();
    const out = sink();
    const logger = createLogger(() => r, { destination: out.stream });
    logger.info('late-secret-value one');
    r.add('LATE', 'late-secret-value');
    logger.info('late-secret-value two');
    r = new Redactor();
    r.add('OTHER', 'other-secret');
    logger.info('other-secret three');
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(lines).toEqual(['late-secret-value one', '[REDACTED:LATE] two', '[REDACTED:OTHER] three']);
  });
});
