/**
 * fail2ban's server settings (fail2ban.conf, its .local and fail2ban.d/): `dbpurgeage` is the
 * one fleetban has (`[controller] dbpurgeage`); the others are reported with why.
 */

import { confFilesOf, type IniEntry, interpolate, parseDuration, readConfFiles } from '@fleetban/shared';
import { SERVER_KEY_REASONS } from './key-rules.js';
import { at, type CarriedKey, loaderComplaint, type PlannedSection, type Planner } from './planner.js';

/** fail2ban.conf (and .local, fail2ban.d/): dbpurgeage goes to [controller]; the rest is reported. */
export function planServer(p: Planner, dir: string, controller: CarriedKey[]): string[] {
  const files = confFilesOf(dir, 'fail2ban');
  if (files.length === 0) return [];
  const store = readConfFiles(files);
  const keys = new Map<string, { section: string; e: IniEntry }>();
  for (const e of store.defaults.values()) keys.set(e.key.toLowerCase(), { section: 'DEFAULT', e });
  for (const [section, entries] of store.sections) {
    if (section.startsWith('KNOWN/') || section === 'INCLUDES') continue;
    for (const e of entries.values()) keys.set(e.key.toLowerCase(), { section, e });
  }
  for (const [key, { section, e }] of keys) {
    const value = interpolate(e, { store, section, keep: () => true });
    if (key === 'dbpurgeage') {
      const complaint = loaderComplaint('controller', key, value);
      if (complaint === undefined) controller.push({ key, value, from: at(e) });
      else p.note(`fail2ban.conf ${section}`, e, value, false, complaint);
    } else if (value.trim() !== '') p.note(`fail2ban.conf ${section}`, e, value, false, SERVER_KEY_REASONS[key] ?? 'not a setting fleetban has');
  }
  return store.files;
}

/**
 * A recidive jail whose findtime is longer than [controller] dbpurgeage would be refused by the
 * loader (its bans would be purged before they count): dbpurgeage is raised to it, and said so.
 */
export function fitDbPurgeAge(p: Planner, plan: { jails: readonly PlannedSection[]; defaults: PlannedSection }, controller: CarriedKey[]): void {
  const day = 86_400_000;
  const current = controller.find((k) => k.key === 'dbpurgeage');
  let need = current ? parseDuration(current.value) : day;
  let by: string | undefined;
  for (const j of plan.jails) {
    if (!j.keys.some((k) => k.key === 'policy')) continue;
    const f = j.keys.find((k) => k.key === 'findtime') ?? plan.defaults.keys.find((k) => k.key === 'findtime');
    const ms = f ? parseDuration(f.value) : 600_000;
    if (ms > need) [need, by] = [ms, f?.value];
  }
  if (by === undefined) return;
  const i = controller.findIndex((k) => k.key === 'dbpurgeage');
  if (i >= 0) controller.splice(i, 1);
  controller.push({ key: 'dbpurgeage', value: by, from: 'recidive findtime' });
  p.notes.push({ jail: 'controller', key: 'dbpurgeage', value: by, from: 'recidive findtime', carried: true, reason: 'raised to the recidive jail\'s findtime, so its bans are kept long enough to count' });
}

