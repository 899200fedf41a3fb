import { FleetbanError } from '@fleetban/shared';

/**
 * A Python regular expression that is invalid, or valid in Python but not translatable to
 * JavaScript. Code `REGEX_UNTRANSLATABLE`; `construct` is the offending piece of syntax (for
 * example `(?<name>`, `\N{...}`, `(?L)`), `offset` its position (in code points) in the pattern.
 */
export class RegexSyntaxError extends FleetbanError {
  readonly construct: string;
  readonly offset: number;

  constructor(problem: string, construct: string, offset: number, options?: { cause?: unknown }) {
    super('REGEX_UNTRANSLATABLE', `${problem}: ${JSON.stringify(construct)} at offset ${offset}`, options);
    this.construct = construct;
    this.offset = offset;
  }
}
