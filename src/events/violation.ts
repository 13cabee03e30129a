/** One reason a document does not satisfy the contract. Never contains a submitted value. */
export interface Violation {
  /** JSON-pointer-like location, e.g. "/aegis/summary" or "/events/3/actor_id" ("" = the whole document). */
  path: string;
  message: string;
}
