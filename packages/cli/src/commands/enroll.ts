import { readFileSync } from 'node:fs';
import {
  ADMIN_MEMBER,
  checkMemberName,
  CONTROLLER_MEMBER,
  type Enrolled,
  loadConfig,
  type Member,
  type MemberRole,
  Membership,
  natsPidFile,
} from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { configPath } from '../config-path.js';
import { reloadNatsServer, type ReloadResult } from '../nats-reload.js';
import { joinCommand } from '../join-script.js';
import { ENROLL_USAGE } from '../usage.js';


/** Where the printed lines tell a new host to keep its seed. */
const HOST_SEED_DIR = '/etc/fleetban';

/**
 * `fleetban enroll`, on the controller host: adds a member (a host by default) with a new nkey,
 * gives one a new key (`--rotate`), revokes one (`--remove`) or lists them (`--list`). Every change
 * re-renders `<state_dir>/nats/authorization.conf` and asks the local nats-server to reload. An
 * addition prints what to put on the new host: its seed and its `[fleetban]` lines.
 */
export async function runEnroll(args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const stateDir = config.fleet.stateDir;
  const json = args.options.has('json');
  const membership = Membership.open(stateDir);
  const [name] = args.positional;

  if (args.options.has('list')) {
    const members = [...membership.members];
    write(json ? { members } : formatList(members));
    return 0;
  }
  if (!name || args.positional.length > 1) throw new UsageError(ENROLL_USAGE);
  if (args.options.has('remove')) {
    if (name === CONTROLLER_MEMBER) throw new UsageError(`the controller's own member cannot be removed (fleetban enroll ${name} --rotate gives it a new key)`);
    const removed = membership.remove(name);
    const reload = reloadNatsServer(natsPidFile(stateDir));
    // the controller still protects a removed host's addresses until it forgets the host: enroll
    // runs on the NATS host, which may not reach the controller, so it says how rather than asks
    const next = removed.role === 'host' ? `fleetban hosts --forget ${removed.name}` : undefined;
    write(json ? { removed, reload, ...(next ? { next } : {}) } : `removed ${removed.name} (${removed.role}): its key is refused from now on\n${formatReload(reload)}\n${next ? formatNext(removed.name, next) : ''}`);
    return 0;
  }

  const role = roleOption(args);
  const rotate = args.options.has('rotate');
  if (!rotate) checkMemberName(name, role);
  // the first enrollment creates the fleet: the controller's and the admin's members come with it
  if (membership.members.length === 0) {
    for (const [own, ownRole] of [[CONTROLLER_MEMBER, 'controller'], [ADMIN_MEMBER, 'admin']] as const) {
      if (own !== name) membership.enroll(own, ownRole);
    }
  }
  const enrolled = membership.enroll(name, role, { rotate });
  const reload = reloadNatsServer(natsPidFile(stateDir));
  const nats = option(args, 'nats') ?? config.fleet.servers.join(' ');
  const seed = readFileSync(enrolled.seedFile, 'utf8').trim();
  const lines = configLines(enrolled.member, nats);
  const join = enrolled.member.role === 'host'
    ? joinCommand({ host: enrolled.member.name, nats, seed, etc: HOST_SEED_DIR, packageUrl: option(args, 'package-url') ?? '' })
    : undefined;
  if (json) {
    write({ ...enrolled, seed, reload, fleetban: Object.fromEntries(lines), ...(join ? { join } : {}) });
  } else {
    write(formatEnrolled(enrolled, seed, lines, reload, join));
  }
  return 0;
}

function roleOption(args: Args): MemberRole {
  const role = option(args, 'role') ?? 'host';
  if (role !== 'host' && role !== 'admin') throw new UsageError(`--role: host or admin, not ${JSON.stringify(role)}\n${ENROLL_USAGE}`);
  return role;
}

/** The `[fleetban]` keys the enrolled member's configuration needs, in order. */
function configLines(m: Member, nats: string): [string, string][] {
  const seedPath = `${HOST_SEED_DIR}/${m.name}.nk`;
  if (m.role === 'host') return [['host', m.name], ['nats', nats], ['nats_nkey', seedPath]];
  if (m.role === 'admin') return [['nats', nats], ['admin_nkey', seedPath]];
  return [['nats', nats], ['nats_nkey', seedPath]];
}

function formatEnrolled(e: Enrolled, seed: string, lines: [string, string][], reload: ReloadResult, join: string | undefined): string {
  const m = e.member;
  const where = m.role === 'host' ? `On ${m.name}` : `Where ${m.name} runs fleetban ${m.role === 'admin' ? 'ban/unban/status' : 'controller'}`;
  const loopback = /\/\/(127\.|localhost|\[::1\])/.test(lines.find(([k]) => k === 'nats')?.[1] ?? '');
  return [
    `${e.rotated ? 'new key for' : 'enrolled'} ${m.name} (${m.role}, public key ${m.publicKey})`,
    formatReload(reload),
    '',
    ...(join
      ? [
          `${where}, as root, one command (writes its seed and ${HOST_SEED_DIR}/fleetban.local, then starts its agent; --package-url URL also installs fleetban's .deb first):`,
          '',
          `  ${join}`,
          '',
          'or by hand:',
          '',
        ]
      : [`${where}, as root:`, '']),
    `  mkdir -p ${HOST_SEED_DIR}`,
    `  (umask 077 && echo '${seed}' > ${HOST_SEED_DIR}/${m.name}.nk)`,
    '',
    `and in ${HOST_SEED_DIR}/fleetban.conf (or fleetban.local):`,
    '',
    '  [fleetban]',
    ...lines.map(([k, v]) => `  ${k} = ${v}`),
    '',
    ...(loopback ? ['(nats names this host\'s loopback address: give the address the new member reaches with --nats nats://ADDRESS:4222)', ''] : []),
    `The seed is also in ${e.seedFile} on this host; delete it there once copied (the server needs only the public key).`,
    '',
  ].join('\n');
}

/** After a host's removal: the controller still lists it and protects its addresses until it forgets it. */
function formatNext(host: string, next: string): string {
  return [
    '',
    `The controller still lists ${host} and never bans its addresses. Once its agent is stopped, on a host with the admin's credentials:`,
    '',
    `  ${next}`,
    '',
    '(refused while its last heartbeat is recent: under 60 s, or 3 heartbeat intervals if longer; --force forgets it at once)',
    '',
  ].join('\n');
}

function formatReload(r: ReloadResult): string {
  return r.reloaded ? `nats-server reloaded (pid ${r.pid})` : `nats-server not reloaded (${r.reason}); a nats-server reads the members when it starts`;
}

function formatList(members: readonly Member[]): string {
  if (members.length === 0) return 'no member yet (fleetban enroll HOST adds one)\n';
  return `${members.map((m) => `${m.name}\t${m.role}\t${m.publicKey}`).join('\n')}\n`;
}

function write(out: string | object): void {
  process.stdout.write(typeof out === 'string' ? out : `${JSON.stringify(out, null, 2)}\n`);
}
