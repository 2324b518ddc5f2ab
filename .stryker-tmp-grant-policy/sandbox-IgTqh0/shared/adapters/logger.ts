// @ts-nocheck
import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger for every function. Never pass it tokens, keys or request bodies. */
export const logger = new Logger({ serviceName: 'nocreds', logLevel: (process.env.NOCREDS_LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO' });
