/** Columns padded to their widest cell, two spaces apart: the tables `plan`, `lab` and the benchmarks print. */
export function formatTable(rows: readonly (readonly string[])[]): string {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
