/**
 * @module The synchronous key-value storage of a SQLite-backed Durable Object
 * (`ctx.storage.kv`), as the pure logic that keeps state (the budget gate, the change
 * feed) uses it. `npm run sim` passes a Map-backed one.
 */
export interface SyncKv {
  get<T>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
  delete(key: string): boolean;
  list<T>(options: { prefix: string }): Iterable<[string, T]>;
}
