import { execSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBClient, PutItemCommand, type AttributeValue, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
import { localBundleOptions, tracerBundleCommand } from '../infra/broker-function';
import { startLocalStack } from '../local/stack';
import { DynamoLeaseStore } from '../shared/adapters/dynamo-lease-store';
import { JoseTokenVerifier } from '../shared/adapters/jose-token-verifier';
import { StsRoleAssumer } from '../shared/adapters/sts-role-assumer';
import { systemClock, ulidGenerator } from '../shared/adapters/system';
import { parseGrantPolicy } from '../shared/domain/grant-policy-file';
import { vendCredentials } from '../shared/use-cases/vend-credentials';

/**
 * `npm run bench`: every figure is a ratio against a baseline measured in the same run on the same
 * machine (shared machines are noisy: a bare time means little). Results go to
 * bench/results/latest.json. Budgets are from issue 7 and printed beside each figure.
 */
const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'bench', '.out');
const QUICK = process.argv.includes('--quick');
/** `npm run bench -- --cold-start`: only the bundles and their load times (written to bench/.out/cold-start.json). */
const COLD_START_ONLY = process.argv.includes('--cold-start');
const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, cpus: cpus().length };
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
const verdict = (ok: boolean) => (ok ? 'within budget' : 'OVER BUDGET');

// ---------------------------------------------------------------------------------------------
// Cold start: bundle each function as infra/ deploys it (esbuild, minified, the SDK inside, the
// same main fields) and time a fresh node process that loads it, against a bare handler's bundle.

async function bundle(entry: string, outfile: string): Promise<number> {
  await build(localBundleOptions(entry, outfile));
  return statSync(outfile).size;
}

function timeLoad(file: string, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr.toString().slice(0, 500)}`);
  return elapsed;
}

async function coldStart() {
  mkdirSync(OUT, { recursive: true });
  const grantsFile = join(OUT, 'grants.json');
  writeFileSync(grantsFile, JSON.stringify({ version: 1, issuers: [{ id: 'k8s', url: 'https://oidc.example.com', audiences: ['nocreds'], preset: 'kubernetes' }], rules: [] }));
  const env = { PATH: process.env.PATH, NOCREDS_TABLE_NAME: 'leases', NOCREDS_GRANT_POLICY_FILE: grantsFile, AWS_REGION: 'us-east-1', NOCREDS_LOG_LEVEL: 'SILENT', NOCREDS_REPORT_BUCKET: 'audit', NOCREDS_EVENT_BUS_NAME: 'bus', NOCREDS_BROKER_ROLE_ARNS: 'arn:aws:iam::123456789012:role/nocreds-broker' };
  const bareEntry = join(OUT, 'bare-entry.js');
  writeFileSync(bareEntry, 'exports.handler = async () => ({ statusCode: 200, body: "{}" });\n');
  const bare = join(OUT, 'bare.js');
  await bundle(bareEntry, bare);
  // The floor for any function that calls STS and DynamoDB: those two clients and nothing else.
  const floorEntry = join(OUT, 'sdk-floor-entry.js');
  writeFileSync(
    floorEntry,
    `const { STSClient } = require('@aws-sdk/client-sts'); const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const sts = new STSClient({}); const ddb = new DynamoDBClient({});
