/**
 * Every integration test's answers are checked against docs/openapi.json (jest
 * setupFilesAfterEach of the integration project): each answer any `httpRoute` gives in the test
 * process, directly or through the local server, goes to one checker, and a test whose answers
 * broke the contract fails with what was wrong. An undocumented status or error code is a failure.
 */
import { observeAnswers } from '../../shared/http/answers';
import { OpenApiAnswers } from '../support/openapi-answers';

export const answerContract = new OpenApiAnswers();
const stop = observeAnswers((answer) => {
  answerContract.check(answer);
});
let reported = 0;

afterEach(() => {
  const failures = answerContract.failures.slice(reported);
  reported = answerContract.failures.length;
  if (failures.length > 0) {
    throw new Error(`answers that docs/openapi.json does not describe (fix the code, or the schemas and run npm run openapi):\n${failures.join('\n')}`);
  }
});

afterAll(() => {
  stop();
  // NOCREDS_CONTRACT_COUNT=1 prints how many answers this test file had checked.
  if (process.env.NOCREDS_CONTRACT_COUNT) console.log(`answers checked against docs/openapi.json: ${answerContract.checked}`);
});
