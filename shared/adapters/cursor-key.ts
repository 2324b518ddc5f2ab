import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { cursorKeyFromSecret, randomCursorKey, type CursorKeySource } from '../config';
import { ConfigurationError } from '../domain/errors';
import { mapSdkError } from './sdk-errors';

/**
 * How long a read of the cursor-key secret is reused before Secrets Manager is asked again (the
 * Powertools Parameters cache): a rotated secret takes effect within this time, and only open
 * cursors are invalidated by it.
 */
export const CURSOR_KEY_MAX_AGE_SECONDS = 15 * 60;

/**
 * The HMAC key of lease-listing cursors: read from Secrets Manager through Powertools Parameters
 * (cached for CURSOR_KEY_MAX_AGE_SECONDS), never from the environment, which holds only the
 * secret's ARN. Without a secret (local runs) a random per-process key. Failures are domain errors:
 * Secrets Manager unavailable, throttling or failing -> 503 `secretsmanager_*`, not allowed -> 403
 * `secretsmanager_access_denied`, a secret too short -> ConfigurationError (a 500: an operator's fix).
 *
 * @example
 * const cursorKey = cursorKeyReader(cursorKeySourceFrom(), sdkClientConfig(config));
 * const key = await cursorKey();   // at init, then on each request (from the cache)
 */
export function cursorKeyReader(source: CursorKeySource, clientConfig: SecretsManagerClientConfig, client?: SecretsManagerClient): () => Promise<Buffer> {
  if (!('secretArn' in source)) {
    const key = randomCursorKey();
    return async () => key;
  }
  const provider = new SecretsProvider({ awsSdkV3Client: client ?? new SecretsManagerClient(clientConfig) });
  let last: { text: string; key: Buffer } | undefined;
  return async () => {
    let text: unknown;
    try {
      text = await provider.get(source.secretArn, { maxAge: CURSOR_KEY_MAX_AGE_SECONDS });
    } catch (error) {
      // Powertools wraps the SDK's error; map the SDK's own (throttling, access denied, 5xx).
      throw mapSdkError('SecretsManager', (error as { cause?: unknown }).cause ?? error, 5);
    }
    if (typeof text !== 'string') throw new ConfigurationError('invalid_setting', 'The cursor-key secret must be a string secret (SecretString).');
    if (last?.text !== text) last = { text, key: cursorKeyFromSecret(text) };
    return last.key;
  };
}
