/**
 * @module The typed client's types, derived from the route table: `hc<AppType>(url)`
 * from `hono/client` gets every route with typed path params, typed query params (the
 * strings they are on the wire), typed JSON bodies and typed success bodies. Needs no Worker types, so
 * other projects import it (`realtimekit-proxy/client`).
 */
import type { Hono } from "hono";
import type { BlankEnv } from "hono/types";
import type * as z from "zod/mini";
import type { Answers } from "./routes/answers.ts";
import type { Route } from "./routes/table.ts";

/** No input of that kind. */
type Nothing = Record<never, never>;

/** True when a schema's input has no named keys (`{}` or `Record<string, never>`). */
type IsEmpty<T> = string extends keyof T ? true : keyof T extends never ? true : false;

type ParamInput<R> = R extends { params: infer P extends z.ZodMiniType }
  ? IsEmpty<z.input<P>> extends true
    ? Nothing
    : { param: z.input<P> }
  : Nothing;

/** Query params are the strings they are on the wire; when all are optional, so is `query`. */
type QueryInput<R> = R extends { query: (...args: never[]) => infer Q extends z.ZodMiniType }
  ? IsEmpty<z.input<Q>> extends true
    ? Nothing
    : Nothing extends z.input<Q>
      ? { query?: z.input<Q> }
      : { query: z.input<Q> }
  : Nothing;

/**
 * The schema of a route's own JSON body (a builtin or forwarded route's `json`), or never.
 * `json` is optional in those entries, and one without it infers the bare schema type.
 */
type BodySchemaOf<R> = R extends { json?: (...args: never[]) => infer B }
  ? B extends z.ZodMiniType
    ? z.ZodMiniType extends B
      ? never
      : B
    : never
  : never;

/** A JSON body: a builtin or forwarded route's own, or a write's (the user's or the key's; optional when a user may send none). */
type JsonInput<R> = [BodySchemaOf<R>] extends [never] ? WriteJsonInput<R> : { json: z.input<BodySchemaOf<R>> };

type WriteJsonInput<R> = R extends { requestBody: { user: infer U; key: infer K } }
  ? [U | K] extends [undefined]
    ? Nothing
    : U extends z.ZodMiniType
      ? { json?: z.input<U> | (K extends z.ZodMiniType ? z.input<K> : never) }
      : K extends z.ZodMiniType
        ? { json: z.input<K> }
        : Nothing
  : Nothing;

type EndpointOf<R extends Route> = {
  input: ParamInput<R> & QueryInput<R> & JsonInput<R>;
  output: z.output<Answers[R["answer"]]>;
  outputFormat: "json";
  status: 200;
};

/** `$get`, `$post`, `$patch`, `$delete`: as `hono/client` names a route's method. */
type MethodKey<R extends Route> = `$${Lowercase<R["method"]>}`;

type SchemaOf<R> = R extends Route ? { [P in R["path"]]: { [M in MethodKey<R>]: EndpointOf<R> } } : never;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** One entry per route of the table, in the shape `hono/client` reads. */
export type ProxySchema = UnionToIntersection<SchemaOf<Route>>;

/** The proxy as `hono/client` sees it: `hc<AppType>("https://proxy.example.com")`. */
export type AppType = Hono<BlankEnv, ProxySchema, "/">;

export type {
  ActiveSessionEnvelope,
  ErrorEnvelope,
  JoinEnvelope,
  MeetingEnvelope,
  MeetingsEnvelope,
  ParticipantsEnvelope,
  SessionEnvelope,
  SessionsEnvelope,
  StatusEnvelope,
} from "./routes/answers.ts";
