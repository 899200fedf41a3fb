import { BanList, type BanDecision, isActive, loadConfig, normalizeTarget } from '@fleetban/shared';
import type { Args } from '../args.js';
import { closeAdmin, connectAdmin } from '../admin-connection.js';
import { configPath } from '../config-path.js';
import { LineOutput, OutputClosedError } from '../line-output.js';
import { formatBan } from '../status-format.js';

/**
 * `fleetban banned [TARGET] [--json]`: the fleet's active bans, read straight from the ban list's
 * KV bucket (which the admin's and every host's credentials may read), not asked of the
 * controller: one pass over the bucket, each ban printed as it arrives, so a list of a million
 * bans neither fills one NATS message nor this process's memory. Bans whose expiry has passed
 * (still in the list until the controller's expiry removes them) are left out. One line per ban
 * in the order the list last wrote them; with `--json`, JSON lines: one {@link BanDecision} object
 * per line. Entries that do not decode are skipped and counted on stderr.
 *
 * With TARGET (an address or CIDR, as banned) only that target's ban is read (one KV get); the
 * exit code is 1 when it is not banned. A CIDR ban covering an address is not looked for.
 */
export async function runBanned(args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const [target] = args.positional;
  const json = args.options.has('json');
  const format = (b: BanDecision, nowMs: number) => (json ? JSON.stringify(b) : formatBan(b, nowMs));
  const nc = await connectAdmin(config);
  try {
    const list = await BanList.open(nc, false);
    const out = new LineOutput();
    if (target !== undefined) {
      const ip = normalizeTarget(target);
      const ban = await list.get(ip);
      const now = Date.now();
      if (!ban || !isActive(ban, now)) {
        if (!json) await out.line(`${ip} is not banned.`);
        await out.flush();
        return 1;
      }
      await out.line(format(ban, now));
      await out.flush();
      return 0;
    }
    let shown = 0;
    let malformed = 0;
    const named: string[] = [];
    const now = Date.now();
    const onMalformed = (key: string, cause: unknown) => {
      if (++malformed <= 3) named.push(`${key}: ${cause instanceof Error ? cause.message : String(cause)}`);
    };
    for await (const b of list.entries(onMalformed)) {
      if (!isActive(b, now)) continue;
      shown++;
      await out.line(format(b, now));
    }
    if (shown === 0 && !json) await out.line('No address is banned.');
    await out.flush();
    if (malformed > 0) process.stderr.write(`fleetban: ${malformed} ban list ${malformed === 1 ? 'entry does' : 'entries do'} not decode: skipped (${named.join('; ')}${malformed > named.length ? '; ...' : ''})\n`);
    return 0;
  } catch (err) {
    if (err instanceof OutputClosedError) return 0; // `fleetban banned | head`: the reader has what it wanted
    throw err;
  } finally {
    await closeAdmin(nc);
  }
}
