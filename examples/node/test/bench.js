// A bounded load loop on loopback: CONCURRENCY keep-alive clients send
// GET <url> with the key for DURATION_MS, then it prints one JSON line
// {requests, seconds, rps, errors}. Usage: node bench.js URL KEY [ms] [concurrency]
'use strict';

const http = require('node:http');

const [url, key, ms = '3000', conc = '10'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conc) });
const until = Date.now() + Math.min(Number(ms), 30000);   // never longer than 30 s
let done = 0;
let errors = 0;

function one() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { 'x-api-key': key } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) done++; else errors++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
  });
}

async function client() {
  while (Date.now() < until) await one();
}

(async () => {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: Number(conc) }, client));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  console.log(JSON.stringify({ requests: done, seconds: Number(seconds.toFixed(2)), rps: Math.round(done / seconds), errors }));
})();
