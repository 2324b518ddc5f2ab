import { CfnOutput, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DEFAULT_ISSUER_AUDIENCE } from '../shared/config';
import type { BrokerFunction } from './broker-function';

/**
 * Issuer mode (`credentials.via: web-identity` in the grant policy): the broker signs a short token
 * per vend with a KMS key and exchanges it with AssumeRoleWithWebIdentity. `Nocreds` makes this
 * when its grant policy has such a rule, or when its `issuer` prop is set.
 *
 * Key rotation runbook (relying parties cache the JWKS; tokens live 5 minutes):
 * 1. Publish the next key: `issuer: { signingKey: current, publishedKeys: [current, next] }`, deploy.
 * 2. Wait until every relying party has fetched the new JWKS (STS caches it; the broker serves it
 *    with max-age=300: wait at least an hour to be safe).
 * 3. Switch: `issuer: { signingKey: next, publishedKeys: [next, current] }`, deploy.
 * 4. Wait longer than a token's lifetime (5 minutes; sessions already vended are not affected).
 * 5. Remove the old key: `issuer: { signingKey: next }`, deploy; then schedule `current` for deletion.
 * Keys made outside this construct are passed as `kms.Key.fromKeyArn(...)`; the one this construct
 * makes (when `signingKey` is not given) is `broker.issuer.signingKey`.
 *
 * @example
 * new Nocreds(this, 'Broker', { grantPolicyFile, brokeredRoles, issuer: { signingKey: next, publishedKeys: [next, current] } });
 */
export interface NocredsIssuerProps {
  /** `aud` of the tokens and the OIDC provider's client id; roles' trust policies require it. @default 'sts.amazonaws.com' */
  readonly audience?: string;
  /** The asymmetric KMS key (ECC_NIST_P256 or RSA, SIGN_VERIFY) that signs now. @default - a new ECC_NIST_P256 key */
  readonly signingKey?: kms.IKey;
  /** Every key published in the JWKS; must include `signingKey`. @default - the signing key alone */
  readonly publishedKeys?: kms.IKey[];
}

/** What a role needs to trust a broker's web identity tokens (see BrokeredRole's `webIdentityCallers`). */
export interface BrokerWebIdentity {
  /** The IAM OIDC provider of the broker's issuer URL, in the role's account. */
  readonly provider: iam.IOidcProvider;
  /** The issuer URL without `https://`: the prefix of the `:aud` and `:sub` condition keys. */
  readonly issuerHost: string;
  /** The tokens' `aud`. */
  readonly audience: string;
}

export interface NocredsIssuerSetup extends NocredsIssuerProps {
  /** The API that serves `/.well-known/*` (the token API). */
  readonly api: apigw.IHttpApi;
  /** The API's custom domain name, when it has one: the issuer URL is then `https://<name>`. */
  readonly domainName?: string;
  /** The functions that vend (credentials, and leases for renewals): the only ones that may sign. */
  readonly signers: readonly BrokerFunction[];
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The broker as an OIDC issuer: the KMS signing key (only the vending functions may kms:Sign with
 * it, by key policy and by their own policies), the settings the functions read, and the IAM OIDC
 * provider for the issuer URL in the broker's account.
 */
export class NocredsIssuer extends Construct implements BrokerWebIdentity {
  readonly url: string;
  readonly issuerHost: string;
  readonly audience: string;
  readonly signingKey: kms.IKey;
  readonly publishedKeys: readonly kms.IKey[];
  readonly provider: iam.OidcProviderNative;

  constructor(scope: Construct, id: string, props: NocredsIssuerSetup) {
    super(scope, id);
    const stack = Stack.of(this);
    this.audience = props.audience ?? DEFAULT_ISSUER_AUDIENCE;
    if (!Token.isUnresolved(this.audience) && (this.audience.length > 255 || /[\s,]/.test(this.audience))) {
      throw new Error(`nocreds: issuer.audience is one client id of at most 255 characters without spaces or commas; got "${this.audience}"`);
    }
    // From the API id, not the stage or a route: the functions' environment then depends on the API
    // alone, while the API's integrations depend on the functions (no cycle).
    this.issuerHost = props.domainName ?? Fn.join('', [props.api.apiId, '.execute-api.', stack.region, '.', stack.urlSuffix]);
    this.url = props.domainName ? `https://${props.domainName}` : Fn.join('', ['https://', this.issuerHost]);

    this.signingKey =
      props.signingKey ??
      new kms.Key(this, 'SigningKey', {
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        description: 'nocreds issuer: signs the web identity tokens the broker exchanges with AssumeRoleWithWebIdentity',
        alias: `alias/nocreds/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
        removalPolicy: props.removalPolicy,
      });
    this.publishedKeys = props.publishedKeys ?? [this.signingKey];
    if (!this.publishedKeys.includes(this.signingKey)) {
      throw new Error('nocreds: issuer.publishedKeys must include issuer.signingKey: a key is published (and fetched by STS) before it signs');
    }

    const roleArns = props.signers.map((fn) => fn.role.roleArn);
    // Whoever can kms:Sign with this key can mint any caller's identity: no one but the vending
    // functions, whatever their IAM policies say (no-op for an imported key: put it in its policy).
    this.signingKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheBrokerSigns',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': roleArns } },
      }),
    );
    for (const fn of props.signers) {
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Sign'], resources: [this.signingKey.keyArn] }));
      fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GetPublicKey'], resources: this.publishedKeys.map((k) => k.keyArn) }));
      fn.function.addEnvironment('NOCREDS_ISSUER_URL', this.url);
      fn.function.addEnvironment('NOCREDS_ISSUER_AUDIENCE', this.audience);
      fn.function.addEnvironment('NOCREDS_ISSUER_SIGNING_KEY', this.signingKey.keyArn);
      fn.function.addEnvironment('NOCREDS_ISSUER_PUBLISHED_KEYS', Fn.join(',', this.publishedKeys.map((k) => k.keyArn)));
    }

    // IAM validates the issuer's TLS certificate against its library of trusted root CAs (API
    // Gateway's and ACM's certificates chain to them), so no thumbprint is pinned: a pinned one
    // would break trust at the next certificate rotation (IAM UpdateOpenIDConnectProviderThumbprint docs, 2025).
    this.provider = new iam.OidcProviderNative(this, 'Provider', { url: this.url, clientIds: [this.audience] });

    new CfnOutput(this, 'IssuerUrl', { description: 'The broker as OIDC issuer (iss of its tokens); roles trust the OIDC provider of this URL', value: this.url });
    new CfnOutput(this, 'OidcProviderArn', { description: 'The IAM OIDC provider brokered roles trust in issuer mode (create one for IssuerUrl in other accounts)', value: this.provider.oidcProviderArn });
    new CfnOutput(this, 'SigningKeyArn', { description: 'The KMS key that signs the broker tokens', value: this.signingKey.keyArn });
  }
}
