import { FleetbanError } from '@fleetban/shared';

/** A command line split into positionals and `--flag value` / `--flag=value` options. */
export interface Args {
  readonly positional: string[];
  readonly options: Map<string, string | true>;
}

/** Options that take a value; every other `--x` is a boolean switch. */
const VALUED = new Set(['config', 'c', 'jail', 'j', 'bantime', 'timeout', 'datepattern', 'd', 'maxlines', 'L', 'logtimezone', 'timezone', 'TZ', 'usedns', 'threads', 'role', 'nats', 'package-url']);

/** Wrong usage of the command line. */
export class UsageError extends FleetbanError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Parses argv (without node and the script). */
export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const name = m[1] as string;
    if (m[2] !== undefined) options.set(name, m[2]);
    else if (VALUED.has(name)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      options.set(name, v);
    } else options.set(name, true);
  }
  return { positional, options };
}

/** The value of the first of `names` that is set, or undefined. */
export function option(args: Args, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = args.options.get(n);
    if (typeof v === 'string') return v;
  }
  return undefined;
}
