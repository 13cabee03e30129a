// Every /forwarding-destinations route, registered from here in one order (the order of the
// OpenAPI document's paths), one module per concern.
import type { AppContext } from '../context.js';
import type { TypedApp } from '../typed.js';
import { destinationCrudRoutes } from './destinations/crud.js';
import { destinationHistoryRoutes } from './destinations/history.js';
import { destinationProbeRoutes } from './destinations/probe.js';
import { destinationDeps } from './destinations/shared.js';

export function destinationRoutes(app: TypedApp, ctx: AppContext): void {
  const deps = destinationDeps(ctx);
  destinationCrudRoutes(app, ctx, deps);
  destinationProbeRoutes(app, ctx, deps);
  destinationHistoryRoutes(app, ctx, deps);
}
