/**
 * The VM test's image and guest mirror, built once by vm/build-image.sh and cached under
 * .state/vm/image-<hash>/ by a hash of the builder and the Debian versions it would install.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { run } from "../components/platforms/lab/shell";

export const VM_STATE_DIR = path.resolve(__dirname, "..", ".state", "vm");
export const BUILDER = path.join(__dirname, "build-image.sh");
export const MIRROR_HTTPD = path.join(__dirname, "mirror-httpd.py");

/** The packages whose versions decide the image and the mirror (the builder's lists and their key dependencies). */
export const VERSIONED_PACKAGES = [
    "linux-image-cloud-amd64", "systemd", "cloud-init", "openssh-server", "sudo", "locales", "python3-cffi-backend",
    "redis-server", "redis-sentinel", "redis-tools", "prometheus-redis-exporter", "libc6", "libssl3",
];

export interface ImagePaths {
    dir: string;
    kernel: string;
    initrd: string;
    base: string;
    repo: string;
}

export function imagePathsIn(dir: string): ImagePaths {
    return { dir, kernel: path.join(dir, "vmlinuz"), initrd: path.join(dir, "initrd.img"), base: path.join(dir, "base.img"), repo: path.join(dir, "repo") };
}

/** Candidate versions as this machine's apt sees them (the same Debian mirror the builder uses). */
export function candidateVersions(packages: readonly string[]): string {
    const policy = run(["apt-cache", "policy", ...packages], { timeoutMs: 60000 }).stdout;
    const lines: string[] = [];
    let current = "";
    for (const line of policy.split("\n")) {
        const name = /^(\S+):$/.exec(line);
        if (name) current = name[1];
        const candidate = /^\s+Candidate:\s+(\S+)/.exec(line);
        if (candidate) lines.push(`${current}=${candidate[1]}`);
    }
    return lines.sort().join("\n");
}

export function imageKey(builderSource: string, versions: string): string {
    return createHash("sha256").update(builderSource).update("\0").update(versions).digest("hex").slice(0, 16);
}

function complete(paths: ImagePaths): boolean {
    return [paths.kernel, paths.initrd, paths.base, path.join(paths.repo, "Packages")].every((f) => fs.existsSync(f));
}

/**
 * The cached image for the current builder and Debian versions, building it if needed (about 2 to 3
 * minutes cold; the first call holds a lock so parallel callers wait instead of building twice).
 */
export function ensureImage(log: (line: string) => void = () => undefined): { paths: ImagePaths; built: boolean; seconds: number } {
    const started = Date.now();
    const key = imageKey(fs.readFileSync(BUILDER, "utf8") + fs.readFileSync(MIRROR_HTTPD, "utf8"), candidateVersions(VERSIONED_PACKAGES));
    const paths = imagePathsIn(path.join(VM_STATE_DIR, `image-${key}`));
    if (complete(paths)) return { paths, built: false, seconds: (Date.now() - started) / 1000 };
    fs.mkdirSync(VM_STATE_DIR, { recursive: true, mode: 0o700 });
    log(`vm image ${key}: building (debootstrap + the guests' apt repository; a few minutes the first time)`);
    // flock: a second builder waits for the first, then finds the image complete.
    run(["flock", path.join(VM_STATE_DIR, "build.lock"), "sh", "-c", `[ -e "$1/repo/Packages" ] && [ -e "$1/base.img" ] || bash "$2" "$1"`, "build", paths.dir, BUILDER], { timeoutMs: 20 * 60 * 1000 });
    if (!complete(paths)) throw new Error(`vm image build finished but ${paths.dir} is incomplete`);
    // Older images are dead weight (1.5 GB each): keep only this one.
    for (const entry of fs.readdirSync(VM_STATE_DIR)) {
        if (entry.startsWith("image-") && entry !== `image-${key}`) fs.rmSync(path.join(VM_STATE_DIR, entry), { recursive: true, force: true });
    }
    return { paths, built: true, seconds: (Date.now() - started) / 1000 };
}
