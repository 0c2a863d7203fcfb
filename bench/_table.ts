/**
 * Fixed-width text tables for the benchmarks' output: the first `leftColumns` columns left-aligned
 * (names), the rest right-aligned (figures), columns two spaces apart.
 */
export function formatTable(rows: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
