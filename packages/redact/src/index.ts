// @flowsafe/redact public API: the value-based redactor of SPEC §3 invariant 6 and its
// integrations (pino logger, HTTP error and response middlewares).

export { Redactor, type RedactorOptions, type SecretValueLike } from './redactor';
export { RedactError, type RedactErrorCode } from './redact-error';
export { type RedactStreamOptions } from './redact-stream';
export { encodedForms } from './encodings';
export { createLogger, type CreateLoggerOptions } from './create-logger';
export {
  bufferedDestination,
  type BufferedDestination,
  type BufferedDestinationOptions,
} from './buffered-destination';
export { redactErrorMiddleware, errorBody, errorStatus, type ErrorBody } from './redact-error-middleware';
export { redactedJson, redactJsonResponses } from './redact-json-responses';
export { type RequestLike, type ResponseLike, type NextLike } from './http-types';
