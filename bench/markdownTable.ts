// Renders rows as a GitHub Markdown table; numbers right-aligned, pipes in cells escaped.

export type Cell = string | number;

export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new Error(`row has ${row.length} cells, header has ${header.length}: ${row.join(" | ")}`);
    }
  }
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number"));
  const cell = (value: Cell) => String(value).replace(/\|/g, "\\|");
  const lines = [
    `| ${header.map(cell).join(" | ")} |`,
    `|${numeric.map((n) => (n ? "---:" : "---")).join("|")}|`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ];
  return lines.join("\n");
}
