/**
 * `<name>` substitution between the options of a filter or action, as fail2ban does it after
 * `%(name)s` interpolation: `<tag>` in a value is replaced by option `tag` (tags may nest, as in
 * `<mdre-<mode>>`), repeatedly, until nothing changes. A tag that names no option stays as written
 * (`<HOST>`, `<F-USER>` are regex tags). A value that refers to itself, or a tag replaced more than
 * 25 times, is an error.
 */

const TAG = /<([^ <>]+)>/g;
const MAX_REPLACE = 25;

/** An option value could not be resolved (self-reference or runaway nesting). */
export class TagRecursionError extends Error {
  constructor(readonly tag: string, readonly found: string) {
    super(`option ${tag} refers to itself through <${found}> and cannot be resolved`);
  }
}

/**
 * Resolves `<tag>` references among `opts` (returns a new map). `more(name)` supplies values for
 * tags that are not in `opts` (fail2ban reads them from the `[Definition]` section); `ignore`
 * lists options left untouched. Throws {@link TagRecursionError}.
 */
export function substituteTags(
  opts: ReadonlyMap<string, string>,
  more?: (name: string) => string | undefined,
  ignore: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const tags = new Map(opts);
  const done = new Set<string>();
  const counts = new Map<string, Map<string, number>>();
  for (;;) {
    let repeat = false;
    for (const tag of [...tags.keys()]) {
      if (ignore.has(tag) || done.has(tag)) continue;
      const orig = tags.get(tag) as string;
      let value = orig;
      const rplc = counts.get(tag) ?? new Map<string, number>();
      TAG.lastIndex = 0;
      let m = TAG.exec(value);
      while (m) {
        const rtag = m[1] as string;
        if (ignore.has(rtag)) {
          TAG.lastIndex = m.index + m[0].length;
          m = TAG.exec(value);
          continue;
        }
        if (rtag === tag || (rplc.get(rtag) ?? 1) > MAX_REPLACE) throw new TagRecursionError(tag, rtag);
        const repl = tags.get(rtag) ?? more?.(rtag);
        if (repl === undefined) {
          TAG.lastIndex = m.index + m[0].length;
          m = TAG.exec(value);
          continue;
        }
        value = value.replaceAll(`<${rtag}>`, repl);
        rplc.set(rtag, (rplc.get(rtag) ?? 0) + 1);
        TAG.lastIndex = m.index;
        m = TAG.exec(value);
      }
      if (value !== orig) {
        TAG.lastIndex = 0;
        if (TAG.test(value)) {
          counts.set(tag, rplc);
          repeat = true;
        }
        tags.set(tag, value);
      }
      if (!value.includes('<')) done.add(tag);
    }
    if (!repeat) return tags;
  }
}
