// @flowsafe/api-block: the API block plugin (templates, <secret:…> resolution at dispatch,
// undici, OAuth2) and the egress guard the server wraps around its dispatcher.
export {
  createApiBlockPlugin,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  type ApiBlockPlugin,
} from './api-block-plugin';
export {
  apiBlockConfigSchema,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  type ApiBlockBody,
  type ApiBlockConfig,
} from './config-schema';
export { ApiBlockError, type ApiBlockErrorCode } from './errors';
export { hostAllowed } from './egress';
export type { ScrubbedResponse } from './scrub';
export type { ApiBlockOptions, SecretAccess, SecretMeta, SecretUseEvent, TlsMaterial } from './types';
export {
  checkUrl,
  createEgressGuard,
  describeVerdict,
  EGRESS_ALLOW_VARIABLE,
  EgressConfigError,
  EgressError,
  isNonPublicAddress,
  parseEgressAllow,
} from './guard';
export type {
  AddressVerdict,
  EgressAllowList,
  EgressGuard,
  EgressGuardOptions,
  EgressLookup,
  ResolvedAddress,
} from './guard';
