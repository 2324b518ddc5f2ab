/**
 * What an integration test needs to talk to its worker's moto server with the real AWS SDK.
 * Files in one worker run one after another, so `resetMoto()` in a beforeEach/All is safe.
 */
// @ts-nocheck

export function motoEndpoint(): string {
  const endpoints = (process.env.NOCREDS_MOTO_ENDPOINTS ?? '').split(',').filter(Boolean);
  if (endpoints.length === 0) throw new Error('No moto server: run integration tests through jest (global setup starts moto).');
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return endpoints[(worker - 1) % endpoints.length] as string;
}

/** Client config for any AWS SDK v3 client: dummy credentials, one attempt so errors are not hidden. */
export function awsClientConfig() {
  return {
    region: 'us-east-1',
    endpoint: motoEndpoint(),
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
}

export async function resetMoto(): Promise<void> {
  const response = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
}

/** moto's recorded state, e.g. `(await motoState()).sts.assumed_roles` (shape varies by service). */
export async function motoData(): Promise<Record<string, unknown>> {
  const response = await fetch(`${motoEndpoint()}/moto-api/data.json`);
  return (await response.json()) as Record<string, unknown>;
}
