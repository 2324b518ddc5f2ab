/**
 * `npm run openapi`: writes docs/openapi.json from the route table and the code (see
 * scripts/openapi/document.ts). Commit the result; a unit test fails when it drifts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiText } from './openapi/document';

const target = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, openApiText());
console.log(`wrote ${target}`);
