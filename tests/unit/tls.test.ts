import { X509Certificate } from "crypto";
import * as tls from "tls";
import { AddressInfo } from "net";
import {
  CA_VALIDITY_DAYS,
  certificateInputProblems,
  issueServerCertificate,
  renewalDue,
  renewServerCertificate,
  serverCertificateProvider as provider,
  ServerCertificateInputs,
  ServerCertificateOutputs,
} from "../../components/platform/tls";

const DAY = 86_400_000;
const inputs: ServerCertificateInputs = { commonName: "kafka.rtdw.svc.cluster.local", dnsNames: ["kafka.rtdw.svc.cluster.local", "*.kafka.rtdw.svc.cluster.local"], validityDays: 825, renewBeforeDays: 30 };
/** The same certificate as the state would hold it `daysLeft` days before its end (time moved on). */
const aged = (c: ServerCertificateOutputs, daysLeft: number): ServerCertificateOutputs => ({ ...c, notAfter: new Date(Date.now() + daysLeft * DAY).toISOString() });
const daysFromNow = (iso: string) => (Date.parse(iso) - Date.now()) / DAY;

/** A real TLS handshake: a server with the certificate and key, a client that trusts only `ca`. */
async function handshake(c: { certificate: string; privateKey: string }, ca: string, servername: string): Promise<{ authorized: boolean; error?: string }> {
  const server = tls.createServer({ cert: c.certificate, key: c.privateKey }, (s) => s.end());
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  try {
    return await new Promise((res) => {
      const socket = tls.connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, ca, servername, rejectUnauthorized: true }, () => {
        res({ authorized: socket.authorized });
        socket.end();
      });
      socket.on("error", (e) => res({ authorized: false, error: e.message }));
    });
  } finally {
    server.close();
  }
}

describe("ServerCertificate: issued once, renewed by the same CA before its end", () => {
  const first = issueServerCertificate(inputs);

  it("issues a CA and a server certificate it signs, for the names clients connect to, and keeps the CA key", async () => {
    const ca = new X509Certificate(first.caCertificate);
    const server = new X509Certificate(first.certificate);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toBe("DNS:kafka.rtdw.svc.cluster.local, DNS:*.kafka.rtdw.svc.cluster.local");
    expect(Math.round(daysFromNow(first.notAfter))).toBe(825);
    expect(Math.round(daysFromNow(first.caNotAfter!))).toBe(CA_VALIDITY_DAYS);
    expect(Date.parse(server.validTo)).toBe(Math.floor(Date.parse(first.notAfter) / 1000) * 1000);
    expect(first.caPrivateKey).toContain("BEGIN PRIVATE KEY");
    expect(await handshake(first, first.caCertificate, "kafka-0.kafka.rtdw.svc.cluster.local")).toEqual({ authorized: true });
  });

  it("is due for nothing, a renewal by the same CA, or a new CA, by the time left", () => {
    expect(renewalDue(first, inputs, Date.now())).toBe("none");
    expect(renewalDue(aged(first, 31), inputs, Date.now())).toBe("none");
    expect(renewalDue(aged(first, 29), inputs, Date.now())).toBe("server");
    expect(renewalDue(aged(first, -1), inputs, Date.now())).toBe("server");
    // Made before the CA key was kept: only a new CA can renew it.
    const { caPrivateKey: _k, caNotAfter: _n, ...older } = aged(first, 29);
    expect(renewalDue(older, inputs, Date.now())).toBe("ca");
    // The CA would end before a renewed certificate's validityDays.
    expect(renewalDue({ ...aged(first, 29), caNotAfter: new Date(Date.now() + 800 * DAY).toISOString() }, inputs, Date.now())).toBe("ca");
  });

  it("a renewal keeps the CA clients trust, with a new key, and still completes a TLS handshake with it", async () => {
    const renewed = renewServerCertificate(aged(first, 10), inputs);
    expect(renewed.caCertificate).toBe(first.caCertificate);
    expect(renewed.caPrivateKey).toBe(first.caPrivateKey);
    expect(renewed.privateKey).not.toBe(first.privateKey);
    expect(renewed.certificate).not.toBe(first.certificate);
    expect(Math.round(daysFromNow(renewed.notAfter))).toBe(825);
    expect(new X509Certificate(renewed.certificate).verify(new X509Certificate(first.caCertificate).publicKey)).toBe(true);
    expect(await handshake(renewed, first.caCertificate, "kafka.rtdw.svc.cluster.local")).toEqual({ authorized: true });
    // And a client trusting another CA is refused, so the handshake above can fail.
    const other = issueServerCertificate(inputs);
    expect((await handshake(renewed, other.caCertificate, "kafka.rtdw.svc.cluster.local")).authorized).toBe(false);
  });

  it("a renewal never outlives its CA", () => {
    // A CA with 800 days left cannot vouch for 825 (renewalDue sends such a case to a new CA first).
    const caEnd = new Date(Date.now() + 800 * DAY).toISOString();
    const renewed = renewServerCertificate({ ...aged(first, 10), caNotAfter: caEnd }, inputs);
    expect(renewed.notAfter).toBe(caEnd);
    expect(Date.parse(new X509Certificate(renewed.certificate).validTo)).toBe(Math.floor(Date.parse(caEnd) / 1000) * 1000);
  });

  describe("the provider, as the engine calls it", () => {
    it("diff: no change while the certificate is young; an update (same CA) in its renewal window", async () => {
      expect(await provider.diff!("id", first, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
      expect(await provider.diff!("id", aged(first, 20), inputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("diff: a replacement for notAfter when only a new CA can renew; for the input that changed otherwise", async () => {
      const { caPrivateKey: _k, ...older } = aged(first, 20);
      expect(await provider.diff!("id", older, inputs)).toMatchObject({ changes: true, replaces: ["notAfter"] });
      expect(await provider.diff!("id", first, { ...inputs, dnsNames: ["kafka"] })).toMatchObject({ changes: true, replaces: ["dnsNames"] });
    });

    it("diff: a state from before renewals existed updates in place (no new CA) until its window opens", async () => {
      const { renewBeforeDays: _r, caPrivateKey: _k, caNotAfter: _n, ...older } = first;
      expect(await provider.diff!("id", older as ServerCertificateOutputs, inputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      const { outs } = await provider.update!("id", older as ServerCertificateOutputs, inputs);
      expect(outs).toEqual({ ...older, renewBeforeDays: 30 });
    });

    it("update in the window renews: same CA certificate, new server certificate and key", async () => {
      const outs = (await provider.update!("id", aged(first, 20), inputs)).outs as ServerCertificateOutputs;
      expect(outs.caCertificate).toBe(first.caCertificate);
      expect(outs.certificate).not.toBe(first.certificate);
      expect(Math.round(daysFromNow(outs.notAfter))).toBe(825);
    });

    it("check names each input that is wrong", async () => {
      expect((await provider.check!(inputs, inputs)).failures).toEqual([]);
      expect(certificateInputProblems({ ...inputs, renewBeforeDays: 825 }).map((p) => p.property)).toEqual(["renewBeforeDays"]);
      expect(certificateInputProblems({ ...inputs, validityDays: 4000, dnsNames: [] }).map((p) => p.property)).toEqual(["dnsNames", "validityDays"]);
      expect(() => issueServerCertificate({ ...inputs, renewBeforeDays: 0 })).toThrow(/renewBeforeDays 0 is not a whole number of days/);
    });
  });
});
