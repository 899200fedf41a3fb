/**
 * fleetban's built-in action kinds and their options. The names are reserved: `webhook`,
 * `telegram`, `ntfy`, `discord`, `cloudflare` and `command` are these kinds, not action.d files,
 * unless the options name one the kind does not have and an action.d file of that name exists
 * (so fail2ban's `cloudflare[cfuser=..., cftoken=...]` still runs Debian's cloudflare.conf).
 */

import { ConfigError } from '../errors.js';
import { parseDuration } from '../time/duration.js';
import { splitWords } from './shell-words.js';
import type { ActionSite, ActionSpec } from './types.js';

/** The jail key the actions of each site are written under. */
export const ACTION_KEYS: Readonly<Record<ActionSite, string>> = { controller: 'action', host: 'host_action' };

/** The built-in kinds. */
export const BUILTIN_KINDS = ['webhook', 'telegram', 'ntfy', 'discord', 'cloudflare', 'command'] as const;
/** One built-in kind. */
export type BuiltinKind = (typeof BUILTIN_KINDS)[number];

type Check = 'url' | 'text' | 'topic' | 'argv' | 'zone';

interface OptionRule {
  readonly check: Check;
  /** Default value; absent = required (unless `optional`). */
  readonly def?: string;
  readonly optional?: boolean;
}

/** Default HTTP timeout of the HTTP kinds; `timeout` overrides it. */
export const HTTP_TIMEOUT = '10s';
/** Default timeout of a `command` (fail2ban's action timeout). */
export const COMMAND_TIMEOUT = '60s';

const KIND_OPTIONS: Readonly<Record<BuiltinKind, Readonly<Record<string, OptionRule>>>> = {
  webhook: { url: { check: 'url' }, secret: { check: 'text', optional: true } },
  telegram: { token: { check: 'text' }, chat_id: { check: 'text' }, api_url: { check: 'url', def: 'https://api.telegram.org' } },
  ntfy: { url: { check: 'url', def: 'https://ntfy.sh' }, topic: { check: 'topic' }, token: { check: 'text', optional: true } },
  discord: { webhook_url: { check: 'url' } },
  cloudflare: {
    token: { check: 'text' },
    api_url: { check: 'url', def: 'https://api.cloudflare.com/client/v4' },
    zone: { check: 'zone', optional: true },
  },
  command: { ban: { check: 'argv', optional: true }, unban: { check: 'argv', optional: true } },
};

const EXPECTED: Readonly<Record<Check, string>> = {
  url: 'an http:// or https:// URL',
  text: 'a non-empty value',
  topic: 'an ntfy topic of letters, digits, _ and -',
  argv: 'a command line (words, with quotes as in a shell; run without a shell)',
  zone: 'a Cloudflare zone id (hex digits)',
};

/** True for a reserved built-in name. */
export function isBuiltinKind(name: string): name is BuiltinKind {
  return (BUILTIN_KINDS as readonly string[]).includes(name);
}

/** The options of `spec` that its built-in kind does not have (`timeout` is every kind's). */
export function foreignOptions(spec: ActionSpec): string[] {
  const own = KIND_OPTIONS[spec.name as BuiltinKind] ?? {};
  return Object.keys(spec.options).filter((k) => k !== 'timeout' && !(k in own));
}

/** Where an action was written, as errors name it: `sshd.action (line 12)`. */
export function specKey(spec: ActionSpec, section: string): string {
  return `${section || 'DEFAULT'}.${ACTION_KEYS[spec.site]} (line ${spec.line})`;
}

function valid(check: Check, v: string): boolean {
  switch (check) {
    case 'url':
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    case 'text':
      return v !== '';
    case 'topic':
      return /^[\w-]{1,64}$/.test(v);
    case 'zone':
      return /^[0-9a-fA-F]{1,64}$/.test(v);
    case 'argv':
      try {
        return splitWords(v).length > 0;
      } catch {
        return false;
      }
  }
}

/** What {@link checkBuiltinSpec} is told. */
export interface BuiltinCheck {
  /** Check only when every option is the kind's own (when parsing: another may be an action.d file's). */
  readonly onlyOwnOptions: boolean;
  /** The key errors name (`sshd.action (line 12)`). */
  readonly where: string;
}

/**
 * The options of a built-in spec, checked, with defaults applied and `timeout` in ms. Throws a
 * ConfigError naming the option and what it expects. With `onlyOwnOptions`, a spec that has an
 * option of another kind is not checked (returns undefined).
 */
export function checkBuiltinSpec(spec: ActionSpec, how: BuiltinCheck): { options: Map<string, string>; timeoutMs: number } | undefined {
  const kind = spec.name as BuiltinKind;
  const rules = KIND_OPTIONS[kind];
  const foreign = foreignOptions(spec);
  if (foreign.length > 0) {
    if (how.onlyOwnOptions) return undefined;
    const known = [...Object.keys(rules), 'timeout'].join(', ');
    throw new ConfigError(spec.file, how.where, `${kind} options among ${known} (no action.d file ${kind}.conf has option ${foreign[0]})`, foreign[0]);
  }
  const options = new Map<string, string>();
  for (const [name, rule] of Object.entries(rules)) {
    const v = spec.options[name] ?? rule.def;
    if (v === undefined || (v === '' && rule.optional)) {
      if (rule.optional) continue;
      throw new ConfigError(spec.file, how.where, `${kind}[${name}=...]: ${EXPECTED[rule.check]}`, `${kind} without ${name}`);
    }
    if (!valid(rule.check, v)) throw new ConfigError(spec.file, how.where, `${kind} option ${name}: ${EXPECTED[rule.check]}`, v);
    options.set(name, v);
  }
  if (kind === 'command' && !options.has('ban') && !options.has('unban')) {
    throw new ConfigError(spec.file, how.where, 'command[ban="...", unban="..."] with a ban or an unban command line', 'command without ban or unban');
  }
  const t = spec.options.timeout ?? (kind === 'command' ? COMMAND_TIMEOUT : HTTP_TIMEOUT);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(t);
  } catch (err) {
    throw new ConfigError(spec.file, how.where, `${kind} option timeout: a positive duration such as 10s`, t, { cause: err });
  }
  if (!(timeoutMs > 0)) throw new ConfigError(spec.file, how.where, `${kind} option timeout: a positive duration such as 10s`, t);
  return { options, timeoutMs };
}
