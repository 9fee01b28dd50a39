// Benchmark: seal+open of a 64-byte text value through @flowsafe/secrets' KeyRing versus
// the same AES-256-GCM (fresh random 96-bit IV, AAD, 16-byte tag) done directly with
// node:crypto and a KeyObject, in the same run. Last line: one JSON object.
// Imported by path: the root package does not depend on the workspace packages by name.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { KeyRing, MasterKey, type SealContext } from '../packages/secrets/src/index';

const VALUE = 'v'.repeat(64);
const BATCH = 20_000;
const ROUNDS = 7;

const ring = new KeyRing(MasterKey.generate());
const wrapped = ring.newDataKey();
const ctx: SealContext = {
  workspaceId: 'ws_1',
  projectId: 'prj_1',
  secretId: 'sec_1',
  environment: 'production',
};

function viaKeyRing(n: number): void {
  for (let i = 0; i < n; i++) {
    const sealed = ring.seal(wrapped, ctx, 'text', VALUE);
    if (ring.open(wrapped, ctx, 'text', sealed) !== VALUE) throw new Error('round trip failed');
  }
}

const rawKey = createSecretKey(randomBytes(32));
const aad = Buffer.from('ws_1/prj_1/sec_1/production/value');
function rawGcm(n: number): void {
  for (let i = 0; i < n; i++) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', rawKey, iv, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ct = Buffer.concat([cipher.update(VALUE, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const decipher = createDecipheriv('aes-256-gcm', rawKey, iv, { authTagLength: 16 });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plain = decipher.update(ct, undefined, 'utf8') + decipher.final('utf8');
    if (plain !== VALUE) throw new Error('round trip failed');
  }
}

function perSecond(fn: (n: number) => void): number {
  const start = process.hrtime.bigint();
  fn(BATCH);
  const ns = Number(process.hrtime.bigint() - start);
  return BATCH / (ns / 1e9);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

// warm-up both paths
viaKeyRing(BATCH);
rawGcm(BATCH);

const sealOpen: number[] = [];
const raw: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // interleave so both see the same machine load
  sealOpen.push(perSecond(viaKeyRing));
  raw.push(perSecond(rawGcm));
}
const sealOpenPerS = Math.round(median(sealOpen));
const rawGcmPerS = Math.round(median(raw));
console.log(
  JSON.stringify({
    bench: 'seal',
    sealOpenPerS,
    rawGcmPerS,
    ratio: Number((sealOpenPerS / rawGcmPerS).toFixed(3)),
  }),
);
