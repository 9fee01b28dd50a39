// Every form in which a secret value shows up in logs, URLs, JSON and HTTP headers.
// Masking only the raw value is the classic leak (GitHub Actions, Airflow, n8n): the value
// comes back base64-encoded in an Authorization header, percent-encoded in a query string or
// JSON-escaped inside a log line. This module lists those forms for one value.
//
// Known limit: base64 is computed for the value on its own (what a log prints when the value
// itself is encoded). A value embedded at a non-aligned offset of a larger base64 stream
// (e.g. `base64("prefix" + value)`) encodes differently and is not recognised, except
// for the `user:password` pair registered through `addBasic`.

/** base64 and base64url of the UTF-8 bytes, padded and unpadded. */
export function base64Forms(bytes: Buffer): string[] {
  const b64 = bytes.toString('base64');
  const unpadded = b64.replace(/=+$/, '');
  const url = unpadded.replace(/\+/g, '-').replace(/\//g, '_');
  const urlPadded = url + b64.slice(unpadded.length);
  return [b64, unpadded, url, urlPadded];
}

/** JSON string escape as JSON.stringify writes it, without the surrounding quotes. */
export function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * JSON escape of a value that starts with a low or ends with a high surrogate, with that
 * surrogate left raw: inside a longer string it may pair with its neighbour, and JSON.stringify
 * writes a pair as is (a lone surrogate as \\uXXXX, which jsonEscape gives).
 */
export function jsonEscapePairable(value: string): string {
  const lead = /^[\udc00-\udfff]/.test(value) ? 1 : 0;
  const trail = /[\ud800-\udbff]$/.test(value) && value.length > lead ? 1 : 0;
  if (lead + trail === 0) return jsonEscape(value);
  return (
    value.slice(0, lead) +
    jsonEscape(value.slice(lead, value.length - trail)) +
    value.slice(value.length - trail)
  );
}

/** JSON escape with every non-ASCII code unit as \uXXXX (Python's json.dumps default). */
export function jsonEscapeAscii(value: string): string {
  return jsonEscape(value).replace(
    /[\u0080-\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** encodeURIComponent that never throws (lone surrogates become U+FFFD first). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd'));
}

/** application/x-www-form-urlencoded, the way URLSearchParams writes a value. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * Every encoded form of one value (raw included), deduplicated. Forms that naturally occur
 * together are included too: percent-encoding with lowercase hex, form style with `+`
 * for spaces on top of encodeURIComponent, JSON-escaped twice (a JSON document logged as a
 * JSON string) and ASCII-only JSON escapes.
 */
export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  for (const f of base64Forms(Buffer.from(value, 'utf8'))) forms.add(f);
  const uri = uriEncode(value);
  forms.add(uri);
  forms.add(uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(uri.replace(/%20/g, '+'));
  forms.add(formEncode(value));
  const json = jsonEscape(value);
  forms.add(json);
  const paired = jsonEscapePairable(value);
  if (paired !== json) forms.add(paired);
  forms.add(jsonEscape(json));
  forms.add(jsonEscapeAscii(value));
  return [...forms];
}

/**
 * Lines of a multi-line value that are masked on their own: each line of at least
 * `minLineLength` characters once surrounding whitespace (and a trailing \r) is trimmed.
 */
export function maskableLines(value: string, minLineLength = 8): string[] {
  if (!/[\r\n]/.test(value)) return [];
  const lines = new Set<string>();
  for (const line of value.split(/\r?\n|\r/)) {
    const t = line.trim();
    if (t.length >= minLineLength && t !== value) lines.add(t);
  }
  return [...lines];
}
