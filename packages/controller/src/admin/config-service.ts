import {
  type ConfigChange,
  ConfigError,
  type FleetbanConfig,
  FleetbanError,
  type JailConfig,
  JAIL_SETTING_NAMES,
  jailSetting,
  type JailOptionValue,
  loadConfig,
  type Logger,
  withJailSetting,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import type { Allowlists } from '../decide/fleet-guard.js';

/** What the configuration verbs read and change. */
export interface ConfigServiceDeps {
  /** The configuration the controller started with (its `file` is what a reload reads). */
  readonly config: FleetbanConfig;
  readonly trackers: JailTrackers;
  readonly allowlists: Allowlists;
  readonly logger: Logger;
  /** Reads the configuration file (tests inject one); default {@link loadConfig} with the running host name. */
  readonly load?: (file: string) => FleetbanConfig;
}

/** A jail option refused for a recidive jail: its policy holds the configuration it started with. */
const RECIDIVE_NOTE = 'recidive jail: applies after a restart';
const RESTART_NOTE = 'applies after a restart';
/** Keys whose values are never logged or replied: password, token, webToken, webAdminToken, ... */
const SECRET_KEY = /password|token/i;

/**
 * fail2ban-client's `get`, `set` and `reload` for the controller's jails: `get` reads an option
 * of a jail as the controller holds it, `set` changes a threshold at runtime (validated by the
 * configuration file's own readers, see shared config/jail-setting.ts), `reload` reads the
 * configuration file again and applies jail thresholds, jails added and removed, and ignoreip
 * (`[controller]`, the jails', their `file:` lists), keeping every kept jail's window and every
 * ban. A file that does not load leaves the running configuration untouched. Each change is one
 * audit line in the controller's log; `[controller]` and `[fleetban]` keys other than ignoreip
 * are reported as applying after a restart. A value `set` changed lasts until the next reload,
 * which takes the file's (as in fail2ban).
 */
export class ConfigService {
  #config: FleetbanConfig;
  constructor(private readonly d: ConfigServiceDeps) {
    this.#config = d.config;
  }

  /** `get JAIL [OPTION]`: the option, or every option, of a jail the controller tracks. */
  get(jail: string, option: string): JailOptionValue[] {
    const j = this.#jail(jail);
    if (option) return [{ jail: j.name, name: option, value: this.#read(j, option) }];
    return JAIL_SETTING_NAMES.map((name) => ({ jail: j.name, name, value: jailSetting(j, name) }));
  }

  /** `set JAIL OPTION VALUE`: applies at once to the jail's tracker (its window kept); returns the change. */
  set(jail: string, option: string, value: string, by: string): ConfigChange {
    const j = this.#jail(jail);
    if (j.policy === 'recidive') throw new ConfigError('fleetban set', `${jail} ${option}`, `a threshold jail (${RECIDIVE_NOTE}: change the file and restart)`, jail);
    const next = withJailSetting(j, option, value);
    const change = { what: `${jail}.${option}`, from: jailSetting(j, option), to: jailSetting(next, option), note: '' };
    this.d.trackers.get(jail).retune(next);
    this.d.logger.info({ by, jail, option, from: change.from, to: change.to }, 'jail option set by admin');
    return change;
  }

  /**
   * `reload` (or SIGHUP): reads the file again and applies it; returns what changed. Throws the
   * file's {@link ConfigError} (logged here) and changes nothing when it does not load.
   */
  reload(by: string): ConfigChange[] {
    let next: FleetbanConfig;
    try {
      next = (this.d.load ?? ((f) => loadConfig(f, { hostname: this.#config.fleet.host })))(this.#config.file);
    } catch (err) {
      this.d.logger.error({ err, by, file: this.#config.file }, 'reload failed: the running configuration is kept');
      throw err;
    }
    const before = new Map(this.d.trackers.all().map((t) => [t.jail.name, t.jail] as const));
    const changes: ConfigChange[] = [
      ...settingChanges('DEFAULT', this.#config.jailDefaults, next.jailDefaults, ''),
      ...sectionChanges('controller', this.#config.controller, next.controller, ['ignoreip']),
      ...sectionChanges('fleetban', this.#config.fleet, next.fleet, []),
    ];
    const r = this.d.trackers.reconfigure(next.jails, (name): JailConfig => ({ ...next.jailDefaults, name }));
    for (const { before: b, after: a } of r.kept) {
      changes.push(...settingChanges(a.name, b, a, a.policy === 'recidive' || b.policy === 'recidive' ? RECIDIVE_NOTE : ''));
      // the actions' runners and their delivery consumers are made at start
      // (named only: their options may hold tokens)
      if (JSON.stringify(b.actions) !== JSON.stringify(a.actions)) changes.push({ what: `${a.name}.action`, from: actionNames(b), to: actionNames(a), note: RESTART_NOTE });
    }
    for (const name of r.added) {
      const recidive = next.jails.find((j) => j.name === name)?.policy === 'recidive';
      changes.push({ what: name, from: before.has(name) ? 'no section' : '', to: 'added', note: recidive ? RECIDIVE_NOTE : '' });
    }
    for (const name of r.removed) changes.push({ what: name, from: 'configured', to: '', note: 'removed: its failure windows dropped, its bans kept' });
    this.d.allowlists.setIgnoreip(next.controller.ignoreip);
    this.#config = next;
    for (const c of changes) this.d.logger.info({ by, what: c.what, from: c.from, to: c.to, note: c.note || undefined }, 'reload: changed');
    this.d.logger.info({ by, file: next.file, changes: changes.length, jails: next.jails.map((j) => j.name) }, 'configuration reloaded');
    return changes;
  }

  /** The tracked jail `name` (configured, or heard of); throws when there is none. */
  #jail(name: string): JailConfig {
    const t = name ? this.d.trackers.existing(name) : undefined;
    if (!t) throw new FleetbanError('NO_SUCH_JAIL', `jail '${name}' does not exist (fleetban status lists the jails)`);
    return t.jail;
  }

  #read(j: JailConfig, option: string): string {
    try {
      return jailSetting(j, option);
    } catch (err) {
      throw new ConfigError('fleetban get', `${j.name} ${option}`, (err as ConfigError).expected, option);
    }
  }
}

/** Jail options whose value differs between `a` and `b`, named `<what>.<option>`. */
function settingChanges(what: string, a: JailConfig, b: JailConfig, note: string): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const name of JAIL_SETTING_NAMES) {
    const from = jailSetting(a, name);
    const to = jailSetting(b, name);
    if (from !== to) out.push({ what: `${what}.${name}`, from, to, note });
  }
  return out;
}

/** Keys of a section whose value differs; those not in `applied` apply after a restart. */
function sectionChanges<T extends object>(section: string, a: T, b: T, applied: readonly string[]): ConfigChange[] {
  const out: ConfigChange[] = [];
  for (const key of Object.keys(a) as (keyof T & string)[]) {
    let from = text(a[key]);
    let to = text(b[key]);
    if (from === to) continue;
    if (SECRET_KEY.test(key)) [from, to] = [from && '(hidden)', to && '(hidden)'];
    out.push({ what: `${section}.${key}`, from, to, note: applied.includes(key) ? '' : RESTART_NOTE });
  }
  return out;
}

/** A jail's actions by name (`host_action` ones marked), without their options. */
function actionNames(j: JailConfig): string {
  return j.actions.map((a) => (a.site === 'host' ? `host:${a.name}` : a.name)).join(' ');
}

function text(v: unknown): string {
  if (Array.isArray(v)) return v.join(' ');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
