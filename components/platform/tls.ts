import { generateKeyPairSync, randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as forge from "node-forge";

/**
 * A private CA and one server certificate it signs, for a service's listeners inside the cluster
 * (Kafka's). Made by `pulumi up` and kept in the state (the keys as secrets), so previews are stable;
 * changing the names or the validity replaces both, and the service restarts with them.
 * Clients trust the CA certificate, never the server certificate. Once the server certificate is within
 * `renewBeforeDays` of its end, the next `up` renews it (an update): a new key and certificate signed by
 * the same CA, so the brokers restart with it and no client changes. Only a renewal that would outlive
 * the CA (after about ten years), or a certificate made before the CA key was kept, issues a new CA
 * (a replacement), which the same `up` hands to every client.
 */
export interface ServerCertificateInputs {
  /** The server certificate's subject CN. */
  readonly commonName: string;
  /** Subject alternative names the clients connect to (wildcards allowed, e.g. `*.kafka.ns.svc.cluster.local`). */
  readonly dnsNames: readonly string[];
  /** How long the server certificate is valid (at most half of the CA's CA_VALIDITY_DAYS). */
  readonly validityDays: number;
  /** How many days before its end `pulumi up` renews the server certificate (less than validityDays). */
  readonly renewBeforeDays: number;
}

export interface ServerCertificateOutputs extends ServerCertificateInputs {
  readonly caCertificate: string;
  readonly certificate: string;
  readonly privateKey: string;
  /** When the server certificate expires (ISO 8601). */
  readonly notAfter: string;
  /** The CA's key, so renewals are signed by the same CA; absent from certificates made before renewals existed. */
  readonly caPrivateKey?: string;
  /** When the CA expires (ISO 8601). */
  readonly caNotAfter?: string;
}

/** The CA's lifetime: long, because a new CA is the one renewal every client must take part in. */
export const CA_VALIDITY_DAYS = 3650;
const DAY_MS = 86_400_000;

type KeyPair = { publicKey: string; privateKey: string };
const keyPair = (): KeyPair => generateKeyPairSync("rsa", { modulusLength: 3072, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });

function certificate(o: { subject: string; publicKeyPem: string; signerKeyPem: string; issuer: string; notAfter: Date; ca: boolean; dnsNames?: readonly string[] }): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(o.publicKeyPem);
  // A positive 16-byte serial (RFC 5280: at most 20 octets, non-negative).
  cert.serialNumber = "01" + randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = o.notAfter;
  cert.setSubject([{ name: "commonName", value: o.subject }]);
  cert.setIssuer([{ name: "commonName", value: o.issuer }]);
  cert.setExtensions(
    o.ca
      ? [
          { name: "basicConstraints", cA: true, critical: true, pathLenConstraint: 0 },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
          { name: "subjectKeyIdentifier" },
        ]
      : [
          { name: "basicConstraints", cA: false, critical: true },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
          { name: "extKeyUsage", serverAuth: true, clientAuth: true },
          { name: "subjectAltName", altNames: (o.dnsNames ?? []).map((value) => ({ type: 2, value })) },
        ],
  );
  cert.sign(forge.pki.privateKeyFromPem(o.signerKeyPem), forge.md.sha256.create());
  // forge ends PEM lines with CRLF; a CR would end a .properties value, so LF only.
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n");
}

/** What is wrong with the inputs, by property (empty when they are fine). */
export function certificateInputProblems(i: Partial<ServerCertificateInputs>): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!i.commonName) problems.push({ property: "commonName", reason: "is empty" });
  if (!i.dnsNames?.length) problems.push({ property: "dnsNames", reason: "names no host: clients could not verify the certificate" });
  const v = i.validityDays;
  if (!Number.isInteger(v) || v! < 1 || v! > CA_VALIDITY_DAYS / 2) problems.push({ property: "validityDays", reason: `${v} is not a whole number of days from 1 to ${CA_VALIDITY_DAYS / 2} (half the CA's life)` });
  const r = i.renewBeforeDays;
  if (!Number.isInteger(r) || r! < 1 || (Number.isInteger(v) && r! >= v!)) problems.push({ property: "renewBeforeDays", reason: `${r} is not a whole number of days from 1 to less than validityDays (${v}): every up would renew` });
  return problems;
}

function checked(i: ServerCertificateInputs): void {
  const problems = certificateInputProblems(i);
  if (problems.length) throw new Error(`server certificate ${i.commonName}: ${problems.map((p) => `${p.property} ${p.reason}`).join("; ")}`);
}

