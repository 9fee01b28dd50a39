// The egress guard's public surface; packages/api-block/src/index.ts re-exports from here.
export { createEgressGuard, checkUrl } from './guard';
export type { EgressGuard, EgressGuardOptions, EgressLookup, ResolvedAddress } from './guard';
export { parseEgressAllow } from './allow-list';
export type { EgressAllowList } from './allow-list';
export { isNonPublicAddress, describeVerdict } from './ip-ranges';
export type { AddressVerdict } from './ip-ranges';
export { EgressError, EgressConfigError, EGRESS_ALLOW_VARIABLE } from './errors';
