/**
 * fail2ban's `backend` key, read once into a {@link JailBackend}: where a jail's lines come from.
 * `auto` (the default), `polling`, `pyinotify`, `gamin`: the logpath files;
 * `systemd[journalpath=DIR, journalfiles=FILE ...]`: the systemd journal;
 * `docker[container=NAME or ID, root=DIR]`: a container's json-file log.
 * Names are read case-insensitively, as fail2ban does.
 */

import { isAbsolute } from 'node:path';
import type { IniEntry } from '../f2bconf/ini-file.js';
import type { FileBackendName, JailBackend } from './types.js';
import { invalidValue } from './value.js';

/** The backends that read the logpath files. */
export const FILE_BACKENDS: readonly FileBackendName[] = ['auto', 'polling', 'pyinotify', 'gamin'];

/** `backend` when a jail and `[DEFAULT]` set none (fail2ban's jail.conf default). */
export const DEFAULT_BACKEND: JailBackend = { kind: 'auto' };

const EXPECTED = 'auto, polling, pyinotify, gamin, systemd (optionally systemd[journalpath=DIR] or systemd[journalfiles=FILE ...]) or docker[container=NAME or ID, root=DIR]';
const NAMED = /^([A-Za-z]+)\s*(?:\[(.*)\])?$/s;
const PARAM = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^,]*?))\s*(?:,|$)/gy;
const CONTAINER = /^\/?[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Reads `backend`; throws ConfigError naming the file, `section.backend (line N)` and the expected values. */
export function readBackend(e: IniEntry): JailBackend {
  const m = NAMED.exec(e.value.trim());
  if (!m) throw invalidValue(e, EXPECTED);
  const name = (m[1] as string).toLowerCase();
  const params = readParams(e, m[2] ?? '');
  const file = FILE_BACKENDS.find((b) => b === name);
  if (file !== undefined) {
    if (params.size > 0) throw invalidValue(e, `${name} without options (one of: ${EXPECTED})`);
    return { kind: file };
  }
  if (name === 'systemd') {
    checkParams(e, name, params, ['journalpath', 'journalfiles']);
    const journalpath = params.get('journalpath') ?? '';
    const journalfiles = (params.get('journalfiles') ?? '').split(/\s+/).filter((f) => f !== '');
    if ([journalpath, ...journalfiles].some((p) => p !== '' && !isAbsolute(p))) throw invalidValue(e, 'absolute paths in journalpath and journalfiles');
    if (journalpath !== '' && journalfiles.length > 0) throw invalidValue(e, 'systemd[journalpath=DIR] or systemd[journalfiles=FILE ...], not both');
    return { kind: 'systemd', journalpath, journalfiles };
  }
  if (name === 'docker') {
    checkParams(e, name, params, ['container', 'root']);
    const container = params.get('container') ?? '';
    const root = params.get('root') ?? '/var/lib/docker';
    if (!CONTAINER.test(container)) throw invalidValue(e, 'docker[container=NAME or ID] (optionally root=/var/lib/docker)');
    if (!isAbsolute(root)) throw invalidValue(e, 'docker[...] with an absolute root');
    return { kind: 'docker', container: container.replace(/^\//, ''), root };
  }
  throw invalidValue(e, EXPECTED);
}

/** `k=v, k2="v 2"` inside a backend's brackets. */
function readParams(e: IniEntry, text: string): Map<string, string> {
  const params = new Map<string, string>();
  const body = text.trim();
  let at = 0;
  while (at < body.length) {
    PARAM.lastIndex = at;
    const m = PARAM.exec(body);
    if (!m || m[0] === '') throw invalidValue(e, 'backend options as name[key=value, key=value]');
    params.set(m[1] as string, m[2] ?? m[3] ?? m[4] ?? '');
    at = PARAM.lastIndex;
  }
  return params;
}

function checkParams(e: IniEntry, name: string, params: ReadonlyMap<string, string>, allowed: readonly string[]): void {
  for (const k of params.keys()) if (!allowed.includes(k)) throw invalidValue(e, `${name} options among: ${allowed.join(', ')} (not ${k})`);
}
