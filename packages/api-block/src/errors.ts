// The one error class of @flowsafe/api-block. Every failure of an API block carries a stable
// string code (the server maps codes to HTTP statuses, the run record shows them) and a
// message that has passed the run's redactor before it leaves the plugin.
import type { StepRequest } from '@flowsafe/runner';

export type ApiBlockErrorCode =
  | 'CONFIG_INVALID'
  | 'TEMPLATE_INVALID'
  | 'URL_INVALID'
  | 'HEADER_INJECTION'
  | 'SECRET_UNKNOWN'
  | 'SECRET_FIELD_INVALID'
  | 'SECRET_VALUE_MISSING'
  | 'SECRET_OPEN_FAILED'
  | 'EGRESS_HOST_NOT_ALLOWED'
  | 'REDIRECT_REFUSED'
  | 'TOO_MANY_REDIRECTS'
  | 'RESPONSE_TOO_LARGE'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TLS_ERROR'
  | 'UPSTREAM_ERROR'
  | 'OAUTH2_TOKEN_FAILED'
  | 'CANCELLED'
  | (string & {});

export class ApiBlockError extends Error {
  readonly code: ApiBlockErrorCode;
  /** the step's request record (template URL, never a value) when the request got that far */
  request?: StepRequest;

  constructor(code: ApiBlockErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
