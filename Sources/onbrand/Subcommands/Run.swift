public import ArgumentParser
import Foundation
import GeminiEmulator
import GeminiKit
import OnbrandBudget
import OnbrandInputs
import OnbrandPipeline

/// `onbrand run`: the main job.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate on-brand images with alt text for every product × template × locale.",
        discussion: """
            With only a brand directory it uses the brand's default catalog and templates. Without an API key \
            (GEMINI_API_KEY or GOOGLE_API_KEY) it runs against Onbrand's built-in emulator and says so. Outputs go to \
            OUT/<brand>/<template>/ (image, .alt.txt, .json), with manifest.jsonl and a journal that makes reruns skip \
            unchanged units and resume interrupted ones. Exit status: 0 all succeeded or skipped, 1 any failed, 2 bad input.
            """
    )

    @OptionGroup var inputs: BrandInputOptions

    @Option(help: "Calls in flight at most.")
    var concurrency: Int = 8

    @Option(help: "Requests per minute at most (shared by all calls).")
    var rpm: Int?

    @Option(name: .customLong("max-cost"), help: "Stop starting units when the next would take spending past this many US dollars.")
    var maxCost: Double?

    @Option(help: "Only the first N products.")
    var limit: Int?

    @Option(help: "Only these product IDs (comma-separated).")
    var only: String?

    @Flag(help: "Regenerate units even when unchanged.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Say what would be generated and what it would cost; send nothing.")
    var isDryRun = false

    @Option(help: "gemini, emulator, or openai (default: gemini with a key, the emulator without).")
    var backend: Backend?

    @Option(name: .customLong("base-url"), help: "The API's base URL (a gateway, or an emulator already running).")
    var baseURL: String?

    @Flag(help: "Send through the Batch API at half price; results within a day. A run stopped while waiting collects the same jobs when run again.")
    var batch = false

    @Option(name: .customLong("batch-size"), help: "Units per batch job at most; jobs of big images are smaller (a job's results, downloaded whole, stay near 400 MB).")
    var batchSize = 200

    @Option(name: .customLong("image-base-url"), help: "Where the images will be served; makes the Merchant Center and Shopify feeds' links absolute.")
    var imageBaseURL: String?

    @Option(name: .customLong("gateway-url"), help: "An OpenAI-compatible gateway for gateway models such as flux-1.1-pro-ultra (key: ONBRAND_GATEWAY_KEY).")
    var gatewayURL: String?

    @Flag(help: "Print one JSON summary on standard output.")
    var json = false

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let rpm, rpm < 1 { throw ValidationError("--rpm must be at least 1") }
        if let maxCost, maxCost < 0 { throw ValidationError("--max-cost must not be negative") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        var options = RunOptions(brandPath: inputs.brand)
        options.catalog = inputs.catalog
        options.templates = inputs.templates
        options.locales = inputs.locales
        options.outputDirectory = inputs.out
        options.concurrency = concurrency
        options.requestsPerMinute = rpm
        options.maximumCost = maxCost
        options.limit = limit
        options.only = only.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
        options.force = force
        options.isDryRun = isDryRun
        options.backend = backend ?? .auto
        options.baseURL = baseURL
        options.gatewayURL = gatewayURL
        options.imageBaseURL = imageBaseURL
        options.isBatch = batch
        options.batchSize = max(batchSize, 1)
        options.models = try inputs.modelCatalog()
        let display = ProgressDisplay()
        let runner = Runner(options: options, progress: { display.update($0) }, notice: { Output.note($0) })
        // First Ctrl-C: finish what is in flight, record it, stop. Second: stop now (the journal
        // keeps everything finished; the rerun resumes).
        let interrupts = InterruptHandler {
            Output.note("\nstopping: waiting for calls in flight to finish (Ctrl-C again to stop at once)")
            runner.requestStop()
        }
        defer { interrupts.cancel() }
        let summary: RunSummary
        do {
            summary = try await runner.run()
        } catch let error as RunError {
            DiagnosticPrinter().print(error.diagnostics)
            throw ExitCode(2)
        }
        display.finish()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            Output.result(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            Output.result(Self.render(summary))
        }
        if summary.interrupted { throw ExitCode(130) }
        if summary.failed > 0 { throw ExitCode.failure }
    }

    static func render(_ summary: RunSummary) -> String {
        let money = { (value: Double) in String(format: "$%.2f", value) }
        var lines: [String] = []
        let mode = summary.backend == "emulator" ? " [emulator: proof images, not from the real API]" : ""
        if summary.isDryRun {
            lines.append(
                "dry run\(mode): \(summary.planned) units would be generated, \(summary.skipped) skipped as unchanged; estimated \(money(summary.estimatedCostUSD))")
            return lines.joined(separator: "\n")
        }
        lines.append(
            "\(summary.succeeded) succeeded, \(summary.skipped) skipped, \(summary.failed) failed"
                + (summary.notStarted > 0 ? ", \(summary.notStarted) not started (--max-cost)" : "")
                + " of \(summary.units) units in \(String(format: "%.1f", summary.seconds)) s; cost \(money(summary.costUSD))\(mode)")
        for (kind, count) in summary.failures.sorted(by: { $0.value > $1.value }) { lines.append("  failed ×\(count): \(kind)") }
        if summary.interrupted { lines.append("interrupted: run the same command again to carry on") }
        lines.append("images: \(Output.shortPath(summary.outputDirectory))/")
        if let manifest = summary.manifest { lines.append("manifest: \(Output.shortPath(manifest))") }
        if let gallery = summary.gallery {
            lines.append("review: \(Output.shortPath(gallery)) (\(summary.flagged) flagged); feeds: \(Output.shortPath(summary.outputDirectory))/feeds/")
        }
        if let mean = summary.paletteMeanDeltaE {
            lines.append(String(format: "palette: mean ΔE2000 %.2f%@", mean, summary.paletteOverTolerance ? " — over the brand's batch tolerance" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

extension Backend: ExpressibleByArgument {}

/// A live progress line on a terminal; a plain line every 10 s otherwise. On standard error.
final class ProgressDisplay: @unchecked Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private var lastPrinted = ContinuousClock.now
    private var hasLine = false

    func update(_ progress: RunProgress) {
        lock.lock()
        defer { lock.unlock() }
        let seconds = max(Double(progress.elapsed.components.seconds) + Double(progress.elapsed.components.attoseconds) / 1e18, 0.001)
        let done = progress.succeeded + progress.failed
        let perMinute = Double(progress.succeeded) / seconds * 60
        let remaining = progress.total - done - progress.skipped
        let eta = perMinute > 0 ? Double(remaining) / perMinute * 60 : 0
        let line = String(
            format: "%d done, %d failed, %d skipped, %d in flight · %.1f images/min · ETA %@ · $%.2f", progress.succeeded, progress.failed,
            progress.skipped, progress.inFlight, perMinute, Self.duration(eta) as NSString, progress.costUSD)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            hasLine = true
        } else if ContinuousClock.now - lastPrinted >= .seconds(10) || remaining == 0 {
            FileHandle.standardError.write(Data((line + "\n").utf8))
            lastPrinted = ContinuousClock.now
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if hasLine { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? "\(total / 3600)h\(total % 3600 / 60)m" : total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }
}

/// Handles SIGINT: the first calls `onFirst`, the second ends the process.
final class InterruptHandler: @unchecked Sendable {
    private let source: any DispatchSourceSignal
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            self.count += 1
            if self.count == 1 { onFirst() } else { exit(130) }
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
