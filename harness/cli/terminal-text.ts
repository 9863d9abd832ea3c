/**
 * Text from user files (names, the filter's messages quoting document content) made safe to print:
 * control characters, DEL, C1 controls, zero-width and bidirectional-override characters become
 * visible escapes (\x07, \u202e), so a document cannot move the cursor, recolour or reorder the
 * terminal, or hide text. Printable text, including U+FFFD, is left as it is.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
