// The API block form (SPEC §5, §6): method, URL, query, headers, body (JSON/form/raw), block
// auth naming a secret, timeout and saveAs. Every template field offers the secret dropdown.
import { useState } from 'react';
import type { ReactNode } from 'react';
import type { SecretType } from '../api';
import { fieldIssue } from '../flow-graph';
import type { BlockIssue } from '../flow-graph';
import { KvEditor } from './kv-editor';
import { OptionalNumberInput } from './optional-number-input';
import { SecretDropdown } from './secret-dropdown';
import { TemplateField } from './template-field';
import { KeyIcon } from '../key-icon';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const AUTH_TYPES: Record<string, SecretType> = { bearer: 'text', basic: 'basic', oauth2: 'oauth2' };

type Config = Record<string, unknown>;
interface Body {
  type: 'json' | 'form' | 'raw';
  content: unknown;
}

export function Field(props: { label: string; error?: string; children: ReactNode; hint?: string }) {
  return (
    <div className={`field${props.error ? ' has-error' : ''}`}>
      <span className="field-label">{props.label}</span>
      {props.children}
      {props.hint && <span className="hint">{props.hint}</span>}
      {props.error && (
        <span className="field-error" data-testid="field-error">
          {props.error}
        </span>
      )}
    </div>
  );
}

