import * as http from "http";
import * as net from "net";
import { SandboxSecrets } from "../credentials";

// Small clients the health checks (and the tests) use.

export function httpGet(url: string, auth?: { user: string; password: string }, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    const req = http.get(url, { headers, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

export function httpPost(url: string, body: string, headers: Record<string, string> = {}, timeoutMs = 3000): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-length": Buffer.byteLength(body), ...headers }, timeout: timeoutMs }, (res) => {
      let out = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (out += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: out, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends raw lines over TCP and resolves with what came back before `until` matched. */
export function tcpExchange(port: number, payload: string, until: RegExp, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = "";
    const done = (e?: Error) => {
      sock.destroy();
      e ? reject(e) : resolve(got);
    };
    sock.setTimeout(timeoutMs, () => done(new Error("timeout")));
    sock.on("connect", () => sock.write(payload));
    sock.on("data", (d) => {
      got += d.toString();
      if (until.test(got)) done();
    });
    sock.on("error", done);
  });
}

/** A Kafka admin client of the sandbox's broker, as its admin user. */
export function kafkaAdmin(port: number, s: SandboxSecrets) {
  const { Kafka, logLevel } = require("kafkajs") as typeof import("kafkajs");
  return new Kafka({
    clientId: "rtdw-sandbox",
    brokers: [`127.0.0.1:${port}`],
    sasl: { mechanism: "plain", username: "admin", password: s.kafkaAdmin },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
}
