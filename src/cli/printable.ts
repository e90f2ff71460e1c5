/**
 * Control characters, and the characters that reorder text on screen, as the
 * terminal would act on them rather than show them: C0 (but the newline that
 * separates our own lines), DEL, C1, and the bidirectional overrides and
 * isolates. Stored text (error messages, worker ids, keys, payloads) is the
 * job producer's or the handler's, and must not reach an operator's terminal
 * as escape sequences.
 */
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text for a human's terminal: every unprintable character shown as an escape (`\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/**
 * One cell or field of stored text, on one line: `printable`, and its
 * newlines shown as `\n` too, so a stored value cannot break a table's
 * columns or pass for a line of its own.
 */
export function inline(text: string): string {
  return printable(text).replace(/\n/g, escape);
}

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
