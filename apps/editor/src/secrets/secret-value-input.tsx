// Inputs for one secret value of a given type (text, binary file, username+password,
// OAuth2 client credentials). Values typed here go straight to the server and are dropped
// from state once saved; nothing is echoed back.
import type { SecretType, SecretValue } from '../api';

export type Draft = Record<string, string>;

export function emptyDraft(): Draft {
  return {};
}

/** The value to send, or undefined when nothing was entered. */
export function draftValue(type: SecretType, d: Draft): SecretValue | undefined {
  switch (type) {
    case 'text':
      return d.value ? d.value : undefined;
    case 'binary':
      return d.base64
        ? d.filename
          ? { base64: d.base64, filename: d.filename }
          : { base64: d.base64 }
        : undefined;
    case 'basic':
      return d.username || d.password
        ? { username: d.username ?? '', password: d.password ?? '' }
        : undefined;
    case 'oauth2': {
      if (!d.clientId && !d.clientSecret && !d.tokenUrl) return undefined;
      const v: {
        clientId: string;
        clientSecret: string;
        tokenUrl: string;
        scope?: string;
        audience?: string;
      } = {
        clientId: d.clientId ?? '',
        clientSecret: d.clientSecret ?? '',
        tokenUrl: d.tokenUrl ?? '',
      };
      if (d.scope) v.scope = d.scope;
      if (d.audience) v.audience = d.audience;
      return v;
    }
  }
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result ?? '');
      resolve(s.slice(s.indexOf(',') + 1));
    };
    r.onerror = () => reject(r.error ?? new Error('cannot read file'));
    r.readAsDataURL(file);
  });
}

export function SecretValueInput(props: {
  type: SecretType;
  draft: Draft;
  onChange: (d: Draft) => void;
  idPrefix: string;
  label?: string;
}) {
  const { type, draft, onChange, idPrefix } = props;
  const set = (k: string, v: string) => onChange({ ...draft, [k]: v });
  const pw = (k: string, label: string, testId: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        data-testid={testId}
        value={draft[k] ?? ''}
        onChange={(e) => set(k, e.target.value)}
      />
    </label>
  );
  const plain = (k: string, label: string, testId: string, placeholder?: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        autoComplete="off"
        spellCheck={false}
        data-testid={testId}
        value={draft[k] ?? ''}
        placeholder={placeholder}
        onChange={(e) => set(k, e.target.value)}
      />
    </label>
  );
  switch (type) {
    case 'text':
      return pw('value', props.label ?? 'Value', `${idPrefix}-value`);
    case 'binary':
      return (
        <label className="field">
          <span>{props.label ?? 'File'} (≤ 64 KiB, sent as base64)</span>
          <input
            type="file"
            data-testid={`${idPrefix}-file`}
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (!f) return;
              onChange({ base64: await readBase64(f), filename: f.name });
            }}
          />
          {draft.filename && <span className="hint">Selected: {draft.filename}</span>}
        </label>
      );
    case 'basic':
      return (
        <div className="row2">
          {plain('username', 'Username', `${idPrefix}-username`)}
          {pw('password', 'Password', `${idPrefix}-password`)}
        </div>
      );
    case 'oauth2':
      return (
        <>
          <div className="row2">
            {plain('clientId', 'Client ID', `${idPrefix}-clientId`)}
            {pw('clientSecret', 'Client secret', `${idPrefix}-clientSecret`)}
          </div>
          {plain('tokenUrl', 'Token URL', `${idPrefix}-tokenUrl`, 'https://auth.example.com/oauth/token')}
          <div className="row2">
            {plain('scope', 'Scope (optional)', `${idPrefix}-scope`)}
            {plain('audience', 'Audience (optional)', `${idPrefix}-audience`)}
          </div>
        </>
      );
  }
}
