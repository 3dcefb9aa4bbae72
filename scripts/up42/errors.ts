import type { HttpFailure } from './http.js';

/**
 * Why a UP42 command failed. Each comes with a one-line message fit to print: no stack, no token,
 * no password, no webhook secret.
 */
export type Up42Failure =
  | HttpFailure
  | 'credentials' // the token endpoint refused the user name or password
  | 'unauthorized' // 401 from the API
  | 'forbidden' // 403
  | 'not-found' // 404
  | 'api' // any other non-2xx, or an error inside a 2xx envelope
  | 'bad-response' // a reply we cannot read
  | 'no-workspace'; // the token has no subject and UP42_WORKSPACE_ID is not set
