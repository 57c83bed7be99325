/**
 * @module What a participant may be called: a display name other people see. Beyond
 * control characters, format characters are refused too (bidirectional overrides make
 * "Alice" read as someone else's name; zero-width characters make two names look one), and
 * so is a name of whitespace only. The join body's schema and the names taken from user
 * tokens' claims both go by this.
 */

export const MAX_NAME_LENGTH = 100;

/** Control, format (bidi overrides, zero-width...), line and paragraph separator characters. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;
const FORMAT = /\p{Cf}/u;
const ONLY_WHITESPACE = /^[\s\p{Z}]*$/u;

/** Why a name may not be shown, in words; `undefined` when it may. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "must not be empty";
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (CONTROL.test(name)) return "must not contain control characters";
  if (FORMAT.test(name)) {
    return "must not contain format characters (bidirectional overrides, zero-width or other invisible characters)";
  }
  if (ONLY_WHITESPACE.test(name)) return "must not be only whitespace";
  return undefined;
}
