/**
 * @module The proxy's version, as `/health` and the upstream's User-Agent give it. Written
 * here rather than imported from package.json, which would put the whole file in the
 * bundle; a test holds it equal to package.json's.
 */
export const VERSION = "0.1.0";
