// Create or edit a secret: name and type (fixed once created), visibility (tighten only),
// allowed hosts, description and values (default plus per-environment overrides). Used on
// the secrets page and inline from an API block's secret dropdown. "Value kept in" picks
// flowsafe (sealed values) or one of the workspace's secret stores (a ref per environment).
import { useEffect, useState } from 'react';
import { api } from '../api';
import type {
  SecretCreate,
  SecretMeta,
  SecretSource,
  SecretStoreView,
  SecretType,
  SecretValue,
  Visibility,
} from '../api';
import { useProject } from '../project-context';
import { useToast } from '../toast';
import { draftValue, SecretValueInput } from './secret-value-input';
import type { Draft } from './secret-value-input';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const TYPES: { value: SecretType; label: string }[] = [
  { value: 'text', label: 'Text (token, API key)' },
  { value: 'basic', label: 'Username + password' },
  { value: 'oauth2', label: 'OAuth2 client credentials' },
  { value: 'binary', label: 'Binary file (certificate, key)' },
];

export function SecretForm(props: {
  existing?: SecretMeta;
  initialType?: SecretType;
  compact?: boolean;
  onDone: (name: string, type: SecretType) => void;
  onCancel: () => void;
}) {
  const { project, workspaceId, environments, reloadSecrets } = useProject();
  const toast = useToast();
  const ex = props.existing;
  const [name, setName] = useState(ex?.name ?? '');
  const [type, setType] = useState<SecretType>(ex?.type ?? props.initialType ?? 'text');
  const [visibility, setVisibility] = useState<Visibility>(ex?.visibility ?? 'masked');
  const [hosts, setHosts] = useState((ex?.allowedHosts ?? []).join(', '));
  const [description, setDescription] = useState(ex?.description ?? '');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [showEnvs, setShowEnvs] = useState(false);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [stores, setStores] = useState<SecretStoreView[]>([]);
  const [keptIn, setKeptIn] = useState(ex?.source?.store ?? '');
  const [refs, setRefs] = useState<Record<string, string>>(() => ({
    default: ex?.source?.ref ?? '',
    ...(ex?.source?.environments ?? {}),
  }));
  const nameOk = NAME_RE.test(name);
  const external = keptIn !== '';
  const storeType = stores.find((st) => st.name === keptIn)?.type;

  useEffect(() => {
    let live = true;
    api.stores(workspaceId).then(
      (list) => live && setStores(list),
      () => live && setStores([]),
    );
    return () => {
      live = false;
    };
  }, [workspaceId]);

  const sourceOf = (): SecretSource => {
    const envRefs: Record<string, string> = {};
    for (const env of environments) if (refs[env]?.trim()) envRefs[env] = refs[env].trim();
    return {
      store: keptIn,
      ref: (refs.default ?? '').trim(),
      ...(Object.keys(envRefs).length ? { environments: envRefs } : {}),
    };
  };

  const submit = async () => {
    setBusy(true);
    setErrors({});
    const allowedHosts = hosts
      .split(/[\s,]+/)
      .map((h) => h.trim())
      .filter(Boolean);
    const value = draftValue(type, drafts.default ?? {});
    const envValues: Record<string, SecretValue> = {};
    for (const env of environments) {
      const v = draftValue(type, drafts[env] ?? {});
      if (v !== undefined) envValues[env] = v;
    }
    try {
      if (external && !ex) {
        await api.createSecret(project.id, {
          name,
          type,
          visibility: 'restricted',
          allowedHosts,
          description: description || undefined,
          source: sourceOf(),
        });
        toast.ok(`Secret ${name} created (kept in ${keptIn})`);
      } else if (external && ex) {
        await api.updateSecret(project.id, ex.name, { allowedHosts, description, source: sourceOf() });
        toast.ok(`Secret ${ex.name} saved`);
      } else if (!ex) {
        const body: SecretCreate = {
          name,
          type,
          visibility,
          allowedHosts,
          description: description || undefined,
        };
        if (value !== undefined) body.value = value;
        if (Object.keys(envValues).length) body.environments = envValues;
        await api.createSecret(project.id, body);
        toast.ok(`Secret ${name} created`);
      } else {
        const patch: {
          value?: SecretValue;
          visibility?: Visibility;
          allowedHosts?: string[];
          description?: string;
          source?: null;
        } = { allowedHosts, description };
        if (ex.source) patch.source = null;
        if (visibility !== ex.visibility) patch.visibility = visibility;
        if (value !== undefined) patch.value = value;
        await api.updateSecret(project.id, ex.name, patch);
        for (const [env, v] of Object.entries(envValues)) await api.putOverride(project.id, ex.name, env, v);
        toast.ok(`Secret ${ex.name} saved`);
      }
      setDrafts({});
      await reloadSecrets();
      props.onDone(name, type);
    } catch (err) {
      const issues =
        (err as { issues?: () => { path: (string | number)[]; message: string }[] }).issues?.() ?? [];
      const map: Record<string, string> = {};
      for (const i of issues) map[String(i.path[0] ?? '')] = i.message;
      setErrors(map);
      toast.error(err);
    } finally {
      setBusy(false);
    }
  };

  const err = (k: string) => errors[k] && <span className="field-error">{errors[k]}</span>;

  return (
    <form
      className={props.compact ? 'inline-form' : ''}
      data-testid="secret-form"
      onSubmit={(ev) => {
        ev.preventDefault();
        void submit();
      }}
      onKeyDown={(ev) => {
        if (ev.key === 'Escape') {
          ev.stopPropagation();
          props.onCancel();
        }
      }}
    >
      {props.compact && <h3>{ex ? `Edit ${ex.name}` : 'New secret'}</h3>}
      <div className="row2">
        <label className={`field${errors.name || (name && !nameOk) ? ' has-error' : ''}`}>
          <span>Name</span>
          <input
            data-testid="secret-name"
            value={name}
            disabled={!!ex}
            autoFocus={!ex}
            spellCheck={false}
            placeholder="ZENDESK_TOKEN"
            onChange={(e) => setName(e.target.value)}
          />
          {name && !nameOk && (
            <span className="field-error">Letters, digits and _; not starting with a digit; ≤ 64.</span>
          )}
          {err('name')}
        </label>
        <label className="field">
          <span>Type</span>
          <select
            data-testid="secret-type"
            value={type}
            disabled={!!ex}
            onChange={(e) => setType(e.target.value as SecretType)}
          >
            {TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="field">
        <span>Visibility</span>
        <select
          data-testid="secret-visibility"
          value={external ? 'restricted' : visibility}
          disabled={external || ex?.visibility === 'restricted'}
          onChange={(e) => setVisibility(e.target.value as Visibility)}
        >
          {(!ex || ex.visibility === 'masked') && (
            <option value="masked">Masked — owners and admins can reveal</option>
          )}
          <option value="restricted">Restricted — never revealed to anyone</option>
        </select>
        {ex?.visibility === 'masked' && visibility === 'restricted' && (
          <span className="hint">Visibility only tightens: this cannot be undone.</span>
        )}
        {external ? (
          <span className="hint">
            Values kept in a secret store are restricted: nobody can reveal them here.
          </span>
        ) : (
          ex?.visibility === 'restricted' && (
            <span className="hint">Restricted secrets cannot be loosened.</span>
          )
        )}
      </label>
      <label className="field">
        <span>Value kept in</span>
        <select data-testid="secret-kept-in" value={keptIn} onChange={(e) => setKeptIn(e.target.value)}>
          <option value="">flowsafe (sealed here)</option>
          {stores.map((st) => (
            <option key={st.name} value={st.name}>
              {st.name} ({st.type === 'vault' ? 'Vault' : 'AWS Secrets Manager'})
            </option>
          ))}
          {keptIn && !stores.some((st) => st.name === keptIn) && (
            <option value={keptIn}>{keptIn} (not configured in this workspace)</option>
          )}
        </select>
        {stores.length === 0 && !keptIn && (
          <span className="hint">Owners and admins add secret stores under Workspace → Secret stores.</span>
        )}
      </label>
      {external ? (
        <>
          <label className="field">
            <span>Ref</span>
            <input
              data-testid="secret-ref"
              value={refs.default ?? ''}
              spellCheck={false}
              placeholder={storeType === 'aws-secrets-manager' ? 'prod/zendesk#token' : 'zendesk#token'}
              onChange={(e) => setRefs({ ...refs, default: e.target.value })}
            />
            <span className="hint">
              {storeType === 'aws-secrets-manager'
                ? 'secretId, or secretId#jsonKey for one key of a JSON secret.'
                : 'path#key in the KV v2 mount (zendesk#token reads key token at secret/zendesk).'}{' '}
              Fetched when a flow runs; never stored by flowsafe.
            </span>
          </label>
          <button
            type="button"
            className="ghost small"
            onClick={() => setShowEnvs((v) => !v)}
            aria-expanded={showEnvs}
            data-testid="toggle-env-refs"
          >
            {showEnvs ? '▾' : '▸'} Per-environment refs
          </button>
          {showEnvs &&
            environments.map((env) => (
              <label className="field" key={env}>
                <span>{env} (empty → the ref above)</span>
                <input
                  data-testid={`secret-ref-${env}`}
                  value={refs[env] ?? ''}
                  spellCheck={false}
                  onChange={(e) => setRefs({ ...refs, [env]: e.target.value })}
                />
              </label>
            ))}
        </>
      ) : (
        <>
          <SecretValueInput
            type={type}
            draft={drafts.default ?? {}}
            onChange={(d) => setDrafts({ ...drafts, default: d })}
            idPrefix="secret-default"
            label={ex ? 'New default value (leave empty to keep)' : 'Default value'}
          />
          {err('value')}
          <button
            type="button"
            className="ghost small"
            onClick={() => setShowEnvs((s) => !s)}
            aria-expanded={showEnvs}
            data-testid="toggle-env-values"
          >
            {showEnvs ? '▾' : '▸'} Per-environment values
          </button>
          {showEnvs &&
            environments.map((env) => (
              <div key={env}>
                <SecretValueInput
                  type={type}
                  draft={drafts[env] ?? {}}
                  onChange={(d) => setDrafts({ ...drafts, [env]: d })}
                  idPrefix={`secret-env-${env}`}
                  label={`${env} (override; empty → default)`}
                />
              </div>
            ))}
          {err('environments')}
        </>
      )}
      <label className="field">
        <span>Allowed hosts</span>
        <input
          data-testid="secret-hosts"
          value={hosts}
          spellCheck={false}
          placeholder="api.example.com, *.zendesk.com"
          onChange={(e) => setHosts(e.target.value)}
        />
        <span className="hint">
          Requests carrying this secret to any other host are refused before sending.
        </span>
        {err('allowedHosts')}
      </label>
      <label className="field">
        <span>Description</span>
        <input
          data-testid="secret-description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          data-testid="secret-save"
          disabled={busy || !nameOk || (external && !(refs.default ?? '').trim())}
        >
          {ex ? 'Save' : 'Create secret'}
        </button>
      </div>
    </form>
  );
}
