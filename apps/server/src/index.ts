// @flowsafe/server: the HTTP API as a library (tests, the CLI, benchmarks).
export { createApp, type AppOptions } from './app';
export { bootstrap, BootstrapError, KEY_CHECK_META, OWNER_TOKEN_FILE } from './bootstrap';
export { ConfigError, loadConfig, type Config } from './config';
export type { AppContext } from './context';
export { ERROR_STATUS, ServerError, type ErrorCode } from './errors';
export { createServerLogger } from './logger';
export { openApiDocument, OPERATIONS } from './openapi';
export { RunRecords } from './run-records';
export { recordsSink } from './runs';
export { createServices, type Services, type ServicesOptions } from './services';
export { startServer, type RunningServer } from './server';
export { generateToken, hashToken } from './tokens';
