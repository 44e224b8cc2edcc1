/**
 * Minimum-cost assignment (Hungarian algorithm, O(n²m) with potentials) for a rectangular cost matrix.
 * Used to carry cluster ids from one k-means run to the next; k is small, so no package is needed.
 *
 * Returns, for each row, the column assigned to it, or -1 when there are more rows than columns and the
 * row is left out.
 */
export function minimumCostAssignment(cost: readonly (readonly number[])[]): number[] {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0].length;
  if (rows <= cols) return assignRowsToColumns(cost, rows, cols);
  // The algorithm needs rows ≤ columns: solve the transpose and invert the answer.
  const transposed = Array.from({ length: cols }, (_, j) => cost.map((row) => row[j]));
  const colToRow = assignRowsToColumns(transposed, cols, rows);
  const rowToCol = new Array<number>(rows).fill(-1);
  colToRow.forEach((row, col) => {
    rowToCol[row] = col;
  });
  return rowToCol;
}

function assignRowsToColumns(cost: readonly (readonly number[])[], n: number, m: number): number[] {
  // 1-based potentials u (rows) and v (columns); column 0 is a sentinel holding the row being inserted.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfColumn = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOfColumn[0] = i;
    let j0 = 0;
    const minSlack = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = rowOfColumn[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const slack = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (slack < minSlack[j]) {
          minSlack[j] = slack;
          way[j] = j0;
        }
        if (minSlack[j] < delta) {
          delta = minSlack[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[rowOfColumn[j]] += delta;
          v[j] -= delta;
        } else {
          minSlack[j] -= delta;
        }
      }
      j0 = j1;
    } while (rowOfColumn[j0] !== 0);
    do {
      const j1 = way[j0];
      rowOfColumn[j0] = rowOfColumn[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (rowOfColumn[j] !== 0) rowToCol[rowOfColumn[j] - 1] = j - 1;
  return rowToCol;
}
