/**
 * Splitting a `command` kind's `ban = ...` / `unban = ...` text into an argument list the way a
 * POSIX shell splits words, without anything else a shell does: no variables, no globbing, no
 * command substitution. The list is executed directly (no shell), so tag values put into an
 * argument afterwards need no escaping.
 */

/** A command text could not be split (an unterminated quote, a trailing backslash). */
export class ShellWordsError extends Error {}

/**
 * Words of `text`: separated by unquoted whitespace; `'...'` is literal; inside `"..."` a
 * backslash escapes `"`, `\`, `$` and `` ` `` only; outside quotes a backslash escapes any
 * character. Throws {@link ShellWordsError}.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`unterminated ' in ${JSON.stringify(text)}`);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j] as string;
        const n = text[j + 1];
        if (d === '\\' && n !== undefined && '"\\$`'.includes(n)) {
          word += n;
          j++;
        } else word += d;
      }
      if (j >= text.length) throw new ShellWordsError(`unterminated " in ${JSON.stringify(text)}`);
      i = j;
    } else if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) throw new ShellWordsError(`trailing backslash in ${JSON.stringify(text)}`);
      word += n;
      i++;
    } else word += c;
  }
  if (inWord) words.push(word);
  return words;
}
