/**
 * Date templates by pattern, shared by every detector (as fail2ban shares them), and fail2ban's
 * default template list: each default in order, preceded by an anchored copy (`{^LN-BEG}`) of
 * every default that is not anchored already, weighted 100.
 */

import { DateTemplate, EPOCH_IN_PATTERN, EpochTemplate, PatternTemplate, Tai64nTemplate } from './date-template.js';

/** fail2ban's default date patterns, in the order they are tried. */
export const DEFAULT_DATE_PATTERNS: readonly string[] = [
  String.raw`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
  String.raw`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
  String.raw`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
  String.raw`%m/%d/%ExY:%H:%M:%S`,
  String.raw`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
  'EPOCH',
  String.raw`{^LN-BEG}%H:%M:%S`,
  String.raw`^<%m/%d/%Exy@%H:%M:%S>`,
  String.raw`%Exy%Exm%Exd  ?%H:%M:%S`,
  String.raw`%b %d, %ExY %I:%M:%S %p`,
  String.raw`^%b-%d-%Exy %k:%M:%S`,
  String.raw`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  'TAI64N',
];

const cache = new Map<string, DateTemplate>();
const defaults = new Map<string, { plain: DateTemplate[]; all: DateTemplate[] }>();

/** The key a pattern is cached under: itself, upper-cased when it has no `%` code. */
export function patternKey(pattern: string): string {
  return pattern.includes('%') ? pattern : pattern.toUpperCase();
}

/** A cached template, if any. */
export function cachedTemplate(key: string, exYear: string): DateTemplate | undefined {
  return cache.get(`${exYear}\0${key}`);
}

/** Caches a template under `key`. */
export function cacheTemplate(key: string, exYear: string, t: DateTemplate): void {
  cache.set(`${exYear}\0${key}`, t);
}

/** The template of a pattern (EPOCH/LEPOCH/TAI64N or a `%` pattern), cached. Throws Error. */
export function patternTemplate(pattern: string, exYear: string, key = patternKey(pattern)): DateTemplate {
  let t = cachedTemplate(key, exYear);
  if (t) return t;
  if (key.includes('EPOCH')) {
    if (EPOCH_IN_PATTERN.test(pattern)) t = new EpochTemplate({ pattern, long: key.includes('LEPOCH') });
    else if (key === 'EPOCH' || key === '{^LN-BEG}EPOCH' || key === '^EPOCH') t = new EpochTemplate({ lineBeginOnly: key !== 'EPOCH' });
    else if (key === 'LEPOCH' || key === '{^LN-BEG}LEPOCH' || key === '^LEPOCH') t = new EpochTemplate({ lineBeginOnly: key !== 'LEPOCH', long: true });
  }
  if (!t) {
    if (key === 'TAI64N' || key === '{^LN-BEG}TAI64N' || key === '^TAI64N') t = new Tai64nTemplate(key !== 'TAI64N' ? 'start' : false);
    else t = new PatternTemplate(pattern, exYear);
  }
  cacheTemplate(key, exYear, t);
  return t;
}

/** The anchored (or otherwise wrapped) copy of a template. */
export function wrappedTemplate(t: DateTemplate, exYear: string, wrap: (s: string) => string = (s) => `{^LN-BEG}${s}`): DateTemplate {
  const name = wrap(t.name);
  const known = cachedTemplate(name, exYear);
  if (known) return known;
  const regex = wrap(t.pattern ?? t.regex);
  if (t.pattern !== undefined) return cachedTemplate(regex, exYear) ?? patternTemplate(regex, exYear);
  return patternTemplate(name, exYear);
}

/** The default templates: `plain` as listed, `all` with the anchored copies first. */
export function defaultTemplates(exYear: string): { plain: DateTemplate[]; all: DateTemplate[] } {
  let d = defaults.get(exYear);
  if (d) return d;
  const plain = DEFAULT_DATE_PATTERNS.map((p) => patternTemplate(p, exYear));
  const anchored: DateTemplate[] = [];
  for (const t of plain) {
    if (t.name.startsWith('{^LN-BEG}') || t.name.startsWith('^')) continue;
    const a = wrappedTemplate(t, exYear);
    if (a.name !== t.name) {
      a.weight = 100;
      anchored.push(a);
    }
  }
  d = { plain, all: [...anchored, ...plain] };
  defaults.set(exYear, d);
  return d;
}
