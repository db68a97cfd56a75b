'use strict';
// A load bounded by a count: REQUESTS requests of GET /jmap/echo to URL over C keep-alive
// connections, each with a token drawn uniformly at random from the file TOKENS (one per line) by a
// seeded generator (SEED), so that two runs send the same sequence. Prints one line of counts.
//   URL=http://127.0.0.1:28382 TOKENS=tokens.txt REQUESTS=60000 C=16 SEED=1 node load.js
const http = require('node:http');
const fs = require('node:fs');

const url = new URL(process.env.URL);
const tokens = fs.readFileSync(process.env.TOKENS, 'utf8').split('\n').filter((t) => t).map((t) => `Bearer ${t}`);
const total = +process.env.REQUESTS;
const connections = +(process.env.C || 16);
// mulberry32: small, seeded, uniform enough for picking sessions.
let state = +(process.env.SEED || 1) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let sent = 0;
let answered = 0;
const statuses = {};
const started = Date.now();

function next() {
  if (sent >= total) {
    return;
  }
  sent++;
  const token = tokens[Math.floor(random() * tokens.length)];
  const request = http.get({ host: url.hostname, port: url.port, path: '/jmap/echo', agent,
    headers: { Authorization: token } }, (response) => {
    statuses[response.statusCode] = (statuses[response.statusCode] || 0) + 1;
    response.resume();
    response.on('end', done);
  });
  request.on('error', (e) => {
    statuses[e.code || 'error'] = (statuses[e.code || 'error'] || 0) + 1;
    done();
  });
}

function done() {
  answered++;
  if (answered === total) {
    const seconds = (Date.now() - started) / 1000;
    console.log(`requests=${answered} seconds=${seconds.toFixed(1)} statuses=${JSON.stringify(statuses)}`);
    agent.destroy();
    return;
  }
  next();
}

for (let i = 0; i < connections; i++) {
  next();
}
