// @ts-nocheck
// 
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type CliIo } from '../../../client/cli';

/**
 * `nocreds certificate` when the CA is slow: the broker answers 202 with the lease id, and the
 * certificate arrives later on GET /v1/leases/{id}. moto always signs at once, so the broker is faked
 * here at the transport (the global fetch the CLI uses).
 */
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----';
const CHAIN = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----';
const realFetch = globalThis.fetch;
let seen: string[];

function answer(...responses: Array<() => Response>) {
  seen = [];
  globalThis.fetch = (async (url: URL, init: RequestInit) => {
    seen.push(`${init.method} ${new URL(String(url)).pathname}`);
    const next = responses.shift();
    if (!next) throw new Error('no more answers');
    return next();
  }) as typeof fetch;
}

afterEach(() => {
  globalThis.fetch = realFetch;
});

async function certificate(dir: string, ...extra: string[]) {
  let stderr = '';
  const io: CliIo = { stdout: () => undefined, stderr: (t) => (stderr += t), env: { NOCREDS_TOKEN: 'a.b.c' } };
  const code = await run(['--url', 'https://broker.example', 'certificate', '--dns', 'app.team-a.svc', '--key-out', join(dir, 'k.pem'), '--cert-out', join(dir, 'c.pem'), ...extra], io);
  return { code, stderr };
}

test('a 202 is followed by GET /v1/leases/{id} until the certificate is there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nocreds-pending-'));
  answer(
    () => Response.json({ leaseId: 'L1', status: 'pending', location: '/v1/leases/L1' }, { status: 202 }),
    () => Response.json({ lease: { id: 'L1', status: 'pending' } }),
    () => Response.json({ lease: { id: 'L1', status: 'active' }, certificate: CERT, certificateChain: CHAIN, serialNumber: 'ab:cd', notAfter: '2030-01-02T00:00:00.000Z' }),
  );
  const { code } = await certificate(dir, '--wait', '30');
  expect(code).toBe(0);
  expect(seen).toEqual(['POST /v1/certificates', 'GET /v1/leases/L1', 'GET /v1/leases/L1']);
  expect(readFileSync(join(dir, 'c.pem'), 'utf8')).toBe(`${CERT}\n${CHAIN}\n`);
});

test('a lease that failed stops the wait with a broker error (exit 4) and writes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nocreds-pending-'));
  answer(
    () => Response.json({ leaseId: 'L2', status: 'pending' }, { status: 202 }),
    () => Response.json({ lease: { id: 'L2', status: 'failed' } }),
  );
  const { code, stderr } = await certificate(dir);
  expect(code).toBe(4);
  expect(stderr).toMatch(/did not issue the certificate \(lease L2\)/);
  expect(() => readFileSync(join(dir, 'k.pem'))).toThrow();
});
