/** IPv4 CIDR arithmetic, kept tiny and exact: the firewall and the address plan depend on it. */

export interface Ipv4Cidr {
    /** The text as given, normalised (e.g. "10.42.0.0/24"). */
    text: string;
    network: number;
    prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(address: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

export type CidrParse = { ok: true; cidr: Ipv4Cidr } | { ok: false; reason: string };

export function parseCidr(text: string): CidrParse {
    const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
    if (!match) return { ok: false, reason: "is not of the form a.b.c.d/prefix" };
    const address = parseIpv4(match[1]);
    if (address === undefined) return { ok: false, reason: `"${match[1]}" is not an IPv4 address` };
    const prefix = Number(match[2]);
    if (prefix > 32) return { ok: false, reason: `prefix /${prefix} is larger than /32` };
    const size = 2 ** (32 - prefix);
    if (address % size !== 0) {
        const network = address - (address % size);
        return { ok: false, reason: `has host bits set (the network is ${formatIpv4(network)}/${prefix})` };
    }
    return { ok: true, cidr: { text: `${formatIpv4(address)}/${prefix}`, network: address, prefix } };
}

export function cidrSize(cidr: Ipv4Cidr): number {
    return 2 ** (32 - cidr.prefix);
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

export function cidrContains(outer: Ipv4Cidr, address: number): boolean {
    return address >= outer.network && address < outer.network + cidrSize(outer);
}

/** The n-th address inside the block (0 is the network address). */
export function addressAt(cidr: Ipv4Cidr, offset: number): string {
    if (offset < 0 || offset >= cidrSize(cidr)) throw new RangeError(`offset ${offset} is outside ${cidr.text}`);
    return formatIpv4(cidr.network + offset);
}

/** The i-th sub-block of the given prefix inside a block. */
export function subnetAt(cidr: Ipv4Cidr, prefix: number, index: number): Ipv4Cidr {
    const size = 2 ** (32 - prefix);
    const network = cidr.network + index * size;
    if (prefix < cidr.prefix || network + size > cidr.network + cidrSize(cidr)) {
        throw new RangeError(`${cidr.text} has no sub-block /${prefix} number ${index}`);
    }
    return { text: `${formatIpv4(network)}/${prefix}`, network, prefix };
}

export const WORLD_CIDR = "0.0.0.0/0";
