// Network namespaces for a bench: a bridge in a hub namespace and one namespace per host on it
// (192.0.2.N/24, TEST-NET-1), as test/fixtures/netns.ts builds them for the tests, but synchronous
// and without tap. Every namespace made here is remembered; `deleteLan` (and, as a last chance, a
// hook on exit and on SIGINT/SIGTERM/SIGHUP) kills what still runs inside them, by pid, and deletes
// them. Only namespaces this module created are touched; the root namespace is never changed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const live = new Set();
let hooked = false;

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const inNs = (ns, ...args) => ip('netns', 'exec', ns, ...args);

/**
 * Creates `fbpb-<prefix>-hub` with bridge `br0` and, per name in `hosts`, a namespace whose `eth0`
 * is a veth into the bridge with 192.0.2.N/24 (N = 1, 2, ...). Returns `{ hub, hosts: { name: { ns, ipv4 } } }`.
 */
export function createLan(prefix, hosts) {
  const tag = randomBytes(2).toString('hex');
  const hub = addNs(`fbpb-${prefix}-${tag}-hub`);
  inNs(hub, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  inNs(hub, 'ip', 'link', 'set', 'br0', 'up');
  const out = {};
  for (const [i, host] of hosts.entries()) {
    const n = i + 1;
    const ns = addNs(`fbpb-${prefix}-${tag}-${host}`);
    const port = `ve${n}-${host}`.slice(0, 15);
    inNs(hub, 'ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    inNs(hub, 'ip', 'link', 'set', port, 'master', 'br0');
    inNs(hub, 'ip', 'link', 'set', port, 'up');
    inNs(ns, 'ip', 'addr', 'add', `192.0.2.${n}/24`, 'dev', 'eth0');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    out[host] = { ns, ipv4: `192.0.2.${n}` };
  }
  return { hub, hosts: out };
}

function addNs(name) {
  installHook();
  ip('netns', 'add', name);
  live.add(name);
  inNs(name, 'ip', 'link', 'set', 'lo', 'up');
  return name;
}

/** Pids of the processes inside namespace `name` (none when it is gone). */
function pidsIn(name) {
  try {
    return ip('netns', 'pids', name).split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
  } catch {
    return [];
  }
}

/**
 * Kills (SIGKILL, by pid) everything still running in the namespaces this module created, waits
 * for it to go (bounded), and deletes them (their nft tables and veths go with them).
 */
export function deleteLan() {
  for (const name of live) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = pidsIn(name);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      execFileSync('sleep', ['0.02']);
    }
    try {
      ip('netns', 'delete', name);
    } catch {
      // already deleted
    }
  }
  live.clear();
}

/** Namespaces still alive (for the final check). */
export function liveNamespaces() {
  return [...live];
}

function installHook() {
  if (hooked) return;
  hooked = true;
  process.once('exit', deleteLan);
  const onSignal = (sig) => {
    deleteLan();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, onSignal);
}
