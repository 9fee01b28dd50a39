// Everything the server does with secret values, in one place: sealing values for storage,
// opening them for an authorised reveal or at dispatch, and the per-project Redactor that
// knows every value of every secret of the project (all environments, all fields, basic-auth
// pairs) so that responses, errors, logs and run records never carry one (invariant 6).
// It also implements the api-block's SecretAccess: describe() for the egress check and
// open() at dispatch, each use audited (invariant 12). Secrets kept in an external store
// (SPEC §12) are resolved through ExternalSecrets; what it fetches reaches these redactors first.
import { Redactor } from '@flowsafe/redact';
import { isoNow } from '@flowsafe/runner';
import { refFor } from '@flowsafe/secret-stores';
import {
  type KeyRing,
  pickEnvironment,
  type SealedValue,
  type SecretType,
  type SecretValue,
  type ValueField,
  valueFields,
  type WrappedKey,
} from '@flowsafe/secrets';
import type { Secret, Store } from '@flowsafe/store';
import { ExternalSecrets, registerFields } from './external-secrets';

/** Identity of a run, as the api-block passes it (ids only). */
export interface RunRef {
  runId: string;
  flowId: string;
  projectId: string;
  workspaceId: string;
  environment: string;
  actor?: string;
}

export interface SecretDescription {
  name: string;
  type: SecretType;
  allowedHosts?: string[];
}

interface Entry {
  redactor: Redactor;
  secrets: Map<string, Secret>;
  workspaceId?: string;
}

export interface ProjectSecretsOptions {
  store: Store;
  keyRing: KeyRing;
  /** receives every value too: the fallback for logs and requests outside a project */
  global: Redactor;
}

export class ProjectSecrets {
  private readonly store: Store;
  private readonly keyRing: KeyRing;
  readonly global: Redactor;
  private readonly loading = new Map<string, Promise<Entry>>();
  private readonly loaded = new Map<string, Entry>();
  /** what describe() hands the API block, made once per stored secret record (records are
   *  replaced, never changed, so a changed secret gets a new description) */
  private readonly descriptions = new WeakMap<Secret, SecretDescription>();
  private readonly versions = new Map<string, number>();
  /** external secret stores of every workspace (SPEC §12) */
  readonly external: ExternalSecrets;

  constructor(opts: ProjectSecretsOptions) {
    this.store = opts.store;
    this.keyRing = opts.keyRing;
    this.global = opts.global;
    this.external = new ExternalSecrets({
      store: opts.store,
      keyRing: opts.keyRing,
      onValue: (workspaceId, name, type, fields) => this.rememberFields(workspaceId, name, type, fields),
      knows: (workspaceId, value) => this.knows(workspaceId, value),
    });
  }

  /** Registers fetched or credential fields with the global redactor and every loaded project of the workspace. */
  rememberFields(workspaceId: string, name: string, type: SecretType, fields: ValueField[]): void {
    registerFields(this.global, name, type, fields);
    for (const entry of this.loaded.values())
      if (entry.workspaceId === workspaceId) registerFields(entry.redactor, name, type, fields);
    for (const pending of this.loading.values())
      void pending.then(
        (entry) => {
          if (entry.workspaceId === workspaceId) registerFields(entry.redactor, name, type, fields);
        },
        () => undefined,
      );
  }

  private knows(workspaceId: string, value: string): boolean {
    if (!this.global.has(value)) return false;
    for (const entry of this.loaded.values())
      if (entry.workspaceId === workspaceId && !entry.redactor.has(value)) return false;
    return true;
  }

  /** The redactor of a project (built on first use, rebuilt after a change). */
  async redactor(projectId: string): Promise<Redactor> {
    return (await this.entry(projectId)).redactor;
  }

  /** Forget what is cached for a project after its secrets changed; the next use rebuilds. */
  invalidate(projectId: string): void {
    this.versions.set(projectId, (this.versions.get(projectId) ?? 0) + 1);
    this.loading.delete(projectId);
    this.loaded.delete(projectId);
  }

  /** Load (or reuse) a project's secrets and redactor. */
  async entry(projectId: string): Promise<Entry> {
    const ready = this.loaded.get(projectId);
    if (ready) return ready;
    let pending = this.loading.get(projectId);
    if (!pending) {
      const version = this.versions.get(projectId) ?? 0;
      pending = this.build(projectId).then((entry) => {
        if ((this.versions.get(projectId) ?? 0) === version) this.loaded.set(projectId, entry);
        return entry;
      });
      pending.catch(() => this.loading.delete(projectId));
      this.loading.set(projectId, pending);
    }
    return pending;
  }

