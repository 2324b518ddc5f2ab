// @ts-nocheck
// 
import { runFuzz } from '../fuzz/run';

/**
 * A bounded slice of `npm run fuzz` (test/fuzz/): the same generator and checks, a fixed seed and
 * 300 requests, so every `npm test` sends hostile requests through the whole local stack.
 * Run `npm run fuzz -- --requests 10000` (random seed, printed) for the long version.
 */
const SEED = 20261201;

test('300 generated hostile requests: no 5xx, every 4xx coded, no lease or AWS call for a rejection', async () => {
  const lines: string[] = [];
  const report = await runFuzz({ seed: SEED, requests: 300, concurrency: 4, log: (line) => lines.push(line) });
  // The printed report is the failure message: it names the checks and the first offending requests.
  expect({ ok: report.ok, report: lines.join('\n') }).toEqual({ ok: true, report: expect.any(String) });
  expect(report.serverErrors).toBe(0);
  expect(report.rejectionsWithoutCode).toBe(0);
  expect(report.leasesWithoutGrant).toBe(0);
  expect(report.controls.sent).toBeGreaterThan(0);
  expect(report.stsAssumeRoleCalls).toBe(report.credentialLeases);
  expect(report.pcaIssueCalls).toBe(report.certificateLeases);
}, 180_000);
