import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { startAgent } from '../client/agent/agent';
import { validateAgentConfig } from '../client/agent/config';
import { jsonLogger } from '../client/agent/log';
import { startLocalStack } from './stack';
import { verifyIssuedBy } from './moto-ca';
import { generateCsr } from './workload-csr';

/**
 * `npm run demo`: starts the broker locally against moto and shows it working with curl and the
 * `nocreds` CLI. `npm run demo -- --once` exits after the walkthrough (used by the tests).
 * Each run keeps its token, keys and certificates in its own directory under .local/ (removed
 * when it stops), so two demos at once never read each other's token.
 */
const once = process.argv.includes('--once');
process.env.NOCREDS_LOG_LEVEL ??= 'WARN';
const brokerPort = Number(process.env.NOCREDS_PORT ?? (once ? 0 : 8787));
const issuerPort = Number(process.env.NOCREDS_ISSUER_PORT ?? (once ? 0 : 8788));
const agentPort = Number(process.env.NOCREDS_AGENT_PORT ?? (once ? 0 : 8790));

const run = promisify(execFile);
const REPO_ROOT = join(__dirname, '..');

/** A path as a person would type it from where they ran the demo. */
const shown = (path: string) => relative(process.cwd(), path) || '.';

/**
 * What the demo prints never shows a secret: the secret access key and session token (JSON or
 * shell exports) keep their first four characters only. Access key ids, lease ids and ARNs stay.
 */
