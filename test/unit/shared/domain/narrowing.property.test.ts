import * as fc from 'fast-check';
import { narrowSessionPolicies } from '../../../../shared/domain/session-policy';
import { checkPair, describeTally, emptyTally, pairArb } from '../../../support/narrowing-model';

/**
 * "The caller can only narrow", proved for `narrowSessionPolicies` over generated grants and
 * requests with an independent IAM evaluator as the oracle (test/support/narrowing-model.ts). A bounded run with a fixed seed; the long run
 * is `npm run fuzz:policy`. On a failure fast-check prints the seed and the counterexample.
 */
const SEED = 20_261_201;
const RUNS = 300;

test(`whatever narrowSessionPolicies accepts, STS receives no more than the grant allows (${RUNS} pairs, seed ${SEED})`, async () => {
  const tally = emptyTally();
  await fc.assert(
    fc.asyncProperty(pairArb(8), (pair) => checkPair(narrowSessionPolicies, pair, tally)),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  const summary = describeTally(tally, SEED);
  expect({ summary, violations: tally.violations }).toEqual({ summary, violations: [] });
  // The property proves something only if enough pairs are accepted and their sessions allow things.
  expect(tally.accepted / tally.pairs).toBeGreaterThan(0.3);
  expect(tally.probesAllowedBySent).toBeGreaterThan(RUNS / 2);
  // And the code refuses for each of its reasons somewhere in the run.
  expect(Object.keys(tally.refused).sort()).toEqual(['empty_session', 'policy_arn_not_granted', 'policy_not_narrowable', 'session_policy_widens_grant']);
}, 120_000);
