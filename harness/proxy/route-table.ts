/**
 * The single virtual host's routes ("edgewatch", domains ["*"]), first match wins like Envoy's
 * route table: `path` is an exact match on :path without the query string, `prefix` a prefix of :path.
 */
import type { RouteConfig } from "../config/proxy-config.js";

export const VIRTUAL_HOST_NAME = "edgewatch";
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

export class RouteTable {
  constructor(private readonly routes: readonly RouteConfig[]) {}

  match(path: string): RouteConfig | undefined {
    let bare: string | undefined;
    for (const r of this.routes) {
      if (r.match.path !== undefined) {
        if (bare === undefined) {
          const q = path.search(/[?#]/);
          bare = q < 0 ? path : path.slice(0, q);
        }
        if (bare === r.match.path) return r;
      } else if (r.match.prefix !== undefined) {
        if (path.startsWith(r.match.prefix)) return r;
      }
    }
    return undefined;
  }
}
