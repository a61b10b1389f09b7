/** One goal of an issue, as a run measured it. */
export interface Goal {
  /** Issue and item, e.g. '29.2'. */
  item: string;
  goal: string;
  /** The figure, with the baseline of the same run it is compared against. */
  measured: string;
  /** null: not measured in this run; 'reported': a figure the issue asks for, without a bound. */
  met: boolean | null | 'reported';
}
