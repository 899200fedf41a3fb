/**
 * Reading a fail2ban filter (or action) file's options, as fail2ban's DefinitionInitConfigReader
 * does:
 *
 * 1. the wanted keys are read from `[Definition]`, `%(name)s`-interpolated with the caller's
 *    variables first (the jail's values and the `name[key=value]` options), except keys the jail
 *    sets itself (those replace the filter's and are not read);
 * 2. `[Init]` keys join the `name[...]` options as defaults (and as `known/<key>`);
 * 3. `<tag>` references are resolved among all of these, falling back to `[Definition]` keys
 *    (`<mdre-<mode>>`, `<L_<logging>/failregex>` reading another section).
 */

import { ConfigError } from '../errors.js';
import type { ConfStore } from './conf-store.js';
import type { IniEntry } from './ini-file.js';
import { interpolate, type InterpolationContext } from './interpolate.js';
import { substituteTags, TagRecursionError } from './tag-substitution.js';

/** The options of a filter/action file. */
export interface DefinitionValues {
  /** Option → final value (lower-cased names), for the wanted keys found and every `[Init]`/name option. */
  readonly values: ReadonlyMap<string, string>;
  /** Where a wanted key was written in the file (absent for keys the caller supplied). */
  readonly entries: ReadonlyMap<string, IniEntry>;
}

/** What {@link readDefinition} reads. */
export interface DefinitionRequest {
  /** Keys wanted from `[Definition]` (failregex, prefregex, ...). */
  readonly keys: readonly string[];
  /** Values the jail sets (lower-cased keys): they are not read from the file. */
  readonly jail?: ReadonlyMap<string, string>;
  /** Options from `name[key=value, ...]` (lower-cased keys). */
  readonly options?: ReadonlyMap<string, string>;
}

const CONDITIONAL = /^(\w+)(\?.+)$/;
const SECTION_OPTION = /^([\w-]+)\/([^\s>]+)$/;

/** Reads the options of a filter/action store. Throws ConfigError. */
export function readDefinition(store: ConfStore, req: DefinitionRequest): DefinitionValues {
  const vars = new Map<string, string>([...(req.jail ?? []), ...(req.options ?? [])]);
  const def: InterpolationContext = { store, section: 'Definition', vars };
  const opts = new Map<string, string>();
  const entries = new Map<string, IniEntry>();
  for (const key of req.keys) {
    if (vars.has(key)) continue;
    const e = store.has('Definition') ? store.entry('Definition', key) : undefined;
    if (!e) continue;
    opts.set(key, interpolate(e, def));
    entries.set(key, e);
  }
  const init = new Map<string, string>(req.options ?? []);
  if (store.has('Init')) {
    for (const key of store.keys('Init')) {
      const e = store.entry('Init', key) as IniEntry;
      const v = interpolate(e, { store, section: 'Init' });
      if (!key.startsWith('known/')) init.set(`known/${key}`, v);
      if (!init.has(key)) init.set(key, v);
    }
  }
  const combined = new Map([...opts, ...init]);
  const ignore = new Set<string>();
  for (const k of combined.keys()) {
    const c = CONDITIONAL.exec(k);
    if (c) ignore.add(c[1] as string);
  }
  const cache = new Map<string, string | undefined>();
  const more = (name: string): string | undefined => {
    if (cache.has(name)) return cache.get(name);
    const v = definitionOption(store, name, vars);
    cache.set(name, v);
    return v;
  };
  try {
    return { values: substituteTags(combined, more, ignore), entries };
  } catch (err) {
    if (!(err instanceof TagRecursionError)) throw err;
    const e = entries.get(err.tag);
    throw new ConfigError(e?.file ?? store.files[0] ?? '', e ? `Definition.${e.key} (line ${e.line})` : err.tag, 'options whose <tags> do not refer to themselves', e?.value, { cause: err });
  }
}

/** A `[Definition]` option by name, `section/key` reading another section (`known/`, `default/`). */
function definitionOption(store: ConfStore, name: string, vars: ReadonlyMap<string, string>): string | undefined {
  const so = name.includes('/') ? SECTION_OPTION.exec(name) : null;
  if (so) {
    const sec = so[1] as string;
    const opt = so[2] as string;
    const lower = sec.toLowerCase();
    const tries = lower === 'known' ? ['KNOWN/Definition', 'Definition'] : [lower === 'default' ? 'DEFAULT' : sec];
    for (const s of tries) {
      const e = s === 'DEFAULT' ? store.defaults.get(opt.toLowerCase()) : store.has(s) ? store.entry(s, opt) : undefined;
      if (e) return interpolate(e, { store, section: s });
    }
  }
  const e = store.has('Definition') ? store.entry('Definition', name) : undefined;
  return e === undefined ? undefined : interpolate(e, { store, section: 'Definition', vars });
}

const NAME_OPTIONS = /^([^[]+)(?:\[(.*)\])?\s*$/s;
const OPTION = /\s*([\w\-_.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?<wrongA>.+))|,?\s*$|(?<wrongB>.+)/gs;

/**
 * Splits fail2ban's `name[key=value, key2="value 2"]` into the name and its options (keys as
 * written, values trimmed). Throws Error on bad syntax.
 */
export function parseNameOptions(spec: string): { name: string; options: Map<string, string> } {
  const m = NAME_OPTIONS.exec(spec);
  if (!m) throw new Error(`unexpected option syntax: ${spec}`);
  const options = new Map<string, string>();
  const optstr = m[2];
  if (optstr) {
    for (const o of optstr.matchAll(OPTION)) {
      if (o.groups?.wrongA) throw new Error(`unexpected syntax after option ${o[1]}: ${o.groups.wrongA.slice(0, 25)}`);
      if (o.groups?.wrongB) throw new Error(`expected option, wrong syntax: ${o.groups.wrongB.slice(0, 25)}`);
      if (!o[1]) continue;
      options.set(o[1].trim(), (o[2] ?? o[3] ?? o[4] ?? '').trim());
    }
  }
  return { name: (m[1] as string).trim(), options };
}