exports.handler = async () => ({ statusCode: 200, body: String(!!sts && !!ddb) });\n`,
  );
  const floor = join(OUT, 'sdk-floor.js');
  const floorBytes = await bundle(floorEntry, floor);
  const runs = QUICK ? 5 : 11;
  const functions = readdirSync(join(ROOT, 'functions')).filter((fn) => existsSync(join(ROOT, 'functions', fn, 'handler.ts')));
  const sizes: Record<string, number> = {};
  for (const fn of functions) sizes[fn] = await bundle(join(ROOT, 'functions', fn, 'handler.ts'), join(OUT, `${fn}.js`));
  // Interleave runs so drift in machine load hits every bundle alike.
  // X-Ray: the Powertools tracer is a file of its own beside the bundle (as infra deploys it with
  // tracing on), loaded at init only with NOCREDS_TRACING=true; the credentials bundle both ways.
  const traced = join(OUT, 'traced');
  mkdirSync(traced, { recursive: true });
  await bundle(join(ROOT, 'functions', 'credentials', 'handler.ts'), join(traced, 'credentials.js'));
  execSync(tracerBundleCommand(traced));
  const tracedEnv = { ...env, NOCREDS_TRACING: 'true' };
  const times: Record<string, number[]> = { bare: [], floor: [], traced: [] };
  timeLoad(bare, env);
  for (let i = 0; i < runs; i++) {
    times.bare?.push(timeLoad(bare, env));
    times.floor?.push(timeLoad(floor, env));
    for (const fn of functions) (times[fn] ??= []).push(timeLoad(join(OUT, `${fn}.js`), env));
    times.traced?.push(timeLoad(join(traced, 'credentials.js'), tracedEnv));
  }
  const bareMs = median(times.bare ?? []);
  say(`\nCold start (fresh node process loading the minified bundle; median of ${runs}; budget 2.5x, aim 1.8x)`);
  say(`  bare handler: 1.00x (baseline)`);
  const floorRatio = median(times.floor ?? []) / bareMs;
  say(`  ${'STS+DynamoDB clients only (the SDK floor)'.padEnd(12)} ${floorRatio.toFixed(2)}x   ${(floorBytes / 1024).toFixed(0).padStart(5)} KiB`);
  results.coldStartSdkFloor = { bytes: floorBytes, ratio: Number(floorRatio.toFixed(2)) };
  const figures: Record<string, { bytes: number; ratio: number }> = {};
  for (const fn of functions) {
    const ratio = median(times[fn] ?? []) / bareMs;
    figures[fn] = { bytes: sizes[fn] as number, ratio: Number(ratio.toFixed(2)) };
    say(`  ${fn.padEnd(12)} ${ratio.toFixed(2)}x   ${((sizes[fn] as number) / 1024).toFixed(0).padStart(5)} KiB   ${verdict(ratio <= 2.5)}`);
  }
  results.coldStart = figures;
  const tracedRatio = median(times.traced ?? []) / bareMs;
  const tracerBytes = statSync(join(traced, 'powertools-tracer.js')).size;
  say(`  ${'credentials, tracing on'.padEnd(12)} ${tracedRatio.toFixed(2)}x   (+${(tracerBytes / 1024).toFixed(0)} KiB tracer beside the bundle, loaded at init; nothing when off)`);
  results.coldStartTracing = { function: 'credentials', tracerBytes, ratio: Number(tracedRatio.toFixed(2)) };
}

// ---------------------------------------------------------------------------------------------
// Throughput: the local broker (in-memory ports, real JWT verification and middleware chain)
// against a bare node:http JSON echo, under the same autocannon load, each in its own process.

interface Child {
  process: ChildProcess;
  url: string;
  token?: string;
}

function startChild(kind: 'echo' | 'broker'): Promise<Child> {
  const file = kind === 'echo' ? 'echo-server.ts' : 'broker-server.ts';
  // stdout to /dev/null: the broker still writes its audit line and metrics per request (as a
  // Lambda does, to its log stream), without a terminal or pipe on the far end to slow it.
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, file)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: ROOT });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ process: child, ...(m as { url: string; token?: string }) }));
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

function liveHeap(child: Child): Promise<number> {
  return new Promise((resolve) => {
    child.process.once('message', (m) => resolve((m as { heapUsedBytes: number }).heapUsedBytes));
    child.process.send('heap');
  });
}

function peakRss(child: Child): Promise<number> {
  return new Promise((resolve) => {
    child.process.once('message', (m) => resolve((m as { maxRssBytes: number }).maxRssBytes));
    child.process.send('rss');
  });
}

async function load(url: string, token: string | undefined, seconds: number) {
  return autocannon({
    url: `${url}/v1/credentials`,
    method: 'POST',
    connections: 10,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ role: 'arn:aws:iam::123456789012:role/team-a-app' }),
  });
}

async function throughput() {
  const seconds = QUICK ? 3 : 8;
  const echo = await startChild('echo');
  const broker = await startChild('broker');
  try {
    await load(echo.url, undefined, 1);
    await load(broker.url, broker.token, 1);
    const heapBefore = await liveHeap(broker);
    const echoRun = await load(echo.url, undefined, seconds);
    const brokerRun = await load(broker.url, broker.token, seconds);
    const non2xx = brokerRun.non2xx + brokerRun.errors;
    const ratio = brokerRun.requests.average / echoRun.requests.average;
    const heapAfter = await liveHeap(broker);
    const rss = await peakRss(broker);
    const echoRss = await peakRss(echo);
    say(`\nVend throughput (autocannon, 10 connections, ${seconds} s each; budget >= 0.5)`);
    say(`  broker / bare echo: ${ratio.toFixed(2)}   ${verdict(ratio >= 0.5)}   (non-2xx or errors: ${non2xx})`);
    say(`\nMemory: local broker peak RSS under that load ${(rss / 1048576).toFixed(0)} MiB = ${(rss / echoRss).toFixed(2)}x the bare echo's`);
    const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
    say(`  live heap after a full GC: ${mib(heapBefore)} MiB after warm-up, ${mib(heapAfter)} MiB after ${brokerRun.requests.total} more vends (the lease store keeps nothing)`);
    results.throughput = { ratio: Number(ratio.toFixed(3)), brokerNon2xx: non2xx, seconds };
    results.memory = { brokerPeakRssMiB: Math.round(rss / 1048576), ratioToEcho: Number((rss / echoRss).toFixed(2)), liveHeapMiB: { afterWarmUp: Number(mib(heapBefore)), afterRun: Number(mib(heapAfter)), vends: brokerRun.requests.total } };
  } finally {
    echo.process.kill();
    broker.process.kill();
  }
}

