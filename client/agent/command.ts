import { Command, InvalidArgumentError, Option } from 'commander';
import { NocredsClientError } from '../errors';
import { KEY_TYPES } from '../key-types';
import type { AgentConfig } from './config';
import type { LogLevel } from './log';

// Everything but commander is loaded when an agent command runs: registering the command must not
// slow down every other CLI start (credential_process runs the CLI once per SDK refresh).
const loadConfig = () => import('./config');

/**
 * `nocreds agent` (long-running) and `nocreds agent env`. Settings: flags, then the environment,
 * then the `--config` file (YAML or JSON); the broker URL and authentication are the CLI's own
 * global options (`--url`, `--token-file`, `--iam`, ...), so the agent proves who it is exactly as
 * every other command does.
 */

interface AgentIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

interface AgentFlags {
  config?: string;
  role?: string[];
  host?: string;
  port?: number;
  socket?: string;
  tcp?: boolean;
  authTokenFile?: string;
  imds?: boolean;
  imdsPort?: number;
  imdsRole?: string;
  credentialsFile?: string;
  credentialsProfile?: string;
  credentialsRole?: string;
  certDir?: string;
  certName?: string;
  certProfile?: string;
  certCn?: string;
  certDns?: string[];
  certUri?: string[];
  certIp?: string[];
  keyType?: string;
  certValidity?: number;
  renewBefore?: number;
  onRotate?: string;
  pidFile?: string;
  reloadSignal?: string;
  metricsPort?: number;
  metricsHost?: string;
  safetyMargin?: number;
  githubAudience?: string;
  logLevel: LogLevel;
}

