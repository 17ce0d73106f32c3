// Talking to the OneGrid API (docs/api.md): JSON in, JSON out, RFC 9457 problems on failure.
// Every call resolves to one shape, {ok, status, data, problem}, so pages handle a single
// case; status 0 means the server was not reached at all. Only a cancelled call rejects.

const BASE = '/api';

/**
 * One call: the Response, or null when the server was not reached. `headers` add to (or
 * replace) the defaults. Only a cancelled call rejects (the caller started a newer request).
 */
export async function send(method, path, body, { signal, headers = {}, cache } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json, application/problem+json', ...headers } };
  if (cache) init.cache = cache; // fetch's cache mode, e.g. 'no-cache' to ask the server again
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(BASE + path, init);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    return null;
  }
}

export async function request(method, path, body, { signal, cache } = {}) {
  const res = await send(method, path, body, { signal, cache });
  if (!res) return { ok: false, status: 0, data: null, problem: toProblem(null) };
  const data = await readJson(res);
  if (res.ok) return { ok: true, status: res.status, data, problem: null };
  return { ok: false, status: res.status, data: null, problem: toProblem(data) };
}

async function readJson(res) {
  try {
    return await res.json();
  } catch {
    return null; // an empty body, or a proxy's HTML error page
  }
}

// Keep only the members we know, with the types we expect: the rest of the page can then
// use them without checking again. `allowed_moves` comes with a 409 forbidden-move.
export function toProblem(body) {
  const p = body && typeof body === 'object' ? body : {};
  const text = (v) => (typeof v === 'string' ? v : '');
  const errors = Array.isArray(p.errors)
    ? p.errors.filter((e) => e && typeof e.field === 'string').map((e) => ({ field: e.field, message: text(e.message), code: text(e.code) }))
    : [];
  const problem = { type: text(p.type), title: text(p.title), detail: text(p.detail), errors };
  if (Array.isArray(p.allowed_moves)) problem.allowed_moves = p.allowed_moves.filter((m) => typeof m === 'string');
  return problem;
}

/** The stable last part of a problem's type, e.g. "outside-jurisdiction". */
export function slugOf(problem) {
  return (problem?.type || '').split('/').pop();
}
