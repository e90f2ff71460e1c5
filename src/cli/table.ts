import { inline } from "./printable.js";

type Cell = string | number | null;

/** A cell as text: `-` for none, numbers grouped, stored text on one line with control characters shown. */
const cellText = (cell: Cell): string => (cell === null ? "-" : typeof cell === "number" ? cell.toLocaleString("en-US") : inline(cell));

/** A plain-text table for humans: a header row, then rows, columns padded to fit; numbers right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const text = rows.map((row) => row.map(cellText));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number" || row[i] === null));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...text.map(line)].join("\n");
}

/** One record for humans: a label column, then each value on its own line as a table cell shows it. */
export function details(rows: ReadonlyArray<readonly [label: string, value: Cell]>): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${cellText(value)}`.trimEnd()).join("\n");
}
