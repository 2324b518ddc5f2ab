import { Command, CommanderError, Option } from 'commander';
import { registerAgentCommand } from './agent/command';
import { registerCertificateCommand } from './cli/certificate';
import { registerCompletionCommand } from './cli/completion';
import { brokerFrom, debugFor, EXIT_CODES, positiveInt, type CliIo } from './cli/context';
import { registerCredentialsCommand } from './cli/credentials';
import { registerGrantsCommand } from './cli/grants';
import { registerLeaseCommands } from './cli/leases';
import { NocredsClientError } from './errors';
import { webhookCommand } from './webhook/command';
// The one version: the repository's, inlined by the package build (packages/client).
import { version } from '../package.json';

export { EXIT_CODES, type CliIo } from './cli/context';

/**
 * `nocreds`: the broker from a shell, from `credential_process`, from CI. Each command lives in
 * client/cli/ (context.ts holds the exit codes and the global options); this file assembles them
 * and turns every outcome into an exit code.
 */

const processIo: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env };

/**
 * Commander checks mandatory options before unknown ones, so `credentials --rol X` would say
 * "--role not specified" instead of "unknown option '--rol' (Did you mean --role?)". Mandatory
 * options are therefore checked just before the action, after commander's unknown-option check.
 */
function checkMandatoryBeforeAction(command: Command): void {
  const mandatory = command.options.filter((option) => option.mandatory);
  for (const option of mandatory) option.mandatory = false;
  if (mandatory.length > 0) {
    command.hook('preAction', (_hooked, actionCommand) => {
      if (actionCommand !== command) return;
      // A dry run writes nothing: the output files it would need are not required.
      if (command.getOptionValue('dryRun') === true) return;
      const missing = mandatory.find((option) => command.getOptionValue(option.attributeName()) === undefined);
      if (missing) command.error(`error: required option '${missing.flags}' not specified`, { exitCode: EXIT_CODES.usage, code: 'commander.missingMandatoryOptionValue' });
    });
  }
  for (const child of command.commands) checkMandatoryBeforeAction(child);
}

/** Every command and subcommand: errors to io, exit codes instead of process.exit, suggestions on typos. */
function configureTree(command: Command, io: CliIo): void {
  command
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError(`(run 'nocreds${command.name() === 'nocreds' ? '' : ` ${commandPath(command)}`} --help' for usage)`);
  for (const child of command.commands) configureTree(child, io);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `run()` reports through this: a command that decides its own exit code (grants validate) calls it. */
export function buildProgram(io: CliIo, exit: (code: number) => void = () => undefined): Command {
  const program = new Command('nocreds')
    .description('Short-lived AWS credentials and X.509 certificates from a nocreds broker.')
    .version(version)
    .addOption(new Option('--url <url>', 'broker base URL').env('NOCREDS_URL'))
    .addOption(new Option('--token-file <file>', 'OIDC token file, read on every call (NOCREDS_TOKEN takes a token value instead)').env('NOCREDS_TOKEN_FILE'))
    .option('--iam', 'prove who you are with your AWS credentials (default chain) through a signed GetCallerIdentity')
    .option('--sigv4', "sign requests with SigV4 for the broker's IAM API (its IamApiUrl)")
    .addOption(new Option('--server-id <id>', "the broker's server id for --iam (default: the broker URL's host)").env('NOCREDS_SERVER_ID'))
    .addOption(new Option('--sts-endpoint <url>', 'the STS endpoint the broker verifies --iam proofs with').env('NOCREDS_STS_ENDPOINT'))
    .addOption(new Option('--region <region>', "the broker's AWS region (for --iam and --sigv4)").env('NOCREDS_REGION'))
    .addOption(new Option('--timeout <seconds>', 'per-attempt timeout').default(10).argParser(positiveInt('--timeout')))
    .option('--debug', 'trace to stderr: requests, status codes, request ids, timings, cache use (never tokens, keys or credentials)');
  program.addHelpText(
    'after',
    `
Flags always beat environment variables. Exit codes: 0 ok, 1 unexpected failure (grants validate:
problems found), 2 usage, 3 authentication or authorization, 4 broker unavailable.
Environment: NOCREDS_URL, NOCREDS_TOKEN_FILE, NOCREDS_TOKEN, NOCREDS_SERVER_ID, NOCREDS_STS_ENDPOINT,
NOCREDS_REGION, NOCREDS_CACHE_DIR, NOCREDS_OUTPUT.

Examples:
  $ export NOCREDS_URL=https://abc123.execute-api.eu-west-1.amazonaws.com NOCREDS_TOKEN_FILE=/var/run/secrets/nocreds/token
  $ nocreds credentials --role arn:aws:iam::123456789012:role/team-a-app --format env
  $ nocreds leases --output table
  $ nocreds --iam --debug whoami`,
  );

  registerCredentialsCommand(program, io, exit);
  registerCertificateCommand(program, io, exit);

  program
    .command('whoami')
    .description('show who the broker thinks you are and which grant rules apply')
    .addHelpText(
      'after',
      `
Examples:
  $ nocreds whoami
  $ nocreds --iam --server-id nocreds:123456789012:eu-west-1:Nocreds:... whoami`,
    )
    .action(async (_opts: unknown, command: Command) => {
      const { broker } = await brokerFrom(command, io, debugFor(command, io));
      io.stdout(`${JSON.stringify(await broker.call('GET', '/v1/whoami'), null, 2)}\n`);
    });

  registerLeaseCommands(program, io);
  registerGrantsCommand(program, io, exit);
  registerAgentCommand(program, io);
  program.addCommand(webhookCommand(io, (command) => command.optsWithGlobals<{ url?: string }>().url));
  registerCompletionCommand(program, io);
  addExamples(program);

  configureTree(program, io);
  checkMandatoryBeforeAction(program);
  return program;
}

/** Examples for the commands registered from their own folders (client/agent, client/webhook). */
function addExamples(program: Command): void {
  const command = (...path: string[]) => path.reduce<Command | undefined>((c, name) => c?.commands.find((child) => child.name() === name), program);
  command('agent')?.addHelpText(
    'after',
    `
Examples:
  $ nocreds --token-file /var/run/secrets/nocreds/token agent --role app=arn:aws:iam::123456789012:role/team-a-app
  $ nocreds agent --role app=arn:aws:iam::123456789012:role/team-a-app --cert-dir /run/tls --cert-profile mesh --cert-dns app.team-a.svc
  $ nocreds agent --config /etc/nocreds/agent.yaml`,
  );
  command('agent', 'env')?.addHelpText(
    'after',
    `
Example:
  $ eval "$(nocreds agent --role app=arn:aws:iam::123456789012:role/team-a-app env app)"`,
  );
  command('webhook')?.addHelpText(
    'after',
    `
Example:
  $ nocreds --url https://abc123.execute-api.eu-west-1.amazonaws.com webhook --tls-cert /tls/tls.crt --tls-key /tls/tls.key`,
  );
}

/** Help asked for (`--help`, `help X`) and `--version` are successes; every other parse failure is a usage error. */
function exitCodeOf(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_CODES.ok;
  // help({ error: true }): a command group called without a subcommand (`nocreds lease`).
  if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  return EXIT_CODES.usage;
}

/** Runs the CLI and returns its exit code; never throws. */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code: number = EXIT_CODES.ok;
  const program = buildProgram(io, (c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOf(error);
    if (error instanceof NocredsClientError) {
      io.stderr(`nocreds: ${error.message}\n`);
      return EXIT_CODES[error.kind];
    }
    io.stderr(`nocreds: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT_CODES.failure;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
