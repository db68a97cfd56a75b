'use strict';
// Writes N sessions sealed the proxy's way (docs/PROTOCOL.md: AES-256-GCM, nonce | ciphertext | tag,
// AAD = sid) as Redis protocol on stdout (for `redis-cli --pipe`), and their HS512 tokens to the
// file named by TOKENS, one per line. Usage: N=200000 JWT_SECRET=... AES_KEY=<base64> TOKENS=f node seed.js
const crypto = require('node:crypto');
const fs = require('node:fs');

const n = +(process.env.N || 200000);
const secret = Buffer.from(process.env.JWT_SECRET, 'utf8');
const key = Buffer.from(process.env.AES_KEY, 'base64');
const b64u = (b) => Buffer.from(b).toString('base64url');
const exp = Math.floor(Date.now() / 1000) + 3600;
const head = b64u(JSON.stringify({ alg: 'HS512', typ: 'JWT' }));
const resp = (...args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');

const tokens = fs.openSync(process.env.TOKENS, 'w');
let out = [];
for (let i = 0; i < n; i++) {
  const sid = `bench-mem-${i}`;
  const body = b64u(JSON.stringify({ sub: `user${i}`, sid, exp }));
  const sig = crypto.createHmac('sha512', secret).update(`${head}.${body}`).digest('base64url');
  fs.writeSync(tokens, `${head}.${body}.${sig}\n`);
  const nonce = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(sid, 'utf8'));
  const ct = Buffer.concat([cipher.update(`user${i}:password-${i}`, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64');
  out.push(resp('SET', sid, JSON.stringify({ credentials: sealed }), 'EX', '3600'));
  if (out.length === 1000) {
    process.stdout.write(out.join(''));
    out = [];
  }
}
process.stdout.write(out.join(''));
fs.closeSync(tokens);
