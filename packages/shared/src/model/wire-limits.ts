/**
 * Bounds of every decoded message: a hostile or broken sender cannot make a receiver hold
 * unbounded strings or lists. A message beyond them is refused as malformed (counted, logged).
 */
export const WIRE_LIMITS = {
  /** An event id (`<host>:<jail>:<line id>`). */
  idChars: 512,
  /** Short texts: user names, backend, firewall summary, version, admin targets. */
  textChars: 256,
  /** A matched log line kept as evidence; agents cut longer lines to this before sending. */
  lineChars: 8192,
  /** Addresses one host may claim as its own in a heartbeat (each a single address). */
  addresses: 32,
  /** Jails one host may report in a heartbeat. */
  jails: 256,
  /** Hosts named by one ban (reporters, scope). */
  hosts: 1024,
  /** Evidence lines of one ban. */
  matches: 1000,
} as const;
