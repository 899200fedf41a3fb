/**
 * The syntax tree of a Python regular expression, as {@link parsePython} builds it and
 * `emit.ts` turns it into JavaScript. Flags that change meaning (IGNORECASE, MULTILINE, DOTALL,
 * ASCII) are resolved at parse time and stored on the nodes they affect, so the emitter needs no
 * flag state of its own.
 */

/** A character class shorthand: `\d`, `\w`, `\s` (and their negations). */
export interface ClassEscape {
  readonly t: 'esc';
  readonly k: 'd' | 'w' | 's';
  readonly neg: boolean;
  /** ASCII flag (`(?a)`): ASCII-only meaning instead of Unicode. */
  readonly ascii: boolean;
}

/** One member of a `[...]` class. */
export type ClassItem =
  | { readonly t: 'ch'; readonly c: number }
  | { readonly t: 'range'; readonly lo: number; readonly hi: number }
  | ClassEscape;

/** A node of the tree. `ci` marks case-insensitive scope (IGNORECASE). */
export type Node =
  | { readonly t: 'alt'; readonly alts: Node[] }
  | { readonly t: 'seq'; readonly items: Node[] }
  | { readonly t: 'char'; readonly c: number; readonly ci: boolean }
  | { readonly t: 'any'; readonly dotall: boolean }
  | { readonly t: 'bol'; readonly multiline: boolean }
  | { readonly t: 'eol'; readonly multiline: boolean }
  | { readonly t: 'start' }
  | { readonly t: 'end' }
  | { readonly t: 'wordb'; readonly neg: boolean; readonly ascii: boolean }
  | ClassEscape
  | { readonly t: 'class'; readonly neg: boolean; readonly items: ClassItem[]; readonly ci: boolean }
  | GroupNode
  | { readonly t: 'cond'; ref: number | string; readonly yes: Node; readonly no: Node | null; readonly at: number }
  | { readonly t: 'quant'; readonly body: Node; readonly min: number; readonly max: number; readonly lazy: boolean; readonly possessive: boolean }
  | { readonly t: 'backref'; ref: number | string; readonly ci: boolean; readonly at: number };

/** Kinds of parenthesised groups. */
export type GroupKind = 'cap' | 'nc' | 'la' | 'nla' | 'lb' | 'nlb' | 'atomic';

/** A parenthesised group; `index` (1-based) and `name` for capturing groups. */
export interface GroupNode {
  readonly t: 'group';
  readonly kind: GroupKind;
  readonly index: number;
  readonly name: string | undefined;
  readonly body: Node;
}

/** A parsed pattern. */
export interface ParsedPattern {
  readonly root: Node;
  /** Number of capturing groups. */
  readonly groupCount: number;
  /** Group name → 1-based index. */
  readonly names: ReadonlyMap<string, number>;
  /** Global IGNORECASE was set (by a leading `(?i)`), and no `(?-i:...)` switches it off. */
  readonly globalIgnoreCase: boolean;
  /** Some part is case-insensitive (globally or in a scoped group). */
  readonly anyIgnoreCase: boolean;
  /** Some part is explicitly case-sensitive inside a case-insensitive scope. */
  readonly anyCaseSensitiveScope: boolean;
}
