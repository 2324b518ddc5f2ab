import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Raw event JSON, for tests that change a field to see what the parser makes of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON, edited by tests
export type CloudTrailEventJson = Record<string, any>;

/** A CloudTrail event as EventBridge delivers it, from test/fixtures/cloudtrail/<name>.json (a fresh copy each call). */
export function cloudTrailFixture(name: string): CloudTrailEventJson {
  return JSON.parse(readFileSync(join(__dirname, '../fixtures/cloudtrail', `${name}.json`), 'utf8'));
}
