import { ParseError } from './errors.js';
import { type Network, parseNetwork } from './ip/address.js';

/**
 * Every NATS name fleetban uses is built here. An agent publishes only under its own host token
 * (`fleetban.events.<host>.>`, `fleetban.heartbeat.<host>`), so server permissions can confine a
 * host to its own events.
 */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws unless `s` is usable as a subject token (host or jail name). */
export function checkToken(kind: 'host' | 'jail', s: string): string {
  if (!TOKEN.test(s)) throw new ParseError(`${kind} name (letters, digits, '-', '_', at most 64)`, s);
  return s;
}

/** JetStream stream that keeps failure events. */
export const EVENTS_STREAM = 'FLEETBAN_EVENTS';
/** Subjects the events stream captures. */
export const EVENTS_WILDCARD = 'fleetban.events.>';
/** Durable consumer the controller reads events with. */
export const CONTROLLER_DURABLE = 'controller';
/** JetStream stream that keeps the controller's latest snapshot (docs/cluster.md). */
export const SNAPSHOT_STREAM = 'FLEETBAN_SNAPSHOTS';
/** Subject of a snapshot's head: what it covers and how to read its parts. */
export const SNAPSHOT_HEAD_SUBJECT = 'fleetban.snapshot.head';
/** Subject of a snapshot's parts, in order. */
export const SNAPSHOT_PART_SUBJECT = 'fleetban.snapshot.part';
/** KV bucket holding the active ban list. */
export const BANS_BUCKET = 'fleetban_bans';
/** KV bucket holding each (jail, address)'s ban history (bantime.increment). */
export const HISTORY_BUCKET = 'fleetban_history';
/** KV bucket holding the controllers' lease: which controller is active. */
export const LEASE_BUCKET = 'fleetban_lease';
/** KV bucket holding each fleet host's last record (its addresses are never banned). */
export const HOSTS_BUCKET = 'fleetban_hosts';
/** KV bucket holding the fleet's ignore list (`fleetban ignore`): addresses no ban may cover. */
export const IGNORE_BUCKET = 'fleetban_ignore';
/** Wildcard of all heartbeats. */
export const HEARTBEAT_WILDCARD = 'fleetban.heartbeat.*';
/** Wildcard of all admin requests. */
export const ADMIN_WILDCARD = 'fleetban.admin.*';

/** Subject a host publishes a jail's failures on. */
export function eventSubject(host: string, jail: string): string {
  return `fleetban.events.${checkToken('host', host)}.${checkToken('jail', jail)}`;
}

/** Subject of a host's heartbeat. */
export function heartbeatSubject(host: string): string {
  return `fleetban.heartbeat.${checkToken('host', host)}`;
}

/**
 * Subject of the controller's liveness message (core NATS, not stored). Only the controller
 * publishes it; every host may subscribe, so a host cannot fake a live controller.
 */
export function controllerAliveSubject(): string {
  return 'fleetban.controller.alive';
}

/** Subject of an admin verb. */
export function adminSubject(verb: string): string {
  return `fleetban.admin.${verb}`;
}

/**
 * Inbox prefix of a host's clients (its agent, and admin verbs run there): `_INBOX_<host>`.
 * Replies and JetStream deliveries to the host come under it, and a host may subscribe to nothing
 * else of the kind, so it cannot read the controller's deliveries (`_INBOX.>`) or another host's.
 */
export function hostInboxPrefix(host: string): string {
  return `_INBOX_${checkToken('host', host)}`;
}

/** Host token of an events or heartbeat subject (`fleetban.<kind>.<host>...`). */
export function hostOfSubject(subject: string): string {
  const from = hostStart(subject);
  return from < 0 ? '' : subject.slice(from, hostEnd(subject, from));
}

/** True when `subject`'s host token (as {@link hostOfSubject} reads it) is `host`; no string is made (the controller asks for every failure). */
export function subjectNamesHost(subject: string, host: string): boolean {
  const from = hostStart(subject);
  return from < 0 ? host === '' : hostEnd(subject, from) - from === host.length && subject.startsWith(host, from);
}

/** Where the third dot-separated token of `subject` starts; -1 when it has none. */
function hostStart(subject: string): number {
  const first = subject.indexOf('.');
  const second = first < 0 ? -1 : subject.indexOf('.', first + 1);
  return second < 0 ? -1 : second + 1;
}

/** Where the token starting at `from` ends. */
function hostEnd(subject: string, from: number): number {
  const dot = subject.indexOf('.', from);
  return dot < 0 ? subject.length : dot;
}

/**
 * KV key of a ban target. KV keys cannot hold ':', so IPv6 colons become '_';
 * a CIDR's '/' is kept ('/' is a legal key character).
 */
export function banKey(target: string | Network): string {
  const net = typeof target === 'string' ? parseNetwork(target) : target;
  return `${net.family === 4 ? 'v4' : 'v6'}.${net.text.replaceAll(':', '_')}`;
}

/** Inverse of {@link banKey}. */
export function targetOfBanKey(key: string): string {
  return key.slice(3).replaceAll('_', ':');
}

/** KV key of a (jail, target) in the history bucket. */
export function historyKey(jail: string, target: string | Network): string {
  return `${checkToken('jail', jail)}.${banKey(target)}`;
}

/** NATS permissions of one fleet member: what it may publish and subscribe to. */
export interface NatsPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

/** What a reader of a KV bucket needs: stream info, direct gets, ordered consumers, flow control. */
function kvReader(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * What a host's agent needs and nothing more: publish its own failures and heartbeat, read and
 * follow the ban list and the fleet's host records (whose addresses it never bans), hear the
 * controller's liveness message, and ask the read-only admin verbs (`status`, `banned`). It
 * cannot write or delete a ban or a host record (`$KV.…` is not allowed), ask for a ban or an
 * unban, report for another host, or touch any stream. It receives replies and deliveries only
 * under its own inbox prefix ({@link hostInboxPrefix}), not `_INBOX.>`, where the controller's and
 * other clients' are.
 */
export function hostPermissions(host: string): NatsPermissions {
  checkToken('host', host);
  return {
    publish: [
      `fleetban.events.${host}.>`,
      heartbeatSubject(host),
      adminSubject('status'),
      adminSubject('banned'),
      '$JS.API.INFO',
      ...kvReader(BANS_BUCKET),
      ...kvReader(HOSTS_BUCKET),
    ],
    subscribe: [`${hostInboxPrefix(host)}.>`, controllerAliveSubject()],
  };
}

/** The controller and the admin members (`fleetban ban/unban/status`) may do anything. */
export const CONTROLLER_PERMISSIONS: NatsPermissions = { publish: ['>'], subscribe: ['>'] };
