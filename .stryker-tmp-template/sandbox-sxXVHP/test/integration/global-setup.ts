// @ts-nocheck
import { startMoto, type MotoServer } from '../../local/moto-server';

/**
 * Starts one moto server per jest worker (moto is not thread-safe, and resets are global), on free
 * loopback ports. Workers find theirs through NOCREDS_MOTO_ENDPOINTS and JEST_WORKER_ID.
 */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const count = Math.max(1, globalConfig.maxWorkers);
  const servers: MotoServer[] = await Promise.all(Array.from({ length: count }, () => startMoto()));
  (globalThis as { __MOTO_SERVERS__?: MotoServer[] }).__MOTO_SERVERS__ = servers;
  process.env.NOCREDS_MOTO_ENDPOINTS = servers.map((s) => s.endpoint).join(',');
}
