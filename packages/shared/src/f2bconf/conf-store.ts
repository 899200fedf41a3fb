/**
 * Several fail2ban INI files merged into one store, as fail2ban reads them:
 *
 * - a configuration `name` in a directory is `name.conf`, `name.d/*.conf`, `name.local`,
 *   `name.d/*.local` (those that exist, in that order);
 * - every file read brings its `[INCLUDES] before = ...` files first and its `after = ...` files
 *   last (relative to its own directory, recursively, a file never including itself), and every
 *   `x.conf` is followed by its `x.local` when there is one; a missing include is skipped;
 * - a section read again updates the earlier one; the values it replaces stay reachable as
 *   `[KNOWN/<section>]` (what `%(known/failregex)s` refers to); `[DEFAULT]` blocks merge;
 * - a section named `Name?cond=x` stores its keys in `[Name]` as `key?cond=x`.
 *
 * Keys are matched case-insensitively (Python's configparser lower-cases them); every entry keeps
 * its file, section and line for error messages. Values are raw here; see interpolate.ts.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_SECTION, type IniDocument, type IniEntry, parseIni } from './ini-file.js';

/** The section holding includes. */
export const INCLUDES_SECTION = 'INCLUDES';

const CONDITIONAL = /^(\w+)(\?.+)$/;

/** Merged sections of several files. */
export class ConfStore {
  /** `[DEFAULT]` keys (lower-cased) → entry. */
  readonly defaults = new Map<string, IniEntry>();
  /** Section name → (lower-cased key → entry), `KNOWN/<name>` sections included. */
  readonly sections = new Map<string, Map<string, IniEntry>>();
  /** Files read, in order. */
  readonly files: string[] = [];
  /** Where each section (but KNOWN/) was first written. */
  readonly headers = new Map<string, { file: string; line: number }>();

  /** Merges one parsed document into the store. */
  merge(doc: IniDocument): void {
    this.files.push(doc.file);
    for (const s of doc.sections) {
      if (s.name === DEFAULT_SECTION) {
        for (const e of s.entries) this.defaults.set(e.key.toLowerCase(), e);
        continue;
      }
      let name = s.name;
      let suffix = '';
      const cond = CONDITIONAL.exec(name);
      if (cond) [name, suffix] = [cond[1] as string, cond[2] as string];
      if (!this.headers.has(name)) this.headers.set(name, { file: s.file, line: s.line });
      const incoming = new Map(s.entries.map((e) => [e.key.toLowerCase() + suffix, e] as const));
      const existing = this.sections.get(name);
      if (existing) {
        const known = this.sections.get(`KNOWN/${name}`) ?? new Map<string, IniEntry>();
        for (const [k, e] of existing) if (incoming.has(k)) known.set(k, e);
        this.sections.set(`KNOWN/${name}`, known);
        for (const [k, e] of incoming) existing.set(k, e);
      } else this.sections.set(name, incoming);
    }
  }

  /** True when the section exists. */
  has(section: string): boolean {
    return this.sections.has(section);
  }

  /** The raw entry of `key` in `section`, falling back to `[DEFAULT]` unless `noDefault`. */
  entry(section: string, key: string, noDefault = false): IniEntry | undefined {
    const k = key.toLowerCase();
    return this.sections.get(section)?.get(k) ?? (noDefault ? undefined : this.defaults.get(k));
  }

  /** Keys of a section (lower-cased), without `[DEFAULT]`'s. */
  keys(section: string): string[] {
    return [...(this.sections.get(section)?.keys() ?? [])];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readDoc(file: string): IniDocument | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseIni(text, file);
}

/** `x.conf` followed by `x.local` when that exists and is not listed already. */
function withLocals(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    out.push(f);
    const local = join(dirname(f), `${basename(f, extname(f))}.local`);
    if (!files.includes(local) && isFile(local)) out.push(local);
  }
  return out;
}

/** Include values: one file per line (fail2ban splits on newlines only). */
function includeList(doc: IniDocument, key: string): string[] {
  const s = doc.sections.find((x) => x.name === INCLUDES_SECTION);
  const e = s?.entries.find((x) => x.key.toLowerCase() === key);
  if (!e) return [];
  if (/%\(/.test(e.value)) {
    throw new ConfigError(e.file, `${INCLUDES_SECTION}.${e.key} (line ${e.line})`, 'file names without %(name)s interpolation', e.value);
  }
  return e.value.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim());
}

function expand(files: readonly string[], seen: readonly string[], docs: Map<string, IniDocument | undefined>): string[] {
  const out: string[] = [];
  for (const file of withLocals(files)) {
    if (!docs.has(file)) docs.set(file, readDoc(file));
    const doc = docs.get(file);
    if (!doc) continue;
    const dir = dirname(file);
    const part = (key: string): string[] => {
      const list: string[] = [];
      for (const inc of includeList(doc, key)) {
        const path = isAbsolute(inc) ? inc : join(dir, inc);
        if (seen.includes(path)) continue;
        list.push(...expand([path], [...seen, file], docs));
      }
      return list;
    };
    const before = part('before');
    const after = part('after');
    out.push(...before, file, ...after);
  }
  return out;
}

/**
 * Reads `files` with their includes and `.local` overrides into one store. Unreadable or missing
 * files are skipped (as fail2ban skips them); a syntax error is a ConfigError naming the file.
 * `parsed` supplies documents already parsed (by absolute path), e.g. text not read from disk.
 */
export function readConfFiles(files: readonly string[], parsed: readonly IniDocument[] = []): ConfStore {
  const docs = new Map<string, IniDocument | undefined>(parsed.map((d) => [resolve(d.file), d]));
  const store = new ConfStore();
  for (const f of expand(files.map((f) => resolve(f)), [], docs)) {
    const doc = docs.get(f);
    if (doc) store.merge(doc);
  }
  return store;
}

/**
 * The files of configuration `name` in `dir`: `name.conf`, `name.d/*.conf`, `name.local`,
 * `name.d/*.local`, those that exist.
 */
export function confFilesOf(dir: string, name: string): string[] {
  const base = join(dir, name);
  const inDir = (ext: string): string[] => {
    try {
      return readdirSync(`${base}.d`).filter((f) => f.endsWith(ext)).sort().map((f) => join(`${base}.d`, f));
    } catch {
      return [];
    }
  };
  return [`${base}.conf`, ...inDir('.conf'), `${base}.local`, ...inDir('.local')].filter((f) => existsSync(f));
}
