/** Shared valid inputs: each test changes one thing, so a failure points at that thing. */
export const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv7Yy3cUQG9kJ0c4Tq0nq1J2ZpM0dO2L8F4m7cP1t5E ops@example";
export const REDIS_PASSWORD = "Rp.0123456789-abcdefXYZ";
export const SENTINEL_PASSWORD = "Sp.9876543210-zyxwvuABC";

export const VALID_OVH: Record<string, string> = {
    cloud: "ovh",
    region: "EU-WEST-PAR",
    ovhProjectId: "5f0e1d2c3b4a59687766554433221100",
    sshPublicKeys: JSON.stringify([SSH_KEY]),
    adminCidrs: JSON.stringify(["203.0.113.10/32"]),
    appCidrs: JSON.stringify(["10.42.0.128/25"]),
    redisPassword: REDIS_PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
};

export const VALID_DO: Record<string, string> = {
    cloud: "digitalocean",
    region: "ams3",
    zones: JSON.stringify(["ams3", "fra1", "lon1"]),
    privateNetworkCidr: "10.42.0.0/22",
    sshPublicKeys: JSON.stringify([SSH_KEY]),
    adminCidrs: JSON.stringify(["203.0.113.10/32"]),
    appCidrs: JSON.stringify(["10.42.0.0/22"]),
    redisPassword: REDIS_PASSWORD,
    sentinelPassword: SENTINEL_PASSWORD,
};
