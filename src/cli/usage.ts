/**
 * CLI usage plumbing: each command is described once (`CommandHelp`), and that text serves both
 * `relais <command> --help` (exit 0) and a usage error (exit 2, message then usage).
 */

export interface CommandHelp {
  /** Its forms, without `relais <command>`: one line each, e.g. `list [--status S]`. */
  forms: readonly string[];
  /** One line for `relais --help`. */
  summary: string;
  /** Lines describing the options (`  --flag VALUE   what it does`), printed after the forms. */
  options?: readonly string[];
  /** Takes --config (all commands but smsc-sim). Default true. */
  config?: boolean;
}

/** A wrong invocation: main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** parseArgs's own errors (unknown option, missing value, stray positional) are usage errors too. */
export function isUsageError(err: unknown): err is Error {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** `--help` or `-h` anywhere before a `--` terminator. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export const CONFIG_LINE = 'Config: --config FILE, else $RELAIS_CONFIG, else config/relais.yaml, else the demo config.';

/** The text of `relais <name> --help`. */
export function commandUsage(name: string, help: CommandHelp): string {
  const forms = help.forms.length ? help.forms : [''];
  const lines = forms.map((f, i) => `${i === 0 ? 'usage:' : '      '} relais ${name}${f ? ` ${f}` : ''}`);
  lines.push(help.summary);
  const options = [...(help.options ?? [])];
  if (help.config !== false) options.push('  -c, --config FILE          the configuration file');
  options.push('  -h, --help                 this help');
  lines.push('options:', ...options);
  if (help.config !== false) lines.push(CONFIG_LINE);
  return lines.join('\n');
}

/** The text of `relais --help`: one line per command. */
export function overallUsage(commands: Readonly<Record<string, CommandHelp>>): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  return [
    'usage: relais <command> [options]     (relais <command> --help: its usage and options)',
    'commands:',
    ...Object.entries(commands).map(([name, h]) => `  ${name.padEnd(width)}${h.summary}`),
    CONFIG_LINE,
    'Exit codes: 0 ok, 1 runtime failure, 2 usage, 65 a migration failed, 78 bad configuration.',
  ].join('\n');
}
