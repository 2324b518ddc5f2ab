// @ts-nocheck
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * fromNocreds is bundled into workloads (Lambda functions among them, where start-up grows with
 * bundle size): it must not pull in an AWS SDK service client or the default credential chain.
 */
test('bundling fromNocreds brings in no AWS SDK client and stays under 100 KB minified', async () => {
  const result = await build({
    entryPoints: [join(__dirname, '../../../client/provider.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((path) => /@aws-sdk\/(client-|credential-provider-)/.test(path))).toEqual([]);
  expect(result.outputFiles[0]?.contents.length).toBeLessThan(100 * 1024);
});
