import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Database } from "../store/index.ts";
import type { Role } from "./roles.ts";

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** The flag environment an sdk token is bound to (SDK sync, OFREP); absent otherwise. */
  environment?: string;
}

export interface CreatedToken extends Principal {
  /** The secret, shown once: only its hash is stored. */
  token: string;
}

const prefix = "gty_";
const RECENT_MS = 5000;
const RECENT_MAX = 10_000;
/** The meta row holding the key that signs URL credentials. */
const URL_KEY = "auth.urlKey";

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** API tokens: random secrets, stored as sha256 hashes, each with a role. */
export class TokenService {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;
  #urlKey: Promise<Buffer> | undefined;
  /**
   * Tokens authenticated in the last RECENT_MS, by hash: SDKs and OFREP clients send one on
   * every request, and looking it up is most of a small request's cost. Revoking here drops
   * it at once; a revocation by another control plane sharing the database takes effect
   * here within RECENT_MS.
   */
  readonly #recent = new Map<string, { principal: Principal; at: number }>();

  constructor(db: Kysely<Database>, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  async create(name: string, role: Role, environment?: string): Promise<CreatedToken> {
    const token = prefix + randomBytes(24).toString("base64url");
    const id = randomUUID();
    await this.#db
      .insertInto("tokens")
      .values({
        id,
        name,
        role,
        hash: hashToken(token),
        created_at: this.#now().toISOString(),
        last_used_at: null,
        environment: environment ?? null,
      })
      .execute();
    return { tokenId: id, name, role, ...(environment !== undefined && { environment }), token };
  }

  async authenticate(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(prefix)) return undefined;
    const hash = hashToken(token);
    const now = Date.now();
    const known = this.#recent.get(hash);
    if (known !== undefined && now - known.at < RECENT_MS) return known.principal;
    const row = await this.#db.selectFrom("tokens").selectAll().where("hash", "=", hash).executeTakeFirst();
    // The lookup is by hash, so comparing again in constant time only guards against a broken index.
    if (!row || !timingSafeEqual(Buffer.from(row.hash), Buffer.from(hash))) return undefined;
    const principal = principalOf(row);
    if (this.#recent.size >= RECENT_MAX) this.#recent.clear();
    this.#recent.set(hash, { principal, at: now });
    return principal;
  }

  /**
   * A credential for a URL that is opened without headers (OFREP's event stream, which the
   * browser's EventSource fetches): the token's id and an HMAC over it and `scope` with a
   * key kept in the database (so it survives restarts). It never contains the token itself.
   */
  async urlCredential(principal: Principal, scope: string): Promise<string> {
    return `${principal.tokenId}.${await this.#sign(principal.tokenId, scope)}`;
  }

  /** The principal a URL credential was issued to, for the same scope; none once the token is revoked. */
  async authenticateUrl(credential: string, scope: string): Promise<Principal | undefined> {
    const dot = credential.indexOf(".");
    if (dot <= 0) return undefined;
    const tokenId = credential.slice(0, dot);
    const given = Buffer.from(credential.slice(dot + 1));
    const expected = Buffer.from(await this.#sign(tokenId, scope));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const row = await this.#db.selectFrom("tokens").selectAll().where("id", "=", tokenId).executeTakeFirst();
    return row ? principalOf(row) : undefined;
  }

  async #sign(tokenId: string, scope: string): Promise<string> {
    this.#urlKey ??= this.#loadUrlKey();
    return createHmac("sha256", await this.#urlKey)
      .update(tokenId)
      .update("\0")
      .update(scope)
      .digest("base64url");
  }

  async #loadUrlKey(): Promise<Buffer> {
    const fresh = randomBytes(32).toString("base64url");
    // Two replicas starting at once both insert; the first wins and both read it back.
    await this.#db
      .insertInto("meta")
      .values({ key: URL_KEY, value: fresh })
      .onConflict((c) => c.column("key").doNothing())
      .execute();
    const row = await this.#db
      .selectFrom("meta")
      .select("value")
      .where("key", "=", URL_KEY)
      .executeTakeFirstOrThrow();
    return Buffer.from(row.value, "base64url");
  }

  async list(): Promise<Principal[]> {
    const rows = await this.#db
      .selectFrom("tokens")
      .select(["id", "name", "role", "environment"])
      .orderBy("created_at")
      .execute();
    return rows.map(principalOf);
  }

  async revoke(id: string): Promise<boolean> {
    for (const [hash, { principal }] of this.#recent) if (principal.tokenId === id) this.#recent.delete(hash);
    const result = await this.#db.deleteFrom("tokens").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * A token kept in a file of the data dir, readable by the owner only, created on first
   * start: the admin token the CLI uses (DATA/token) and the sdk token given to instances
   * (DATA/sdk-token). A file whose token no longer works (a new database) is replaced.
   */
  async ensureLocalToken(file: string, name: string, role: Role): Promise<string> {
    if (existsSync(file)) {
      const token = readFileSync(file, "utf8").trim();
      if (await this.authenticate(token)) return token;
    }
    const created = await this.create(name, role);
    writeFileSync(file, `${created.token}\n`, { mode: 0o600 });
    return created.token;
  }

  ensureLocalAdminToken(dataDir: string): Promise<string> {
    return this.ensureLocalToken(join(dataDir, "token"), "local-admin", "admin");
  }
}

function principalOf(row: { id: string; name: string; role: string; environment: string | null }): Principal {
  const principal: Principal = { tokenId: row.id, name: row.name, role: row.role as Role };
  if (row.environment !== null) principal.environment = row.environment;
  return principal;
}
