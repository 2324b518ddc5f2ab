/**
 * `npm run fuzz:policy -- [--runs N] [--seed S]`: the long run of the narrowing property
 * (test/support/narrowing-model.ts; a bounded run is in the unit tests). Prints what was
 * generated, accepted, refused and checked, and exits non-zero on any violation, printing the
 * seed and the counterexample so it can be replayed.
 */
import * as fc from 'fast-check';
import { narrowSessionPolicies } from '../shared/domain/session-policy';
import { checkPair, describeTally, emptyTally, pairArb } from '../test/support/narrowing-model';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value)) throw new Error(`--${name} takes an integer`);
  return value;
}

async function main(): Promise<void> {
  const runs = option('runs', 5000);
  const seed = option('seed', Date.now() % 2 ** 31);
  const probes = option('probes', 12);
  const tally = emptyTally();
  const started = Date.now();
  const result = await fc.check(
    fc.asyncProperty(pairArb(probes), (pair) => checkPair(narrowSessionPolicies, pair, tally, { estimateCaution: true })),
    { seed, numRuns: runs, endOnFailure: true },
  );
  console.log(describeTally(tally, seed));
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.failed || tally.violations.length > 0) {
    console.error(`VIOLATION (replay: npm run fuzz:policy -- --seed ${seed} --runs ${runs})`);
    console.error(JSON.stringify(tally.violations[0] ?? result.counterexample, null, 2));
    if (result.errorInstance) console.error(result.errorInstance);
    process.exitCode = 1;
  }
}

void main();
