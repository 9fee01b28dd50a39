// Workspace settings → Secret stores (SPEC §12), for owners and admins: add a HashiCorp Vault /
// OpenBao or AWS Secrets Manager store, edit it, test the connection, delete it. Credential
// fields are write-only: the server never returns them, so the form only says whether one is
// set and sends a new one when typed. Deleting a store that secrets use lists those secrets.
import { useState } from 'react';
import { api, ApiError } from '../api';
import type { SecretStoreView, StoreType } from '../api';
import { Modal } from '../modal';
import { useToast } from '../toast';
import { useLoadedList } from '../use-loaded-list';

interface Draft {
  name: string;
  type: StoreType;
  cacheTtlS: string;
  address: string;
  mount: string;
  namespace: string;
  method: 'token' | 'approle';
  roleId: string;
  token: string;
  secretId: string;
  region: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

function draftOf(store?: SecretStoreView): Draft {
  const c = store?.config ?? {};
  const auth = obj(c.auth);
  const creds = obj(c.credentials);
  return {
    name: store?.name ?? '',
    type: store?.type ?? 'vault',
    cacheTtlS: String(store?.cacheTtlS ?? 300),
    address: str(c.address),
    mount: str(c.mount) || 'secret',
    namespace: str(c.namespace),
    method: auth.method === 'approle' ? 'approle' : 'token',
    roleId: str(auth.roleId),
    token: '',
    secretId: '',
    region: str(c.region),
    endpoint: str(c.endpoint),
    accessKeyId: str(creds.accessKeyId),
    secretAccessKey: '',
    sessionToken: '',
  };
}

/** The config to send: credentials only when typed (on edit, an empty one keeps the stored one). */
function configOf(d: Draft): Record<string, unknown> {
  if (d.type === 'vault') {
    const auth: Record<string, string> =
      d.method === 'token' ? { method: 'token' } : { method: 'approle', roleId: d.roleId.trim() };
    if (d.method === 'token' && d.token) auth.token = d.token;
    if (d.method === 'approle' && d.secretId) auth.secretId = d.secretId;
    return {
      address: d.address.trim(),
      mount: d.mount.trim() || 'secret',
      ...(d.namespace.trim() ? { namespace: d.namespace.trim() } : {}),
      auth,
    };
  }
  const config: Record<string, unknown> = { region: d.region.trim() };
  if (d.endpoint.trim()) config.endpoint = d.endpoint.trim();
  if (d.accessKeyId.trim()) {
    const credentials: Record<string, string> = { accessKeyId: d.accessKeyId.trim() };
    if (d.secretAccessKey) credentials.secretAccessKey = d.secretAccessKey;
    if (d.sessionToken) credentials.sessionToken = d.sessionToken;
    config.credentials = credentials;
  }
  return config;
}

function where(store: SecretStoreView): string {
  const c = store.config;
  if (store.type === 'vault') return `${str(c.address)} · mount ${str(c.mount) || 'secret'}`;
  return `${str(c.region)}${c.endpoint ? ` · ${str(c.endpoint)}` : ''}`;
}

export default function SecretStoresPage(props: { workspaceId: string }) {
  const [editing, setEditing] = useState<{ store?: SecretStoreView } | null>(null);
  const [deleting, setDeleting] = useState<SecretStoreView | null>(null);
  const [tests, setTests] = useState<Record<string, { ok: boolean; message: string } | 'busy'>>({});

  const [stores, load] = useLoadedList(props.workspaceId, api.stores);

  const test = async (name: string) => {
    setTests((t) => ({ ...t, [name]: 'busy' }));
    try {
      const result = await api.testStore(props.workspaceId, name);
      setTests((t) => ({ ...t, [name]: result }));
    } catch (err) {
      setTests((t) => ({
        ...t,
        [name]: { ok: false, message: err instanceof Error ? err.message : String(err) },
      }));
    }
  };

  return (
    <section className="page" data-testid="stores-page">
      <header className="page-head">
        <div>
          <h1>Secret stores</h1>
          <p className="muted">
            Keep secret values in HashiCorp Vault (or OpenBao) or AWS Secrets Manager instead of in flowsafe.
            Values are fetched when a flow runs and never stored; the stores’ own credentials are sealed and
            never shown again.
          </p>
        </div>
        <button className="primary" data-testid="new-store" onClick={() => setEditing({})}>
          + Add store
        </button>
      </header>
      {stores === null ? (
        <div className="skeleton" />
      ) : stores.length === 0 ? (
        <div className="empty">
          <h2>No secret stores yet</h2>
          <p className="muted">Add one, then choose it under “Value kept in” when you create a secret.</p>
        </div>
      ) : (
        <table className="grid" data-testid="stores-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Where</th>
              <th>Credentials</th>
              <th>Cache</th>
              <th>Used by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {stores.map((s) => {
              const t = tests[s.name];
              return (
                <tr key={s.name} data-testid={`store-row-${s.name}`}>
                  <td>
                    <strong>{s.name}</strong>
                  </td>
                  <td>{s.type === 'vault' ? 'Vault / OpenBao' : 'AWS Secrets Manager'}</td>
                  <td className="small">{where(s)}</td>
                  <td className="small">
                    {s.credentialsSet.length ? `${s.credentialsSet.join(', ')} set` : 'default chain'}
                  </td>
                  <td className="small">{s.cacheTtlS === 0 ? 'none' : `${s.cacheTtlS} s`}</td>
                  <td className="small">
                    {s.usedBy?.length ? s.usedBy.map((u) => u.secret).join(', ') : '—'}
                  </td>
                  <td style={{ whiteSpace: 'nowrap' }}>
                    <button
                      className="small"
                      data-testid={`store-test-${s.name}`}
                      onClick={() => void test(s.name)}
                    >
                      Test connection
                    </button>{' '}
                    <button
                      className="small"
                      data-testid={`store-edit-${s.name}`}
                      onClick={() => setEditing({ store: s })}
                    >
                      Edit
                    </button>{' '}
                    <button
                      className="small danger"
                      data-testid={`store-delete-${s.name}`}
                      onClick={() => setDeleting(s)}
                    >
                      Delete
                    </button>
                    {t && (
                      <div
                        className={t === 'busy' ? 'hint' : t.ok ? 'ok-text small' : 'error-text small'}
                        data-testid={`store-test-result-${s.name}`}
                        role="status"
                      >
                        {t === 'busy' ? 'Testing…' : `${t.ok ? '✓' : '✗'} ${t.message}`}
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing && (
        <StoreForm
          workspaceId={props.workspaceId}
          existing={editing.store}
          onClose={() => setEditing(null)}
          onSaved={async () => {
            setEditing(null);
            await load();
          }}
        />
      )}
      {deleting && (
        <DeleteStore
          workspaceId={props.workspaceId}
          store={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={async () => {
            setDeleting(null);
            await load();
          }}
        />
      )}
    </section>
  );
}

function StoreForm(props: {
  workspaceId: string;
  existing?: SecretStoreView;
  onClose: () => void;
  onSaved: () => Promise<void>;
}) {
  const toast = useToast();
  const ex = props.existing;
  const [d, setD] = useState<Draft>(() => draftOf(ex));
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setD((cur) => ({ ...cur, ...patch }));
  const isSet = (field: string) => ex?.credentialsSet.includes(field) ?? false;

  const submit = async () => {
    setBusy(true);
    try {
      const cacheTtlS = Number(d.cacheTtlS);
      if (ex) {
        await api.updateStore(props.workspaceId, ex.name, { config: configOf(d), cacheTtlS });
        toast.ok(`Store ${ex.name} saved`);
      } else {
        await api.createStore(props.workspaceId, {
          name: d.name.trim(),
          type: d.type,
          config: configOf(d),
          cacheTtlS,
        });
        toast.ok(`Store ${d.name.trim()} added`);
      }
      await props.onSaved();
    } catch (err) {
      toast.error(err);
    } finally {
      setBusy(false);
    }
  };

  /** A write-only credential field: never prefilled; says whether one is stored. */
  const credential = (label: string, field: keyof Draft & string, testId: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        type="password"
        autoComplete="new-password"
        data-testid={testId}
        value={d[field]}
        placeholder={isSet(field) ? 'set — leave empty to keep' : ''}
        onChange={(e) => set({ [field]: e.target.value } as Partial<Draft>)}
      />
      <span className="hint">Write-only: stored sealed and never shown again.</span>
    </label>
  );

  return (
    <Modal
      title={ex ? `Edit store ${ex.name}` : 'Add secret store'}
      onClose={props.onClose}
      testId="store-dialog"
    >
      <form
        data-testid="store-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit();
        }}
      >
        <div className="row2">
          <label className="field">
            <span>Name</span>
            <input
              data-testid="store-name"
              value={d.name}
              disabled={!!ex}
              spellCheck={false}
              placeholder="vault-prod"
              onChange={(e) => set({ name: e.target.value })}
            />
          </label>
          <label className="field">
            <span>Type</span>
            <select
              data-testid="store-type"
              value={d.type}
              disabled={!!ex}
              onChange={(e) => set({ type: e.target.value as StoreType })}
            >
              <option value="vault">HashiCorp Vault / OpenBao (KV v2)</option>
              <option value="aws-secrets-manager">AWS Secrets Manager</option>
            </select>
          </label>
        </div>
        {d.type === 'vault' ? (
          <>
            <label className="field">
              <span>Address</span>
              <input
                data-testid="store-address"
                value={d.address}
                spellCheck={false}
                placeholder="https://vault.internal:8200"
                onChange={(e) => set({ address: e.target.value })}
              />
            </label>
            <div className="row2">
              <label className="field">
                <span>KV v2 mount</span>
                <input
                  data-testid="store-mount"
                  value={d.mount}
                  onChange={(e) => set({ mount: e.target.value })}
                />
              </label>
              <label className="field">
                <span>Namespace (optional)</span>
                <input value={d.namespace} onChange={(e) => set({ namespace: e.target.value })} />
              </label>
            </div>
            <label className="field">
              <span>Authentication</span>
              <select
                data-testid="store-auth-method"
                value={d.method}
                onChange={(e) => set({ method: e.target.value as Draft['method'] })}
              >
                <option value="token">Token</option>
                <option value="approle">AppRole</option>
              </select>
            </label>
            {d.method === 'token' ? (
              credential('Token', 'token', 'store-token')
            ) : (
              <>
                <label className="field">
                  <span>Role id</span>
                  <input
                    data-testid="store-role-id"
                    value={d.roleId}
                    onChange={(e) => set({ roleId: e.target.value })}
                  />
                </label>
                {credential('Secret id', 'secretId', 'store-secret-id')}
              </>
            )}
          </>
        ) : (
          <>
            <div className="row2">
              <label className="field">
                <span>Region</span>
                <input
                  data-testid="store-region"
                  value={d.region}
                  placeholder="eu-west-1"
                  onChange={(e) => set({ region: e.target.value })}
                />
              </label>
              <label className="field">
                <span>Endpoint (optional)</span>
                <input
                  data-testid="store-endpoint"
                  value={d.endpoint}
                  placeholder="https://vpce-….secretsmanager…"
                  onChange={(e) => set({ endpoint: e.target.value })}
                />
              </label>
            </div>
            <label className="field">
              <span>Access key id (empty: the server’s default AWS credential chain)</span>
              <input
                data-testid="store-access-key-id"
                value={d.accessKeyId}
                spellCheck={false}
                onChange={(e) => set({ accessKeyId: e.target.value })}
              />
            </label>
            {d.accessKeyId.trim() && (
              <>
                {credential('Secret access key', 'secretAccessKey', 'store-secret-access-key')}
                {credential('Session token (optional)', 'sessionToken', 'store-session-token')}
              </>
            )}
          </>
        )}
        <label className="field">
          <span>Cache (seconds; 0 = fetch at every use)</span>
          <input
            data-testid="store-cache"
            type="number"
            min={0}
            max={86400}
            value={d.cacheTtlS}
            onChange={(e) => set({ cacheTtlS: e.target.value })}
          />
          <span className="hint">
            After a rotation in the store, flowsafe may use the old value for this long.
          </span>
        </label>
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            data-testid="store-save"
            disabled={busy || !d.name.trim()}
          >
            {ex ? 'Save' : 'Add store'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function DeleteStore(props: {
  workspaceId: string;
  store: SecretStoreView;
  onClose: () => void;
  onDeleted: () => Promise<void>;
}) {
  const toast = useToast();
  const [users, setUsers] = useState(props.store.usedBy ?? []);
  return (
    <Modal title={`Delete store ${props.store.name}`} onClose={props.onClose} testId="store-delete-dialog">
      {users.length > 0 ? (
        <div data-testid="store-users">
          <p className="error-text">
            These secrets keep their value in {props.store.name}. Move them to another store or delete them
            first:
          </p>
          <ul>
            {users.map((u) => (
              <li key={`${u.projectId}/${u.secret}`}>
                <code>{u.secret}</code> <span className="muted">in project {u.project}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p>Secrets can no longer use this store. Its sealed credentials are deleted.</p>
      )}
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          className="danger"
          data-testid="store-delete-confirm"
          disabled={users.length > 0}
          onClick={async () => {
            try {
              await api.deleteStore(props.workspaceId, props.store.name);
              toast.ok(`Store ${props.store.name} deleted`);
              await props.onDeleted();
            } catch (err) {
              if (err instanceof ApiError && err.code === 'STORE_IN_USE') {
                const details = err.details as { secrets?: typeof users } | undefined;
                setUsers(details?.secrets ?? []);
              }
              toast.error(err);
            }
          }}
        >
          Delete
        </button>
      </div>
    </Modal>
  );
}
