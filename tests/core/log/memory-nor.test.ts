// The NOR flash model: real NOR semantics (program ANDs, erase sets 0xFF,
// no program across a page), operation counts, power loss at the Nth
// program or erase (left half done, then everything fails until reboot),
// and its image for the simulator's file.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { MemoryNor, NorError, PowerLossError } from "../../../src/core/log/memory-nor"

const geometry = { sectorSize: 256, pageSize: 64, sectorCount: 4 }
const nor = (seed = 1) => new MemoryNor({ geometry, seed })

describe("NOR semantics", () => {
    test("a blank chip reads 0xFF", async () => {
        expect(await nor().read(100, 300)).toEqual(new Array(300).fill(0xff))
    })

    test("program ANDs: bits only go from 1 to 0", async () => {
        const f = nor()
        await f.program(10, [0x0f, 0xff, 0x00])
        await f.program(10, [0xf0, 0x5a, 0xff])
        expect(await f.read(10, 3)).toEqual([0x00, 0x5a, 0x00])
    })

    test("erase sets a sector back to 0xFF and leaves the others", async () => {
        const f = nor()
        await f.program(0, [1, 2, 3])
        await f.program(256, [4, 5])
        await f.eraseSector(0)
        expect(await f.read(0, 3)).toEqual([0xff, 0xff, 0xff])
        expect(await f.read(256, 2)).toEqual([4, 5])
    })

    test.each([
        ["across a page", 60, [1, 2, 3, 4, 5]],
        ["past the end", 1023, [1, 2]],
        ["a negative address", -1, [1]],
        ["a value that is not a byte", 0, [256]],
        ["a fraction", 0, [1.5]],
    ] as [string, number, number[]][])("program %s is refused", async (_what, addr, bytes) => {
        await expect(nor().program(addr, bytes)).rejects.toThrow(NorError)
    })

    test("erase of a sector that does not exist is refused", async () => {
        await expect(nor().eraseSector(4)).rejects.toThrow(NorError)
    })

    test("operations are counted", async () => {
        const f = nor()
        await f.program(0, [0])
        await f.program(64, [0])
        await f.eraseSector(1)
        await f.read(0, 10)
        expect([f.programs, f.erases, f.reads, f.mutatingOps]).toEqual([2, 1, 1, 3])
    })
})

describe("power loss", () => {
    test("the Nth operation is left half done, then everything fails until reboot", async () => {
        const f = nor(7)
        await f.program(0, [0x11])
        f.cutPowerAtOp(2)
        await expect(f.program(64, new Array(64).fill(0))).rejects.toThrow(PowerLossError)
        expect(f.isPoweredOff()).toBe(true)
        await expect(f.read(0, 1)).rejects.toThrow(PowerLossError)
        await expect(f.eraseSector(0)).rejects.toThrow(PowerLossError)
        f.reboot()
        expect(await f.read(0, 1)).toEqual([0x11])
        await f.program(200, [0x22])
        expect(await f.read(200, 1)).toEqual([0x22])
    })

    test("a torn program only clears bits the program would have cleared, and only in its range", async () => {
        fc.assert(
            fc.asyncProperty(fc.integer({ min: 1, max: 1e9 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }), async (seed, bytes) => {
                const f = nor(seed)
                const old = Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff | 0x81)
                await f.program(64, old)
                f.cutPowerAtOp(2)
                await expect(f.program(64, bytes)).rejects.toThrow(PowerLossError)
                f.reboot()
                const after = await f.read(0, 256)
                for (let i = 0; i < 64; i++) {
                    const v = after[64 + i]
                    const o = old[i]
                    const n = i < bytes.length ? bytes[i] : 0xff
                    expect(v & ~o & 0xff, `byte ${i}: no bit set`).toBe(0)
                    expect(v & (o & n), `byte ${i}: bits the program keeps stay`).toBe(o & n)
                }
                expect(after.slice(0, 64)).toEqual(new Array(64).fill(0xff))
                expect(after.slice(128)).toEqual(new Array(128).fill(0xff))
            })
        )
    })

    test("torn programs take several shapes: nothing, some bytes, all but a prefix", async () => {
        const shapes = new Set<string>()
        for (let seed = 1; seed <= 60; seed++) {
            const f = nor(seed)
            f.cutPowerAtOp(1)
            await expect(f.program(0, new Array(32).fill(0))).rejects.toThrow(PowerLossError)
            f.reboot()
            const b = await f.read(0, 32)
            const zero = b.map(x => (x === 0 ? "0" : x === 0xff ? "F" : "p")).join("")
            shapes.add(zero === "F".repeat(32) ? "nothing" : /^F+[0p]/.test(zero) ? "blank prefix" : /^0+[Fp]/.test(zero) ? "prefix" : zero === "0".repeat(32) ? "all" : "mixed")
        }
        expect([...shapes]).toEqual(expect.arrayContaining(["nothing", "blank prefix", "prefix", "mixed"]))
    })

    test("a torn erase leaves garbage, or the sector as it was, or a sector whose first bytes look intact", async () => {
        const outcomes = new Set<string>()
        for (let seed = 1; seed <= 40; seed++) {
            const f = nor(seed)
            await f.program(0, new Array(64).fill(0))
            await f.program(64, new Array(64).fill(0))
            f.cutPowerAtOp(3)
            await expect(f.eraseSector(0)).rejects.toThrow(PowerLossError)
            f.reboot()
            const head = await f.read(0, 64)
            const rest = await f.read(64, 64)
            const untouched = head.every(b => b === 0)
            outcomes.add(untouched && rest.every(b => b === 0) ? "as it was" : untouched ? "head intact" : head.every(b => b === 0xff) ? "erased" : "garbage")
        }
        expect([...outcomes]).toEqual(expect.arrayContaining(["as it was", "head intact", "garbage"]))
    })
})

describe("image", () => {
    test("exports and imports the whole chip", async () => {
        const f = nor()
        await f.program(70, [1, 2, 3])
        await f.program(700, [9])
        const image = f.exportImage()
        expect(image.length).toBe(1024)
        const g = new MemoryNor({ geometry, image })
        expect(await g.read(0, 1024)).toEqual(image)
    })

    test("an image of the wrong size is refused", () => {
        expect(() => new MemoryNor({ geometry, image: new Array(1000).fill(0xff) })).toThrow(NorError)
    })
})
