import { readdir, stat } from 'node:fs/promises';

/**
 * Expands a jail's `logpath` glob to the regular files that exist now, sorted.
 *
 * Wildcards work in any path segment, as in Python's `glob.glob` which fail2ban uses:
 * `*` (any run of characters), `?` (one character), `[abc]`, `[a-z]`, `[!abc]` / `[^abc]`.
 * A wildcard never crosses `/`, and a segment pattern that does not itself start with `.` does not
 * match hidden names. A pattern without wildcards yields itself when it is a regular file.
 * Symbolic links are followed. Unreadable or missing directories simply match nothing.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!hasWildcard(pattern)) return (await isRegularFile(pattern)) ? [pattern] : [];
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s) => s !== '');
  let bases: string[] = [absolute ? '/' : ''];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    const next: string[] = [];
    if (!hasWildcard(segment)) {
      for (const base of bases) next.push(join(base, segment));
    } else {
      const re = segmentRegExp(segment);
      const hiddenOk = segment.startsWith('.');
      for (const base of bases) {
        const names = await listDir(base === '' ? '.' : base);
        for (const name of names) {
          if ((hiddenOk || !name.startsWith('.')) && re.test(name)) next.push(join(base, name));
        }
      }
    }
    bases = last ? next : await onlyDirectories(next);
    if (bases.length === 0) return [];
  }
  const files: string[] = [];
  for (const candidate of bases) if (await isRegularFile(candidate)) files.push(candidate);
  return files.sort();
}

/** True when `pattern` contains a glob wildcard (`*`, `?` or a `[...]` class). */
export function hasWildcard(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' || c === '?') return true;
    if (c === '[' && pattern.indexOf(']', i + 2) > i) return true;
  }
  return false;
}

/** Compiles one path segment (no `/`) into an anchored RegExp. */
function segmentRegExp(segment: string): RegExp {
  let src = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      // `]` right after `[` or `[!` is a literal member, as in fnmatch
      let j = i + 1;
      if (segment[j] === '!' || segment[j] === '^') j++;
      if (segment[j] === ']') j++;
      const close = segment.indexOf(']', j);
      if (close < 0) { src += '\\['; continue; }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      src += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else src += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 's');
}

function join(base: string, name: string): string {
  if (base === '') return name;
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function onlyDirectories(paths: string[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const p of paths) {
    try {
      if ((await stat(p)).isDirectory()) dirs.push(p);
    } catch {
      // vanished or unreadable: matches nothing
    }
  }
  return dirs;
}

async function isRegularFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
