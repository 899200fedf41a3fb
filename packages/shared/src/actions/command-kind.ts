/**
 * `command[ban="argv...", unban="argv...", timeout=60s]`: a program run directly, without a shell
 * (a NAS firewall reached over ssh, a script). The text is split into words once, like a shell
 * word list (see shell-words.ts); the event's tags are then substituted inside each word, so a
 * value from a log line stays one argument and is never interpreted.
 */

import { replaceEventTags } from './event-tags.js';
import { runCommand } from './process-run.js';
import { deliveryRunner, type RunnerIdentity } from './runner-base.js';
import { splitWords } from './shell-words.js';
import type { ActionRunner } from './types.js';

/** The runner of one `command` action (options checked: ban/unban split without error). */
export function commandRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const argv = {
    ban: o.has('ban') ? splitWords(o.get('ban') as string) : [],
    unban: o.has('unban') ? splitWords(o.get('unban') as string) : [],
  };
  return deliveryRunner(id, async (e) => {
    const words = argv[e.kind];
    if (words.length === 0) return;
    await runCommand(`${id.name} ${e.kind}`, words.map((w) => replaceEventTags(w, e, false)), timeoutMs);
  });
}
