// The server's report rules in the browser: shared/'s ReportInput::validate compiled to wasm
// (web/validate, built into pkg/ by scripts/build-web). The page checks exactly the body it is
// about to send. Should the module not load (a very old browser), the page still sends, and the
// server's 422 answer shows the same messages.

import init, { validate_report, limits as wasmLimits } from '../pkg/onegrid_web_validate.js';

let loaded = null;

/** Loads the module once; resolves to true when the rules can run. */
export function loadRules() {
  loaded ??= init().then(() => true, (err) => {
    console.warn('onegrid: the validation module did not load; the server will check', err);
    return false;
  });
  return loaded;
}

/** The rules' verdict on a request body: {ok, errors: [{field, code, message}], point}, or null before loading. */
export function checkBody(body) {
  try {
    return JSON.parse(validate_report(JSON.stringify(body)));
  } catch {
    return null; // not loaded (yet)
  }
}

/** The length limits the server applies, from the same constants. */
export function ruleLimits() {
  try {
    return JSON.parse(wasmLimits());
  } catch {
    return null;
  }
}
