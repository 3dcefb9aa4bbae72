/*
 * The signature tests' known-answer vectors (signature.test.ts). Every
 * expected MAC and digest below was computed with the openssl command line
 * (OpenSSL 3.0, LC_ALL=C.UTF-8), never with the code under test:
 *
 *   B='{"event":"job.status","liveMode":true,"body":{"status":"FAILED"}}'
 *   printf '%s' "$B" | openssl dgst -sha256 -binary | base64            -> P0uzeN1CkEusvXavAgiBPP/ESxsN1Xxv2cIjkkgJfPI=
 *   printf '%s' "$B" | openssl dgst -sha512 -binary | base64 -w0        -> XR9lyWGk...9YWHoA==  (SHA512 below)
 *   date -u -d 'Sun, 30 Nov 2025 08:00:00 GMT' +%s                       -> 1764489600
 */
export const BODY = '{"event":"job.status","liveMode":true,"body":{"status":"FAILED"}}';
export const SHA256 = 'P0uzeN1CkEusvXavAgiBPP/ESxsN1Xxv2cIjkkgJfPI=';
export const SHA512 = 'XR9lyWGkSTlJPLT5U/z5aLwiv2lT0TUcgdkOR8jdcQSABfzkiykSUncMgwQmyuGxAxUiUL7ssG9mZTjI9YWHoA==';
export const DATE = 'Sun, 30 Nov 2025 08:00:00 GMT';
export const CREATED = 1764489600;
export const SECRET = 'up42-test-secret';

// printf '%s' "application/jsonSun, 30 Nov 2025 08:00:00 GMTsha-256=:$SHA256:" \
//   | openssl dgst -sha256 -hmac 'up42-test-secret' -binary | base64
export const MAC_DEFAULT = '65NdJENRzWfh1at3XgnI9TIA3UoIU3QU1QDyLAqnTQU=';
// printf '%s' "Sun, 30 Nov 2025 08:00:00 GMTapplication/json" \
//   | openssl dgst -sha256 -hmac 'up42-test-secret' -binary | base64
export const MAC_DATE_FIRST = 'B5gdYez758nGothXO+1INxs11/tFcNgQFQO4EgYh8j0=';
// printf '%s' "application/jsonSun, 30 Nov 2025 08:00:00 GMTsha-256=:$SHA256:" \
//   | openssl dgst -sha256 -hmac 'Geheimnis-zwei-ÄÖÜß-🔑' -binary | base64
// (same with -mac HMAC -macopt hexkey:47656865696d6e69732d7a7765692dc384c396c39cc39f2df09f9491, the key's UTF-8 bytes)
export const UTF8_SECRET = 'Geheimnis-zwei-ÄÖÜß-🔑';
export const MAC_UTF8_SECRET = 'rLYZkFaaJKirFBxIC6/K1o7n8ZPboPKcfF6hvtWnjcE=';
// printf '%s' "application/jsonsha-512=:$SHA512:" | openssl dgst -sha256 -hmac 'up42-test-secret' -binary | base64
export const MAC_SHA512_DIGEST = 'Qyshq2YM/5z6GcGMPj69e/pXhppYP/fCNGeS2l/FeWo=';
// printf '%s' "SHA-256=${SHA256}application/json" | openssl dgst -sha256 -hmac 'up42-test-secret' -binary | base64
export const MAC_LEGACY_DIGEST = 'jzi+E3qTDk2VYHaImRRmY6g+meSQAaEvscWxm0Jkb/0=';
// printf '%s' "application/jsonSun, 30 Nov 2025 08:00:00 GMTsha-256=:$SHA256:" \
//   | openssl dgst -sha256 -hmac 'previous-secret' -binary | base64
export const MAC_PREVIOUS_SECRET = 'Zsd5QsxXZ+5zrJzWpGfuNbSUMmGl6jlW697OpkAICgQ=';

// Keys around the SHA-256 block size (64 bytes): a longer one is hashed first (RFC 2104), one of 64 is used as is.
//   printf '%s' "application/jsonSun, 30 Nov 2025 08:00:00 GMTsha-256=:$SHA256:" \
//     | openssl dgst -sha256 -hmac "$(printf 'k%.0s' $(seq 65))" -binary | base64
export const KEY_65 = 'k'.repeat(65);
export const MAC_KEY_65 = 'VwKHMcTDI11QAy3zYlK3l2MQ2BQgWPUqQ3luKBjThgs=';
//   (same with $(seq 64))
export const KEY_64 = 'k'.repeat(64);
export const MAC_KEY_64 = 'g4xjQTcS34+K158dzo+XWQQJhQc58ixitSLBVu4Qdzw=';
// A signed string of 2029 bytes: printf '%s' "$(printf 'ab%.0s' $(seq 1000))Sun, 30 Nov 2025 08:00:00 GMT" \
//   | openssl dgst -sha256 -hmac 'up42-test-secret' -binary | base64
export const LONG_VALUE = 'ab'.repeat(1000);
export const MAC_LONG_MESSAGE = 'Hf5nVmsweq4cj2lcapRy0Y5z8v/iBAGK5QB8LdtxnFI=';
