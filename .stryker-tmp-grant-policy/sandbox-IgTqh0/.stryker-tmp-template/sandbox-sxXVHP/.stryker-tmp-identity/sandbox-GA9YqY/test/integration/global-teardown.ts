// @ts-nocheck
// 
// 
import type { MotoServer } from '../../local/moto-server';

export default async function globalTeardown(): Promise<void> {
  const servers = (globalThis as { __MOTO_SERVERS__?: MotoServer[] }).__MOTO_SERVERS__ ?? [];
  await Promise.all(servers.map((s) => s.stop()));
}
