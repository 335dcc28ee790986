// Shell text at its smallest: quoting a value, a safe comment, joining lines into a script.

/** The PATH every script sets, so a bare login environment finds ip, iptables and sysctl. */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** POSIX single-quote quoting; always quotes, so the result is one word whatever the value. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text that is safe inside a `#` comment line: a newline there would end the comment. */
export function commentText(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/** Joins script lines into the final text: LF line ends and exactly one trailing newline. */
export function joinScript(lines: readonly string[]): string {
  return `${lines.join("\n")}\n`;
}
