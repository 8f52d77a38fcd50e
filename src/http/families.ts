/**
 * Every route belongs to one family, which decides the shape of its errors:
 * - `oauth`: RFC 6749 §5.2 `{"error","error_description"}`
 * - `oauth-site`: the same plus Datadog's envelope `"errors":["<code> - <description>"]` (`/oauth2/v1/*`)
 * - `problem`: RFC 7807 problem JSON (management API)
 * - `datadog`: Datadog's `{"errors":[…]}` envelope (built-in observability API)
 * - `html`: a server-rendered error page (login, console)
 * - `plain`: small JSON `{"message"}` bodies (lookup, health)
 */
export type RouteFamily = 'oauth' | 'oauth-site' | 'problem' | 'datadog' | 'html' | 'plain';

declare module 'fastify' {
  interface FastifyContextConfig {
    family?: RouteFamily;
    /** Responses must not be cached (TH-2). */
    noStore?: boolean;
    /** A public document (metadata, JWKS) any origin may read: `Access-Control-Allow-Origin: *` (TH-4). */
    publicDocument?: boolean;
  }
}
