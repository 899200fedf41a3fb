/**
 * Finds the date of a log line the way fail2ban's date detector does: it first tries the template
 * that hit last (within the same boundaries when it is not anchored), and only on a miss or a
 * conflict searches the list in order, preferring the match nearest the line start; templates
 * that hit often move up the list. `datepattern` replaces the list with one or more templates;
 * `{^LN-BEG}` and `{DEFAULT}` select (anchored) defaults, `{DATE}` wraps the defaults in a
 * pre-match, `{NONE}` means the line has no date.
 */

import type { DateContext } from './strptime.js';
import { exYearRegex } from './strptime-codes.js';
import { type DateMatch, DateTemplate, LINE_BEGIN, LINE_END } from './date-template.js';
import { cacheTemplate, cachedTemplate, defaultTemplates, patternKey, patternTemplate, wrappedTemplate } from './template-cache.js';

interface Slot {
  readonly template: DateTemplate;
  hits: number;
  lastUsed: number;
  distance: number;
}

const FAR = 0x7fffffff;
const DATE_PREMATCH = /(?<!\\)\{DATE\}/gi;

/** A found date: the match and the template that found it. */
export interface TimeMatch {
  readonly match: DateMatch;
  readonly template: DateTemplate;
}

/** The code unit at `i`, -1 when out of range (Python's one-character slice being empty). */
function codeAt(s: string, i: number): number {
  return i >= 0 && i < s.length ? s.charCodeAt(i) : -1;
}

const ALNUM = /^[\p{L}\p{N}]$/u;

/** Python's `str.isalnum()` on one code unit (-1: the empty string, false). */
function isAlnum(c: number): boolean {
  return c >= 0 && ALNUM.test(String.fromCharCode(c));
}

/** A date detector (one per filter: it keeps state about the log it reads). */
export class DateDetector {
  private readonly slots: Slot[] = [];
  private readonly known = new Set<string>();
  // where the last date was: its start, the code units before it and at it; its end, the code
  // units before and at it (-1: none)
  private lastDistance = 1;
  private lastBefore = -1;
  private lastFirst = -1;
  private lastEndpos = FAR;
  private lastLast = -1;
  private lastAfter = -1;
  private lastIdx = FAR;
  private firstUnused = 0;
  private readonly exYear: string;
  /** The template of the last date {@link find} returned. */
  found: DateTemplate | undefined;

  /**
   * `now` is the clock (ms) used for template bookkeeping; `wallNowMs` fixes the range of `%ExY`
   * (2000 to three years after it).
   */
  constructor(private readonly now: () => number, wallNowMs: number) {
    this.exYear = exYearRegex(wallNowMs);
  }

  /** The templates in their current order. */
  get templates(): readonly DateTemplate[] {
    return this.slots.map((s) => s.template);
  }

  /** The templates in their current order with how often each was the one that found a line's date. */
  templateHits(): Array<{ readonly template: DateTemplate; readonly hits: number }> {
    return this.slots.map((s) => ({ template: s.template, hits: s.hits }));
  }

  /** `check`: compile the template now, so that a bad `datepattern` fails at load (fail2ban's own defaults are compiled when first used). */
  private append(t: DateTemplate, ignoreDup = false, check = true): void {
    if (this.known.has(t.name)) {
      if (ignoreDup) return;
      throw new Error(`there is already a date template named ${t.name}`);
    }
    if (check) t.compile();
    this.known.add(t.name);
    this.slots.push({ template: t, hits: 0, lastUsed: 0, distance: FAR });
  }