export function ApiBlockForm(props: {
  config: Config;
  onChange: (c: Config) => void;
  issues?: BlockIssue[];
  variables: string[];
  readOnly: boolean;
}) {
  const c = props.config;
  const set = (k: string, v: unknown) => {
    const next = { ...c };
    if (v === undefined || v === '') delete next[k];
    else next[k] = v;
    props.onChange(next);
  };
  const body = c.body as Body | undefined;
  const auth = c.auth as { type: string; secret: string } | undefined;
  const [jsonText, setJsonText] = useState(() =>
    body?.type === 'json' ? JSON.stringify(body.content ?? {}, null, 2) : '{\n  \n}',
  );
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [authPicker, setAuthPicker] = useState(false);
  const err = (...f: (string | number)[]) => fieldIssue(props.issues, 'config', ...f);
  const ro = props.readOnly;

  return (
    <div data-testid="api-form">
      <div className="row3">
        <Field label="Method" error={err('method')}>
          <select
            aria-label="Method"
            data-testid="api-method"
            disabled={ro}
            value={String(c.method ?? 'GET')}
            onChange={(e) => set('method', e.target.value)}
          >
            {METHODS.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </Field>
        <Field label="URL" error={err('url')}>
          <TemplateField
            label="URL"
            testId="api-url"
            value={String(c.url ?? '')}
            onChange={(v) => set('url', v)}
            variables={props.variables}
            readOnly={ro}
            placeholder="https://api.example.com/v1/items?lang={{lang}}"
          />
        </Field>
      </div>
      <Field label="Query" error={err('query')}>
        <KvEditor
          testId="api-query"
          keyPlaceholder="param"
          value={(c.query as Record<string, string>) ?? {}}
          onChange={(v) => set('query', Object.keys(v).length ? v : undefined)}
          variables={props.variables}
          readOnly={ro}
        />
      </Field>
      <Field label="Headers" error={err('headers')}>
        <KvEditor
          testId="api-headers"
          keyPlaceholder="Header"
          value={(c.headers as Record<string, string>) ?? {}}
          onChange={(v) => set('headers', Object.keys(v).length ? v : undefined)}
          variables={props.variables}
          readOnly={ro}
        />
      </Field>
      <Field label="Body" error={err('body')}>
        <div className="segmented" role="group" aria-label="Body type">
          {(['none', 'json', 'form', 'raw'] as const).map((t) => (
            <button
              key={t}
              type="button"
              disabled={ro}
              aria-pressed={(body?.type ?? 'none') === t}
              data-testid={`api-body-${t}`}
              onClick={() => {
                if (t === 'none') set('body', undefined);
                else if (t === 'json') {
                  let content: unknown = {};
                  try {
                    content = JSON.parse(jsonText);
                  } catch {
                    /* keep {} */
                  }
                  set('body', { type: 'json', content });
                } else if (t === 'form') set('body', { type: 'form', content: {} });
                else set('body', { type: 'raw', content: '' });
              }}
            >
              {t}
            </button>
          ))}
        </div>
        {body?.type === 'json' && (
          <>
            <TemplateField
              multiline
              label="JSON body"
              testId="api-body-json-text"
              value={jsonText}
              variables={props.variables}
              readOnly={ro}
              onChange={(v) => {
                setJsonText(v);
                try {
                  set('body', { type: 'json', content: JSON.parse(v) });
                  setJsonError(null);
                } catch (e) {
                  setJsonError(e instanceof Error ? e.message : 'invalid JSON');
                }
              }}
            />
            <span className="hint">
              String leaves are templates; a variable can never change the JSON structure.
            </span>
            {jsonError && <span className="field-error">JSON: {jsonError}</span>}
          </>
        )}
        {body?.type === 'form' && (
          <KvEditor
            testId="api-body-form"
            keyPlaceholder="field"
            value={(body.content as Record<string, string>) ?? {}}
            onChange={(v) => set('body', { type: 'form', content: v })}
            variables={props.variables}
            readOnly={ro}
          />
        )}
        {body?.type === 'raw' && (
          <TemplateField
            multiline
            label="Raw body"
            testId="api-body-raw"
            value={String(body.content ?? '')}
            onChange={(v) => set('body', { type: 'raw', content: v })}
            variables={props.variables}
            readOnly={ro}
          />
        )}
      </Field>
      <Field label="Auth" error={err('auth')} hint="Sets the Authorization header from a secret.">
        <div className="tfield">
          <select
            aria-label="Auth type"
            data-testid="api-auth-type"
            disabled={ro}
            value={auth?.type ?? 'none'}
            style={{ width: 130 }}
            onChange={(e) => {
              const t = e.target.value;
              if (t === 'none') set('auth', undefined);
              else {
                set('auth', { type: t, secret: auth?.secret ?? '' });
                setAuthPicker(true);
              }
            }}
          >
            <option value="none">none</option>
            <option value="bearer">bearer</option>
            <option value="basic">basic</option>
            <option value="oauth2">oauth2</option>
          </select>
          {auth && (
            <button
              type="button"
              className="tfield-view"
              disabled={ro}
              data-testid="api-auth-secret"
              onClick={() => setAuthPicker((o) => !o)}
              style={{ textAlign: 'left' }}
            >
              {auth.secret ? (
                <span className="chip chip-secret">
                  <KeyIcon /> {auth.secret}
                </span>
              ) : (
                <span className="placeholder">Pick a {AUTH_TYPES[auth.type] ?? ''} secret…</span>
              )}
            </button>
          )}
          {auth && authPicker && !ro && (
            <SecretDropdown
              mode="name"
              types={AUTH_TYPES[auth.type] ? [AUTH_TYPES[auth.type] as SecretType] : undefined}
              onPick={(p) => {
                set('auth', { type: auth.type, secret: p.name });
                setAuthPicker(false);
              }}
              onClose={() => setAuthPicker(false)}
            />
          )}
        </div>
      </Field>
      <div className="row2">
        <Field label="Timeout (ms)" error={err('timeoutMs')}>
          <OptionalNumberInput
            min={1}
            data-testid="api-timeout"
            readOnly={ro}
            value={c.timeoutMs}
            onChange={(v) => set('timeoutMs', v)}
          />
        </Field>
        <Field
          label="Save response as"
          error={err('saveAs')}
          hint="{ status, headers, body }, already scrubbed"
        >
          <input
            data-testid="api-saveas"
            readOnly={ro}
            spellCheck={false}
            value={String(c.saveAs ?? '')}
            placeholder="response"
            onChange={(e) => set('saveAs', e.target.value)}
          />
        </Field>
      </div>
    </div>
  );
}
