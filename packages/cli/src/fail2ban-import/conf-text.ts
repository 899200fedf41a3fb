/**
 * Writes an import plan as a fleetban configuration file: fleetban's own sections with their
 * defaults commented out (and the few keys the import sets), `[DEFAULT]`, then one section per
 * enabled jail, each key with a comment saying which fail2ban file and line it came from.
 */

import { type ConfigSectionView, settingDefaults } from '@fleetban/shared';
import type { CarriedKey, ImportPlan } from './import-plan.js';

/** `%` becomes `%%` (fleetban interpolates values as fail2ban does), `%(known/key)s` excepted. */
export function escapePercent(value: string): string {
  return value.replace(/%(?!\(known\/[^)]*\)s)/gi, '%%');
}

/**
 * The lines of one `key = value` entry: continuation lines indented under the value (a value
 * that starts on the next line, as fail2ban's failregex often does, keeps its empty first line).
 */
export function entryLines(key: string, value: string): string[] {
  const [first = '', ...rest] = escapePercent(value).split('\n');
  const pad = ' '.repeat(key.length + 3);
  return [`${key} = ${first}`.trimEnd(), ...rest.filter((l) => l.trim() !== '').map((l) => pad + l.trim())];
}

const SETTING_NOTES: Readonly<Record<string, string>> = {
  fleetban: 'Who this host is and where the fleet meets (NATS). Set nats on every host of the fleet.',
  agent: 'How this host\'s agent reads logs and enforces bans.',
  controller: 'How the fleet\'s controller decides (ignoreip here applies to every jail, fleet-wide).',
};

function settingSection(view: ConfigSectionView, set: readonly CarriedKey[]): string[] {
  const out = ['', `# ${SETTING_NOTES[view.section] ?? ''}`.trimEnd(), `[${view.section}]`];
  for (const v of view.values) {
    const mine = set.find((k) => k.key === v.key);
    if (mine) out.push(`# ${mine.from}`, ...entryLines(v.key, mine.value));
    else out.push(`# ${entryLines(v.key, v.value).join(' ')}`.trimEnd());
  }
  return out;
}

function keyLines(keys: readonly CarriedKey[]): string[] {
  return keys.flatMap((k) => [`# ${k.from}`, ...entryLines(k.key, k.value)]);
}

/** The configuration text of `plan`; `when` is written in the header. */
export function renderPlan(plan: ImportPlan, when: Date): string {
  const [fleetban, agent, controller] = settingDefaults('<this machine\'s short hostname>') as [ConfigSectionView, ConfigSectionView, ConfigSectionView];
  const carried = plan.notes.filter((n) => n.carried && n.key === 'action').length;
  const out = [
    `# fleetban configuration imported from fail2ban's ${plan.dir} by \`fleetban import-fail2ban\``,
    `# on ${when.toISOString()}. Read: ${plan.files.join(', ')}.`,
    '# Enabled jails only; what could not be carried was printed by the import (see',
    '# docs/migrate-from-fail2ban.md). Check this file with: fleetban config check FILE',
    ...(carried > 0 ? ['#', '# action = lines run on the fleetban controller, once per ban for the whole fleet.'] : []),
    ...settingSection(fleetban, []),
    ...settingSection(agent, plan.agent),
    ...settingSection(controller, plan.controller),
    '',
    '# Defaults of every jail (fail2ban\'s [DEFAULT], resolved)',
    '[DEFAULT]',
    ...keyLines(plan.defaults.keys),
  ];
  for (const j of plan.jails) out.push('', `[${j.name}]`, ...keyLines(j.keys));
  return `${out.join('\n')}\n`;
}
