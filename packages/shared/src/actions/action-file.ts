/**
 * fail2ban's action.d files, run unchanged: `<name>.conf` (with its `.local`, `<name>.d/` and
 * `[INCLUDES]`) from the first directory of the action path that has it; `[Definition]`'s
 * actionstart / actionstop / actioncheck / actionrepair / actionban / actionunban and `[Init]`'s
 * options, the jail's `name[opt=value]` options overriding both, read as fail2ban's ActionReader
 * does (../f2bconf/definition.ts). When a command runs, `<tag>`s are resolved among the options
 * for the address's family (`[Init?family=inet6]`), then the event's tags are put in, escaped
 * (see event-tags.ts), and the command runs as `/bin/sh -c <command>` with the action's
 * `timeout` (default 60 s).
 */

import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { confFilesOf, readConfFiles } from '../f2bconf/conf-store.js';
import { readDefinition } from '../f2bconf/definition.js';
import { substituteTags, TagRecursionError } from '../f2bconf/tag-substitution.js';
import { parseDuration } from '../time/duration.js';
import { familyOf, replaceEventTags } from './event-tags.js';
import { runCommand } from './process-run.js';
import type { RunnerIdentity } from './runner-base.js';
import { ActionError, type ActionRunner, type ActionSpec, type BanEvent } from './types.js';

/** The `[Definition]` commands read. */
export const ACTION_COMMANDS: readonly string[] = ['actionstart', 'actionstop', 'actioncheck', 'actionrepair', 'actionban', 'actionunban'];

/** fail2ban's default action timeout. */
export const DEFAULT_ACTION_TIMEOUT_MS = 60_000;

const FAMILIES = ['inet4', 'inet6'] as const;
type Family = (typeof FAMILIES)[number];
const CONDITIONAL = /^([^?]+)\?family=(inet4|inet6)$/;

/** The files of action `name` in the first directory of `path` that has any; [] when none does. */
export function findActionFiles(path: readonly string[], name: string): string[] {
  for (const dir of path) {
    const files = confFilesOf(dir, name);
    if (files.length > 0) return files;
  }
  return [];
}

/** What an action.d runner is built from. */
export interface ActionFileSource {
  readonly spec: ActionSpec;
  readonly files: readonly string[];
  /** The key errors name (`sshd.action (line 12)`). */
  readonly where: string;
  /** Jail options used where the action sets none (`port`, `protocol`). */
  readonly jailOptions: ReadonlyMap<string, string>;
  /** The jail's name, fail2ban's default `name` option ('' for [DEFAULT]'s actions: the ban's jail). */
  readonly jailName: string;
}

/** The options of an action file for one family, tags among them resolved. Throws TagRecursionError. */
function familyOptions(values: ReadonlyMap<string, string>, family: Family): Map<string, string> {
  const plain = new Map<string, string>();
  const cond = new Map<string, string>();
  for (const [k, v] of values) {
    const c = CONDITIONAL.exec(k);
    if (!c) plain.set(k, v);
    else if (c[2] === family) cond.set(c[1] as string, v);
  }
  for (const [k, v] of cond) plain.set(k, v);
  return substituteTags(plain);
}

/**
 * Reads an action file into a runner. Throws ConfigError naming the file and key when its
 * options cannot be resolved or its timeout is not a duration.
 */
export function actionFileRunner(id: RunnerIdentity, src: ActionFileSource): ActionRunner {
  const { spec, where } = src;
  const options = new Map(Object.entries(spec.options).map(([k, v]) => [k.toLowerCase(), v] as const));
  if (!options.has('name') && src.jailName !== '') options.set('name', src.jailName);
  if (!options.has('actname')) options.set('actname', spec.name);
  const store = readConfFiles(src.files);
  const values = new Map(readDefinition(store, { keys: [...ACTION_COMMANDS, 'timeout'], options }).values);
  for (const [k, v] of src.jailOptions) if (!values.has(k)) values.set(k, v);

  const byFamily = new Map<Family, Map<string, string>>();
  for (const f of FAMILIES) {
    try {
      byFamily.set(f, familyOptions(values, f));
    } catch (err) {
      if (!(err instanceof TagRecursionError)) throw err;
      throw new ConfigError(src.files[0] ?? spec.file, `${where}: ${spec.name}`, 'action options whose <tags> do not refer to themselves', err.tag, { cause: err });
    }
  }
  const timeoutText = values.get('timeout');
  let timeoutMs = DEFAULT_ACTION_TIMEOUT_MS;
  if (timeoutText !== undefined && timeoutText !== '') {
    try {
      timeoutMs = parseDuration(timeoutText);
    } catch (err) {
      throw new ConfigError(src.files[0] ?? spec.file, `${where}: ${spec.name} timeout`, 'a duration such as 60 or 1m', timeoutText, { cause: err });
    }
    if (!(timeoutMs > 0)) throw new ConfigError(src.files[0] ?? spec.file, `${where}: ${spec.name} timeout`, 'a positive duration', timeoutText);
  }

  const command = (key: string, family: Family, e?: BanEvent): string => {
    const raw = (byFamily.get(family)?.get(key) ?? '').trim();
    return e && raw !== '' ? replaceEventTags(raw, e, true) : raw;
  };
  const sh = async (what: string, cmd: string): Promise<void> => {
    id.logger.debug({ command: what }, 'running action command');
    await runCommand(`${id.name} ${what}`, ['/bin/sh', '-c', cmd], timeoutMs);
  };
  /** Runs `key` for both families (once when they are the same command). */
  const everyFamily = async (key: string): Promise<void> => {
    const seen = new Set<string>();
    for (const f of FAMILIES) {
      const cmd = command(key, f);
      if (cmd === '' || seen.has(cmd)) continue;
      seen.add(cmd);
      await sh(key, cmd);
    }
  };
  const start = async (): Promise<void> => {
    await everyFamily('actionstart');
    await everyFamily('actioncheck');
  };
  const stop = async (): Promise<void> => {
    try {
      await everyFamily('actionstop');
    } catch (err) {
      id.logger.warn({ err }, 'actionstop failed');
    }
  };
  /** fail2ban's invariant check before a ban or an unban: actioncheck, else actionrepair (or a restart), then again. */
  const check = async (family: Family): Promise<void> => {
    const cmd = command('actioncheck', family);
    if (cmd === '') return;
    try {
      await sh('actioncheck', cmd);
      return;
    } catch (err) {
      id.logger.warn({ err }, 'actioncheck failed, restoring the action');
    }
    const repair = command('actionrepair', family);
    if (repair !== '') await sh('actionrepair', repair);
    else {
      await stop();
      await everyFamily('actionstart');
    }
    await sh('actioncheck', cmd);
  };

  return {
    name: id.name,
    jail: id.jail,
    site: id.site,
    start: async () => {
      try {
        await start();
      } catch (err) {
        throw err instanceof ActionError ? err : new ActionError(`${id.name} start: ${String(err)}`, true, { cause: err });
      }
    },
    stop,
    run: async (e) => {
      const family = familyOf(e.ban.ip);
      await check(family);
      const key = e.kind === 'ban' ? 'actionban' : 'actionunban';
      const cmd = command(key, family, e);
      if (cmd === '') return;
      await sh(key, cmd);
    },
  };
}

/** The directories searched when a context names none: fail2ban's own action.d. */
export const DEFAULT_ACTION_PATH: readonly string[] = [join('/etc', 'fail2ban', 'action.d')];
