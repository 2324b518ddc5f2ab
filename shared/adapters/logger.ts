import { Logger } from '@aws-lambda-powertools/logger';
import { logLevelFrom } from '../config';

/**
 * One structured logger for every function, at the level configuration gives (NOCREDS_LOG_LEVEL,
 * shared/config.ts). Never pass it tokens, keys or request bodies: the HTTP edge logs one line per
 * decision with named, non-secret fields (shared/http/audit.ts).
 */
export const logger = new Logger({ serviceName: 'nocreds', logLevel: logLevelFrom() });