// ---------------------------------------------------------------------------------------------
// Latency against moto, and STS economy.

function countingProxy(target: string): Promise<{ url: string; count: () => number; stop: () => void }> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => count, stop: () => server.close() })),
  );
}

/** The local grant policy plus one issuer-mode rule (team-* -> ${namespace}-worker), so both modes run on one stack. */
function grantsWithIssuerRule(): string {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, 'grants-issuer.yaml');
  const rule = `
  - id: bench-issuer-mode
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    credentials:
      via: web-identity
      roles: ["arn:aws:iam::123456789012:role/\${namespace}-worker"]
      sessionTags: { namespace: "\${namespace}", serviceaccount: "\${serviceaccount}" }
`;
  writeFileSync(file, `${readFileSync(join(ROOT, 'local', 'grants.yaml'), 'utf8')}${rule}`);
  return file;
}

async function againstMoto() {
  process.env.NOCREDS_LOG_LEVEL = 'SILENT';
  const grantsFile = grantsWithIssuerRule();
  const stack = await startLocalStack({ grantsFile, demoRoles: ['team-a-app', 'team-b-app', 'team-a-worker'] });
  try {
    const token = await stack.serviceAccountToken('team-a');
    const role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;
    const sts = new STSClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const vend = (fresh: boolean) =>
      fetch(`${stack.broker.url}/v1/credentials`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ role, fresh }) });
    const n = QUICK ? 60 : 200;
    for (let i = 0; i < 10; i++) {
      await (await vend(true)).arrayBuffer();
      await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `warm${i}` }));
    }
    const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    // The vend through the real use case and real adapters on these clients, and the calls the
    // design needs (AssumeRole, then one conditional PutItem of the active lease) made bare with
    // the inputs that vend sent: its AssumeRole parameters, then its item under a fresh lease id
    // of the same length (the vend's own id is taken). A middleware records what each vend sends.
    const sent: Array<{ input: Record<string, unknown> }> = [];
    let recording = false;
    for (const client of [sts, ddb] as Array<{ middlewareStack: { add: (m: unknown, o: unknown) => void } }>) {
      client.middlewareStack.add(
        (next: (args: { input: Record<string, unknown> }) => Promise<unknown>) => async (args: { input: Record<string, unknown> }) => {
          if (recording) sent.push({ input: structuredClone(args.input) });
          return next(args);
        },
        { step: 'initialize', name: 'benchRecordInput' },
      );
    }
    const grants = parseGrantPolicy(readFileSync(grantsFile, 'utf8').replaceAll('@DEV_ISSUER_URL@', stack.issuer.url).replaceAll('@CA_ARN@', stack.ca.caArn));
    const identity = await new JoseTokenVerifier(grants.issuers).verify(token);
    const ids = ulidGenerator();
    const vendDeps = { grants, roleAssumer: new StsRoleAssumer(sts), leases: new DynamoLeaseStore(ddb, stack.tableName), clock: systemClock, ids };
    const useCaseVend = async () => {
      recording = true;
      try {
        await vendCredentials(vendDeps, { identity, requestId: 'bench', roleArn: role, fresh: true });
      } finally {
        recording = false;
      }
      const [assumeInput, putInput] = sent.splice(0);
      if (!assumeInput?.input.RoleArn || !putInput || !(putInput.input.Item as Record<string, unknown> | undefined)?.leaseId) throw new Error('the vend did not send AssumeRole then PutItem');
      return { assume: assumeInput.input, put: putInput.input };
    };
    const bareCalls = async (inputs: { assume: Record<string, unknown>; put: Record<string, unknown> }) => {
      await sts.send(new AssumeRoleCommand(inputs.assume as never));
      const item = inputs.put.Item as Record<string, AttributeValue>;
      await ddb.send(new PutItemCommand({ ...(inputs.put as never as PutItemCommandInput), Item: { ...item, leaseId: { S: ids.next() } } }));
    };
    const vendMs: number[] = [];
    const httpBareMs: number[] = [];
    const useCaseMs: number[] = [];
    const bareMs: number[] = [];
    const callsMs: number[] = [];
    const timed = async <T>(into: number[], run: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await run();
      into.push(performance.now() - t);
      return out;
    };
    let inputs = await useCaseVend();
    for (let i = 0; i < 10; i++) await bareCalls((inputs = await useCaseVend()));
    // Interleaved, the order rotating each round, so neither drift nor what ran just before
    // (moto still settling a write) favours one of the three. The bare calls replay the inputs of
    // the latest vend.
    for (let i = 0; i < n; i++) {
      const steps = [
        async () => {
          inputs = await timed(useCaseMs, useCaseVend);
        },
        () => timed(callsMs, () => bareCalls(inputs)),
        () => timed(bareMs, () => sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `bare${i}` }))),
      ];
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
    }
    // End to end over HTTP, against a bare AssumeRole, interleaved likewise.
    for (let i = 0; i < n; i++) {
      const steps = [
        () =>
          timed(vendMs, async () => {
            const response = await vend(true);
            await response.arrayBuffer();
            if (response.status !== 201) throw new Error(`vend answered ${response.status}`);
          }),
        () => timed(httpBareMs, () => sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: `bare-http${i}` }))),
      ];
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
    }
    const ratio = (xs: number[], ys: number[], p: number) => percentile(xs, p) / percentile(ys, p);
    const fair = { toCalls: ratio(useCaseMs, callsMs, 50), toCallsP99: ratio(useCaseMs, callsMs, 99), toAssumeRole: ratio(useCaseMs, bareMs, 50), toAssumeRoleP99: ratio(useCaseMs, bareMs, 99) };
    say(`\nVend latency against moto (${n} of each, interleaved): the vend use case on the real STS and DynamoDB adapters`);
    say(`  / its calls made bare with its inputs (AssumeRole, then PutItem of its item): p50 ${fair.toCalls.toFixed(2)}x   ${verdict(fair.toCalls <= 1.1)} (target 1.1x)   p99 ${fair.toCallsP99.toFixed(2)}x`);
    say(`  / a bare AssumeRole (role and session name only):                         p50 ${fair.toAssumeRole.toFixed(2)}x   ${verdict(fair.toAssumeRole <= 2.2)} (target 2.2x)   p99 ${fair.toAssumeRoleP99.toFixed(2)}x`);
    say(`  (those bare calls alone are ${ratio(callsMs, bareMs, 50).toFixed(2)}x a bare AssumeRole at p50; medians: vend ${median(useCaseMs).toFixed(1)} ms, bare calls ${median(callsMs).toFixed(1)} ms, bare AssumeRole ${median(bareMs).toFixed(1)} ms)`);
    const p50 = median(vendMs) / median(httpBareMs);
    const p99 = percentile(vendMs, 99) / percentile(httpBareMs, 99);
    say(`Vend end to end over HTTP (local broker: JWT check, middleware, the same use case) / a bare AssumeRole (budget 2.5x)`);
    say(`  p50: ${p50.toFixed(2)}x   ${verdict(p50 <= 2.5)}   p99: ${p99.toFixed(2)}x   ${verdict(p99 <= 2.5)}`);
    results.latency = {
      p50Ratio: Number(p50.toFixed(2)),
      p99Ratio: Number(p99.toFixed(2)),
      useCaseToBareCallsP50: Number(fair.toCalls.toFixed(2)),
      useCaseToBareCallsP99: Number(fair.toCallsP99.toFixed(2)),
      useCaseToAssumeRoleP50: Number(fair.toAssumeRole.toFixed(2)),
      useCaseToAssumeRoleP99: Number(fair.toAssumeRoleP99.toFixed(2)),
      bareCallsToAssumeRoleP50: Number(ratio(callsMs, bareMs, 50).toFixed(2)),
      samples: n,
    };

    // Issuer mode: the same vend (same caller, same kind of grant with tags) through KMS Sign and
    // AssumeRoleWithWebIdentity, interleaved with assume-role vends so machine drift hits both alike.
    const issuerVend = () =>
      fetch(`${stack.broker.url}/v1/credentials`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/team-a-worker`, fresh: true }),
      });
    for (let i = 0; i < 10; i++) await (await issuerVend()).arrayBuffer();
    const issuerMs: number[] = [];
    const assumeMs: number[] = [];
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      const issued = await issuerVend();
      await issued.arrayBuffer();
      if (issued.status !== 201) throw new Error(`issuer-mode vend answered ${issued.status}`);
      issuerMs.push(performance.now() - t);
      t = performance.now();
      await (await vend(true)).arrayBuffer();
      assumeMs.push(performance.now() - t);
    }
    const issuerP50 = median(issuerMs) / median(assumeMs);
    const issuerP99 = percentile(issuerMs, 99) / percentile(assumeMs, 99);
    const addedMs = median(issuerMs) - median(assumeMs);
    say(`\nIssuer mode (KMS Sign + AssumeRoleWithWebIdentity) / assume-role vend, end to end against moto (${n} interleaved each)`);
    say(`  p50: ${issuerP50.toFixed(2)}x   p99: ${issuerP99.toFixed(2)}x   (p50 +${addedMs.toFixed(1)} ms on this machine; on AWS the difference is one KMS Sign round trip)`);
    results.issuerMode = { p50Ratio: Number(issuerP50.toFixed(2)), p99Ratio: Number(issuerP99.toFixed(2)), p50AddedMs: Number(addedMs.toFixed(1)), samples: n };

    // STS economy: count AssumeRole calls moto recorded.
    const assumed = async () => ((await (await fetch(`${stack.moto.endpoint}/moto-api/data.json`)).json()) as { sts: { AssumedRole: unknown[] } }).sts.AssumedRole.length;
    const before = await assumed();
    const economyToken = await stack.serviceAccountToken('team-b');
    const burst = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${stack.broker.url}/v1/credentials`, {
          method: 'POST',
          headers: { authorization: `Bearer ${economyToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/team-b-app` }),
        }).then((r) => r.status),
      ),
    );
    const stsCalls = (await assumed()) - before;
    say(`\nSTS economy`);
    say(`  100 identical concurrent vend requests -> ${stsCalls} STS call(s)   (${burst.filter((s) => s === 201).length} answered 201; target 1)`);
    results.stsEconomy = { concurrentVends: 100, stsCalls };

    const providerPath = join(ROOT, 'client', 'provider.ts');
    if (existsSync(providerPath)) {
      const { fromNocreds } = (await import('../client/provider')) as unknown as { fromNocreds: (init: Record<string, unknown>) => unknown };
      const proxy = await countingProxy(stack.broker.url);
      try {
        const client = new STSClient({
          region: 'us-east-1',
          endpoint: stack.moto.endpoint,
          credentials: fromNocreds({ url: proxy.url, brokerUrl: proxy.url, role: `arn:aws:iam::${stack.accountId}:role/team-a-app`, auth: { oidc: { token: await stack.serviceAccountToken('team-a') } } }) as never,
        });
        const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
        await Promise.all(Array.from({ length: 100 }, () => client.send(new GetCallerIdentityCommand({}))));
        say(`  100 concurrent SDK calls through fromNocreds -> ${proxy.count()} broker request(s)   (target 1)`);
        results.stsEconomy = { ...(results.stsEconomy as object), sdkCalls: 100, brokerRequests: proxy.count() };
      } catch (error) {
        say(`  fromNocreds figure not measured: ${(error as Error).message}`);
      } finally {
        proxy.stop();
      }
    }
  } finally {
    await stack.stop();
  }
}

async function main() {
  const started = Date.now();
  say(`nocreds benchmarks (${QUICK ? 'quick' : 'full'} run, node ${process.version}, ${results.cpus} cpus)`);
  await coldStart();
  if (COLD_START_ONLY) {
    writeFileSync(join(OUT, 'cold-start.json'), `${JSON.stringify(results, null, 2)}\n`);
    say(`\nCold start only: written to bench/.out/cold-start.json (${((Date.now() - started) / 1000).toFixed(0)} s).`);
    process.exit(0);
  }
  await throughput();
  await againstMoto();
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  say(`\nResults written to bench/results/latest.json and the printout to latest.txt (${((Date.now() - started) / 1000).toFixed(0)} s).`);
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.txt'), `${lines.join('\n')}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
