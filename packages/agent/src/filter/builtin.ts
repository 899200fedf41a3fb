import type { FilterDefinition } from './line-filter.js';

/*
 * Built-in filters, for jails that name a filter without shipping a filter.d file.
 *
 * sshd: written against what OpenSSH 9.x writes, both through syslog/journal
 *   `Nov 21 12:00:00 host sshd[123]: Failed password for root from 192.0.2.66 port 40000 ssh2`
 * and with `sshd -E file`, where the line is the bare message:
 *   `Failed password for root from 192.0.2.66 port 40000 ssh2`
 *
 * Log injection. The user name is whatever the client sent: `Failed password for invalid user
 * x from 203.0.113.9 port 22 ssh2 from 192.0.2.66 port 4000 ssh2` must report 192.0.2.66. So every
 * pattern whose address follows the user name is anchored on the END of the line with the exact
 * text sshd writes after the address, and the user capture is greedy: only the LAST `from <HOST>`
 * can satisfy it. Where the address comes BEFORE attacker text (PAM's `rhost=`, `Unable to
 * negotiate with <HOST>`), it is pinned by the fixed text on its left instead. sshd escapes control
 * characters (strnvis), so a user name cannot start a new line.
 *
 * Modes, like fail2ban's `sshd[mode=...]`:
 *   sshd             (normal)     one count per authentication attempt or refusal.
 *   sshd-aggressive  (aggressive) normal, plus lines that repeat an attempt already counted (PAM's
 *                    authentication failure, the [preauth] session end after a failure), plus
 *                    probes that never try to log in (no identification string, banner junk,
 *                    no common algorithm). On a real 9.2 server one wrong password yields
 *                    "Failed password ..." AND "Connection closed by authenticating user ...":
 *                    two counts in aggressive mode, so set maxretry accordingly.
 */

/** What may precede sshd's message: syslog / journal timestamp, host and tag, or nothing (-E). */
const PREFIX = String.raw`^(?:(?:(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?) \S+ )?sshd(?:-session|-auth)?(?:\[\d+\])?: )?(?:(?:error|fatal): )?`;
/** End of line, allowing the ` [preauth]` that the unprivileged child appends, and a stray `\r`. */
const END = String.raw`(?: \[preauth\])?\s*$`;
const INVALID = '(?:invalid user )?';

/** sshd, normal mode: index order is part of the contract of the annotated samples. */
const SSHD_NORMAL: readonly string[] = [
  // 0: Failed password for [invalid user ]root from H port P ssh2[: RSA SHA256:...]
  `${PREFIX}Failed (?:password|publickey|keyboard-interactive(?:/pam)?|hostbased) for ${INVALID}<F-USER>.*</F-USER> from <HOST> port \\d+(?: ssh\\d)?(?:: [A-Z][A-Z0-9-]* SHA256:[A-Za-z0-9+/=]+)?${END}`,
  // 1: Invalid user X from H port P (older: Illegal user, no port)
  `${PREFIX}[Ii](?:nvalid|llegal) user <F-USER>.*</F-USER> from <HOST>(?: port \\d+)?${END}`,
  // 2: User X from H not allowed because ... (only the reasons that carry the address)
  `${PREFIX}User <F-USER>.+</F-USER> from <HOST> not allowed because (?:not listed in AllowUsers|listed in DenyUsers|not in any group|a group is listed in DenyGroups|none of user's groups are listed in AllowGroups)${END}`,
  // 3: maximum authentication attempts exceeded for [invalid user ]X from H port P ssh2 [preauth]
  `${PREFIX}maximum authentication attempts exceeded for ${INVALID}<F-USER>.*</F-USER> from <HOST> port \\d+(?: ssh\\d)?${END}`,
];

/** Extra sshd patterns of aggressive mode (indexes continue after the normal ones). */
const SSHD_AGGRESSIVE_EXTRA: readonly string[] = [
  // 4: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=H  user=X
  //    (rhost precedes the attacker-controlled user=, pinned by the fixed fields on its left)
  `${PREFIX}pam_[a-z0-9_]+\\(sshd:auth\\): authentication failure; logname=\\S* uid=\\d+ euid=\\d+ tty=\\S* ruser=\\S* rhost=<HOST>(?:\\s+user=<F-USER>.*</F-USER>)?\\s*$`,
  // 5: Connection closed by / Disconnected from authenticating|invalid user X H port P [preauth]
  `${PREFIX}(?:Connection closed by|Disconnected from) (?:authenticating|invalid) user <F-USER>.*</F-USER> <HOST> port \\d+ \\[preauth\\]\\s*$`,
  // 6: Did not receive identification string from H (OpenSSH < 8.x; 9.x writes
  //    "Connection closed by H port P", which a health check also produces, so it is not counted)
  `${PREFIX}Did not receive identification string from <HOST>(?: port \\d+)?\\s*$`,
  // 7: banner exchange: Connection from H port P: invalid format
  `${PREFIX}banner exchange: Connection from <HOST> port \\d+: invalid format\\s*$`,
  // 8: Unable to negotiate with H port P: no matching key exchange method found. Their offer: ...
  `${PREFIX}Unable to negotiate with <HOST> port \\d+: no matching (?:key exchange method|host key type|cipher|MAC|compression method) found\\b.*$`,
];

const FILTERS: ReadonlyMap<string, FilterDefinition> = new Map([
  ['sshd', { name: 'sshd', failregex: [...SSHD_NORMAL], ignoreregex: [] }],
  ['sshd-aggressive', { name: 'sshd-aggressive', failregex: [...SSHD_NORMAL, ...SSHD_AGGRESSIVE_EXTRA], ignoreregex: [] }],
]);

/**
 * The built-in filter called `name`, or `undefined`. fail2ban's mode syntax is accepted:
 * `sshd[mode=normal]` is `sshd`, `sshd[mode=aggressive]` is `sshd-aggressive`. Returns a fresh
 * copy the caller may extend.
 */
export function builtinFilter(name: string): FilterDefinition | undefined {
  const moded = /^([\w-]+)\[mode=(\w+)\]$/.exec(name.trim());
  const key = moded ? (moded[2] === 'normal' ? moded[1] : `${moded[1]}-${moded[2]}`) : name.trim();
  const def = FILTERS.get(key ?? '');
  return def && { name: def.name, failregex: [...def.failregex], ignoreregex: [...def.ignoreregex] };
}

/** Names of the built-in filters, sorted. */
export function builtinFilterNames(): string[] {
  return [...FILTERS.keys()].sort();
}
