/**
 * `%(name)s` interpolation, as fail2ban's configparser does it: `name` is looked up (case-
 * insensitively) in the given variables, then the value's section, then `[DEFAULT]`;
 * `%(__name__)s` is the section's name; `%(section/key)s` reads another section
 * (`%(known/key)s`: the value this section had before a later file replaced it,
 * `%(default/key)s`: `[DEFAULT]`'s); `%%` is a literal `%`. Substituted values are interpolated
 * in turn, at most 10 levels deep.
 */

import { ConfigError } from '../errors.js';
import type { ConfStore } from './conf-store.js';
import type { IniEntry } from './ini-file.js';

const MAX_DEPTH = 10;

/** What a value is interpolated against. */
export interface InterpolationContext {
  readonly store: ConfStore;
  /** The section the value is read in (for `__name__`, its keys and `known/`). */
  readonly section: string;
  /** Variables that take precedence over the section (lower-cased keys). */
  readonly vars?: ReadonlyMap<string, string>;
  /**
   * A reference this returns true for is left in the text as written (e.g. `known/...` in a jail,
   * resolved later against its filter) instead of being an error.
   */
  readonly keep?: (name: string) => boolean;
}

function where(e: IniEntry): string {
  return `${e.section}.${e.key} (line ${e.line})`;
}

function lookup(ctx: InterpolationContext, name: string): string | undefined {
  const k = name.toLowerCase();
  const v = ctx.vars?.get(k);
  if (v !== undefined) return v;
  if (k === '__name__') return ctx.section;
  const own = ctx.store.entry(ctx.section, k);
  if (own) return own.value;
  const slash = name.indexOf('/');
  if (slash < 0) return undefined;
  const sec = name.slice(0, slash);
  const opt = name.slice(slash + 1);
  const lower = sec.toLowerCase();
  if (lower === 'known') {
    const known = ctx.store.sections.get(`KNOWN/${ctx.section}`)?.get(opt.toLowerCase());
    if (known) return known.value;
  } else if (lower !== 'default') {
    if (!ctx.store.has(sec)) return undefined;
    const e = ctx.store.entry(sec, opt, true);
    if (e) return e.value;
  }
  return ctx.store.defaults.get(opt.toLowerCase())?.value;
}

function run(text: string, ctx: InterpolationContext, e: IniEntry, depth: number): string {
  if (!text.includes('%')) return text;
  if (depth > MAX_DEPTH) {
    throw new ConfigError(e.file, where(e), `at most ${MAX_DEPTH} levels of %(name)s interpolation`, e.value);
  }
  let out = '';
  let i = 0;
  for (;;) {
    const p = text.indexOf('%', i);
    if (p < 0) return out + text.slice(i);
    out += text.slice(i, p);
    const next = text[p + 1];
    if (next === '%') {
      out += '%';
      i = p + 2;
      continue;
    }
    const m = next === '(' ? /^%\(([^)]*)\)s/.exec(text.slice(p)) : null;
    if (!m) {
      throw new ConfigError(e.file, where(e), "'%' followed by '%' or '(name)s' (write %% for a literal percent sign)", e.value);
    }
    const name = m[1] as string;
    const v = lookup(ctx, name);
    if (v === undefined) {
      if (ctx.keep?.(name)) {
        out += m[0];
      } else {
        throw new ConfigError(e.file, where(e), `%(${name})s to name a key of [${ctx.section}] or [DEFAULT]`, e.value);
      }
    } else out += run(v, ctx, e, depth + 1);
    i = p + m[0].length;
  }
}

/**
 * The value of `e` with `%(name)s` references replaced. Throws ConfigError naming the entry's
 * file, section, key and line.
 */
export function interpolate(e: IniEntry, ctx: InterpolationContext): string {
  return run(e.value, ctx, e, 1);
}

/** The interpolated value of `key` in `section` (or `[DEFAULT]`), undefined when absent. */
export function getValue(ctx: InterpolationContext, key: string): string | undefined {
  const e = ctx.store.entry(ctx.section, key);
  return e === undefined ? undefined : interpolate(e, ctx);
}
