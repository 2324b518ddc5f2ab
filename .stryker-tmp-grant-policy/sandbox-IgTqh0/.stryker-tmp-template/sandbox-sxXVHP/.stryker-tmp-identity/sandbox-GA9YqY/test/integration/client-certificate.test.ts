// @ts-nocheck
// 
// 
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { run, type CliIo } from '../../client/cli';
import { createActiveCa, verifyIssuedBy, type ActiveCa } from '../../local/moto-ca';
import { startLocalStack, type LocalStack } from '../../local/stack';

/**
 * `nocreds certificate` against the local broker with a moto CA: the key is made locally, the
 * broker signs the CSR through PCA, and the CLI writes key, certificate and chain.
 */
const PLACEHOLDER_CA = 'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000';

let stack: LocalStack;
let ca: ActiveCa;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nocreds-cert-'));
  const grantsFile = join(dir, 'grants.yaml');
  writeFileSync(
    grantsFile,
    `version: 1
issuers:
  - { id: dev, url: "@DEV_ISSUER_URL@", audiences: [nocreds], preset: kubernetes, allowInsecureLoopback: true }
rules:
  - id: mesh
    callers: [{ oidc: dev, claims: { namespace: "team-*" } }]
    certificates:
      profiles:
        - name: mesh
          caArn: ${PLACEHOLDER_CA}
          maxValiditySeconds: 86400
          san:
            dns: ["\${serviceaccount}.\${namespace}.svc"]
          addNames:
            uri: ["spiffe://example.org/ns/\${namespace}/sa/\${serviceaccount}"]
`,
  );
  stack = await startLocalStack({ grantsFile });
  ca = await createActiveCa(new ACMPCAClient({ region: 'us-east-1', endpoint: stack.moto.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  // The CA exists only once moto runs; the certificates function reads its grants on first use.
  process.env.NOCREDS_GRANT_POLICY = (process.env.NOCREDS_GRANT_POLICY ?? '').replaceAll(PLACEHOLDER_CA, ca.caArn);
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await stack.serviceAccountToken('team-a', 'app'), { mode: 0o600 });
}, 90_000);

afterAll(() => stack?.stop());

async function cli(...argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io: CliIo = { stdout: () => undefined, stderr: (t) => (stderr += t), env: {} };
  const code = await run(['--url', stack.broker.url, '--token-file', tokenFile, 'certificate', ...argv], io);
  return { code, stderr };
}

test('writes a 0600 private key and a certificate for it, signed by the CA, with the granted names', async () => {
  const keyOut = join(dir, 'tls.key');
  const certOut = join(dir, 'tls.crt');
  const chainOut = join(dir, 'ca.crt');
  const { code, stderr } = await cli('--profile', 'mesh', '--dns', 'app.team-a.svc', '--key-out', keyOut, '--cert-out', certOut, '--chain-out', chainOut);
  expect(stderr).toMatch(/^nocreds: wrote .*tls\.key/);
  expect(code).toBe(0);

  expect(statSync(keyOut).mode & 0o777).toBe(0o600);
  const certificate = verifyIssuedBy(readFileSync(certOut, 'utf8'), ca.caCertificatePem);
  expect(certificate.subjectAltName).toContain('DNS:app.team-a.svc');
  // (The profile's added SPIFFE URI travels in ApiPassthrough, which moto ignores.)
  // The key on disk is the one certified.
  expect(certificate.checkPrivateKey(createPrivateKey(readFileSync(keyOut)))).toBe(true);
  expect(readFileSync(chainOut, 'utf8')).toContain('BEGIN CERTIFICATE');
});

test('without --chain-out the chain follows the certificate in --cert-out; RSA keys work too', async () => {
  const certOut = join(dir, 'full.crt');
  const { code } = await cli('--dns', 'app.team-a.svc', '--key-type', 'rsa-2048', '--key-out', join(dir, 'rsa.key'), '--cert-out', certOut);
  expect(code).toBe(0);
  const pem = readFileSync(certOut, 'utf8');
  expect(pem.match(/BEGIN CERTIFICATE/g)?.length).toBeGreaterThanOrEqual(2);
  expect(new X509Certificate(pem).publicKey.asymmetricKeyType).toBe('rsa');
});

test('a name the profile does not allow is refused (exit 2, with the broker\'s reason), and no key or certificate is written', async () => {
  const keyOut = join(dir, 'denied.key');
  const { code, stderr } = await cli('--dns', 'app.team-b.svc', '--key-out', keyOut, '--cert-out', join(dir, 'denied.crt'));
  expect(code).toBe(2);
  expect(stderr).toMatch(/does not allow .*HTTP 400 csr_name_not_allowed/);
  expect(() => statSync(keyOut)).toThrow();
});

test('a certificate needs a name: usage error before anything is generated or sent', async () => {
  const { code, stderr } = await cli('--key-out', join(dir, 'x.key'), '--cert-out', join(dir, 'x.crt'));
  expect(code).toBe(2);
  expect(stderr).toMatch(/--common-name, --dns, --uri or --ip/);
});
