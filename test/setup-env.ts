// Tests never reach AWS: no real credentials, a fixed region, quiet logs.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_REGION = 'us-east-1';
delete process.env.AWS_PROFILE;
process.env.NOCREDS_LOG_LEVEL = process.env.NOCREDS_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_DEV = 'false';
// Request metrics (embedded metric format on stdout) off, like the logs; test/support/telemetry-on.ts turns both on.
process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
