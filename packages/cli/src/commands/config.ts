import type { Args } from '../args.js';
export async function runConfig(args: Args): Promise<number> { void args; return 1; }
