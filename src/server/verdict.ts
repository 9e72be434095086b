// The answer to a question about a stream's first bytes, which may need more of them to tell.
export const NO = 0;
export const YES = 1;
/** The bytes so far fit both answers: wait for more. */
export const MAYBE = 2;
export type Verdict = typeof NO | typeof YES | typeof MAYBE;
