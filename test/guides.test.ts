/**
 * The guides of docs/guides/ work as written. Every ```ini block that is a fleetban configuration
 * loads with the built `fleetban config check` (which also builds each enabled jail's filter);
 * every filter.d block (an ini block with `[Definition]`, first line `# /etc/fleetban/filter.d/NAME.conf`)
 * is written where the guide says, and a `fleetban regex` of a guide that tests it on a sample line
 * must match it. Every `fleetban ...` command of a ```sh block or an inline code span must name a
 * command whose `--help` answers, with a subcommand and flags that usage lists, parsed by the
 * command line's own argument parser. `/etc/fleetban/` is moved into a test directory. Needs
 * `npm run build` first; no NATS, no network, a few seconds.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseArgs } from '../packages/cli/src/args.js';
import { checkConfigFile } from '../packages/cli/src/config-check.js';
import { commandUsage } from '../packages/cli/src/usage.js';
import { FLEETBAN_MAIN } from './fixtures/fleetban-process.js';

const GUIDES = fileURLToPath(new URL('../docs/guides/', import.meta.url));
const ETC = '/etc/fleetban/';

interface Block {
  readonly guide: string;
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

/** Fenced blocks, also those indented in list items (their indentation removed). */
function blocksOf(guide: string, md: string): Block[] {
  const out: Block[] = [];
  for (const m of md.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)) {
    const indent = (m[1] as string).length;
    const text = (m[3] as string)
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    out.push({ guide, lang: m[2] as string, text, line: md.slice(0, m.index).split('\n').length });
  }
  return out;
}

const guides = readdirSync(GUIDES)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => ({ name: f, md: readFileSync(join(GUIDES, f), 'utf8') }));
const blocks = guides.flatMap((g) => blocksOf(g.name, g.md));
const where = (b: Block): string => `${b.guide}:${b.line}`;

function fleetban(args: readonly string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [FLEETBAN_MAIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, FLEETBAN_CONFIG: '/nonexistent/fleetban.conf' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Splits a shell line into words (single and double quotes, backslash escapes, `$(...)` kept
 * whole), stopping at a comment; operators (`&&`, `||`, `|`, `;`, redirections) are words of
 * their own.
 */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let w: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      if (w !== undefined) words.push(w);
      w = undefined;
    } else if (c === '#' && w === undefined) break;
    else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      w = (w ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = '';
      for (i++; i < line.length && line[i] !== '"'; i++) s += line[i] === '\\' ? (line[++i] as string) : line[i];
      w = (w ?? '') + s;
    } else if (c === '\\') w = (w ?? '') + (line[++i] ?? '');
    else if (c === '$' && line[i + 1] === '(') {
      const end = line.indexOf(')', i);
      w = (w ?? '') + line.slice(i, end + 1);
      i = end;
    } else if ('|&;<>'.includes(c) && w === undefined) {
      const op = /^(?:&&|\|\||[|;<>]|>>)/.exec(line.slice(i))?.[0] ?? c;
      words.push(op);
      i += op.length - 1;
    } else w = (w ?? '') + c;
  }
  if (w !== undefined) words.push(w);
  return words;
}

interface Command {
  readonly where: string;
  readonly text: string;
  readonly argv: string[];
}

/** The `fleetban ...` commands of a shell text: each simple command that starts with `fleetban`. */
function fleetbanCommands(at: string, sh: string): Command[] {
  const out: Command[] = [];
  for (const line of sh.replace(/\\\n\s*/g, ' ').split('\n')) {
    let cmd: string[] = [];
    const flush = () => {
      if (cmd[0] === 'fleetban') out.push({ where: at, text: line.trim(), argv: cmd.slice(1) });
      cmd = [];
    };
    let redirect = false;
    for (const w of shellWords(line)) {
      if (['&&', '||', '|', ';'].includes(w)) {
        flush();
        redirect = false;
      } else if (['>', '>>', '<'].includes(w)) redirect = true;
      else if (!redirect) cmd.push(w);
      else redirect = false;
    }
    flush();
  }
  return out;
}

const shCommands = blocks.filter((b) => b.lang === 'sh').flatMap((b) => fleetbanCommands(where(b), b.text));
const inlineCommands = guides.flatMap((g) =>
  [...g.md.matchAll(/`(fleetban [^`\n]+)`/g)].map((m) => fleetbanCommands(`${g.name} (inline)`, m[1] as string)).flat(),
);

const VERBS = new Set(['up', 'agent', 'controller', 'status', 'ban', 'unban', 'get', 'set', 'reload', 'ignore', 'hosts', 'banned', 'enroll', 'regex', 'import-fail2ban', 'config', 'version', 'help']);
const SUBCOMMANDS: Record<string, readonly string[]> = { config: ['check', 'show'], ignore: ['add', 'del', 'list'] };

const usageCache = new Map<string, string>();
/** The usage `fleetban VERB --help` prints (regex keeps its own: the built command is asked once). */
function usageOf(verb: string): string {
  let u = usageCache.get(verb) ?? commandUsage(verb);
  if (u === undefined) {
    const r = fleetban([verb, '--help']);
    if (r.code !== 0) throw new Error(`fleetban ${verb} --help: exit ${r.code}: ${r.err}`);
    u = r.out;
  }
  usageCache.set(verb, u);
  return u;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('the guides have blocks to check', async (t) => {
  t.ok(guides.length >= 5, `${guides.length} guides`);
  t.ok(shCommands.length >= 30, `${shCommands.length} fleetban commands in sh blocks`);
  t.ok(blocks.filter((b) => b.lang === 'ini').length >= 10, 'ini blocks');
});

t.test('every fleetban command names a command, subcommand and flags the command line accepts', async (t) => {
  for (const c of [...shCommands, ...inlineCommands]) {
    const label = `${c.where}: ${c.text}`;
    const args = parseArgs(c.argv);
    const [verb, sub] = args.positional;
    if (verb === undefined || !VERBS.has(verb)) {
      t.fail(`${label}: unknown command ${JSON.stringify(verb)}`);
      continue;
    }
    const usage = usageOf(verb);
    t.match(usage, new RegExp(`fleetban ${escapeRe(verb)}\\b`), `${label}: fleetban ${verb} has a usage`);
    const subs = SUBCOMMANDS[verb];
    if (subs) t.ok(sub !== undefined && subs.includes(sub) && usage.includes(`fleetban ${verb} ${sub}`), `${label}: subcommand ${sub}`);
    for (const name of args.options.keys()) {
      const listed = new RegExp(`(?:^|[\\s\\[|,(])--?${escapeRe(name)}(?![\\w-])`, 'm').test(usage);
      t.ok(listed, `${label}: ${name.length === 1 ? '-' : '--'}${name} is in fleetban ${verb}'s usage`);
    }
  }
});

