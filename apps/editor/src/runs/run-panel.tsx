// Run a flow in a chosen environment with JSON input, watch the run, read its steps
// (status, duration, request URL template with secret chips, scrubbed response, logs,
// errors) and page through the run history. Everything shown was scrubbed by the server.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { RunRecord } from '../api';
import { TemplateText } from '../flows/template-text';
import { useProject } from '../project-context';
import { useToast } from '../toast';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function RunPanel(props: { flowId: string; dirty: boolean; onSaveFirst: () => Promise<boolean> }) {
  const { project, perms, environments } = useProject();
  const toast = useToast();
  const [env, setEnv] = useState(
    () => sessionStorage.getItem('flowsafe.env') ?? environments[0] ?? 'development',
  );
  const [input, setInput] = useState('{\n  \n}');
  const [inputError, setInputError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [run, setRun] = useState<RunRecord | null>(null);
  const [history, setHistory] = useState<RunRecord[] | null>(null);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [next, setNext] = useState<string | undefined>();

  const loadHistory = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.runs(project.id, props.flowId, cursor, 10);
        setHistory(page.items);
        setNext(page.next);
      } catch (err) {
        toast.error(err);
        setHistory([]);
      }
    },
    [project.id, props.flowId, toast],
  );
  useEffect(() => {
    void loadHistory(undefined);
  }, [loadHistory]);

  const start = async () => {
    let parsed: unknown = undefined;
    if (input.trim()) {
      try {
        parsed = JSON.parse(input);
        setInputError(null);
      } catch (e) {
        setInputError(e instanceof Error ? e.message : 'invalid JSON');
        return;
      }
    }
    if (props.dirty && !(await props.onSaveFirst())) return;
    setRunning(true);
    sessionStorage.setItem('flowsafe.env', env);
    try {
      let r = await api.startRun(project.id, props.flowId, env, parsed);
      setRun(r);
      // 202: the run is queued or running; poll until it ends (bounded)
      for (let i = 0; i < 120 && !FINISHED.has(r.status); i++) {
        await new Promise((res) => setTimeout(res, 500));
        r = await api.run(project.id, r.id);
        setRun(r);
      }
      setCursors([undefined]);
      await loadHistory(undefined);
    } catch (err) {
      toast.error(err);
    } finally {
      setRunning(false);
    }
  };

  return (
    <div data-testid="run-panel">
      {perms.edit && (
        <>
          <h2>Run this flow</h2>
          <label className="field">
            <span>Environment</span>
            <select data-testid="run-env" value={env} onChange={(e) => setEnv(e.target.value)}>
              {environments.map((e) => (
                <option key={e}>{e}</option>
              ))}
            </select>
          </label>
          <label className={`field${inputError ? ' has-error' : ''}`}>
            <span>Input (JSON, merged into the flow variables)</span>
            <textarea
              data-testid="run-input"
              value={input}
              onChange={(e) => setInput(e.target.value)}
              rows={4}
              spellCheck={false}
            />
            {inputError && <span className="field-error">{inputError}</span>}
          </label>
          <button className="primary" data-testid="run-start" disabled={running} onClick={() => void start()}>
            {running ? 'Running…' : props.dirty ? 'Save and run' : 'Run'}
          </button>
        </>
      )}
      {run && <RunView run={run} />}
      <h3>History</h3>
      {history === null ? (
        <div className="skeleton" />
      ) : history.length === 0 ? (
        <p className="muted">No runs yet.</p>
      ) : (
        <ul className="run-list" data-testid="run-history">
          {history.map((r) => (
            <li key={r.id}>
              <button
                onClick={async () => {
                  try {
                    setRun(await api.run(project.id, r.id));
                  } catch (err) {
                    toast.error(err);
                  }
                }}
                data-testid="run-history-item"
              >
                <span className={`badge status-${r.status}`}>{r.status}</span>
                <span>{r.environment}</span>
                <span className="muted small">
                  {r.startedAt || r.queuedAt
                    ? new Date(r.startedAt ?? r.queuedAt ?? '').toLocaleString()
                    : ''}
                </span>
                <span className="muted small" style={{ marginLeft: 'auto' }}>
                  {fmtMs(r.durationMs)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {(cursors.length > 1 || next) && (
        <div className="pager">
          <button
            className="small"
            disabled={cursors.length <= 1}
            data-testid="runs-newer"
            onClick={() => {
              const prev = cursors.slice(0, -1);
              setCursors(prev);
              void loadHistory(prev[prev.length - 1]);
            }}
          >
            ← Newer
          </button>
          <button
            className="small"
            disabled={!next}
            data-testid="runs-older"
            onClick={() => {
              setCursors([...cursors, next]);
              void loadHistory(next);
            }}
          >
            Older →
          </button>
        </div>
      )}
    </div>
  );
}

export function RunView(props: { run: RunRecord }) {
  const r = props.run;
  return (
    <section className="run-view" data-testid="run-view" aria-label="Run">
      <h3>
        Run <code>{r.id.slice(0, 8)}</code>{' '}
        <span className={`badge status-${r.status}`} data-testid="run-status">
          {r.status}
        </span>{' '}
        <span className="muted small">
          {r.environment} · {fmtMs(r.durationMs)}
        </span>
      </h3>
      {r.error && (
        <div className="alert" data-testid="run-error">
          <strong>{r.error.code}</strong>
          {r.error.message}
          <EgressHint code={r.error.code} />
        </div>
      )}
      <ol className="run-steps">
        {r.steps.map((s, i) => (
          <li key={i} className="step" data-testid="run-step">
            <div className="step-head">
              <span className={`node-type t-${s.type}`}>{s.type}</span>
              <strong>{s.blockId}</strong>
              <span className={`badge status-${s.status}`}>{s.status}</span>
              <span className="muted small" style={{ marginLeft: 'auto' }}>
                {fmtMs(s.durationMs)}
              </span>
            </div>
            {s.request && (
              <div className="step-url" data-testid="step-request">
                <strong>{s.request.method}</strong> <TemplateText text={s.request.url} />
                {s.request.status !== undefined && (
                  <span className={`badge ${s.request.status < 400 ? 'ok' : 'missing'}`}>
                    {' '}
                    {s.request.status}
                  </span>
                )}
              </div>
            )}
            {s.response !== undefined && (
              <details>
                <summary className="small">Response (scrubbed)</summary>
                <pre className="block" data-testid="step-response">
                  {JSON.stringify(s.response, null, 2)}
                </pre>
              </details>
            )}
            {s.logs && s.logs.length > 0 && (
              <pre className="block" data-testid="step-logs">
                {s.logs.join('\n')}
              </pre>
            )}
            {s.error && (
              <div className="alert" data-testid="step-error">
                <strong>{s.error.code}</strong>
                {s.error.message}
                <EgressHint code={s.error.code} />
              </div>
            )}
          </li>
        ))}
      </ol>
      {r.output !== undefined && (
        <>
          <div className="field-label">Output (scrubbed)</div>
          <pre className="block" data-testid="run-output">
            {JSON.stringify(r.output, null, 2)}
          </pre>
        </>
      )}
    </section>
  );
}

/** A request refused by the egress guard (invariant 13): say which variable an operator sets. */
function EgressHint(props: { code: string }) {
  if (props.code !== 'EGRESS_PRIVATE_ADDRESS') return null;
  return (
    <div className="hint egress-hint" data-testid="egress-hint">
      flowsafe refuses private, loopback and link-local addresses (cloud metadata) unless the operator allows
      them: start the server with <code>FLOWSAFE_EGRESS_ALLOW</code> listing the host, address or range (for
      example <code>FLOWSAFE_EGRESS_ALLOW=api.internal,10.20.0.0/16</code>).
    </div>
  );
}
