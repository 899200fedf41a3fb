import { type ConfigSectionView, configView, loadConfig } from '@fleetban/shared';
import { type Args, UsageError } from '../args.js';
import { checkConfigFile } from '../config-check.js';
import { configPath } from '../config-path.js';

const SUBCOMMANDS = 'check or show';

/** `config show`'s text: each section, then `key = value ; origin`, continuation lines indented. */
export function formatConfigView(sections: readonly ConfigSectionView[]): string {
  const out: string[] = [];
  for (const s of sections) {
    out.push(`[${s.section}]`);
    const width = Math.min(40, Math.max(...s.values.map((v) => `${v.key} = ${v.value.split('\n')[0]}`.length)));
    for (const v of s.values) {
      const [first = '', ...rest] = v.value.split('\n');
      const head = `${v.key} = ${first}`;
      out.push(`${head.padEnd(width)}  ; ${v.origin}`);
      const pad = ' '.repeat(v.key.length + 3);
      for (const l of rest) out.push(pad + l);
    }
    out.push('');
  }
  return out.join('\n');
}

function runCheck(file: string, json: boolean): number {
  const r = checkConfigFile(file);
  const jails = r.config?.jails ?? [];
  const enabled = jails.filter((j) => j.enabled).map((j) => j.name);
  if (json) {
    process.stdout.write(`${JSON.stringify({ file, ok: r.problems.length === 0, jails: jails.length, enabled, problems: r.problems }, null, 2)}\n`);
  } else if (r.problems.length === 0) {
    process.stdout.write(`${file}: OK: ${jails.length} jail(s), ${enabled.length} enabled (${enabled.join(', ') || 'none'}); every enabled jail's filter loads and compiles\n`);
  } else {
    for (const p of r.problems) process.stderr.write(`${p.message}\n`);
  }
  return r.problems.length === 0 ? 0 : 1;
}

function runShow(file: string, json: boolean): number {
  const sections = configView(loadConfig(file));
  process.stdout.write(json ? `${JSON.stringify({ file, sections }, null, 2)}\n` : formatConfigView(sections));
  return 0;
}

/**
 * `fleetban config check [FILE] [--json]`: load the configuration and build every enabled jail's
 * filter; each problem names the file, the key and what was expected; exit 1 when there is one.
 * `fleetban config show [FILE] [--json]`: the effective value of every key of every section and
 * jail, and where it came from (file:line or default). FILE defaults to `-c`, $FLEETBAN_CONFIG,
 * /etc/fleetban/fleetban.conf.
 */
export async function runConfig(args: Args): Promise<number> {
  const [sub, fileArg, extra] = args.positional;
  if (extra !== undefined) throw new UsageError(`config ${sub} takes one file, got also '${extra}'`);
  const file = fileArg ?? configPath(args);
  const json = args.options.has('json');
  switch (sub) {
    case 'check':
      return runCheck(file, json);
    case 'show':
      return runShow(file, json);
    default:
      throw new UsageError(sub === undefined ? `config needs a subcommand: ${SUBCOMMANDS}` : `unknown config subcommand '${sub}' (expected ${SUBCOMMANDS})`);
  }
}
