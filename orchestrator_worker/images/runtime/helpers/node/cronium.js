'use strict';
// Cronium runtime helpers for Node.js scripts. Available as the global
// `cronium` (or `require('cronium')`). Every call returns a Promise. Values
// are JSON; a failing call rejects with an Error naming the reason;
// getVariable of a missing key resolves to null.

const http = require('http');

class CroniumError extends Error {}

function call(method, sub, payload, missingOk) {
  const api = process.env.CRONIUM_RUNTIME_API || '';
  const job = process.env.CRONIUM_EXECUTION_ID || '';
  const token = process.env.CRONIUM_EXECUTION_TOKEN || '';
  if (!api.startsWith('unix://') || !job || !token) {
    return Promise.reject(new CroniumError('the Cronium runtime API is not available (CRONIUM_RUNTIME_API is not set)'));
  }
  const body = payload === undefined ? null : Buffer.from(JSON.stringify(payload), 'utf8');
  const headers = { Authorization: 'Bearer ' + token, Connection: 'close', Accept: 'application/json' };
  if (body) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: api.slice('unix://'.length), method, path: `/api/runtime/executions/${job}/${sub}`, headers, timeout: 30000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 404 && missingOk) return resolve(undefined);
          let data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
          if (res.statusCode >= 400) {
            const message = data && data.error && data.error.message ? data.error.message : raw.slice(0, 300);
            return reject(new CroniumError(`${method} ${sub} failed (HTTP ${res.statusCode}): ${message}`));
          }
          resolve(data);
        });
      },
    );
    req.on('timeout', () => req.destroy(new CroniumError(`${method} ${sub}: the runtime API did not answer`)));
    req.on('error', (e) => reject(e instanceof CroniumError ? e : new CroniumError(`${method} ${sub}: cannot reach the runtime API: ${e.message}`)));
    if (body) req.write(body);
    req.end();
  });
}

function key(k) {
  if (typeof k !== 'string' || !k) throw new CroniumError('variable key must be a non-empty string');
  return 'variables/' + encodeURIComponent(k);
}

module.exports = {
  CroniumError,
  input: async () => (await call('GET', 'input')).input,
  output: async (data) => { await call('POST', 'output', data === undefined ? null : data); },
  getVariable: async (k) => {
    const data = await call('GET', key(k), undefined, true);
    return data === undefined ? null : data.value;
  },
  setVariable: async (k, value) => { await call('PUT', key(k), { value: value === undefined ? null : value }); },
  deleteVariable: async (k) => (await call('DELETE', key(k))).deleted,
  listVariables: async () => (await call('GET', 'variables')).keys,
  setCondition: async (value) => {
    if (typeof value !== 'boolean') throw new CroniumError('setCondition takes true or false');
    await call('POST', 'condition', { condition: value });
  },
  event: async () => call('GET', 'event'),
};
