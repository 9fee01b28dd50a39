// Canary secrets for the end-to-end leak tests: one random-looking value per kind of secret
// field, the secret bodies that create them through the HTTP API, and a finder that looks for
// every form a value could leak in (raw, base64 with and without padding, base64url, hex,
// URL-encoded, JSON-escaped, each line of a multi-line value, and the basic-auth pairs).

export type Canaries = {
  text: string;
  textProd: string;
  multi: string;
  user: string;
  pass: string;
  clientId: string;
  clientSecret: string;
  access: string;
  binary: string;
};

/** The canaries of one test file; `prefix` keeps files apart. */
export function makeCanaries(prefix: string): Canaries {
  return {
    text: `${prefix}-text-Q7w2e9r4t6y`,
    textProd: `${prefix}-text-prod-M1n2b3v4`,
    multi: `-----BEGIN LEAK KEY-----\n${prefix}line-AAAA1111bbbb\n${prefix}line-CCCC2222dddd\n-----END LEAK KEY-----`,
    user: `${prefix}-user-8k3j5h`,
    pass: `${prefix}-pass-Z9x8c7v6`,
    clientId: `${prefix}-client-id-5t4r3e`,
    clientSecret: `${prefix}-client-secret-3e2w1q`,
    access: `${prefix}-access-token-1q2w3e4r5t`,
    binary: `${prefix}-binary-content-0p9o8i7u`,
  };
}

/** Secret bodies (POST /api/projects/:p/secrets) of every type holding the canaries. */
export function canarySecrets(c: Canaries, oauthTokenUrl: string, allowedHosts: string[]) {
  return [
    { name: 'TEXT', type: 'text', value: c.text, environments: { production: c.textProd }, allowedHosts },
    { name: 'MULTI', type: 'text', value: c.multi, allowedHosts },
    { name: 'BASIC', type: 'basic', value: { username: c.user, password: c.pass }, allowedHosts },
    {
      name: 'OAUTH',
      type: 'oauth2',
      value: { clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: oauthTokenUrl },
      allowedHosts,
    },
    {
      name: 'BIN',
      type: 'binary',
      value: { base64: Buffer.from(c.binary).toString('base64'), filename: 'x.bin' },
      allowedHosts,
    },
  ];
}

/** Every form a value could leak in. */
export function leakForms(value: string): string[] {
  const out = new Set<string>();
  const add = (v: string) => {
    const b = Buffer.from(v);
    out.add(v);
    out.add(b.toString('base64'));
    out.add(b.toString('base64').replace(/=+$/, ''));
    out.add(b.toString('base64url'));
    out.add(b.toString('hex'));
    out.add(encodeURIComponent(v));
    out.add(JSON.stringify(v).slice(1, -1));
  };
  add(value);
  for (const line of value.split('\n')) if (line.length >= 8 && !line.startsWith('-----')) add(line);
  return [...out];
}

/** A function listing every canary form found in a text (case-insensitive), by name. */
export function leakFinder(values: Canaries & { [extra: string]: string }): (text: string) => string[] {
  const needles: Array<[string, string]> = [
    ...Object.entries(values).flatMap(([k, v]) => leakForms(v).map((f) => [k, f] as [string, string])),
    ...leakForms(`${values.user}:${values.pass}`).map((f) => ['basic pair', f] as [string, string]),
    ...leakForms(`${values.clientId}:${values.clientSecret}`).map(
      (f) => ['client pair', f] as [string, string],
    ),
  ];
  return (text) => {
    const lower = text.toLowerCase();
    return needles
      .filter(([, n]) => text.includes(n) || lower.includes(n.toLowerCase()))
      .map(([k, n]) => `${k} as ${JSON.stringify(n)}`);
  };
}
