/**
 * What we know about each cloud's regions, so that a typo or an impossible spread is caught at
 * preview time instead of by the cloud API half-way through `pulumi up`.
 */
export type Cloud = "ovh" | "digitalocean" | "lab";
export const CLOUDS: readonly Cloud[] = ["ovh", "digitalocean", "lab"];

/** The lab: network namespaces on this machine, one per planned VM, in simulated zones. */
export const LAB_REGION = "lab";
export const LAB_ZONES: readonly string[] = ["lab-a", "lab-b", "lab-c"];

/** OVHcloud regions with three availability zones (OpenStack AZ names). */
export const OVH_MULTI_AZ_REGIONS: Readonly<Record<string, readonly string[]>> = {
    "EU-WEST-PAR": ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"],
    "EU-SOUTH-MIL": ["eu-south-mil-a", "eu-south-mil-b", "eu-south-mil-c"],
};

/** Single-AZ OVHcloud regions: OpenStack exposes one zone, "nova"; we fall back to host anti-affinity. */
export const OVH_SINGLE_AZ_REGIONS: readonly string[] = [
    "GRA7", "GRA9", "GRA11", "SBG5", "SBG7", "BHS5", "DE1", "UK1", "WAW1", "SGP1", "SYD1",
    "US-EAST-VA-1", "US-WEST-OR-1", "CA-EAST-TOR", "AP-SOUTH-MUM-1",
];
export const OVH_SINGLE_AZ_ZONE = "nova";

/** DigitalOcean datacenters (region slugs). DigitalOcean has no availability zones inside one. */
export const DIGITALOCEAN_DATACENTERS: readonly string[] = [
    "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "ams3", "sgp1", "lon1", "fra1", "tor1", "blr1", "syd1", "atl1",
];

/**
 * What a "zone" is: an OpenStack availability zone of a multi-AZ region, the only zone of a
 * single-AZ region, or a whole DigitalOcean datacenter.
 */
export type ZoneKind = "availability-zone" | "single-az-region" | "datacenter";

export interface RegionZones {
    known: boolean;
    zones: readonly string[];
    zoneKind: ZoneKind;
}

export function regionZones(cloud: Cloud, region: string): RegionZones {
    if (cloud === "lab") return { known: region === LAB_REGION, zones: LAB_ZONES, zoneKind: "availability-zone" };
    if (cloud === "ovh") {
        const multi = OVH_MULTI_AZ_REGIONS[region];
        if (multi) return { known: true, zones: multi, zoneKind: "availability-zone" };
        if (OVH_SINGLE_AZ_REGIONS.includes(region)) {
            return { known: true, zones: [OVH_SINGLE_AZ_ZONE], zoneKind: "single-az-region" };
        }
        return { known: false, zones: [], zoneKind: "single-az-region" };
    }
    // On DigitalOcean a "zone" is a whole datacenter; any of them can be joined by VPC peering.
    const known = DIGITALOCEAN_DATACENTERS.includes(region);
    return { known, zones: DIGITALOCEAN_DATACENTERS, zoneKind: "datacenter" };
}

export function knownRegions(cloud: Cloud): string[] {
    if (cloud === "lab") return [LAB_REGION];
    return cloud === "ovh"
        ? [...Object.keys(OVH_MULTI_AZ_REGIONS), ...OVH_SINGLE_AZ_REGIONS]
        : [...DIGITALOCEAN_DATACENTERS];
}

export interface CloudDefaults {
    region: string;
    instanceType: string;
    sentinelInstanceType: string;
    image: string;
    sshUser: string;
}

export const CLOUD_DEFAULTS: Readonly<Record<Cloud, CloudDefaults>> = {
    ovh: { region: "EU-WEST-PAR", instanceType: "b3-8", sentinelInstanceType: "d2-2", image: "Debian 12", sshUser: "debian" },
    digitalocean: {
        region: "nyc3",
        instanceType: "s-2vcpu-4gb",
        sentinelInstanceType: "s-1vcpu-1gb",
        image: "debian-12-x64",
        sshUser: "root",
    },
    lab: { region: LAB_REGION, instanceType: "namespace", sentinelInstanceType: "namespace", image: "this-machine", sshUser: "root" },
};