function maskSecrets(text: string): string {
  return text
    .replace(/("(?:secretAccessKey|SecretAccessKey|sessionToken|SessionToken|Token)"\s*:\s*")([^"]{0,4})[^"]*"/g, '$1$2…(masked)"')
    .replace(/((?:AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=')([^']{0,4})[^']*'/g, "$1$2…(masked)'");
}

// curl runs as a child process; the broker lives in this process, so never block the event loop.
async function curl(title: string, args: string[]): Promise<string> {
  const shown = args.map((a) => a.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '$TOKEN'));
  console.log(`\n$ curl ${shown.map((a) => (/[\s"'{}$]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const { stdout: out } = await run('curl', ['-sS', '-w', '\\nHTTP %{http_code}\\n', ...args], { encoding: 'utf8' });
  console.log(`# ${title}\n${maskSecrets(out.trim())}`);
  return out;
}

/** The `nocreds` CLI from this checkout (bin/nocreds), as a user would type it; returns its exit code. */
async function nocreds(title: string, args: string[], env: Record<string, string>): Promise<number> {
  console.log(`\n$ nocreds ${args.join(' ')}`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NOCREDS_TOKEN; // would take precedence over the token file
  const result = await run(process.execPath, [join(REPO_ROOT, 'bin', 'nocreds'), ...args], { encoding: 'utf8', env: childEnv }).then(
    ({ stdout, stderr }) => ({ code: 0, out: `${stdout}${stderr}` }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : 1, out: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
  console.log(`# ${title}\n${maskSecrets(result.out.trim())}\n# exit ${result.code}`);
  return result.code;
}

async function main() {
  console.log('Starting moto (AWS emulator), the lease table, demo roles, a development OIDC issuer and the broker...');
  const stack = await startLocalStack({ brokerPort, issuerPort });
  mkdirSync(join(REPO_ROOT, '.local'), { recursive: true });
  const stateDir = mkdtempSync(join(REPO_ROOT, '.local', 'demo-'));
  // However the run ends (done, a failed step, Ctrl-C), its token and keys go with it.
  process.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));
  const token = await stack.serviceAccountToken('team-a', 'app');
  const tokenFile = join(stateDir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const sandboxToken = await stack.serviceAccountToken('team-sandbox', 'app');
  const base = stack.broker.url;
  const role = `arn:aws:iam::${stack.accountId}:role/team-a-app`;

  console.log(`\nbroker:              ${base}`);
  console.log(`development issuer:  ${stack.issuer.url}   (local only; never deployed)`);
  console.log(`moto (AWS emulator): ${stack.moto.endpoint}`);
  console.log(`this run's files:    ${shown(stateDir)}/   (removed when the demo stops)`);
  console.log(`token for system:serviceaccount:team-a:app written to ${shown(tokenFile)}`);

  let failures = 0;
  const expectStatus = (out: string, status: number) => {
    if (!out.trimEnd().endsWith(`HTTP ${status}`)) failures++;
  };
  expectStatus(await curl('who the broker thinks we are, and which rules apply', ['-H', `Authorization: Bearer ${token}`, `${base}/v1/whoami`]), 200);
  expectStatus(
    await curl('vend credentials for team-a-app (scoped by the grant\'s session policy, recorded as a lease)', [
      '-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ role, durationSeconds: 900 }), `${base}/v1/credentials`,
    ]),
    201,
  );
  expectStatus(
    await curl('team-a asking for team-b\'s role is denied', [
      '-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/team-b-app` }), `${base}/v1/credentials`,
    ]),
    403,
  );
  expectStatus(
    await curl('the sandbox namespace is denied by an explicit deny rule', [
      '-X', 'POST', '-H', `Authorization: Bearer ${sandboxToken}`, '-H', 'Content-Type: application/json',
      '-d', JSON.stringify({ role: `arn:aws:iam::${stack.accountId}:role/team-sandbox-app` }), `${base}/v1/credentials`,
    ]),
    403,
  );
  expectStatus(
    await curl('the container-credentials endpoint (what AWS SDKs call with AWS_CONTAINER_CREDENTIALS_FULL_URI)', [
      '-H', `Authorization: ${token}`, `${base}/v1/credentials/container?role=${encodeURIComponent(role)}`,
    ]),
    200,
  );

  // A certificate for mutual TLS: the key is made here and never leaves; the broker decides the names.
  const { csr, privateKeyPem } = await generateCsr({ keyType: 'EC_prime256v1', dns: ['app.team-a.svc.cluster.local'] });
  writeFileSync(join(stateDir, 'tls.key'), privateKeyPem, { mode: 0o600 });
  writeFileSync(join(stateDir, 'tls.csr'), csr);
  const issued = await curl('issue an mTLS certificate from a CSR (profile "mesh"; the SPIFFE ID is added by the broker)', [
    '-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ csr, profile: 'mesh', validitySeconds: 3600 }), `${base}/v1/certificates`,
  ]);
  expectStatus(issued, 201);
  try {
    const body = JSON.parse(issued.slice(0, issued.lastIndexOf('\nHTTP'))) as { certificate: string };
    writeFileSync(join(stateDir, 'tls.crt'), body.certificate);
    writeFileSync(join(stateDir, 'ca.crt'), stack.ca.caCertificatePem);
    const certificate = verifyIssuedBy(body.certificate, stack.ca.caCertificatePem);
    console.log(`# verified: the certificate chains to the local CA; names: ${certificate.subjectAltName ?? '(none)'}`);
    console.log('# (moto signs the names in the CSR and ignores APIPassthrough; on AWS the certificate carries the names the broker sent, SPIFFE ID included)');
    console.log(`# (moto also ignores the validity asked for and signs for 365 days: notAfter ${new Date(certificate.validTo).toISOString()}; on AWS it is at most the 3600 s asked)`);
    console.log(`# key, certificate and CA written to ${shown(stateDir)}/tls.key, tls.crt, ca.crt`);
  } catch (error) {
    failures++;
    console.log(`# the certificate did not verify: ${(error as Error).message}`);
  }

  // The CLI, as a user types it: the same broker, the token file, secrets masked on screen.
  console.log(`\n# the nocreds CLI (bin/nocreds here; npm install -g @nocreds/client elsewhere):\n$ export NOCREDS_URL=${base} NOCREDS_TOKEN_FILE=${shown(tokenFile)}`);
  const cliEnv = { NOCREDS_URL: base, NOCREDS_TOKEN_FILE: tokenFile };
  if ((await nocreds('credentials as shell exports (eval "$(...)" to use them); as credential_process without --format', ['credentials', '--role', role, '--format', 'env'], cliEnv)) !== 0) failures++;
  if ((await nocreds('your leases: the vends and the certificate above, each recorded', ['leases', '--max-items', '2'], cliEnv)) !== 0) failures++;

  // The agent: pre-fetched credentials on loopback for any AWS SDK, a certificate kept fresh.
  console.log(`\n$ nocreds --url ${base} --token-file ${shown(tokenFile)} agent --role app=${role} --cert-dir ${shown(stateDir)}/agent-tls --cert-profile mesh --cert-dns app.team-a.svc`);
  const agent = await startAgent(
    validateAgentConfig(
      {
        url: base,
        auth: { tokenFile },
        listen: { port: agentPort },
        authTokenFile: join(stateDir, 'agent-token'),
        roles: [{ name: 'app', arn: role }],
        certificates: [{ dir: join(stateDir, 'agent-tls'), profile: 'mesh', dns: ['app.team-a.svc'] }],
      },
      'demo',
    ),
    { log: jsonLogger({ level: 'warn' }) },
  );
  await agent.started;
  console.log(`# the agent serves ${agent.url}; what a workload exports:`);
  console.log(`export AWS_CONTAINER_CREDENTIALS_FULL_URI=${agent.credentialsUri('app')}`);
  console.log(`export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${agent.authTokenFile}`);
  try {
    // An unmodified AWS SDK client: it only knows the two variables (here passed as options).
    const sts = new STSClient({
      region: 'us-east-1',
      endpoint: stack.moto.endpoint,
      credentials: fromHttp({ awsContainerCredentialsFullUri: agent.credentialsUri('app'), awsContainerAuthorizationTokenFile: agent.authTokenFile }),
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    console.log(`# an AWS SDK call through the agent: sts:GetCallerIdentity -> ${identity.Arn}`);
    const health = agent.health() as { ready: boolean; certificates: Array<{ serialNumber?: string; notAfter?: string }> };
    console.log(`# agent ready: ${health.ready}; certificate ${health.certificates[0]?.serialNumber} (until ${health.certificates[0]?.notAfter}) with its key, chain and trust bundle in ${shown(stateDir)}/agent-tls`);
    if (!health.ready || !identity.Arn?.includes(':assumed-role/team-a-app/')) failures++;
  } catch (error) {
    failures++;
    console.log(`# the SDK call through the agent failed: ${(error as Error).message}`);
  }

  if (once) {
    await agent.stop();
    await stack.stop();
    if (failures > 0) {
      console.error(`\n${failures} step(s) did not answer as expected.`);
      process.exit(1);
    }
    console.log('\nDemo finished: every step answered as expected.');
    return;
  }
  console.log(`
The broker keeps running. Try it yourself:
  TOKEN=$(cat ${shown(tokenFile)})
  curl -s -X POST ${base}/v1/credentials -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"role":"${role}"}'
Mint a token for another service account (development issuer only):
  curl -s -X POST ${stack.issuer.url}/mint -d '{"sub":"system:serviceaccount:team-b:web","kubernetes.io":{"namespace":"team-b","serviceaccount":{"name":"web"}}}'
The agent keeps serving too (credentials refreshed ahead of expiry, the certificate renewed):
  export AWS_CONTAINER_CREDENTIALS_FULL_URI=${agent.credentialsUri('app')} AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${agent.authTokenFile}
  curl -s ${agent.url}/readyz
The nocreds CLI against it:
  export NOCREDS_URL=${base} NOCREDS_TOKEN_FILE=${shown(tokenFile)}
  bin/nocreds whoami; bin/nocreds leases
Press Ctrl-C to stop.`);
  const shutdown = () => void agent.stop().then(() => stack.stop()).then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
