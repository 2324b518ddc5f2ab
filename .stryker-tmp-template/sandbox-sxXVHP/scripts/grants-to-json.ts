// @ts-nocheck
import { readFileSync } from 'node:fs';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';

/**
 * Validates a grant policy file (YAML or JSON; errors name line and path) and prints it as the
 * JSON the functions read: `npx tsx scripts/grants-to-json.ts grants.yaml > grants.json`.
 */
const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx scripts/grants-to-json.ts GRANTS_FILE > grants.json');
  process.exit(2);
}
try {
  process.stdout.write(`${JSON.stringify(parseGrantPolicy(readFileSync(file, 'utf8'), file), null, 2)}\n`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
