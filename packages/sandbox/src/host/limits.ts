// Defaults and hard maxima for a function block's limits (SPEC §3 invariant 7). The config schema
// and the host runner both read them from here so the numbers live in one place.

export const MIB = 1024 * 1024;

export const LIMITS = {
  timeoutMs: { default: 1000, min: 1, max: 30_000 },
  memoryMb: { default: 32, min: 8, max: 256 },
  maxOutputBytes: { default: 1 * MIB, min: 2, max: 10 * MIB },
  /** user code length in characters */
  codeChars: { max: 100_000 },
  /** log(...) lines kept per call; further lines are counted and reported once */
  logLinesPerCall: 100,
  /** characters kept of one log line */
  logLineChars: 4096,
  /** characters kept of a thrown error's message */
  errorMessageChars: 2000,
  /** extra wall time after timeoutMs before the host disposes the isolate itself */
  wallGraceMs: 250,
} as const;
