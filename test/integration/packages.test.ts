import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../local/moto-server';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { packWorkspaces } from '../support/workspace-pack';

/**
 * The packages as a consumer gets them: `npm pack` each workspace (its prepack builds dist/ from
 * client/ and infra/), install the tarballs into a fresh project outside the repository, then use
 * them there: the provider from ESM and from CommonJS against the local broker, the `nocreds` bin,
 * and a CDK app synthesized with the construct package alone.
 */
const run = promisify(execFile);
const ROOT_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let stack: LocalStack;
let work: string;
let consumer: string;
let tokenFile: string;
let role: string;

function inConsumer(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(command, args, { cwd: consumer, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nocreds-packages-'));
  consumer = join(work, 'consumer');
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs, { recursive: true });
  mkdirSync(consumer, { recursive: true });
  // The broker starts while npm packs and installs: the two share little but the clock.
  const [started, installed] = await Promise.allSettled([
    startLocalStack(),
    (async () => {
      await packWorkspaces(['packages/client', 'packages/cdk'], tarballs);
      writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
      const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
      expect(packed).toHaveLength(2);
      await inConsumer('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...packed]);
    })(),
  ]);
  // Kept even when the install failed, so afterAll stops it.
  if (started.status === 'fulfilled') stack = started.value;
  if (started.status === 'rejected') throw started.reason;
  if (installed.status === 'rejected') throw installed.reason;
  tokenFile = join(work, 'token');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
  role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
}, 150_000);

afterAll(async () => {
  await stack?.stop();
  // The consumer's node_modules (aws-cdk-lib included) is a quarter of a gigabyte.
  if (work) rmSync(work, { recursive: true, force: true });
});

const PROVIDER_CALL = `({ url: process.env.BROKER, role: process.env.ROLE, auth: { oidc: { tokenFile: process.env.TOKEN_FILE } } })().then(
  (c) => console.log(JSON.stringify({ leaseId: c.leaseId, accessKeyId: c.accessKeyId, expiration: c.expiration, type: typeof c.expiration.getTime })),
  (e) => { console.error(e.name, e.code, e.message); process.exitCode = 1; });`;

describe('@nocreds/client installed from its tarball', () => {
  test.each([
    ['ESM', 'esm.mjs', `import { fromNocreds } from '@nocreds/client';\nfromNocreds${PROVIDER_CALL}`],
    ['CommonJS', 'cjs.cjs', `const { fromNocreds } = require('@nocreds/client/provider');\nfromNocreds${PROVIDER_CALL}`],
  ])('fromNocreds imported from %s vends credentials from the local broker', async (_kind, file, source) => {
    writeFileSync(join(consumer, file), source);
    const { stdout } = await inConsumer('node', [file], { BROKER: stack.broker.url, ROLE: role, TOKEN_FILE: tokenFile });
    const answer = JSON.parse(stdout) as { leaseId: string; accessKeyId: string; expiration: string; type: string };
    expect(answer.leaseId).toMatch(/^[0-9A-Z]{26}$/);
    expect(answer.accessKeyId).toMatch(/^ASIA/);
    expect(answer.type).toBe('function');
    expect(new Date(answer.expiration).getTime()).toBeGreaterThan(Date.now());
  });

  test('`npx nocreds --version` prints the repository version', async () => {
    const { stdout } = await inConsumer('npx', ['--no-install', 'nocreds', '--version']);
    expect(stdout.trim()).toBe(ROOT_VERSION);
  });

  test('`npx nocreds credentials` prints credential_process JSON from the local broker', async () => {
    const { stdout } = await inConsumer('npx', ['--no-install', 'nocreds', '--url', stack.broker.url, '--token-file', tokenFile, 'credentials', '--role', role]);
    const answer = JSON.parse(stdout) as { Version: number; AccessKeyId: string };
    expect(answer.Version).toBe(1);
    expect(answer.AccessKeyId).toMatch(/^ASIA/);
  });

  test('a consumer bundle importing only fromNocreds stays small (no CLI, no CSR code)', async () => {
    writeFileSync(join(consumer, 'bundle-entry.mjs'), `import { fromNocreds } from '@nocreds/client';\nexport const provider = fromNocreds;\n`);
    const result = await build({ entryPoints: [join(consumer, 'bundle-entry.mjs')], bundle: true, minify: true, platform: 'node', format: 'esm', write: false, metafile: true, splitting: true, outdir: join(consumer, 'bundle'), absWorkingDir: consumer, logLevel: 'silent' });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('commander'))).toBe(false);
    expect(inputs.some((path) => path.includes('@peculiar/x509'))).toBe(false);
    const entry = result.outputFiles.find((f) => f.path.endsWith('bundle-entry.js'))!;
    // Printed for the README's figure: the OIDC path is the entry; IAM signing is a lazy chunk.
    console.log(`consumer bundle importing only fromNocreds: ${(entry.contents.length / 1024).toFixed(1)} KiB minified entry, ${(result.outputFiles.reduce((n, f) => n + f.contents.length, 0) / 1024).toFixed(1)} KiB with lazy chunks`);
    expect(entry.contents.length).toBeLessThan(60 * 1024);
  });
});

describe('@nocreds/cdk installed from its tarball', () => {
  test('an app using Nocreds and BrokeredRole synthesizes without the repository, with the prebundled functions and its grants', async () => {
    copyFileSync(join(REPO_ROOT, 'infra', 'example-grants.yaml'), join(consumer, 'grants.yaml'));
    writeFileSync(
      join(consumer, 'app.cjs'),
      `const { App, Stack } = require('aws-cdk-lib');
const { Nocreds, BrokeredRole, BrokeredRoleOptIn } = require('@nocreds/cdk');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'eu-west-1' } });
const broker = new Nocreds(stack, 'Broker', { grantPolicyFile: 'grants.yaml', brokeredRoles: BrokeredRoleOptIn.byPath('/nocreds/') });
new BrokeredRole(stack, 'App', { broker, roleName: 'app' });
app.synth();
`,
    );
    rmSync(join(consumer, 'cdk.out'), { recursive: true, force: true });
    await inConsumer('node', ['app.cjs']);

    const template = JSON.parse(readFileSync(join(consumer, 'cdk.out', 'Platform.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.Handler)).toEqual(Array(7).fill('index.handler'));
    const assets = readdirSync(join(consumer, 'cdk.out')).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(7);
    for (const asset of assets) {
      expect(readdirSync(join(consumer, 'cdk.out', asset)).sort()).toEqual(['grants.json', 'index.js', 'index.js.map']);
      // The app's own grant policy, validated and staged by the construct, is what each function reads.
      const grants = JSON.parse(readFileSync(join(consumer, 'cdk.out', asset, 'grants.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(grants)).toEqual(expect.arrayContaining(['issuers']));
    }
    const role = Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'app');
    expect(role?.Properties.Path).toBe('/nocreds/');
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain('BrokerCredentialsFunctionRole');
  }, 60_000);
});
