/**
 * How much of the public Internet a set of allowed CIDRs lets in, counted as addresses, not read off
 * the spelling: 0.0.0.0/0, two /1s, 256 /8s or a thousand overlapping blocks that add up to most of
 * the Internet are the same exposure. Pure.
 */
import { Ipv4Cidr, cidrSize, parseCidr } from "./cidr";

/**
 * Blocks no host on the public Internet can send from (IANA's special-purpose address registry,
 * RFC 6890 and its updates): "this network", private (RFC 1918), shared CGNAT space, loopback,
 * link-local, IETF protocol assignments, the three documentation blocks, benchmarking, multicast
 * and the reserved 240/4 (with broadcast). Everything else counts as public.
 */
export const NON_PUBLIC_IPV4_BLOCKS = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4",
] as const;

/**
 * The most public addresses one port admits without `allowWorldAccess`: a /16's worth, 65,536 —
 * far more than any shop's servers, offices and VPN egress put together, and a 1/56,000th of the
 * public Internet. Beyond it the port is, for a scanner, open.
 */
export const MAX_PUBLIC_ADDRESSES_PER_PORT = 65536;

/** Half-open address ranges [start, end), sorted and merged. */
type Ranges = Array<[number, number]>;

const rangeOf = (c: Ipv4Cidr): [number, number] => [c.network, c.network + cidrSize(c)];

function merged(blocks: readonly Ipv4Cidr[]): Ranges {
    const ranges = blocks.map(rangeOf).sort((a, b) => a[0] - b[0]);
    const out: Ranges = [];
    for (const [start, end] of ranges) {
        const last = out[out.length - 1];
        if (last && start <= last[1]) last[1] = Math.max(last[1], end);
        else out.push([start, end]);
    }
    return out;
}

const NON_PUBLIC = merged(NON_PUBLIC_IPV4_BLOCKS.map((text) => {
    const parsed = parseCidr(text);
    if (!parsed.ok) throw new Error(`NON_PUBLIC_IPV4_BLOCKS: ${text} ${parsed.reason}`);
    return parsed.cidr;
}));

/** Public addresses inside one merged range. */
function publicIn([start, end]: [number, number]): number {
    let hidden = 0;
    for (const [s, e] of NON_PUBLIC) hidden += Math.max(0, Math.min(end, e) - Math.max(start, s));
    return end - start - hidden;
}

/** Every public IPv4 address there is (about 3.7 billion). */
export const PUBLIC_IPV4_ADDRESSES = publicIn([0, 2 ** 32]);

export interface PublicExposure {
    /** Distinct public addresses the blocks admit, overlaps counted once. */
    publicAddresses: number;
    /** The same as a share of every public address (0..1). */
    shareOfInternet: number;
    /** The blocks that admit the most public addresses, widest first (at most three), for the message. */
    widest: string[];
}

export function publicExposure(blocks: readonly Ipv4Cidr[]): PublicExposure {
    const publicAddresses = merged(blocks).reduce((sum, range) => sum + publicIn(range), 0);
    const widest = blocks
        .map((c) => ({ text: c.text, count: publicIn(rangeOf(c)) }))
        .filter((c) => c.count > 0)
        .sort((a, b) => b.count - a.count)
        .slice(0, 3)
        .map((c) => c.text);
    return { publicAddresses, shareOfInternet: publicAddresses / PUBLIC_IPV4_ADDRESSES, widest };
}

/** "1,862,270,976 public IPv4 addresses (50.3% of the Internet's)": what an exposure means, in a sentence. */
export function describeExposure(exposure: PublicExposure): string {
    const share = exposure.shareOfInternet * 100;
    const shown = share >= 0.1 ? `${share.toFixed(1)}%` : share > 0 ? `${share.toPrecision(2)}%` : "0%";
    return `${exposure.publicAddresses.toLocaleString("en-US")} public IPv4 addresses (${shown} of the Internet's${exposure.widest.length > 0 ? `; widest: ${exposure.widest.join(", ")}` : ""})`;
}