function wholeNumber(name: string, min = 0) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}.`);
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Only what the user said (a flag or an environment variable), never commander's defaults. */
function given<T>(command: Command, name: string): T | undefined {
  const source = command.getOptionValueSourceWithGlobals(name);
  return source === 'cli' || source === 'env' ? (command.optsWithGlobals()[name] as T) : undefined;
}

/** The flags and environment as a configuration layer, in the config file's shape. */
function layerFromCommand(command: Command, env: NodeJS.ProcessEnv, parseRoleFlag: (value: string) => { name: string; arn: string }): Record<string, unknown> {
  const g = <T>(name: string) => given<T>(command, name);
  const flags = command.opts<AgentFlags>();
  let auth: Record<string, unknown> | undefined;
  if (g('iam') || g('sigv4')) {
    auth = { iam: { method: g('sigv4') ? 'sigv4' : 'proof', serverId: g('serverId'), stsEndpoint: g('stsEndpoint'), region: g('region') } };
  } else if (env.NOCREDS_TOKEN) auth = { token: env.NOCREDS_TOKEN };
  else if (g('githubAudience')) auth = { github: { audience: g('githubAudience') } };
  else if (g('tokenFile')) auth = { tokenFile: g('tokenFile') };

  const roleFlags = flags.role ?? (env.NOCREDS_AGENT_ROLES ? env.NOCREDS_AGENT_ROLES.split(',').map((r) => r.trim()).filter(Boolean) : undefined);
  const certificate = flags.certDir
    ? {
        dir: flags.certDir,
        name: flags.certName,
        profile: flags.certProfile,
        commonName: flags.certCn,
        dns: flags.certDns,
        uris: flags.certUri,
        ips: flags.certIp,
        keyType: flags.keyType,
        validitySeconds: flags.certValidity,
        renewBeforeSeconds: flags.renewBefore,
        onRotate: flags.onRotate,
        pidFile: flags.pidFile,
        signal: flags.reloadSignal,
      }
    : undefined;
  const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const listen = drop({ host: g('host'), port: g('port'), socket: g('socket'), tcp: g('tcp') });
  const imds = drop({ enabled: g('imds'), port: g('imdsPort'), role: g('imdsRole') });
  const credentialsFile = drop({ path: g('credentialsFile'), profile: g('credentialsProfile'), role: g('credentialsRole') });
  return drop({
    url: g('url'),
    auth,
    timeoutSeconds: g('timeout'),
    authTokenFile: g('authTokenFile'),
    safetyMarginSeconds: g('safetyMargin'),
    roles: roleFlags?.map(parseRoleFlag),
    certificates: certificate ? [drop(certificate)] : undefined,
    listen: Object.keys(listen).length > 0 ? listen : undefined,
    imds: Object.keys(imds).length > 0 ? imds : undefined,
    credentialsFile: Object.keys(credentialsFile).length > 0 ? credentialsFile : undefined,
    metrics: g('metricsPort') !== undefined ? drop({ port: g('metricsPort'), host: g('metricsHost') }) : undefined,
  });
}

async function mergedLayer(command: Command, io: AgentIo): Promise<{ layer: Record<string, unknown>; source: string }> {
  const { mergeLayers, parseRoleFlag, readConfigFile } = await loadConfig();
  const configFile = command.opts<AgentFlags>().config;
  const fileLayer = configFile ? await readConfigFile(configFile) : {};
  return { layer: mergeLayers(fileLayer, layerFromCommand(command, io.env, parseRoleFlag)), source: configFile ? `${configFile}, flags and environment` : 'flags and environment' };
}

/** The agent's configuration from flags, environment and file, validated. */
export async function agentConfigFrom(command: Command, io: AgentIo): Promise<AgentConfig> {
  const { layer, source } = await mergedLayer(command, io);
  if (layer.url === undefined) throw new NocredsClientError('usage', 'usage', 'Which broker? Pass --url, set NOCREDS_URL, or put url: in the --config file.');
  if (layer.auth === undefined) {
    throw new NocredsClientError('usage', 'usage', 'How should the agent prove who it is? Pass --token-file (or set NOCREDS_TOKEN_FILE), --github-audience in GitHub Actions, or --iam; or put auth: in the --config file.');
  }
  return (await loadConfig()).validateAgentConfig(layer, source);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The lines to export so any AWS SDK uses the agent. */
export function exportLines(fields: Pick<AgentConfig, 'listen' | 'authTokenFile' | 'roles' | 'imds'>, role?: string, url?: string): string {
  const name = role ?? fields.roles[0]?.name;
  if (!name || !fields.roles.some((r) => r.name === name)) {
    throw new NocredsClientError('usage', 'usage', `No role ${JSON.stringify(name ?? '')} is configured (configured: ${fields.roles.map((r) => r.name).join(', ') || 'none'}).`);
  }
  let base = url;
  if (!base) {
    if (!fields.listen.tcp) throw new NocredsClientError('usage', 'usage', 'The agent serves only a Unix socket: SDKs need an http URL (drop --no-tcp).');
    if (fields.listen.port === 0) throw new NocredsClientError('usage', 'usage', 'With --port 0 the port is chosen at start: read the variables from the agent\'s start-up line instead.');
    const host = fields.listen.host.includes(':') ? `[${fields.listen.host}]` : fields.listen.host;
    base = `http://${host}:${fields.listen.port}`;
  }
  const lines = [
    `export AWS_CONTAINER_CREDENTIALS_FULL_URI=${shellQuote(`${base}/roles/${encodeURIComponent(name)}`)}`,
    `export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${shellQuote(fields.authTokenFile)}`,
  ];
  if (fields.imds.enabled) lines.push(`# legacy clients (IMDSv2 only): export AWS_EC2_METADATA_SERVICE_ENDPOINT=${shellQuote(`http://${fields.imds.host}:${fields.imds.port}`)}`);
  return `${lines.join('\n')}\n`;
}

