// Writes src/generated/openapi.ts: the types of the service's committed openapi.json, made by
// openapi-typescript. With --check it writes nothing and exits 1 when the committed file is not
// what the generator makes of openapi.json now (the client test suite runs it that way).
// --source=<file> reads another OpenAPI document (the test shows the check failing with one).
//
// ESM because openapi-typescript and some of its dependencies are ES modules only.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const sourceArgument = process.argv.find((argument) => argument.startsWith('--source='));
const SOURCE = sourceArgument === undefined ? new URL('../../../openapi.json', import.meta.url) : pathToFileURL(sourceArgument.slice('--source='.length));
const TARGET = new URL('../src/generated/openapi.ts', import.meta.url);

const BANNER = `/**
 * GENERATED FILE: do not edit.
 *
 * The types of the inventory service's openapi.json, made by openapi-typescript
 * (\`npm run client:generate\` at the repository root). When the API changes: \`npm run openapi\`,
 * then \`npm run client:generate\`. A test fails when this file is not what the generator makes
 * of the committed openapi.json.
 */

`;

const contents = BANNER + astToString(await openapiTS(SOURCE, { silent: true }));
const target = fileURLToPath(TARGET);
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (committed !== contents) {
    console.error(`${target} is not what openapi-typescript makes of openapi.json: run \`npm run client:generate\` and commit the result`);
    process.exit(1);
  }
} else {
  writeFileSync(target, contents);
}
