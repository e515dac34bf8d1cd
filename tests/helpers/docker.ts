/**
 * The allocation rules the Docker engine applies when it creates containers, for a rendered stack:
 * what `docker run` would refuse, with the engine's own message.
 *  - a name in use: "Conflict. The container name "/x" is already in use";
 *  - a host address, port and protocol bound twice (0.0.0.0 overlaps every address):
 *    "Bind for 127.0.0.1:8081 failed: port is already allocated";
 *  - ports published by a container that joins another's network namespace:
 *    "conflicting options: port publishing and the container type network mode".
 */
export interface RenderedContainer {
  readonly name: string;
  readonly networkMode?: string;
  readonly ports?: readonly { readonly internal: number; readonly external?: number; readonly ip?: string; readonly protocol?: string }[];
}

export function dockerAllocationProblems(containers: readonly RenderedContainer[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const bound: { ip: string; port: number; protocol: string; by: string }[] = [];
  for (const c of containers) {
    if (names.has(c.name)) problems.push(`Conflict. The container name "/${c.name}" is already in use`);
    names.add(c.name);
    if (c.networkMode?.startsWith("container:") && c.ports?.length) problems.push(`${c.name}: conflicting options: port publishing and the container type network mode`);
    for (const p of c.ports ?? []) {
      if (p.external === undefined) continue; // an ephemeral host port: the engine picks a free one
      const ip = p.ip || "0.0.0.0";
      const protocol = (p.protocol ?? "tcp").toLowerCase();
      const clash = bound.find((b) => b.port === p.external && b.protocol === protocol && (b.ip === ip || b.ip === "0.0.0.0" || ip === "0.0.0.0"));
      if (clash) problems.push(`${c.name}: Bind for ${ip}:${p.external} failed: port is already allocated (by ${clash.by})`);
      else bound.push({ ip, port: p.external, protocol, by: c.name });
    }
  }
  return problems;
}