/** Adds `agent` and `agent env` to the CLI. */
export function registerAgentCommand(program: Command, io: AgentIo): void {
  const agent = program
    .command('agent')
    .description('run a local endpoint that keeps credentials and certificates fresh (container credentials, IMDSv2, files)')
    .addOption(new Option('--config <file>', 'a YAML or JSON config file (flags and environment win over it)').env('NOCREDS_AGENT_CONFIG'))
    .option('--role <name=arn>', 'a role to serve at /roles/<name> (repeatable; a bare ARN is named after the role); env NOCREDS_AGENT_ROLES, comma-separated', collect)
    .addOption(new Option('--host <address>', 'listen address (loopback)').env('NOCREDS_AGENT_HOST'))
    .addOption(new Option('--port <port>', 'listen port (default 8790; 0 picks one)').env('NOCREDS_AGENT_PORT').argParser(wholeNumber('--port')))
    .addOption(new Option('--socket <path>', 'also serve on this Unix socket (mode 0600)').env('NOCREDS_AGENT_SOCKET'))
    .option('--no-tcp', 'serve only on --socket')
    .addOption(new Option('--auth-token-file <file>', 'where the agent writes the token SDKs must send (default $XDG_RUNTIME_DIR/nocreds/agent-token)').env('NOCREDS_AGENT_AUTH_TOKEN_FILE'))
    .option('--imds', 'also emulate IMDSv2 (token required) for legacy clients')
    .addOption(new Option('--imds-port <port>', 'IMDSv2 emulation port (default 8791)').argParser(wholeNumber('--imds-port')))
    .option('--imds-role <name>', 'the role IMDS serves (default the first)')
    .option('--credentials-file <file>', 'keep a profile of this AWS shared-credentials file up to date')
    .option('--credentials-profile <name>', 'the profile to write (default nocreds)')
    .option('--credentials-role <name>', 'the role written there (default the first)')
    .option('--cert-dir <dir>', 'keep a certificate in this directory (tls.key, tls.crt, chain.crt, ca.crt)')
    .option('--cert-name <name>', 'a name for it in logs and metrics (default "default")')
    .option('--cert-profile <name>', "the grant's certificate profile")
    .option('--cert-cn <cn>', 'subject common name')
    .option('--cert-dns <name>', 'a DNS name (repeatable)', collect)
    .option('--cert-uri <uri>', 'a URI name, e.g. spiffe://... (repeatable)', collect)
    .option('--cert-ip <address>', 'an IP address name (repeatable)', collect)
    .addOption(new Option('--key-type <type>', 'key algorithm').choices(KEY_TYPES))
    .addOption(new Option('--cert-validity <seconds>', 'requested validity').argParser(wholeNumber('--cert-validity', 1)))
    .addOption(new Option('--renew-before <seconds>', 'renew this long before expiry (default: a third of the lifetime)').argParser(wholeNumber('--renew-before', 1)))
    .option('--on-rotate <command>', 'run this (sh -c) after each rotation, with NOCREDS_CERT_DIR set')
    .option('--pid-file <file>', 'signal the process in this pid file after each rotation')
    .option('--reload-signal <signal>', 'the signal for --pid-file (default SIGHUP)')
    .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics, /healthz and /readyz on this port').env('NOCREDS_AGENT_METRICS_PORT').argParser(wholeNumber('--metrics-port')))
    .option('--metrics-host <address>', 'metrics listen address (default 127.0.0.1)')
    .addOption(new Option('--safety-margin <seconds>', 'stop serving credentials this long before they expire (default 120)').argParser(wholeNumber('--safety-margin')))
    .option('--github-audience <audience>', 'in GitHub Actions: request an OIDC token for this audience on every refresh')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info').env('NOCREDS_AGENT_LOG_LEVEL'))
    .action(async (_opts: unknown, command: Command) => {
      const config = await agentConfigFrom(command, io);
      const [{ startAgent }, { jsonLogger }] = await Promise.all([import('./agent'), import('./log')]);
      const running = await startAgent(config, { log: jsonLogger({ level: command.opts<AgentFlags>().logLevel, write: io.stderr }) });
      if (running.url && config.roles.length > 0) io.stderr(`nocreds agent: serving ${config.roles.map((r) => r.name).join(', ')}; for any AWS SDK:\n${exportLines(config, undefined, running.url)}`);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          io.stderr(`nocreds agent: ${signal}: stopping\n`);
          void running.stop().then(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });

  agent
    .command('env')
    .description('print the two variables that point any AWS SDK at the agent (same --config, --port, --role as the agent)')
    .argument('[role]', 'which role, by name (default the first)')
    .action(async (role: string | undefined, _opts: unknown, command: Command) => {
      const parent = command.parent as Command;
      const { layer, source } = await mergedLayer(parent, io);
      io.stdout(exportLines((await loadConfig()).agentConfigFields(layer, source), role));
    });
}
