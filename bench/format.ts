/** Number and table formatting shared by the report's sections: 'n/a' for a figure that is missing. */
export const n0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : 'n/a');
export const n1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
export const n2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
export const n3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : 'n/a');

export function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
