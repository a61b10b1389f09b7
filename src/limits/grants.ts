/** Most unredeemed, unexpired access codes one user may hold at once. */
export const MAX_OUTSTANDING_GRANTS = 20;
