/**
 * Headless Chromium for the report's PDF and screenshot: Debian's chromium
 * package (/usr/bin/chromium, or $PFT_CHROMIUM) driven by playwright-core.
 * Never a downloaded browser: playwright-core ships none and we ask for
 * none. The page is loaded with setContent and every network request is
 * refused, so the PDF is exactly the offline page.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { BrowserContext, Page } from "playwright-core"
import { CliError, EXIT } from "../errors"

export const DEFAULT_CHROMIUM = "/usr/bin/chromium"

/** The flags a sandboxed, offline machine needs (no GPU, no background connections to Google). */
export const CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
] as const

export function chromiumPath(): string {
    return process.env["PFT_CHROMIUM"] || DEFAULT_CHROMIUM
}

export class ChromiumMissingError extends CliError {
    constructor(path: string) {
        super(`Chromium not found at ${path}: install Debian's chromium package (sudo apt-get install chromium), or set PFT_CHROMIUM to a Chromium binary`, EXIT.failure)
        this.name = "ChromiumMissingError"
    }
}

export interface PageRun {
    page: Page
    /** console errors and failed or refused requests seen while the page loaded */
    problems: string[]
    /** every request the page made (the report makes none) */
    requests: string[]
}

/**
 * Opens the HTML in a fresh headless Chromium profile, calls `fn`, closes
 * everything (the profile directory too).
 */
export async function withPage<T>(html: string, fn: (run: PageRun) => Promise<T>, viewport = { width: 1000, height: 1400 }): Promise<T> {
    const exe = chromiumPath()
    if (!existsSync(exe)) throw new ChromiumMissingError(exe)
    const { chromium } = await import("playwright-core")
    const profile = mkdtempSync(join(tmpdir(), "pft-chromium-"))
    let context: BrowserContext | undefined
    try {
        context = await chromium.launchPersistentContext(profile, { executablePath: exe, headless: true, args: [...CHROMIUM_ARGS], viewport, offline: true })
        const page = context.pages()[0] ?? (await context.newPage())
        const problems: string[] = []
        const requests: string[] = []
        page.on("console", m => {
            if (m.type() === "error") problems.push(`console: ${m.text()}`)
        })
        page.on("pageerror", e => problems.push(`page error: ${e.message}`))
        await page.route("**/*", route => {
            requests.push(route.request().url())
            problems.push(`request refused: ${route.request().url()}`)
            return route.abort()
        })
        await page.setContent(html, { waitUntil: "load" })
        return await fn({ page, problems, requests })
    } finally {
        await context?.close()
        rmSync(profile, { recursive: true, force: true })
    }
}

/** Prints the page to an A4 PDF (background colours kept, as on screen). */
export async function htmlToPdf(html: string, outFile: string): Promise<void> {
    await withPage(html, async ({ page }) => {
        await page.emulateMedia({ media: "print" })
        await page.pdf({ path: outFile, format: "A4", printBackground: true, margin: { top: "12mm", bottom: "12mm", left: "12mm", right: "12mm" } })
    })
}

/** A PNG of the top `heightPx` of the page (the guide's screenshot). */
export async function htmlToPng(html: string, outFile: string, o: { width?: number; heightPx?: number } = {}): Promise<void> {
    const width = o.width ?? 1000
    await withPage(
        html,
        async ({ page }) => {
            await page.screenshot({ path: outFile, clip: { x: 0, y: 0, width, height: o.heightPx ?? 2200 } })
        },
        { width, height: o.heightPx ?? 2200 }
    )
}
