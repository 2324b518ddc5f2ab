/**
 * Import first (before any module that loads shared/adapters/telemetry.ts): the audit lines at
 * INFO and metrics on, for the tests that read them. Everywhere else tests keep both quiet
 * (test/setup-env.ts).
 */
process.env.NOCREDS_LOG_LEVEL = 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
delete process.env.NOCREDS_TRACING;
// As an operator might set it: the raw event (Authorization header, body) must still never be logged.
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
