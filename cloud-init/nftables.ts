import type { FirewallRule } from "../components/core/firewallPolicy";

export interface NftablesInput {
    hostName: string;
    /** The rules that apply to this host (rulesFor(policy, host)). */
    rules: readonly FirewallRule[];
    /** Private addresses of every host of the deployment: the "cluster" source. */
    clusterAddresses: readonly string[];
}

export const NFT_TABLE = "redis_ha";

/**
 * The firewall policy as an nftables ruleset for one host: inbound traffic is dropped unless a
 * rule admits it; outbound is untouched (the policy's egress is "any"). Loading it replaces any
 * previous redis-ha table atomically, so it can be applied again without leaving stale rules.
 */
export function renderNftables(input: NftablesInput): string {
    const accept = input.rules.map((rule) => {
        const source = rule.source.kind === "cluster" ? "@cluster" : rule.source.cidr;
        return `        ${rule.protocol} dport ${rule.port} ip saddr ${source} accept comment ${JSON.stringify(rule.purpose)}`;
    });
    return [
        "#!/usr/sbin/nft -f",
        `# nftables for ${input.hostName}, rendered by redis-ha from the firewall policy: only what must come in.`,
        `table inet ${NFT_TABLE}`,
        `delete table inet ${NFT_TABLE}`,
        `table inet ${NFT_TABLE} {`,
        "    set cluster {",
        "        type ipv4_addr",
        ...(input.clusterAddresses.length > 0 ? [`        elements = { ${input.clusterAddresses.join(", ")} }`] : []),
        "    }",
        "    chain input {",
        "        type filter hook input priority filter; policy drop;",
        '        iif "lo" accept',
        "        ct state established,related accept",
        "        ct state invalid drop",
        ...accept,
        "    }",
        "}",
        "",
    ].join("\n");
}