  private async build(projectId: string): Promise<Entry> {
    const [list, project] = await Promise.all([
      this.store.secrets.list(projectId),
      this.store.projects.get(projectId),
    ]);
    const redactor = new Redactor();
    const secrets = new Map<string, Secret>();
    const workspaceId = project?.workspaceId;
    if (workspaceId !== undefined) {
      // The workspace's store credentials are masked in this project's logs and errors too.
      for (const config of await this.store.secretStores.list(workspaceId)) {
        for (const [field, value] of Object.entries(this.external.openCredentials(config)))
          registerFields(redactor, `store ${config.name}`, 'text', [{ field, value }]);
      }
    }
    for (const secret of list) {
      secrets.set(secret.name, secret);
      for (const env of Object.keys(secret.values)) {
        const value = this.openStored(secret, env);
        register(redactor, secret.name, secret.type, value);
        register(this.global, secret.name, secret.type, value);
      }
    }
    return workspaceId === undefined ? { redactor, secrets } : { redactor, secrets, workspaceId };
  }

  /** A fresh data key for a new secret, wrapped by the master key. */
  newDataKey(): WrappedKey {
    return this.keyRing.newDataKey();
  }

  /** Seal a value of `secret` for `environment` ('default' or an environment name). */
  seal(
    secret: Pick<Secret, 'id' | 'workspaceId' | 'projectId' | 'type' | 'wrappedKey'>,
    environment: string,
    value: SecretValue,
  ): SealedValue {
    const ctx = {
      workspaceId: secret.workspaceId,
      projectId: secret.projectId,
      secretId: secret.id,
      environment,
    };
    return this.keyRing.seal(secret.wrappedKey, ctx, secret.type, value);
  }

  /** Open the stored value of exactly `environment` (no fallback). */
  openStored(secret: Secret, environment: string): SecretValue {
    const sealed = secret.values[environment];
    if (sealed === undefined) throw new Error(`secret ${secret.name} has no stored value for ${environment}`);
    const ctx = {
      workspaceId: secret.workspaceId,
      projectId: secret.projectId,
      secretId: secret.id,
      environment,
    };
    return this.keyRing.open(secret.wrappedKey, ctx, secret.type, sealed);
  }

  /** The value a run in `environment` uses: the override, else the default, else SECRET_VALUE_MISSING. */
  openFor(secret: Secret, environment: string): { value: SecretValue; from: string } {
    const from = pickEnvironment(secret.values, secret.name, environment);
    return { value: this.openStored(secret, from), from };
  }

  /** Add a new value to the cached redactors right away (before the response that follows). */
  remember(projectId: string, name: string, type: SecretType, value: SecretValue): void {
    register(this.global, name, type, value);
    const entry = this.loaded.get(projectId);
    if (entry) register(entry.redactor, name, type, value);
  }

  /** Metadata of a secret for the api-block's egress check (sync: the entry is loaded before a run). */
  describe(run: RunRef, name: string): SecretDescription | undefined {
    const secret = this.loaded.get(run.projectId)?.secrets.get(name);
    if (!secret) return undefined;
    let out = this.descriptions.get(secret);
    if (out === undefined) {
      const made: SecretDescription = { name: secret.name, type: secret.type };
      if (secret.allowedHosts !== undefined)
        made.allowedHosts = Object.freeze([...secret.allowedHosts]) as string[];
      out = Object.freeze(made);
      this.descriptions.set(secret, out);
    }
    return out;
  }

  /** The value of a secret at dispatch (the api-block audits each use through `auditUse`). */
  async open(run: RunRef, name: string): Promise<SecretValue> {
    const secret =
      (await this.entry(run.projectId)).secrets.get(name) ??
      (await this.store.secrets.get(run.projectId, name));
    if (!secret) {
      throw Object.assign(new Error(`secret ${name} does not exist in this project`), {
        code: 'SECRET_NOT_FOUND',
      });
    }
    if (secret.source !== undefined) {
      // Registered with the redactors inside resolve (onFetched), before it is returned.
      return this.external.resolve(run.workspaceId, {
        store: secret.source.store,
        ref: refFor(secret.source, run.environment),
        type: secret.type,
        secretName: secret.name,
        environment: run.environment,
      });
    }
    return this.openFor(secret, run.environment).value;
  }

  /** Record one use of a secret at dispatch (invariant 12): names and ids, never a value. */
  async auditUse(event: {
    run: RunRef;
    secret: string;
    environment: string;
    blockId: string;
  }): Promise<void> {
    const secret =
      this.loaded.get(event.run.projectId)?.secrets.get(event.secret) ??
      (await this.store.secrets.get(event.run.projectId, event.secret));
    const store = secret?.source?.store;
    await this.store.audit.append({
      at: isoNow(),
      workspaceId: event.run.workspaceId,
      projectId: event.run.projectId,
      actor: event.run.actor ?? 'system',
      action: 'secret.use',
      secret: event.secret,
      environment: event.environment,
      flowId: event.run.flowId,
      runId: event.run.runId,
      details: store === undefined ? { blockId: event.blockId } : { blockId: event.blockId, store },
    });
  }
}

/** Register every sensitive form of a value under the secret's name. */
export function register(redactor: Redactor, name: string, type: SecretType, value: SecretValue): void {
  try {
    redactor.addSecret(name, value);
  } catch {
    // A value too short to mask cannot be created through the API; the fields below still apply.
  }
  for (const field of valueFields(type, value)) {
    try {
      redactor.add(name, field.value);
    } catch {
      // too short to mask: refused at creation, so only stragglers from old data reach here
    }
  }
}