  /** Adds one `datepattern` line. Throws Error (bad pattern) or RegexSyntaxError. */
  appendPattern(pattern: string): void {
    const key = patternKey(pattern);
    let t = cachedTemplate(key, this.exYear);
    if (!t) {
      if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
        this.addDefaults(key === '{^LN-BEG}' ? (x) => (x.flags & LINE_BEGIN) !== 0 : undefined);
        return;
      }
      if (key.includes('{DATE}')) {
        this.addDefaults(undefined, pattern, false);
        return;
      }
      t = key === '{NONE}' ? patternTemplate('{UNB}^', this.exYear, key) : patternTemplate(pattern, this.exYear, key);
      cacheTemplate(key, this.exYear, t);
    }
    this.append(t);
  }

  /** Adds fail2ban's default templates (all of them, or those `filter` keeps). */
  addDefaults(filter?: (t: DateTemplate) => boolean, preMatch?: string, all = true): void {
    const ignoreDup = this.slots.length > 0;
    const d = defaultTemplates(this.exYear);
    for (let t of all ? d.all : d.plain) {
      if (filter && !filter(t)) continue;
      if (preMatch !== undefined) {
        t = wrappedTemplate(t, this.exYear, (s) => preMatch.replace(DATE_PREMATCH, () => DateTemplate.unboundPattern(s)));
      }
      this.append(t, ignoreDup, preMatch !== undefined);
    }
  }

  /** The date of `line`, or null. Updates the detector's state (template order, last position). */
  matchTime(line: string): TimeMatch | null {
    const match = this.find(line);
    return match === null ? null : { match, template: this.found as DateTemplate };
  }

  /**
   * {@link matchTime} without the result object: the match, or null; the template that found it
   * is then {@link found}.
   */
  find(line: string, nowMs = this.now()): DateMatch | null {
    if (this.slots.length === 0) this.addDefaults();
    let match: DateMatch | null = null;
    let found: DateMatch | null = null;
    let foundIdx = 0;
    let foundDistance = FAR;
    let ignoreBySearch = FAR;
    let i = this.lastIdx;
    let slot: Slot | undefined;
    if (i < this.slots.length) {
      slot = this.slots[i] as Slot;
      const t = slot.template;
      if (t.flags & (LINE_BEGIN | LINE_END)) {
        match = t.matchDate(line);
        ignoreBySearch = i;
      } else {
        const distance = this.lastDistance;
        const endpos = this.lastEndpos;
        // Python: line[distance-1:distance] == before or (line[distance] == first and not first.isalnum()), same at the end
        const startOk = (distance === 0 ? -1 : codeAt(line, distance - 1)) === this.lastBefore ||
          (codeAt(line, distance) === this.lastFirst && !isAlnum(this.lastFirst));
        const endOk = codeAt(line, endpos) === this.lastAfter ||
          (codeAt(line, endpos - 1) === this.lastLast && !isAlnum(this.lastLast));
        if (startOk && endOk) match = t.matchDate(line, distance, endpos);
        else {
          match = t.matchDate(line);
          ignoreBySearch = i;
        }
      }
      if (match) {
        const distance = match.index;
        const endpos = match.index + match[0].length;
        if (!(this.slots.length === 1 || t.flags & (LINE_BEGIN | LINE_END) || (distance === this.lastDistance && endpos === this.lastEndpos))) {
          found = match;
          foundIdx = i;
          foundDistance = distance;
          match = null;
        }
      }
    }
    if (!match) {
      for (i = 0; i < this.slots.length; i++) {
        if (i === ignoreBySearch) continue;
        slot = this.slots[i] as Slot;
        const t = slot.template;
        match = t.matchDate(line);
        if (!match) continue;
        const distance = match.index;
        if (i + 1 >= this.slots.length) break;
        if (t.flags & (LINE_BEGIN | LINE_END)) break;
        if (distance === 0 && slot.hits && !(this.slots[i + 1] as Slot).template.hits) break;
        if (distance > slot.distance || distance > this.lastDistance) {
          if (distance < foundDistance) {
            found = match;
            foundIdx = i;
            foundDistance = distance;
          }
          match = null;
          continue;
        }
        break;
      }
      if (!match && found) {
        match = found;
        i = foundIdx;
        slot = this.slots[i] as Slot;
      }
    }
    if (!match || !slot) return null;
    const distance = match.index;
    const endpos = match.index + match[0].length;
    slot.hits++;
    slot.lastUsed = nowMs;
    slot.distance = distance;
    if (this.firstUnused === i) this.firstUnused++;
    this.lastDistance = distance;
    this.lastBefore = distance === 0 ? -1 : codeAt(line, distance - 1);
    this.lastFirst = codeAt(line, distance);
    this.lastEndpos = endpos;
    // Python's line[endpos - 1]: the last character when endpos is 0
    this.lastLast = codeAt(line, endpos === 0 ? line.length - 1 : endpos - 1);
    this.lastAfter = codeAt(line, endpos);
    if (i && i !== this.lastIdx) i = this.reorder(i);
    this.lastIdx = i;
    this.found = slot.template;
    return match;
  }

  /** The time (seconds) of a found date, or null when its text is not a valid date. */
  getTime(found: TimeMatch, ctx: DateContext): number | null {
    return found.template.getDate(found.match, ctx);
  }

  private weight(s: Slot): number {
    return (s.hits * s.template.weight) / Math.max(1, s.distance);
  }

  /** Moves a template that hits up the list (fail2ban's bubble-up). */
  private reorder(num: number): number {
    const slots = this.slots;
    const slot = slots[num] as Slot;
    const untime = slot.lastUsed - 300_000;
    const weight = this.weight(slot);
    let pos = this.firstUnused < num ? this.firstUnused : Math.floor(num / 2);
    const movable = (): boolean => {
      const p = slots[pos] as Slot;
      return weight > this.weight(p) || untime > p.lastUsed;
    };
    if (!movable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!movable()) return num;
    }
    slots.splice(num, 1);
    slots.splice(pos, 0, slot);
    while (this.firstUnused < slots.length && (slots[this.firstUnused] as Slot).hits) this.firstUnused++;
    return pos;
  }
}
