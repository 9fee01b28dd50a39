// The side panel for the selected block: common settings (label, next, start, delete) and the
// type's form. Validation messages from the server appear beside the field they concern.
import { lazy, Suspense } from 'react';
import type { ReactNode } from 'react';
import type { BlockDef, FlowDefinition } from '../api';
import { fieldIssue } from '../flow-graph';
import type { BlockIssue } from '../flow-graph';
import { ApiBlockForm, Field } from './api-block-form';
import { KvEditor } from './kv-editor';
import { OptionalNumberInput } from './optional-number-input';
import { TemplateField } from './template-field';

const FunctionCodeEditor = lazy(() => import('./function-code-editor'));

export function BlockPanel(props: {
  def: FlowDefinition;
  block: BlockDef;
  issues?: BlockIssue[];
  variables: string[];
  readOnly: boolean;
  onChange: (b: BlockDef) => void;
  onDelete: () => void;
  onSetStart: () => void;
}) {
  const { block: b, readOnly: ro } = props;
  const c = b.config;
  const setConfig = (config: Record<string, unknown>) => props.onChange({ ...b, config });
  const others = props.def.blocks.filter((x) => x.id !== b.id);
  const err = (...f: (string | number)[]) => fieldIssue(props.issues, ...f);
  const general = props.issues?.filter(
    (i) => i.field.length === 0 || (i.field[0] !== 'config' && i.field[0] !== 'next'),
  );

  const targetSelect = (
    label: string,
    value: string | undefined,
    onSet: (v: string | undefined) => void,
    testId: string,
    error?: string,
  ) => (
    <Field label={label} error={error}>
      <select
        data-testid={testId}
        disabled={ro}
        value={value ?? ''}
        onChange={(e) => onSet(e.target.value || undefined)}
      >
        <option value="">— none (end here) —</option>
        {others.map((o) => (
          <option key={o.id} value={o.id}>
            {o.label || o.id} ({o.type})
          </option>
        ))}
      </select>
    </Field>
  );

  return (
    <div data-testid="block-panel">
      <h2>
        <span className={`node-type t-${b.type}`}>{b.type}</span> {b.id}
      </h2>
      {general?.map((i, k) => (
        <p key={k} className="field-error">
          {i.message}
        </p>
      ))}
      <div className="row2">
        <Field label="Label">
          <input
            data-testid="block-label"
            readOnly={ro}
            value={b.label ?? ''}
            placeholder={b.id}
            onChange={(e) => props.onChange({ ...b, label: e.target.value || undefined })}
          />
        </Field>
        <Field label="Start block">
          {props.def.start === b.id ? (
            <span className="badge ok" style={{ alignSelf: 'flex-start', marginTop: 6 }}>
              ▶ this is the start
            </span>
          ) : (
            <button type="button" disabled={ro} onClick={props.onSetStart} data-testid="set-start">
              Make start block
            </button>
          )}
        </Field>
      </div>

      {b.type === 'api' && (
        <ApiBlockForm
          config={c}
          onChange={setConfig}
          issues={props.issues}
          variables={props.variables}
          readOnly={ro}
        />
      )}

      {b.type === 'function' && (
        <>
          <Field
            label="Code"
            error={err('config', 'code')}
            hint="Runs in an isolate: no require, process, network or timers. Return an object to merge into the flow variables."
          >
            <div className="code-box">
              <Suspense
                fallback={
                  <textarea
                    readOnly
                    value={String(c.code ?? '')}
                    aria-label="Function code (loading editor)"
                  />
                }
              >
                <FunctionCodeEditor
                  value={String(c.code ?? '')}
                  readOnly={ro}
                  onChange={(code) => setConfig({ ...c, code })}
                />
              </Suspense>
            </div>
          </Field>
          <Field label="input (the flow variables, deep-copied; never a secret value)">
            <pre className="block mono" data-testid="function-input-shape">
              {`input = {\n${props.variables
                .filter((v) => !v.includes('.'))
                .map((v) => `  ${v}: …,`)
                .join('\n')}\n}`}
            </pre>
          </Field>
          <div className="limits">
            <Field label="CPU time limit (ms)" error={err('config', 'timeoutMs')}>
              <OptionalNumberInput
                min={1}
                readOnly={ro}
                data-testid="fn-timeout"
                value={c.timeoutMs}
                onChange={(v) => setConfig({ ...c, timeoutMs: v })}
              />
            </Field>
            <Field label="Memory limit (MB)" error={err('config', 'memoryMb')}>
              <OptionalNumberInput
                min={8}
                readOnly={ro}
                data-testid="fn-memory"
                value={c.memoryMb}
                onChange={(v) => setConfig({ ...c, memoryMb: v })}
              />
            </Field>
          </div>
        </>
      )}

      {b.type === 'set' && (
        <Field
          label="Assign variables"
          error={err('config', 'values')}
          hint="Each value is a template: {{var}}, {{settings.NAME}}."
        >
          <KvEditor
            key={b.id}
            testId="set-values"
            keyPlaceholder="variable"
            value={(c.values as Record<string, string>) ?? {}}
            onChange={(values) => setConfig({ ...c, values })}
            variables={props.variables}
            secrets={false}
            readOnly={ro}
          />
        </Field>
      )}

      {b.type === 'condition' && (
        <ConditionForm
          c={c}
          setConfig={setConfig}
          ro={ro}
          variables={props.variables}
          err={err}
          targetSelect={targetSelect}
        />
      )}

      {b.type === 'end' && (
        <Field label="Output (optional)" error={err('config', 'output')}>
          <TemplateField
            label="Output"
            testId="end-output"
            value={typeof c.output === 'string' ? c.output : ''}
            onChange={(v) => setConfig(v ? { ...c, output: v } : {})}
            variables={props.variables}
            secrets={false}
            readOnly={ro}
            placeholder="{{result}}"
          />
        </Field>
      )}

      {b.type !== 'condition' &&
        b.type !== 'end' &&
        targetSelect(
          'Next block',
          b.next,
          (v) => {
            const nb = { ...b };
            if (v) nb.next = v;
            else delete nb.next;
            props.onChange(nb);
          },
          'block-next',
          err('next'),
        )}

      {!ro && (
        <div className="actions" style={{ justifyContent: 'flex-start' }}>
          <button type="button" className="danger" data-testid="delete-block" onClick={props.onDelete}>
            Delete block
          </button>
        </div>
      )}
    </div>
  );
}

