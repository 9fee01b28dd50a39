// A Transform that redacts text flowing through it (child process output, log files). A value
// split across any number of writes is still masked: each write is scanned together with the
// held-back tail of the previous ones, and only the part no later write can change is passed
// on; the tail is at most (longest pattern length - 1) characters and is flushed at the end.
// Buffers are decoded as UTF-8 with a StringDecoder, so a multibyte character split across
// two Buffers is decoded whole.

import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import type { ScanResult } from './scan';

export interface ChunkScanner {
  scanChunk(text: string, final: boolean, frontier?: number): ScanResult;
}

export interface RedactStreamOptions {
  /** 'string' (default) pushes UTF-8 strings; 'buffer' pushes Buffers. */
  output?: 'string' | 'buffer';
}

export function createRedactStream(scanner: ChunkScanner, options: RedactStreamOptions = {}): Transform {
  const decoder = new StringDecoder('utf8');
  const asBuffer = options.output === 'buffer';
  let carry = '';
  let frontier = 0;
  const emit = (stream: Transform, text: string): void => {
    if (text.length > 0) stream.push(asBuffer ? Buffer.from(text, 'utf8') : text);
  };
  return new Transform({
    decodeStrings: false,
    ...(asBuffer ? {} : { encoding: 'utf8' as const }),
    transform(
      this: Transform,
      chunk: unknown,
      encoding: BufferEncoding | 'buffer',
      callback: TransformCallback,
    ) {
      try {
        let text: string;
        if (typeof chunk === 'string') {
          const utf8 = encoding === 'utf8' || encoding === 'buffer';
          text = decoder.end() + (utf8 ? chunk : Buffer.from(chunk, encoding).toString('utf8'));
        } else if (chunk instanceof Uint8Array) {
          text = decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        } else {
          throw new TypeError('redact stream accepts strings and Buffers');
        }
        const input = carry.length > 0 ? carry + text : text;
        const result = scanner.scanChunk(input, false, frontier);
        carry = result.safe < input.length ? input.slice(result.safe) : '';
        frontier = result.frontier;
        const output = result.output;
        emit(this, output);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(this: Transform, callback: TransformCallback) {
      try {
        const input = carry + decoder.end();
        carry = '';
        emit(this, scanner.scanChunk(input, true, frontier).output);
        frontier = 0;
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
