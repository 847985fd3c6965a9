import { addressAt, cidrsOverlap, parseCidr, subnetAt } from "../../components/core/cidr";

const cidr = (t: string) => {
    const r = parseCidr(t);
    if (!r.ok) throw new Error(r.reason);
    return r.cidr;
};

test.each([
    ["10.0.0.0/8", true],
    ["0.0.0.0/0", true],
    ["203.0.113.10/32", true],
    ["10.0.0.0", false],
    ["10.0.0.256/24", false],
    ["10.0.0.1/24", false],
    ["10.0.0.0/33", false],
    ["01.0.0.0/8", false],
    [" 10.0.0.0/8", false],
])("parseCidr(%s) ok=%s", (text, ok) => {
    expect(parseCidr(text).ok).toBe(ok);
});

test("overlap is symmetric and exact at the edges", () => {
    expect(cidrsOverlap(cidr("10.0.0.0/25"), cidr("10.0.0.128/25"))).toBe(false);
    expect(cidrsOverlap(cidr("10.0.0.0/24"), cidr("10.0.0.128/25"))).toBe(true);
    expect(cidrsOverlap(cidr("10.0.0.128/25"), cidr("10.0.0.0/24"))).toBe(true);
    expect(cidrsOverlap(cidr("0.0.0.0/0"), cidr("192.0.2.1/32"))).toBe(true);
});

test("addresses and sub-blocks", () => {
    expect(addressAt(cidr("10.42.0.0/24"), 11)).toBe("10.42.0.11");
    expect(() => addressAt(cidr("10.42.0.0/30"), 4)).toThrow(RangeError);
    expect(subnetAt(cidr("10.42.0.0/22"), 24, 3).text).toBe("10.42.3.0/24");
    expect(() => subnetAt(cidr("10.42.0.0/22"), 24, 4)).toThrow(RangeError);
});
