/**
 * fail2ban's regex tags, replaced in the Python source before translation (as fail2ban does before
 * compiling): address tags, `<F-NAME>...</F-NAME>` captures, `<F-ID/>`-style self-closing tags and
 * `<SKIPLINES>`. Group names follow fail2ban: `<F-USER>` → `user`, `<F-ID>` → `fid`, `<F-PORT>` →
 * `fport`, any other `<F-NAME>` → `name` lower-cased. A closing tag that was never opened, and any
 * other `<...>`, stay literal text.
 */

// Address patterns (Python syntax). An IPv4 address may be written IPv4-mapped (`::ffff:`), which
// stays outside the capture; an IPv6 address is a run of hex groups with at most one `::`-style
// gap left loose (validated later); a DNS name is word characters, dots and dashes.
const IP4 = String.raw`(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})`;
const IP6 = String.raw`(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))`;
const DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const ADDR = String.raw`\[?(?:${IP4}|${IP6})\]?`;
const HOST = `(?:${ADDR}|${DNS})`;
const CIDR = String.raw`(?P<cidr>\d+)`;
const SUBNET = String.raw`\[?(?:${IP4}|${IP6})(?:/${CIDR})?\]?`;

const FIXED: Record<string, string> = {
  IP4,
  'F-IP4/': IP4,
  IP6,
  'F-IP6/': IP6,
  ADDR,
  'F-ADDR/': ADDR,
  CIDR,
  'F-CIDR/': CIDR,
  SUBNET,
  'F-SUBNET/': SUBNET,
  DNS,
  'F-DNS/': DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};

const TAG = /<\/?[\p{L}\p{N}_-]+\/?>/gu;
const CUSTOM = /^(\/?)F-([A-Z0-9_-]+)$/;
const NAME_MAP: Record<string, string> = { id: 'fid', port: 'fport' };

/** The group name fail2ban uses for an F-tag name (`USER` → `user`, `ID` → `fid`). */
export function tagGroupName(tag: string): string {
  const lower = tag.toLowerCase();
  return NAME_MAP[lower] ?? lower;
}

/** How `<HOST>` is resolved: fail2ban's `usedns` (`no` leaves DNS names out). */
export type UseDns = 'yes' | 'warn' | 'no' | 'raw';

/** Replaces fail2ban's tags in a regex (still Python syntax). */
export function resolveTags(regex: string, useDns: UseDns = 'warn'): string {
  const open = new Set<string>();
  let skip = 0;
  return regex.replace(TAG, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return useDns === 'no' ? ADDR : HOST;
    if (name === 'SKIPLINES') return String.raw`\n(?P<skiplines${skip++}>(?:(?:.*\n)*?))`;
    const fixed = FIXED[name];
    if (fixed !== undefined) return fixed;
    const m = CUSTOM.exec(name);
    if (!m) return tag;
    const field = m[2] as string;
    if (m[1] === '/') return open.has(field) ? ')' : tag;
    open.add(field);
    return `(?P<${tagGroupName(field)}>`;
  });
}

const GLOBAL_FLAGS_GROUP = /(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g;

/** fail2ban turns `((?i)x)` and `(?:(?i)x)` into the scoped `(?i:x)` before compiling. */
export function scopeGroupFlags(regex: string): string {
  return regex.replace(GLOBAL_FLAGS_GROUP, '$1:');
}
