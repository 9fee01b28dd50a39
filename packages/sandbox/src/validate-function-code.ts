// Save-time check of a function block's code (SPEC §6 validation): the code must compile as the
// body of `async function (input, log) { … }`. Nothing is ever executed here: the host's
// AsyncFunction constructor only parses (V8 refuses a body that would close the function early,
// "Single function literal required"), and a node:vm Script compiled — never run — gives the
// line and column of a syntax error. The sandbox runs the same check before it compiles the guest
// script, so code that breaks out of the wrapper never reaches an isolate.
import { Script } from 'node:vm';
import type { ValidationIssue } from '@flowsafe/runner';
import { LIMITS } from './host/limits';

export interface CodeProblem {
  message: string;
  /** 1-based, counted in the user's code */
  line?: number;
  /** 1-based */
  column?: number;
}

type AsyncFunctionCtor = new (...args: string[]) => unknown;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as AsyncFunctionCtor;

const WRAP_HEAD = '(async function (input, log) {\n';
const checked = new Map<string, CodeProblem | null>();
const CHECKED_MAX = 500;

/** Why `code` does not compile as an async function body, or null when it does. Cached per code. */
export function checkFunctionBody(code: string): CodeProblem | null {
  const hit = checked.get(code);
  if (hit !== undefined) return hit;
  const problem = findProblem(code);
  if (checked.size >= CHECKED_MAX) {
    const oldest = checked.keys().next();
    if (oldest.done !== true) checked.delete(oldest.value);
  }
  checked.set(code, problem);
  return problem;
}

function findProblem(code: string): CodeProblem | null {
  if (code.length > LIMITS.codeChars.max) {
    return { message: `code is longer than ${LIMITS.codeChars.max} characters` };
  }
  let parseMessage: string;
  try {
    new AsyncFunction('input', 'log', code);
    return null;
  } catch (err) {
    parseMessage = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const where = locate(code);
  if (where === undefined) {
    // the wrapped form compiles: the code closes the function body early
    return {
      message: `${parseMessage} (the code must be a function body: check for an extra '}' or ')')`,
    };
  }
  const lines = code.split('\n');
  if (where.line > lines.length) {
    // the error shows only at the wrapper's closing line: point at the end of the code
    return { message: parseMessage, line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
  }
  return { message: parseMessage, line: where.line, column: where.column };
}

/** Line/column of the syntax error in the wrapped form, counted in the user's code. */
function locate(code: string): { line: number; column: number } | undefined {
  try {
    new Script(`${WRAP_HEAD}${code}\n})`, { filename: 'function.js', lineOffset: -1 });
    return undefined;
  } catch (err) {
    const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
    // node prints "function.js:LINE\n<source line>\n<spaces>^^^" above the message
    const lines = stack.split('\n');
    const head = /^function\.js:(\d+)$/.exec(lines[0] ?? '');
    if (head?.[1] === undefined) return undefined;
    const caret = (lines[2] ?? '').indexOf('^');
    return { line: Number(head[1]), column: caret >= 0 ? caret + 1 : 1 };
  }
}

/** plugin.validate: issues (path relative to the block's config) for code that does not compile. */
export function validateFunctionCode(code: string): ValidationIssue[] {
  const problem = checkFunctionBody(code);
  if (problem === null) return [];
  const at = problem.line === undefined ? '' : `line ${problem.line}, column ${problem.column ?? 1}: `;
  return [{ path: ['code'], code: 'FUNCTION_COMPILE_ERROR', message: `${at}${problem.message}` }];
}
