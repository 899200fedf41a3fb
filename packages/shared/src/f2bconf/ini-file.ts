/**
 * Reader for fail2ban's INI dialect: Python's `configparser` as fail2ban configures it
 * (`SafeConfigParserWithIncludes`), one file at a time.
 *
 * - `[section]` headers; `[DEFAULT]` may appear more than once and its blocks are merged.
 * - `key = value` or `key: value`; the first `=` or `:` splits; key and value are trimmed; keys
 *   keep their case (section names too).
 * - Full-line comments start with `#` or `;` (after optional indentation). Inline comments start
 *   with `;` preceded by whitespace (fail2ban sets `inline_comment_prefixes = ";"`); an inline `#`
 *   is part of the value, as in fail2ban.
 * - A line indented deeper than its key line continues the value; continuation lines are trimmed
 *   and joined with "\n". Blank lines inside a value are kept, trailing ones dropped; comment lines
 *   inside a value are skipped.
 * - A section or a key repeated within one file is an error (configparser's `strict` mode).
 *
 * Includes (`[INCLUDES] before/after`) and `%(name)s` interpolation are not applied here: values
 * are raw. They belong to later stages that merge several {@link IniDocument}s into one; every
 * entry keeps its file, section and line so such a merge still reports where a value came from.
 */

import { ConfigError } from '../errors.js';

/** The section whose keys are defaults for every other section. */
export const DEFAULT_SECTION = 'DEFAULT';

/** One `key = value` entry and where it was written. */
export interface IniEntry {
  /** The key, trimmed, case kept. */
  readonly key: string;
  /** The raw value: trimmed, continuation lines joined with "\n", nothing interpolated. */
  readonly value: string;
  /** The section the entry was written in. */
  readonly section: string;
  /** The file it was read from. */
  readonly file: string;
  /** 1-based line number of the key. */
  readonly line: number;
}

/** One section, its entries in file order. */
export interface IniSection {
  /** Name between the brackets, exactly as written. */
  readonly name: string;
  /** The file it was read from. */
  readonly file: string;
  /** 1-based line number of its (first) header. */
  readonly line: number;
  /** Entries in file order; each key at most once. */
  readonly entries: readonly IniEntry[];
}

/** A parsed file: its sections in file order (a repeated `[DEFAULT]` appears once). */
export interface IniDocument {
  /** The file it was read from. */
  readonly file: string;
  /** Sections in file order; names are unique. */
  readonly sections: readonly IniSection[];
}

interface OpenEntry {
  readonly key: string;
  readonly line: number;
  readonly lines: string[];
}

interface OpenSection {
  readonly name: string;
  readonly line: number;
  readonly entries: Map<string, OpenEntry>;
}

const SECTION_HEADER = /^\[([^\]]+)\]$/;
const KEY_VALUE = /^(.*?)\s*([=:])\s*(.*)$/;

/**
 * Parses the text of one fail2ban-style INI file. `file` is used in error messages and recorded
 * on every section and entry. Throws {@link ConfigError} with key `line N` on a syntax error.
 */
export function parseIni(text: string, file: string): IniDocument {
  const sections = new Map<string, OpenSection>();
  let section: OpenSection | undefined;
  let entry: OpenEntry | undefined;
  let entryIndent = 0;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const commentAt = commentStart(raw);
    const content = (commentAt < 0 ? raw : raw.slice(0, commentAt)).trim();
    if (content === '') {
      // a blank line belongs to an open value; a comment-only line is skipped
      if (commentAt < 0 && entry !== undefined) entry.lines.push('');
      return;
    }
    const indent = raw.search(/\S/);
    if (entry !== undefined && indent > entryIndent) {
      entry.lines.push(content);
      return;
    }
    entry = undefined;
    entryIndent = indent;

    if (content.startsWith('[')) {
      section = openSection(sections, content, file, lineNo);
      return;
    }
    if (section === undefined) {
      throw new ConfigError(file, `line ${lineNo}`, 'a [section] header before the first key', content);
    }
    entry = openEntry(section, content, file, lineNo);
  });

  return {
    file,
    sections: [...sections.values()].map((s) => ({
      name: s.name,
      file,
      line: s.line,
      entries: [...s.entries.values()].map((e) => ({
        key: e.key,
        value: e.lines.join('\n').trimEnd(),
        section: s.name,
        file,
        line: e.line,
      })),
    })),
  };
}

/** The section called `name` (case-sensitive), if the document has one. */
export function findSection(doc: IniDocument, name: string): IniSection | undefined {
  return doc.sections.find((s) => s.name === name);
}

/**
 * Where the comment of a line starts: 0 for a full-line `#`/`;` comment, the index of the first
 * `;` preceded by whitespace for an inline comment, -1 when there is none.
 */
function commentStart(raw: string): number {
  const first = raw.trimStart()[0];
  if (first === '#' || first === ';') return 0;
  for (let i = raw.indexOf(';'); i > 0; i = raw.indexOf(';', i + 1)) {
    if (/\s/.test(raw[i - 1] as string)) return i;
  }
  return -1;
}

function openSection(sections: Map<string, OpenSection>, content: string, file: string, lineNo: number): OpenSection {
  const m = SECTION_HEADER.exec(content);
  if (!m) throw new ConfigError(file, `line ${lineNo}`, 'a section header such as [sshd]', content);
  const name = m[1] as string;
  const seen = sections.get(name);
  if (seen !== undefined) {
    if (name === DEFAULT_SECTION) return seen;
    throw new ConfigError(file, `line ${lineNo}`, `each section once per file ([${name}] starts on line ${seen.line})`, content);
  }
  const created: OpenSection = { name, line: lineNo, entries: new Map() };
  sections.set(name, created);
  return created;
}

function openEntry(section: OpenSection, content: string, file: string, lineNo: number): OpenEntry {
  const m = KEY_VALUE.exec(content);
  const key = m?.[1] ?? '';
  if (!m || key === '') {
    throw new ConfigError(file, `line ${lineNo}`, "'key = value', 'key: value', a [section] header or a comment", content);
  }
  const seen = section.entries.get(key);
  if (seen !== undefined) {
    throw new ConfigError(
      file,
      `line ${lineNo}`,
      `each key once per section (${section.name}.${key} is already set on line ${seen.line})`,
      content,
    );
  }
  const created: OpenEntry = { key, line: lineNo, lines: [m[3] ?? ''] };
  section.entries.set(key, created);
  return created;
}
