/**
 * Named RFM segments from the R score against FM, the average of the F and M scores rounded half up.
 * The cells follow the widely used R × FM grid; where its published ranges overlap, each cell was given
 * one name (see the table in README.md, which must stay in step with RFM_GRID).
 */
export const RFM_SEGMENTS = [
  'Champions',
  'Loyal',
  'Potential loyalist',
  'New',
  'Promising',
  'Needs attention',
  'At risk',
  "Can't lose",
  'Hibernating',
  'Lost',
] as const;

export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** RFM_GRID[r - 1][fm - 1]. */
const RFM_GRID: readonly (readonly RfmSegment[])[] = [
  /* R=1 */ ['Lost', 'Lost', 'At risk', "Can't lose", "Can't lose"],
  /* R=2 */ ['Hibernating', 'Hibernating', 'At risk', 'At risk', 'At risk'],
  /* R=3 */ ['Hibernating', 'Needs attention', 'Needs attention', 'Loyal', 'Loyal'],
  /* R=4 */ ['Promising', 'Potential loyalist', 'Loyal', 'Champions', 'Champions'],
  /* R=5 */ ['New', 'Potential loyalist', 'Loyal', 'Champions', 'Champions'],
];

/** FM: the average of F and M rounded half up, so F=5, M=4 counts as 5. */
export function frequencyMonetaryScore(f: number, m: number): number {
  return Math.floor((f + m) / 2 + 0.5);
}

export function rfmSegment(r: number, f: number, m: number): RfmSegment {
  return RFM_GRID[r - 1][frequencyMonetaryScore(f, m) - 1];
}
