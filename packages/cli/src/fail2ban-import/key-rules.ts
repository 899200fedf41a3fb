/**
 * What becomes of each fail2ban key in a fleetban configuration: carried as written (resolved),
 * or left out with the reason an operator reads in the import report. One table, used by the
 * importer and quoted by docs/migrate-from-fail2ban.md.
 */

/** Jail keys written into the fleetban configuration (their resolved values). */
export const CARRIED_JAIL_KEYS: readonly string[] = [
  'filter', 'logpath', 'backend', 'maxretry', 'findtime', 'bantime', 'maxmatches',
  'bantime.increment', 'bantime.factor', 'bantime.multipliers', 'bantime.maxtime', 'bantime.rndtime',
  'bantime.formula', 'bantime.overalljails', 'ignoreip', 'port', 'protocol',
  // read by the filter stage
  'mode', 'failregex', 'ignoreregex', 'prefregex', 'datepattern', 'maxlines', 'usedns', 'logtimezone', 'journalmatch',
  // read by the file source
  'logencoding',
];

const FIREWALL = 'the agent enforces bans itself, with nftables (or iptables + ipset), in every host\'s firewall';
const MAIL = 'a parameter of fail2ban\'s mail actions: the action lines that use it are carried with it filled in';

/** Why a fail2ban jail key is not carried, by key. */
export const JAIL_KEY_REASONS: Readonly<Record<string, string>> = {
  banaction: FIREWALL,
  banaction_allports: FIREWALL,
  chain: 'the iptables chain of fail2ban\'s firewall actions: the agent places its own (input, and forward/prerouting for Docker)',
  blocktype: 'fleetban\'s is [agent] blocktype (drop or reject), for every jail',
  destemail: MAIL,
  sender: MAIL,
  sendername: MAIL,
  mta: MAIL,
  fail2ban_agent: 'the HTTP user agent of fail2ban\'s reporting actions',
  ignorecommand: 'fleetban runs no ignore command: list the addresses in ignoreip (or [controller] ignoreip)',
  ignorecache: 'fleetban runs no ignore command, so there is nothing to cache',
  ignoreself: 'always on in fleetban: no host of the fleet (and no NATS server) is ever banned',
  allowipv6: 'fleetban always handles IPv6',
  dbpurgeage: 'a fail2ban.conf option: fleetban\'s is [controller] dbpurgeage',
  dbfile: 'fleetban keeps bans and ban history in NATS JetStream, not in SQLite; not applicable',
  enabled: 'a disabled jail is not written',
};

/** Why a key of fail2ban.conf (fail2ban's server settings) is not carried. */
export const SERVER_KEY_REASONS: Readonly<Record<string, string>> = {
  loglevel: 'fleetban logs JSON lines to stdout (the journal under systemd); not applicable',
  logtarget: 'fleetban logs JSON lines to stdout (the journal under systemd); not applicable',
  syslogsocket: 'fleetban logs JSON lines to stdout (the journal under systemd); not applicable',
  socket: 'fleetban has no local control socket: the command line talks to the controller over NATS',
  pidfile: 'fleetban runs in the foreground under systemd; not applicable',
  dbfile: 'fleetban keeps bans and ban history in NATS JetStream, not in SQLite; not applicable',
  dbmaxmatches: 'fleetban keeps each jail\'s maxmatches lines with a ban',
  allowipv6: 'fleetban always handles IPv6',
  stacksize: 'not applicable (fail2ban\'s Python threads)',
};

/** Why a `action_*` shortcut is not carried. */
export const ACTION_SHORTCUT_REASON = 'an action shortcut (used as %(name)s): the action lines that use it are carried with it filled in';

/** Why a firewall action line is not carried. */
export const FIREWALL_ACTION_REASON = `a firewall action: ${FIREWALL}`;

/** Why a recidive jail's log keys are not carried. */
export const RECIDIVE_REASON = 'fleetban\'s recidive (policy = recidive) counts the fleet\'s own bans, not fail2ban.log lines, and bans every port';

/** What an action line that is carried does in fleetban. */
export const CONTROLLER_ACTION_NOTE = 'runs on the fleetban controller, once per ban for the whole fleet (action =)';

/** fail2ban action.d names that write a firewall (or hosts.deny) and are the agent's job in fleetban. */
const FIREWALL_ACTION = /^(?:iptables|ip6tables|nftables|firewallcmd|shorewall|ufw$|pf$|bsd-ipfw$|ipfw$|osx-ipfw$|osx-afctl$|apf$|npf$|route$|ipfilter$|hostsdeny$|symbiosis-blacklist)/;

/** The action.d name of one `action` line (`name[opt=...]` → `name`). */
export function actionName(line: string): string {
  const i = line.indexOf('[');
  return (i < 0 ? line : line.slice(0, i)).trim();
}

/**
 * True when an action line blocks addresses in the host's firewall: a known firewall action.d
 * name, or the jail's own `banaction` / `banaction_allports`.
 */
export function isFirewallAction(line: string, banactions: readonly string[]): boolean {
  const name = actionName(line);
  return FIREWALL_ACTION.test(name) || banactions.map(actionName).includes(name);
}
