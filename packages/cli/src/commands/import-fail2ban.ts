import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '@fleetban/shared';
import { type Args, option, parseArgs, UsageError } from '../args.js';
import { renderPlan } from '../fail2ban-import/conf-text.js';
import { type ImportNote, type ImportPlan, planImport } from '../fail2ban-import/import-plan.js';

/** fail2ban's configuration directory, read when no DIR is given. */
export const FAIL2BAN_DIR = '/etc/fail2ban';

/** Options of this command that take a value (args.ts knows the shared ones). */
const VALUED = new Set(['--output', '-o']);

/** `--output FILE` as `--output=FILE`, so the shared parser keeps FILE with its option. */
function joinValued(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (VALUED.has(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      out.push(`${a}=${v}`);
    } else out.push(a);
  }
  return out;
}

function shortValue(v: string): string {
  const one = v.replace(/\s*\n\s*/g, ' ');
  return one.length > 100 ? `${one.slice(0, 97)}...` : one;
}

/** One report line: `not carried: [sshd] banaction = iptables-multiport (jail.conf:212): why`. */
export function noteLine(n: ImportNote): string {
  return `${n.carried ? 'carried' : 'not carried'}: [${n.jail}] ${n.key} = ${shortValue(n.value)} (${n.from}): ${n.reason}`;
}

function summary(plan: ImportPlan, where: string): string {
  const skipped = plan.notes.filter((n) => !n.carried).length;
  const names = plan.jails.map((j) => j.name).join(', ') || 'none';
  return `imported ${plan.jails.length} enabled jail(s) (${names}) into ${where}; ${skipped} value(s) not carried; ${plan.disabled.length} disabled jail(s) not written`;
}

/**
 * `fleetban import-fail2ban [DIR] [--output FILE] [--force] [--json]`: reads fail2ban's
 * configuration in DIR (default /etc/fail2ban) and writes the equivalent fleetban configuration
 * to FILE or stdout; every value it could not carry is reported on stderr, one line each. The
 * text is loaded with fleetban's own loader before it is written: a configuration that would not
 * load is never written.
 */
export async function runImportFail2ban(argv: readonly string[]): Promise<number> {
  const args: Args = parseArgs(joinValued(argv));
  const [dir = FAIL2BAN_DIR, extra] = args.positional;
  if (extra !== undefined) throw new UsageError(`import-fail2ban takes one directory, got also '${extra}'`);
  const output = option(args, 'output', 'o');
  if (args.options.get('output') === true || args.options.get('o') === true) throw new UsageError('option --output needs a value');
  const json = args.options.has('json');
  if (output !== undefined && existsSync(output) && !args.options.has('force')) {
    throw new UsageError(`${output} exists; give --force to replace it`);
  }
  const plan = planImport(dir);
  const text = renderPlan(plan, new Date());
  const file = output === undefined ? resolve('fleetban.conf') : resolve(output);
  try {
    parseConfig(text, file, { hostname: 'import' });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.file, err.key, `${err.expected} (the imported configuration does not load; nothing was written)`, undefined, { cause: err });
    throw err;
  }
  if (output !== undefined) {
    writeFileSync(file, text, { mode: 0o640 });
    loadConfig(file, { hostname: 'import' });
  }
  for (const n of plan.notes) process.stderr.write(`${noteLine(n)}\n`);
  process.stderr.write(`${summary(plan, output ?? 'stdout')}\n`);
  if (json) {
    const report = {
      dir: plan.dir,
      output: output === undefined ? null : file,
      files: plan.files,
      jails: plan.jails.map((j) => j.name),
      disabled: plan.disabled,
      notCarried: plan.notes.filter((n) => !n.carried),
      carried: plan.notes.filter((n) => n.carried),
      ...(output === undefined ? { config: text } : {}),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (output === undefined) process.stdout.write(text);
  return 0;
}
