/**
 * The Redis builds redis-ha accepts, per Debian release: the first build of Debian's redis source
 * package that carries the fixes for every Redis CVE of 2025 and 2026 that Debian fixed in that
 * release, read from the packages' own changelog.Debian (redis-tools, which holds the binary that
 * redis-server and redis-sentinel link to). The post-deploy check fails on an older build.
 *
 * The table is what was known when this redis-ha was released: a later Debian fix raises it in a
 * later release of redis-ha. docs/security.md says how to read a host's build and changelog.
 */

/** The package whose version is the Redis build: it holds the one binary both daemons run. */
export const REDIS_BINARIES_PACKAGE = "redis-tools";

export interface PatchedBuild {
    /** The first Debian version (epoch included) with every fix below. */
    minimum: string;
    /** The CVEs whose fixes it carries, by the build that brought each (the changelog's words). */
    fixes: string[];
}

export const PATCHED_REDIS_BUILDS: Readonly<Record<"12" | "13", PatchedBuild>> = {
    // bookworm, redis 7.0.15: deb12u4 CVE-2025-21605; u5 CVE-2025-27151, -32023, -48367; u6
    // CVE-2025-46817, -46818, -46819, -49844; u7 CVE-2025-67733, CVE-2026-21863; u8 CVE-2026-23631,
    // -25243; u9 CVE-2026-66373; u10 CVE-2026-81934 (TLS, unauthenticated RCE), -92925.
    "12": {
        minimum: "5:7.0.15-1~deb12u10",
        fixes: ["CVE-2025-21605", "CVE-2025-27151", "CVE-2025-32023", "CVE-2025-48367", "CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819", "CVE-2025-49844",
            "CVE-2025-67733", "CVE-2026-21863", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-66373", "CVE-2026-81934", "CVE-2026-92925"],
    },
    // trixie, redis 8.0.2: CVE-2025-27151, -32023, -48367 fixed before the release (8.0.2-1, -2);
    // deb13u1 CVE-2025-46817, -46818, -46819, -49844; u2 CVE-2025-67733, CVE-2026-21863; u3
    // CVE-2026-23479, -23631, -25243, -66373, -81934.
    "13": {
        minimum: "5:8.0.2-3+deb13u3",
        fixes: ["CVE-2025-46817", "CVE-2025-46818", "CVE-2025-46819", "CVE-2025-49844", "CVE-2025-67733",
            "CVE-2026-21863", "CVE-2026-23479", "CVE-2026-23631", "CVE-2026-25243", "CVE-2026-66373", "CVE-2026-81934"],
    },
};