/** A server key and certificate signed by the given CA, ending validityDays from now or with the CA. */
function serverPart(i: ServerCertificateInputs, ca: { certificate: string; privateKey: string; notAfter: Date }) {
  const key = keyPair();
  const notAfter = new Date(Math.min(Date.now() + i.validityDays * DAY_MS, ca.notAfter.getTime()));
  const caName = forge.pki.certificateFromPem(ca.certificate).subject.getField("CN").value as string;
  const pem = certificate({ subject: i.commonName, issuer: caName, publicKeyPem: key.publicKey, signerKeyPem: ca.privateKey, notAfter, ca: false, dnsNames: i.dnsNames });
  return { certificate: pem, privateKey: key.privateKey, notAfter: notAfter.toISOString() };
}

/** Issues a fresh CA and a server certificate signed by it (RSA 3072 keys, SHA-256). */
export function issueServerCertificate(i: ServerCertificateInputs): ServerCertificateOutputs {
  checked(i);
  const caKey = keyPair();
  const caName = `${i.commonName} CA`;
  const caNotAfter = new Date(Date.now() + CA_VALIDITY_DAYS * DAY_MS);
  const caCertificate = certificate({ subject: caName, issuer: caName, publicKeyPem: caKey.publicKey, signerKeyPem: caKey.privateKey, notAfter: caNotAfter, ca: true });
  const server = serverPart(i, { certificate: caCertificate, privateKey: caKey.privateKey, notAfter: caNotAfter });
  return { ...i, caCertificate, ...server, caPrivateKey: caKey.privateKey, caNotAfter: caNotAfter.toISOString() };
}

/** A new server key and certificate from the same CA; the CA certificate (what clients trust) is unchanged. */
export function renewServerCertificate(current: ServerCertificateOutputs, i: ServerCertificateInputs): ServerCertificateOutputs {
  checked(i);
  if (!current.caPrivateKey || !current.caNotAfter) throw new Error(`server certificate ${i.commonName}: its CA key was not kept, so only a new CA can renew it`);
  const server = serverPart(i, { certificate: current.caCertificate, privateKey: current.caPrivateKey, notAfter: new Date(current.caNotAfter) });
  return { ...current, ...i, ...server };
}

/**
 * What `up` does about the certificate's age at `now`: nothing yet, a renewal by the same CA, or a new
 * CA, when the CA key was not kept or a renewal would end before validityDays because the CA does.
 */
export function renewalDue(current: ServerCertificateOutputs, i: ServerCertificateInputs, now: number): "none" | "server" | "ca" {
  if (now < Date.parse(current.notAfter) - i.renewBeforeDays * DAY_MS) return "none";
  if (!current.caPrivateKey || !current.caNotAfter || Date.parse(current.caNotAfter) < now + i.validityDays * DAY_MS) return "ca";
  return "server";
}

const REPLACING_INPUTS = ["commonName", "dnsNames", "validityDays"] as const;

export const serverCertificateProvider: pulumi.dynamic.ResourceProvider<ServerCertificateInputs, ServerCertificateOutputs> = {
  async check(_olds, news) {
    return { inputs: news, failures: certificateInputProblems(news) };
  },
  async diff(_id, olds, news) {
    const replaces: string[] = REPLACING_INPUTS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const due = replaces.length ? "none" : renewalDue(olds, news, Date.now());
    // The property named is the one that is due: preview shows the certificate replaced for `notAfter`.
    if (due === "ca") replaces.push("notAfter");
    return { changes: replaces.length > 0 || due === "server" || olds.renewBeforeDays !== news.renewBeforeDays, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const outs = issueServerCertificate(inputs);
    return { id: `${inputs.commonName}-${outs.notAfter}`, outs };
  },
  async update(_id, olds, news) {
    // diff sent replacements elsewhere: here either a renewal by the same CA or only renewBeforeDays changed.
    return { outs: renewalDue(olds, news, Date.now()) === "server" ? renewServerCertificate(olds, news) : { ...olds, renewBeforeDays: news.renewBeforeDays } };
  },
  async delete() {},
};

export type ServerCertificateArgs = { readonly [K in keyof ServerCertificateInputs]: pulumi.Input<ServerCertificateInputs[K]> };

export class ServerCertificate extends pulumi.dynamic.Resource {
  declare readonly caCertificate: pulumi.Output<string>;
  declare readonly certificate: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;
  declare readonly caNotAfter: pulumi.Output<string>;

  constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(serverCertificateProvider, name, { ...args, caCertificate: undefined, certificate: undefined, privateKey: undefined, notAfter: undefined, caPrivateKey: undefined, caNotAfter: undefined }, { ...opts, additionalSecretOutputs: ["privateKey", "caPrivateKey"] }, "rtdw", "ServerCertificate");
  }
}