t.test('the configuration and filter blocks load as the agent and the controller load them', async (t) => {
  const dir = t.testdir({});
  const etc = join(dir, 'etc');
  const moved = (s: string): string => s.replaceAll(ETC, `${etc}/`);
  mkdirSync(join(etc, 'filter.d'), { recursive: true });

  const ini = blocks.filter((b) => b.lang === 'ini');
  const filters = ini.filter((b) => /^\[Definition\]/m.test(b.text));
  t.ok(filters.length >= 1, 'a filter.d block');
  for (const b of filters) {
    const path = /^# (\/etc\/fleetban\/filter\.d\/[\w-]+\.conf)\n/.exec(b.text)?.[1];
    if (path === undefined) {
      t.fail(`${where(b)}: a filter block starts with "# /etc/fleetban/filter.d/NAME.conf"`);
      continue;
    }
    writeFileSync(moved(path), b.text);
  }

  const configs = ini.filter((b) => !filters.includes(b));
  for (const b of configs) {
    const text = moved(b.text);
    // lists named by ignoreip = file:... (the guide says how to make them): one entry of each family
    for (const m of text.matchAll(/file:(\/\S+)/g)) {
      const list = m[1] as string;
      if (!existsSync(list)) {
        mkdirSync(dirname(list), { recursive: true });
        writeFileSync(list, '173.245.48.0/20\n2400:cb00::/32\n');
      }
    }
    const file = join(dir, `${b.guide.replace(/\.md$/, '')}-${b.line}.conf`);
    writeFileSync(file, text);
    // what `fleetban config check FILE` runs: the loader, then every enabled jail's filter built
    const check = checkConfigFile(file);
    t.ok(check.config, `${where(b)}: the configuration loads`);
    t.same(check.problems.map((p) => p.message), [], `${where(b)}: config check finds no problem`);
  }
});

t.test('regex commands run on a sample line find what the guide says', async (t) => {
  const dir = t.testdir({});
  const etc = join(dir, 'etc');
  mkdirSync(join(etc, 'filter.d'), { recursive: true });
  for (const b of blocks.filter((b) => b.lang === 'ini')) {
    const path = /^# (\/etc\/fleetban\/filter\.d\/[\w-]+\.conf)\n/.exec(b.text)?.[1];
    if (path) writeFileSync(path.replace(ETC, `${etc}/`), b.text);
  }
  // `fleetban regex [options] LOG FILTER`: those whose LOG is a log line, not a file
  const onLines = shCommands.filter((c) => {
    const p = parseArgs(c.argv).positional;
    return p[0] === 'regex' && p[1] !== undefined && !p[1].startsWith('/');
  });
  t.ok(onLines.length >= 1, 'a regex command on a sample line');
  for (const c of onLines) {
    const argv = c.argv.map((a) => (a === '/etc/fleetban' ? etc : a.replaceAll(ETC, `${etc}/`)));
    const summary = fleetban(argv);
    t.equal(summary.code, 0, `${c.where}: ${c.text}: exit 0 ${summary.err}`);
    t.match(summary.out, /Lines: 1 lines, 0 ignored, 1 matched, 0 missed/, `${c.where}: the sample line matches`);
    const json = fleetban(['regex', '--json', ...argv.slice(1)]);
    const found = json.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ip: string });
    const client = /\[Client ([^\]]+)\]/.exec(parseArgs(c.argv).positional[1] as string)?.[1];
    t.same(found.map((f) => f.ip), [client], `${c.where}: the address reported is the line's client`);
  }
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

t.test('the guides link to files and headings that exist', async (t) => {
  // written on another branch: listed in the index before they land
  const elsewhere = new Set(['nas.md', 'proxmox.md']);
  for (const g of guides) {
    for (const m of g.md.matchAll(/\]\(([^)#\s]*)(?:#([^)\s]*))?\)/g)) {
      const [target, anchor] = [m[1] as string, m[2]];
      if (/^[a-z]+:/.test(target) || elsewhere.has(target)) continue;
      const file = join(GUIDES, target || g.name);
      if (!t.ok(existsSync(file), `${g.name}: ${target} exists`) || anchor === undefined) continue;
      const prose = readFileSync(file, 'utf8').replace(/^( *)```[\s\S]*?^\1```/gm, '');
      const headings = [...prose.matchAll(/^#+ (.+)$/gm)].map((h) => slug(h[1] as string));
      t.ok(headings.includes(anchor), `${g.name}: ${target}#${anchor} is a heading`);
    }
  }
});
