import { FleetbanError } from '@fleetban/shared';

/** Which regex of a filter an error is about. */
export interface FilterRegexRef {
  /** The filter: its file path when it was read from one, else its name. */
  filter: string;
  /** Which list the regex is in. */
  list: 'failregex' | 'ignoreregex' | 'prefregex' | 'datepattern';
  /** Zero-based position in that list. */
  index: number;
  /** The regex as written in the filter (before translation). */
  source: string;
  /** Line of the key in the filter file, when known. */
  line?: number;
  /** The piece of syntax that could not be translated, when that is the problem. */
  construct?: string;
}

/**
 * A filter cannot be used: its file cannot be found or read, a regex does not compile, cannot be
 * translated from Python or lacks a `<HOST>`-style tag. Code `FILTER_INVALID`; `regex` says which
 * regex when it is about one, `cause` keeps the underlying error.
 */
export class FilterError extends FleetbanError {
  /** The offending regex, when the error is about one. */
  readonly regex: FilterRegexRef | undefined;

  constructor(message: string, regex?: FilterRegexRef, options?: { cause?: unknown }) {
    super('FILTER_INVALID', message, options);
    this.regex = regex;
  }

  /** The error for one regex of a filter: names the filter, the list, the index (line) and the source. */
  static forRegex(regex: FilterRegexRef, problem: string, options?: { cause?: unknown }): FilterError {
    const line = regex.line === undefined ? '' : ` (line ${regex.line})`;
    return new FilterError(`filter ${regex.filter}: ${regex.list}[${regex.index}]${line} ${problem}: ${regex.source}`, regex, options);
  }
}
