import { FleetbanError } from '@fleetban/shared';

/** Which regex of a filter an error is about. */
export interface FilterRegexRef {
  /** The filter's name (`sshd`, or the file it came from). */
  filter: string;
  /** Which list the regex is in. */
  list: 'failregex' | 'ignoreregex';
  /** Zero-based position in that list. */
  index: number;
  /** The regex as written in the filter (before translation). */
  source: string;
}

/**
 * A filter cannot be used: a regex does not compile or lacks a `<HOST>`-style tag, or the filter is
 * unknown. Code `FILTER_INVALID`; `regex` says which regex when it is about one, `cause` keeps the
 * RegExp engine's SyntaxError.
 */
export class FilterError extends FleetbanError {
  /** The offending regex, when the error is about one. */
  readonly regex: FilterRegexRef | undefined;

  constructor(message: string, regex?: FilterRegexRef, options?: { cause?: unknown }) {
    super('FILTER_INVALID', message, options);
    this.regex = regex;
  }

  /** The error for one regex of a filter: names the filter, the list, the index and the source. */
  static forRegex(regex: FilterRegexRef, problem: string, options?: { cause?: unknown }): FilterError {
    return new FilterError(`filter ${regex.filter}: ${regex.list}[${regex.index}] ${problem}: ${regex.source}`, regex, options);
  }
}