function ConditionForm(props: {
  c: Record<string, unknown>;
  setConfig: (c: Record<string, unknown>) => void;
  ro: boolean;
  variables: string[];
  err: (...f: (string | number)[]) => string | undefined;
  targetSelect: (
    label: string,
    value: string | undefined,
    onSet: (v: string | undefined) => void,
    testId: string,
    error?: string,
  ) => ReactNode;
}) {
  const { c, setConfig, ro, err } = props;
  const cond = (c.if ?? {}) as { var?: string; op?: string; value?: unknown };
  const setIf = (patch: Partial<typeof cond>) => {
    const next = { ...cond, ...patch };
    if (next.op === 'exists') delete next.value;
    setConfig({ ...c, if: next });
  };
  const setTarget = (k: 'then' | 'else') => (v: string | undefined) => {
    const next = { ...c };
    if (v) next[k] = v;
    else delete next[k];
    setConfig(next);
  };
  return (
    <>
      <div className="row2">
        <Field label="Variable" error={err('config', 'if', 'var')}>
          <input
            list="cond-vars"
            data-testid="cond-var"
            readOnly={ro}
            value={cond.var ?? ''}
            spellCheck={false}
            onChange={(e) => setIf({ var: e.target.value })}
          />
          <datalist id="cond-vars">
            {props.variables.map((v) => (
              <option key={v} value={v} />
            ))}
          </datalist>
        </Field>
        <Field label="Operator" error={err('config', 'if', 'op')}>
          <select
            data-testid="cond-op"
            disabled={ro}
            value={cond.op ?? 'eq'}
            onChange={(e) => setIf({ op: e.target.value })}
          >
            <option value="eq">equals</option>
            <option value="ne">not equals</option>
            <option value="gt">greater than</option>
            <option value="lt">less than</option>
            <option value="exists">exists</option>
          </select>
        </Field>
      </div>
      {cond.op !== 'exists' && (
        <Field
          label="Value"
          error={err('config', 'if', 'value')}
          hint="Numbers, true/false and null are read as JSON."
        >
          <input
            data-testid="cond-value"
            readOnly={ro}
            value={typeof cond.value === 'string' ? cond.value : JSON.stringify(cond.value ?? '')}
            onChange={(e) => {
              const raw = e.target.value;
              let value: unknown = raw;
              if (/^(-?\d+(\.\d+)?|true|false|null)$/.test(raw)) value = JSON.parse(raw);
              setIf({ value });
            }}
          />
        </Field>
      )}
      {props.targetSelect(
        'Then → ',
        typeof c.then === 'string' ? c.then : undefined,
        setTarget('then'),
        'cond-then',
        err('config', 'then'),
      )}
      {props.targetSelect(
        'Else → ',
        typeof c.else === 'string' ? c.else : undefined,
        setTarget('else'),
        'cond-else',
        err('config', 'else'),
      )}
    </>
  );
}
