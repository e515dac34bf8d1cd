import { generateKeyPairSync, randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as forge from "node-forge";

/**
 * A private CA and one server certificate it signs, for a service's listeners inside the cluster
 * (Kafka's). Made once by `pulumi up` and kept in the state (the key as a secret), so previews are
 * stable; changing the names or the validity replaces both, and the service restarts with them.
 * Clients trust the CA certificate, never the server certificate, so a replacement needs no client change
 * beyond the new CA, which the same `up` hands them.
 */
export interface ServerCertificateInputs {
  /** The server certificate's subject CN. */
  readonly commonName: string;
  /** Subject alternative names the clients connect to (wildcards allowed, e.g. `*.kafka.ns.svc.cluster.local`). */
  readonly dnsNames: readonly string[];
  /** How long the server certificate is valid; the CA lives twice as long. */
  readonly validityDays: number;
}

export interface ServerCertificateOutputs extends ServerCertificateInputs {
  readonly caCertificate: string;
  readonly certificate: string;
  readonly privateKey: string;
  /** When the server certificate expires (ISO 8601). */
  readonly notAfter: string;
}

function certificate(o: { subject: string; publicKeyPem: string; signerKeyPem: string; issuer: string; days: number; ca: boolean; dnsNames?: readonly string[] }): { pem: string; notAfter: Date } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(o.publicKeyPem);
  // A positive 16-byte serial (RFC 5280: at most 20 octets, non-negative).
  cert.serialNumber = "01" + randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + o.days * 86_400_000);
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
  return { pem: forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n"), notAfter: cert.validity.notAfter };
}

/** Issues a fresh CA and a server certificate signed by it (RSA 3072 keys, SHA-256). */
export function issueServerCertificate(i: ServerCertificateInputs): ServerCertificateOutputs {
  if (!i.dnsNames.length) throw new Error(`server certificate ${i.commonName}: no DNS names`);
  if (!(i.validityDays >= 1)) throw new Error(`server certificate ${i.commonName}: validityDays must be at least 1`);
  const key = () => generateKeyPairSync("rsa", { modulusLength: 3072, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } });
  const caKey = key();
  const serverKey = key();
  const caName = `${i.commonName} CA`;
  const ca = certificate({ subject: caName, issuer: caName, publicKeyPem: caKey.publicKey, signerKeyPem: caKey.privateKey, days: i.validityDays * 2, ca: true });
  const server = certificate({ subject: i.commonName, issuer: caName, publicKeyPem: serverKey.publicKey, signerKeyPem: caKey.privateKey, days: i.validityDays, ca: false, dnsNames: i.dnsNames });
  // The CA key is not kept: nothing else is ever signed with it, so there is nothing to steal it for.
  return { ...i, caCertificate: ca.pem, certificate: server.pem, privateKey: serverKey.privateKey, notAfter: server.notAfter.toISOString() };
}

export const serverCertificateProvider: pulumi.dynamic.ResourceProvider<ServerCertificateInputs, ServerCertificateOutputs> = {
  async diff(_id, olds, news) {
    const replaces = (["commonName", "dnsNames", "validityDays"] as const).filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const outs = issueServerCertificate(inputs);
    return { id: `${inputs.commonName}-${outs.notAfter}`, outs };
  },
  async delete() {},
};

export type ServerCertificateArgs = { readonly [K in keyof ServerCertificateInputs]: pulumi.Input<ServerCertificateInputs[K]> };

export class ServerCertificate extends pulumi.dynamic.Resource {
  declare readonly caCertificate: pulumi.Output<string>;
  declare readonly certificate: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(serverCertificateProvider, name, { ...args, caCertificate: undefined, certificate: undefined, privateKey: undefined, notAfter: undefined }, { ...opts, additionalSecretOutputs: ["privateKey"] }, "rtdw", "ServerCertificate");
  }
}
