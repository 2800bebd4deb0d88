// A throwaway certificate for every host the simulator answers, made at start (nothing on disk).

import { generate } from "selfsigned";

export interface Certificate {
  key: string;
  cert: string;
}

export async function makeCertificate(): Promise<Certificate> {
  const dns = ["zhihu.com", "*.zhihu.com", "zhimg.com", "*.zhimg.com", "localhost"];
  const pems = await generate([{ name: "commonName", value: "zhihu.com" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...dns.map((value) => ({ type: 2 as const, value })), { type: 7, ip: "127.0.0.1" }],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
