import Foundation
public import GeminiEmulator
public import GeminiKit
public import OnbrandBudget
public import OnbrandInputs
import OnbrandImage

/// Where generation requests go.
public enum Backend: String, Sendable, Codable, CaseIterable {
    /// The Gemini API when a key is set, the built-in emulator otherwise.
    case auto
    case gemini
    case emulator
    case openai
}

/// Sends each model's calls to its provider: gateway models (profile provider `openai`, such as
/// FLUX) to the OpenAI-compatible client, the rest to the native one.
struct ProviderRouter: ImageGenerating {
    var native: any ImageGenerating
    var gateway: any ImageGenerating
    var gatewayModels: Set<String>

    func generateContent(model: String, request: GenerateContentRequest) async throws(GeminiError) -> GenerateContentResponse {
        try await (gatewayModels.contains(model) ? gateway : native).generateContent(model: model, request: request)
    }

    func inputTokenLimit(model: String) async -> Int? {
        await (gatewayModels.contains(model) ? gateway : native).inputTokenLimit(model: model)
    }
}

extension ProviderRouter: TokenCounting {
    func countTokens(model: String, request: GenerateContentRequest) async throws(GeminiError) -> Int {
        guard !gatewayModels.contains(model), let counter = native as? any TokenCounting else {
            throw GeminiError(code: .invalidRequest, status: nil, message: "the provider of \(model) has no countTokens", model: model)
        }
        return try await counter.countTokens(model: model, request: request)
    }
}

extension ProviderRouter: BatchSubmitting {
    private var batches: any BatchSubmitting {
        get throws(GeminiError) {
            guard let batches = native as? any BatchSubmitting else {
                throw GeminiError(code: .invalidRequest, status: nil, message: "the provider has no Batch mode", model: "batches")
            }
            return batches
        }
    }

    func uploadFile(_ data: Data, mimeType: String, id: String?, displayName: String?) async throws(GeminiError) -> FileResource {
        try await batches.uploadFile(data, mimeType: mimeType, id: id, displayName: displayName)
    }

    func createBatch(model: String, batch: GenerateContentBatch) async throws(GeminiError) -> BatchOperation {
        try await batches.createBatch(model: model, batch: batch)
    }

    func batch(_ name: String) async throws(GeminiError) -> BatchOperation { try await batches.batch(name) }

    func downloadFile(_ name: String) async throws(GeminiError) -> Data { try await batches.downloadFile(name) }
}

extension ProviderRouter: FileStoring {
    func ensureFile(id: String, data: Data, mimeType: String, displayName: String?) async throws(GeminiError) -> FileResource {
        guard let store = native as? any FileStoring else {
            throw GeminiError(code: .invalidRequest, status: nil, message: "the provider keeps no files", model: id)
        }
        return try await store.ensureFile(id: id, data: data, mimeType: mimeType, displayName: displayName)
    }
}

/// Everything `onbrand run` takes.
public struct RunOptions: Sendable {
    public var brandPath: String
    public var catalog: String?
    public var templates: [String] = []
    public var locales: [String] = []
    public var outputDirectory: String = "out"
    public var concurrency = 8
    public var requestsPerMinute: Int?
    public var maximumCost: Double?
    public var limit: Int?
    public var only: Set<String>?
    public var force = false
    public var isDryRun = false
    public var backend: Backend = .auto
    public var baseURL: String?
    /// An OpenAI-compatible gateway for models whose profile names that provider (e.g. FLUX);
    /// its key comes from `ONBRAND_GATEWAY_KEY` or `OPENAI_API_KEY`.
    public var gatewayURL: String?
    /// Send through Batch mode at half price (`--batch`): jobs of ``batchSize`` units, results collected
    /// when ready; a run interrupted while waiting collects them the next time.
    public var isBatch = false
    public var batchSize = 200
    /// How often a waiting run asks about its jobs, at first (it backs off to a minute).
    public var batchPollInterval: Duration = .seconds(10)
    /// Where the images will be served, to make the feeds' links absolute (`--image-base-url`).
    public var imageBaseURL: String?
    public var models = ModelCatalog()
    /// `nil`: read `GEMINI_API_KEY` / `GOOGLE_API_KEY`.
    public var apiKey: String?
    public var timeout: Duration = .seconds(120)
    public var retry = RetryPolicy()
    public var emulatorConfiguration = EmulatorConfiguration()

    public init(brandPath: String) {
        self.brandPath = brandPath
    }
}

/// A snapshot of a run, for progress lines.
public struct RunProgress: Sendable {
    public var total: Int
    public var succeeded: Int
    public var failed: Int
    public var skipped: Int
    public var inFlight: Int
    public var costUSD: Double
    public var elapsed: Duration
}

/// What a run did, for the summary line and `--json`.
public struct RunSummary: Sendable, Codable {
    public var brand: String
    public var backend: String
    public var isDryRun: Bool
    public var outputDirectory: String
    public var manifest: String?
    public var units = 0
    public var planned = 0
    public var skipped = 0
    public var succeeded = 0
    public var failed = 0
    /// Units not started because the next would have crossed `--max-cost`.
    public var notStarted = 0
    public var estimatedCostUSD = 0.0
    public var estimatedInputTokens = 0
    public var estimatedOutputTokens = 0
    public var costUSD = 0.0
    public var seconds = 0.0
    public var imagesPerMinute = 0.0
    /// Failure kinds and how many units each stopped.
    public var failures: [String: Int] = [:]
    public var stoppedByBudget = false
    /// The run was asked to stop (Ctrl-C): calls in flight finished, no new ones started.
    public var interrupted = false
    /// The review page (`index.html`) beside the outputs.
    public var gallery: String?
    /// Images with a failed check (size, Merchant Center, palette, alt text).
    public var flagged = 0
    /// Mean ΔE2000 of the images' dominant colours to the palette, and whether it is over the brand's batch tolerance.
    public var paletteMeanDeltaE: Double?
    public var paletteOverTolerance = false
}

/// Problems that stop a run before it starts.
public struct RunError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The batch pipeline: catalog × templates × locales → planned requests → images with alt text,
/// sidecars and a manifest, resumable through the journal.
public final class Runner: Sendable {
    public let options: RunOptions
    let progress: @Sendable (RunProgress) -> Void
    let notice: @Sendable (String) -> Void
    let stopFlag = StopFlag()

    /// Asks the run to stop: no new unit starts, calls in flight finish and are recorded, and the
    /// manifest and summary are written. A rerun carries on from there.
    public func requestStop() { stopFlag.set() }

    /// - Parameters:
    ///   - progress: Called after every unit (and at start).
    ///   - notice: One-line messages for the user (the proof-mode banner, the plan).
    public init(options: RunOptions, progress: @escaping @Sendable (RunProgress) -> Void = { _ in }, notice: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
        self.notice = notice
    }

    struct Inputs: Sendable {
        var brand: BrandGuide
        var templates: [PromptTemplate]
        var catalogPath: String
        var locales: [String]
    }

    public func run() async throws -> RunSummary {
        let inputs = try loadInputs()
        let root = URL(fileURLWithPath: options.outputDirectory).appendingPathComponent(OutputWriter.safeStem(for: inputs.brand.id))
        var summary = RunSummary(brand: inputs.brand.id, backend: "", isDryRun: options.isDryRun, outputDirectory: root.path)

        // Backend: the real API with a key, the in-process emulator without one.
        let key = options.apiKey ?? GeminiClient.Configuration.apiKeyFromEnvironment()
        var backend = options.backend == .auto ? (key == nil ? Backend.emulator : .gemini) : options.backend
        if options.backend == .auto, options.baseURL != nil, key != nil { backend = .gemini }
        var emulator: RunningEmulator?
        var client: any ImageGenerating
        var gateway: (any ImageGenerating)?
        switch backend {
        case .gemini:
            guard let key else {
                throw RunError(diagnostics: [
                    .error(
                        "--backend gemini needs an API key", at: nil,
                        hint: "set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment, or run without --backend to use the built-in emulator")
                ])
            }
            client = GeminiClient(
                configuration: .init(
                    apiKey: key, baseURL: options.baseURL ?? GeminiClient.defaultBaseURL, timeout: options.timeout,
                    maximumResponseSize: Self.maximumResponseSize, retry: options.retry),
                limiter: limiter())
        case .emulator, .auto:
            backend = .emulator
            var configuration = options.emulatorConfiguration
            configuration.models = options.models
            let running = try await EmulatorServer.start(configuration: configuration)
            emulator = running
            notice("PROOF MODE: no API key, so images come from Onbrand's built-in Gemini emulator at \(running.baseURL) (set GEMINI_API_KEY to use the real API)")
            client = GeminiClient(
                configuration: .init(
                    apiKey: "emulator", baseURL: running.baseURL, timeout: options.timeout, maximumResponseSize: Self.maximumResponseSize,
                    retry: options.retry), limiter: limiter())
            gateway = OpenAICompatibleClient(
                configuration: .init(apiKey: "emulator", baseURL: "\(running.baseURL)/v1beta/openai", timeout: options.timeout, retry: options.retry),
                limiter: limiter())
        case .openai:
            let gatewayKey = options.apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? key
            guard let gatewayKey else {
                throw RunError(diagnostics: [
                    .error("--backend openai needs an API key", at: nil, hint: "set OPENAI_API_KEY (or GEMINI_API_KEY) in the environment")
                ])
            }
            notice("OpenAI-compatible backend: prompts only (no grounding, no imageConfig, no reference images); alt text from the template's fallback")
            client = OpenAICompatibleClient(
                configuration: .init(
                    apiKey: gatewayKey, baseURL: options.baseURL ?? "\(GeminiClient.defaultBaseURL)/v1beta/openai", timeout: options.timeout,
                    retry: options.retry), limiter: limiter())
        }
        defer { if let emulator { Task { await emulator.stop() } } }
        summary.backend = backend.rawValue

        // Models whose profile names an OpenAI-compatible gateway go there, whatever the backend for the rest.
        let gatewayModels = Set(inputs.templates.compactMap { template -> String? in
            let id = template.model ?? "gemini-3.1-flash-image-preview"
            return options.models.profile(id)?.provider == .openAICompatible ? id : nil
        })
        if backend != .openai, !gatewayModels.isEmpty {
            if gateway == nil, let url = options.gatewayURL {
                let environment = ProcessInfo.processInfo.environment
                guard let key = ["ONBRAND_GATEWAY_KEY", "OPENAI_API_KEY"].lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) else {
                    throw RunError(diagnostics: [
                        .error("--gateway-url needs a key", at: nil, hint: "set ONBRAND_GATEWAY_KEY (or OPENAI_API_KEY) in the environment")
                    ])
                }
                gateway = OpenAICompatibleClient(
                    configuration: .init(apiKey: key, baseURL: url, timeout: options.timeout, retry: options.retry), limiter: limiter())
            }
            guard let gateway else {
                throw RunError(diagnostics: [
                    .error(
                        "templates use \(gatewayModels.sorted().joined(separator: ", ")), which is served by an OpenAI-compatible gateway", at: nil,
                        hint: "pass --gateway-url URL (e.g. https://gateway.example/v1) and set ONBRAND_GATEWAY_KEY")
                ])
            }
            client = ProviderRouter(native: client, gateway: gateway, gatewayModels: gatewayModels)
        }
        let provider = client

        // The input limit comes from the API when it answers; the profile is the fallback.
        var models = options.models
        for modelID in Set(inputs.templates.map { $0.model ?? "gemini-3.1-flash-image-preview" }) {
            if let limit = await provider.inputTokenLimit(model: modelID), var profile = models.profile(modelID), profile.inputTokenLimit != limit {
                profile.inputTokenLimit = limit
                models = ModelCatalog(profiles: models.profiles.map { $0.id == profile.id ? profile : $0 })
            }
        }
        // Brand images go through the Files API where the provider has one; a gateway gets prompts only.
        let planner = Planner(
            brand: inputs.brand, models: models, options: .init(brandImages: provider is any FileStoring ? .filesAPI : .inline))
        let brandDigest = Fingerprint.digest(of: inputs.brand)

        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        OutputWriter.removePartialFiles(under: root)
        let journal = try Journal(path: root.appendingPathComponent(".onbrand/journal.sqlite").path)
        let runID = ISO8601DateFormatter().string(from: Date())

        // Pass 1: what the run will do, before anything is sent.
        var toSend = 0
        var waiting = 0
        var estimated = 0.0
        var estimatedInput = 0
        var estimatedOutput = 0
        try await forEachUnit(inputs) { unit, template, product in
            summary.units += 1
            let plan = planner.plan(template, product: product, locale: unit.locale)
            guard let request = plan.request else { return }
            let fingerprint = Fingerprint.of(model: plan.model, template: template, brandDigest: brandDigest, product: product, request: request)
            if !options.force, try journal.isDone(Self.key(unit), fingerprint: fingerprint, outputRoot: root) {
                summary.skipped += 1
            } else if options.isBatch, try journal.isInPendingBatch(Self.key(unit), fingerprint: fingerprint) {
                waiting += 1
            } else {
                toSend += 1
                estimated += options.isBatch ? plan.report.batchCostUSD : plan.report.costUSD
                estimatedInput += plan.report.inputTokens
                estimatedOutput += plan.report.outputImageTokens + plan.report.outputTextTokens
            }
        }
        summary.planned = toSend
        summary.estimatedCostUSD = estimated
        summary.estimatedInputTokens = estimatedInput
        summary.estimatedOutputTokens = estimatedOutput
        notice(
            "\(summary.units) units: \(toSend) to generate, \(summary.skipped) unchanged and skipped"
                + (waiting > 0 ? ", \(waiting) waiting in batches sent earlier" : "") + "; estimated \(estimatedInput) input and "
                + "\(estimatedOutput) output tokens, $" + String(format: "%.2f", estimated) + (options.isBatch ? " at batch prices" : "")
                + (options.maximumCost.map { String(format: " (cap $%.2f)", $0) } ?? ""))

        let manifest = ManifestWriter(url: root.appendingPathComponent("manifest.jsonl"), backend: backend.rawValue)
        let ledger = Ledger(total: summary.units, skipped: summary.skipped, clock: ContinuousClock())
        progress(await ledger.snapshot())
        if options.isDryRun {
            summary.manifest = nil
            return summary
        }

        // The brand images the requests refer to, uploaded once (or found from an earlier run).
        let keeper = (provider as? any FileStoring).map { BrandFileKeeper(store: $0, files: planner.brandFiles) }
        if let keeper, toSend > 0 {
            if let failure = await keeper.ensureAll() { throw RunError(diagnostics: [.error(failure, at: nil, hint: "check the brand guide's image paths and the API key")]) }
        }

        // Pass 2: send, at most `concurrency` at a time.
        let started = ContinuousClock.now
        let planModels = models
        let backendName = backend.rawValue
        let brand = inputs.brand
        if options.isBatch {
            guard let batches = provider as? any BatchSubmitting else {
                throw RunError(diagnostics: [
                    .error("--batch needs the Gemini API or the emulator; an OpenAI-compatible gateway has no Batch mode", at: nil, hint: nil)
                ])
            }
            try await sendInBatches(
                BatchContext(
                    inputs: inputs, planner: planner, brandDigest: brandDigest, batches: batches, client: provider, models: planModels,
                    journal: journal, root: root, runID: runID, backend: backendName, manifest: manifest, ledger: ledger))
        } else {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            try await forEachUnit(inputs) { unit, template, product in
                let plan = planner.plan(template, product: product, locale: unit.locale)
                let key = Self.key(unit)
                guard let request = plan.request else {
                    let kind = (plan.failure ?? "").contains("required sections") ? "over budget" : "invalid request"
                    await ledger.failed(kind: kind, cost: 0)
                    try manifest.append(unit: unit, state: "failed", reason: plan.failure, kind: kind, outputs: [], cost: 0, fingerprint: nil)
                    progress(await ledger.snapshot())
                    return
                }
                let fingerprint = Fingerprint.of(model: plan.model, template: template, brandDigest: brandDigest, product: product, request: request)
                if !options.force, try journal.isDone(key, fingerprint: fingerprint, outputRoot: root) {
                    try manifest.append(unit: unit, state: "skipped", reason: "unchanged", kind: nil, outputs: [], cost: 0, fingerprint: fingerprint)
                    return
                }
                if stopFlag.isSet {
                    try manifest.append(
                        unit: unit, state: "not-started", reason: "the run was interrupted", kind: "interrupted", outputs: [], cost: 0,
                        fingerprint: fingerprint)
                    return
                }
                if let cap = options.maximumCost, await ledger.spent + plan.report.costUSD > cap {
                    await ledger.notStarted()
                    try manifest.append(
                        unit: unit, state: "not-started", reason: "the next unit would cross --max-cost", kind: "over budget", outputs: [], cost: 0,
                        fingerprint: fingerprint)
                    return
                }
                if running >= options.concurrency {
                    try await group.next()
                    running -= 1
                }
                running += 1
                await ledger.begin(estimate: plan.report.costUSD)
                group.addTask {
                    let outcome = await self.generate(
                        unit: unit, template: template, product: product, plan: plan, request: request, fingerprint: fingerprint,
                        planner: planner, client: provider, models: planModels, journal: journal, root: root, runID: runID, brand: brand,
                        backend: backendName, keeper: keeper)
                    if let kind = outcome.failureKind {
                        await ledger.failed(kind: kind, cost: outcome.cost, wasRunning: true)
                    } else {
                        await ledger.succeeded(cost: outcome.cost)
                    }
                    try manifest.append(
                        unit: unit, state: outcome.failureKind == nil ? "succeeded" : "failed", reason: outcome.reason, kind: outcome.failureKind,
                        outputs: outcome.outputs, cost: outcome.cost, fingerprint: fingerprint)
                    self.progress(await ledger.snapshot())
                }
            }
            try await group.waitForAll()
        }
        }
        try manifest.finish()
        let elapsed = ContinuousClock.now - started
        let final = await ledger.snapshot()
        summary.succeeded = final.succeeded
        summary.failed = final.failed
        summary.notStarted = await ledger.notStartedCount
        summary.stoppedByBudget = summary.notStarted > 0
        summary.interrupted = stopFlag.isSet
        summary.costUSD = final.costUSD
        summary.failures = await ledger.failureKinds
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        summary.imagesPerMinute = summary.seconds > 0 ? Double(summary.succeeded) / summary.seconds * 60 : 0
        summary.manifest = root.appendingPathComponent("manifest.jsonl").path

        // Review: the batch palette check, the feeds and the gallery, over every image in the folder.
        // A review that cannot be written does not undo the run: the summary is still written, and the
        // review can be made again with `onbrand review`.
        do {
            let review = try RunReview(
                root: root, brandName: inputs.brand.name ?? inputs.brand.id,
                batchTolerance: inputs.brand.palette?.batchTolerance ?? BrandGuide.Palette.defaultBatchTolerance)
            try review.writeFeeds(imageBaseURL: options.imageBaseURL)
            summary.gallery = try review.writeGallery().path
            summary.flagged = review.flaggedCount
            summary.paletteMeanDeltaE = review.paletteMeanDeltaE
            summary.paletteOverTolerance = review.isPaletteFlagged
            if review.isPaletteFlagged, let mean = review.paletteMeanDeltaE {
                notice(String(format: "Palette: the images' mean ΔE2000 is %.2f, over the brand's batch tolerance of %.1f; see %@", mean, review.batchTolerance, summary.gallery ?? ""))
            }
        } catch {
            notice("warning: the review (feeds and index.html) could not be written: \(error); run `onbrand review \(root.path)` to try again")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try OutputWriter.write(try encoder.encode(summary), to: root.appendingPathComponent("summary.json"))
        return summary
    }

    private func limiter() -> RateLimiter<ContinuousClock> {
        RateLimiter(requestsPerMinute: options.requestsPerMinute, maximumInFlight: options.concurrency)
    }

    static func key(_ unit: WorkUnit) -> String { "\(unit.productID)\u{1F}\(unit.templateID)\u{1F}\(unit.locale)" }

    // MARK: - Inputs

    private func loadInputs() throws -> Inputs {
        var diagnostics: [Diagnostic] = []
        let brandResult = BrandLoader.load(options.brandPath)
        diagnostics += brandResult.diagnostics.filter { $0.severity == .error }
        guard let brand = brandResult.guide else { throw RunError(diagnostics: diagnostics) }
        let templatePaths = options.templates.isEmpty ? (brand.defaults?.templates ?? []) : options.templates
        guard !templatePaths.isEmpty else {
            throw RunError(diagnostics: [
                .error("no templates given and the brand names no default", at: SourceLocation(file: brandResult.file), hint: "pass --template FILE")
            ])
        }
        var templates: [PromptTemplate] = []
        for path in templatePaths {
            let result = TemplateLoader.load(path)
            diagnostics += result.diagnostics.filter { $0.severity == .error }
            if let template = result.template { templates.append(template) }
        }
        guard let catalogPath = options.catalog ?? brand.defaults?.catalog else {
            throw RunError(diagnostics: [
                .error("no catalog given and the brand names no default", at: SourceLocation(file: brandResult.file), hint: "pass --catalog FILE")
            ])
        }
        if !diagnostics.isEmpty { throw RunError(diagnostics: diagnostics) }
        return Inputs(brand: brand, templates: templates, catalogPath: catalogPath, locales: options.locales.isEmpty ? brand.localeCodes : options.locales)
    }

    /// Calls `body` for every unit in catalog order, applying `--only` and `--limit` (products).
    func forEachUnit(_ inputs: Inputs, _ body: (WorkUnit, PromptTemplate, Product) async throws -> Void) async throws {
        let reader: CatalogReader
        do { reader = try CatalogReader(contentsOf: inputs.catalogPath) } catch { throw RunError(diagnostics: error.diagnostics) }
        var products = 0
        do {
            while let product = try reader.next() {
                if let only = options.only, !only.contains(product.id) { continue }
                if let limit = options.limit, products >= limit { break }
                products += 1
                for template in inputs.templates {
                    for locale in inputs.locales {
                        try await body(WorkUnit(productID: product.id, templateID: template.id, locale: locale), template, product)
                    }
                }
            }
        } catch let error as DiagnosticError {
            throw RunError(diagnostics: error.diagnostics)
        }
    }

    /// Answers are collected whole: a 4K image is 30 MB of base64, and a batch's results file holds
    /// `batchSize` answers.
    static let maximumResponseSize = 1 << 30

    // MARK: - One unit

    struct UnitOutcome {
        var failureKind: String?
        var reason: String?
        var outputs: [String]
        var cost: Double
    }

    private func generate(
        unit: WorkUnit, template: PromptTemplate, product: Product, plan planned: UnitPlan, request firstRequest: GenerateContentRequest,
        fingerprint: String, planner: Planner, client: any ImageGenerating, models: ModelCatalog, journal: Journal, root: URL, runID: String,
        brand: BrandGuide, backend: String, keeper: BrandFileKeeper?
    ) async -> UnitOutcome {
        let key = Self.key(unit)
        let startedAt = Date()
        do {
            try journal.markRunning(key, fingerprint: fingerprint, runID: runID)
        } catch {
            return UnitOutcome(failureKind: "journal", reason: "\(error)", outputs: [], cost: 0)
        }
        func fail(_ kind: String, _ reason: String, cost: Double = 0) -> UnitOutcome {
            try? journal.finish(key, state: .failed, outcome: reason, failureKind: kind, costUSD: cost, outputs: [])
            return UnitOutcome(failureKind: kind, reason: reason, outputs: [], cost: cost)
        }
        let plan: UnitPlan
        let request: GenerateContentRequest
        switch await confirmFit(planned, request: planned.request ?? firstRequest, template: template, product: product, planner: planner, client: client) {
        case .send(let confirmed, let confirmedRequest):
            plan = confirmed
            request = confirmedRequest
        case .overLimit(let reason):
            return fail("over budget", reason)
        }
        let response: GenerateContentResponse
        do throws(GeminiError) {
            do throws(GeminiError) {
                response = try await client.generateContent(model: plan.model, request: request)
            } catch let error where error.code == .fileNotAvailable {
                // Files expire after 48 hours: a long run uploads the brand images again, once, and carries on.
                guard let keeper, await keeper.refresh() else { throw error }
                response = try await client.generateContent(model: plan.model, request: request)
            }
        } catch {
            return fail(Self.kind(of: error), error.description)
        }
        return await complete(
            unit: unit, template: template, product: product, plan: plan, fingerprint: fingerprint, response: response, startedAt: startedAt,
            isBatch: false, client: client, models: models, journal: journal, root: root, brand: brand, backend: backend)
    }

    /// Everything after the answer, for online calls and batch results alike: the outcome, alt text
    /// (describe, repair, fallback), checks, XMP, the files and the journal.
    func complete(
        unit: WorkUnit, template: PromptTemplate, product: Product, plan: UnitPlan, fingerprint: String, response: GenerateContentResponse,
        startedAt: Date, isBatch: Bool, client: any ImageGenerating, models: ModelCatalog, journal: Journal, root: URL, brand: BrandGuide,
        backend: String
    ) async -> UnitOutcome {
        let key = Self.key(unit)
        func fail(_ kind: String, _ reason: String, cost: Double = 0) -> UnitOutcome {
            try? journal.finish(key, state: .failed, outcome: reason, failureKind: kind, costUSD: cost, outputs: [])
            return UnitOutcome(failureKind: kind, reason: reason, outputs: [], cost: cost)
        }
        let result = ImageResult(response)
        let profile = models.profile(plan.model)
        let usage = result.usage ?? UsageMetadata()
        let cost = profile?.cost(
            inputTokens: usage.inputTokens, imageTokens: usage.outputImageTokens, textOutputTokens: usage.outputTextTokens, batch: isBatch) ?? 0
        switch result.outcome {
        case .success: break
        case .noImage: return fail("no image", "the model answered without an image (\(result.finishReason?.rawValue ?? "no finish reason"))", cost: cost)
        case .blocked(let reason): return fail("blocked by safety", reason + (result.finishMessage.map { ": \($0)" } ?? ""), cost: cost)
        case .recitation: return fail("recitation", "the image was stopped as a possible recitation", cost: cost)
        case .maxTokens: return fail("max tokens", "the answer reached the output token limit", cost: cost)
        case .other(let reason): return fail("other", reason, cost: cost)
        }
        guard var image = result.image else { return fail("no image", "no image bytes", cost: cost) }

        // Alt text: the model's own (inline), or a describe call for models that write none; checked;
        // when it fails, one repair call with the findings; then the template's fallback if that does better.
        let linter = AltTextLinter(brand: brand)
        var attempts: [Sidecar.AltTextAttempt] = []
        func attempt(_ text: String, _ source: String, cost: Double = 0) {
            attempts.append(.init(source: source, text: text, lint: linter.lint(text, product: product, locale: unit.locale), costUSD: cost))
        }
        func failedAttempt(_ source: String, _ error: String?, cost: Double) {
            attempts.append(.init(source: source, text: "", lint: [], costUSD: cost, error: error ?? "the answer had no ALT line"))
        }
        let describes = template.altText.mode == .describe
            || (template.altText.mode == .inline && result.altText == nil && profile?.supportsTextOutput == false)
        if template.altText.mode == .inline, let text = result.altText {
            attempt(text, "model")
        } else if describes, let instruction = plan.altTextInstruction {
            let described = await Self.askForAltText(client: client, models: models, image: image, mimeType: result.mimeType, product: product, prompt: instruction)
            if let text = described.text { attempt(text, "describe", cost: described.cost) } else { failedAttempt("describe", described.error, cost: described.cost) }
        }
        if let last = attempts.last, last.error == nil, last.lint.contains(where: \.isError), let instruction = plan.altTextInstruction {
            let problems = last.lint.filter(\.isError).map(\.message).joined(separator: "; ")
            let prompt = instruction + "\nA previous alt text for this image was: \"\(last.text)\". It failed these checks: \(problems). Write a new one that passes them."
            let repaired = await Self.askForAltText(client: client, models: models, image: image, mimeType: result.mimeType, product: product, prompt: prompt)
            if let text = repaired.text { attempt(text, "repair", cost: repaired.cost) } else { failedAttempt("repair", repaired.error, cost: repaired.cost) }
        }
        if let fallback = plan.altTextFallback ?? product.title, attempts.last.map({ $0.error != nil || $0.lint.contains(where: \.isError) }) ?? true {
            attempt(fallback, "fallback")
        }
        // The first attempt without errors, else the one with the fewest.
        let usable = attempts.filter { $0.error == nil }
        let chosen = usable.first { !$0.lint.contains(where: \.isError) }
            ?? usable.min { $0.lint.filter(\.isError).count < $1.lint.filter(\.isError).count }
        let alt = chosen?.text ?? product.id
        let altSource = chosen?.source ?? "fallback"
        let findings = chosen?.lint ?? linter.lint(alt, product: product, locale: unit.locale)
        let rejected = usable.first.flatMap { $0.source == "model" && $0.source != altSource ? $0.lint : nil }
        // Describe and repair calls are paid too: the unit's cost, the ledger and --max-cost count them.
        let totalCost = cost + attempts.reduce(0) { $0 + $1.costUSD }
        let stem = "\(OutputWriter.safeStem(for: product.id)).\(unit.locale)"
        let folder = root.appendingPathComponent(OutputWriter.safeStem(for: template.id))
        // Name the file by what the bytes are, not what the answer said they were.
        let detected = ImageContainer.format(of: image)
        let imageName = "\(stem).\(detected == .jpeg ? "jpg" : detected == .png ? "png" : OutputWriter.fileExtension(for: result.mimeType))"
        // The model's own words about the image, without its ALT line, are a caption when the brand asks for captions.
        let captionText = result.text.split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).uppercased().hasPrefix("ALT:") }.joined(separator: " ")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let caption = brand.altText?.caption == true && !captionText.isEmpty && captionText != alt ? captionText : nil
        let (verification, embedded, xmpSidecar) = Self.verifyAndTag(
            &image, name: imageName, alt: alt, caption: caption, unit: unit, template: template, product: product, brand: brand, profile: profile)
        let sidecar = Sidecar(
            productID: product.id, templateID: template.id, templateVersion: template.version, role: template.role, locale: unit.locale,
            altText: alt,
            altTextSource: altSource, altTextLint: findings, rejectedModelAltTextLint: rejected, altTextAttempts: attempts, model: plan.model, modelVersion: result.modelVersion, responseID: result.responseID, backend: backend,
            fingerprint: fingerprint, finishReason: result.finishReason?.rawValue, image: .init(
                file: imageName, mimeType: result.mimeType, width: result.pixelSize?.width, height: result.pixelSize?.height,
                aspectRatio: template.output.aspectRatio.rawValue, imageSize: template.output.imageSize.rawValue,
                ratioMatches: result.matches(aspectRatio: template.output.aspectRatio.rawValue)),
            grounding: result.grounding.map(Sidecar.Grounding.init), verification: verification, embeddedMetadata: embedded,
            usage: .init(usage), costUSD: totalCost,
            startedAt: startedAt, finishedAt: Date(), tokenCheck: plan.tokenCheck)
        do {
            try OutputWriter.write(image, to: folder.appendingPathComponent(imageName))
            if let xmpSidecar { try OutputWriter.write(Data(xmpSidecar.utf8), to: folder.appendingPathComponent("\(stem).xmp")) }
            try OutputWriter.write(Data((alt.replacingOccurrences(of: "\n", with: " ") + "\n").utf8), to: folder.appendingPathComponent("\(stem).alt.txt"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            try OutputWriter.write(try encoder.encode(sidecar), to: folder.appendingPathComponent("\(stem).json"))
        } catch {
            return fail("output", "could not write the outputs: \(error)", cost: totalCost)
        }
        let folderName = folder.lastPathComponent
        let outputs = ([imageName, "\(stem).alt.txt", "\(stem).json"] + (xmpSidecar == nil ? [] : ["\(stem).xmp"])).map { "\(folderName)/\($0)" }
        do {
            try journal.finish(key, state: .succeeded, outcome: "success", failureKind: nil, costUSD: totalCost, outputs: outputs)
        } catch {
            return UnitOutcome(failureKind: "journal", reason: "\(error)", outputs: outputs, cost: totalCost)
        }
        return UnitOutcome(failureKind: nil, reason: nil, outputs: outputs, cost: totalCost)
    }

    /// The text model for alt-text repair and describe calls: cheap, and it sees images.
    static let textModel = "gemini-2.5-flash-lite"

    /// One text-only call with the image: the alt text from its `ALT:` line, and what it cost.
    /// Through the gateway's chat/completions when the run has only a gateway.
    static func askForAltText(
        client: any ImageGenerating, models: ModelCatalog, image: Data, mimeType: String?, product: Product, prompt: String
    ) async -> (text: String?, cost: Double, error: String?) {
        let facts = "Product: \(product.title ?? product.id) (ID \(product.id)).\n"
        let blob = Part.Blob(mimeType: mimeType ?? "image/png", data: image.base64EncodedString())
        let profile = models.profile(textModel)
        if let gateway = client as? OpenAICompatibleClient {
            do {
                let text = try await gateway.chatCompletion(model: textModel, system: nil, text: facts + prompt, images: [blob])
                // Gateways bill chat calls their own way; the cost is theirs to report.
                return (ImageResult.altText(in: text), 0, nil)
            } catch {
                return (nil, 0, error.description)
            }
        }
        let request = GenerateContentRequest(
            contents: [Content(parts: [Part(inlineData: blob), Part(text: facts + prompt)])],
            generationConfig: GenerationConfig(responseModalities: ["TEXT"]))
        let response: GenerateContentResponse
        do { response = try await client.generateContent(model: textModel, request: request) } catch { return (nil, 0, error.description) }
        let result = ImageResult(response)
        let usage = result.usage ?? UsageMetadata()
        let cost = profile?.cost(inputTokens: usage.inputTokens, imageTokens: 0, textOutputTokens: usage.outputTextTokens) ?? 0
        return (result.altText, cost, nil)
    }

    /// Checks the image against what was asked and writes the XMP (alt text in the unit's
    /// language, an extended description, the AI source type) into it.
    static func verifyAndTag(
        _ image: inout Data, name: String, alt: String, caption: String?, unit: WorkUnit, template: PromptTemplate, product: Product, brand: BrandGuide,
        profile: ModelProfile?
    ) -> (ImageVerification, Sidecar.EmbeddedMetadata, xmpSidecar: String?) {
        let palette = (brand.palette?.colors ?? []).compactMap { color in color.hex.isEmpty ? nil : (name: color.name, hex: color.hex) }
        let verifier = ImageVerifier(palette: palette, threshold: brand.palette?.tolerance ?? BrandGuide.Palette.defaultTolerance)
        let size = profile.flatMap { ImageDimensions.size(for: $0, aspectRatio: template.output.aspectRatio.rawValue, imageSize: template.output.imageSize.rawValue) }
        let category = [product.googleProductCategory, product.productType].compactMap { $0?.lowercased() }.joined(separator: " ")
        let verification = verifier.verify(
            image,
            expecting: .init(
                aspectRatio: template.output.aspectRatio.rawValue, width: size?.width, height: size?.height, fileName: name,
                merchantRules: template.role != nil || template.channel == "ecommerce",
                isApparel: ["apparel", "clothing", "bekleidung", "shoes", "footwear"].contains { category.contains($0) }))
        // The extended description adds the product's own facts, as the catalog gives them, to the alt text.
        let facts = [product.title, product.color, product.material, product.pattern, product.size].compactMap { $0 }.filter { !alt.contains($0) }
        let metadata = ImageMetadata(
            altText: [.init(language: unit.locale, text: alt)],
            extendedDescription: [.init(language: unit.locale, text: facts.isEmpty ? alt : "\(alt) (\(facts.joined(separator: ", ")))")],
            caption: caption.map { [.init(language: unit.locale, text: $0)] } ?? [])
        let packet = XMPPacket.build(metadata)
        // A C2PA manifest hashes every other byte of the file: adding XMP would make it fail to
        // validate. Such images keep their bytes, and the XMP goes beside them (`.xmp`, Adobe's sidecar).
        if (try? ImageContainer.info(of: image))?.hasC2PA == true {
            return (
                verification,
                .init(
                    written: false, altTextLanguages: ["x-default", unit.locale], digitalSourceType: metadata.digitalSourceType, caption: caption,
                    problem: "the image carries a C2PA manifest, which any added bytes would invalidate; the XMP is in the .xmp file beside it"),
                packet
            )
        }
        do {
            image = try ImageContainer.embedding(xmp: packet, in: image)
            return (
                verification,
                .init(written: true, altTextLanguages: ["x-default", unit.locale], digitalSourceType: metadata.digitalSourceType, caption: caption),
                nil
            )
        } catch {
            return (verification, .init(written: false, altTextLanguages: [], digitalSourceType: nil, problem: error.reason), packet)
        }
    }

    /// The failure groups of the summary.
    static func kind(of error: GeminiError) -> String {
        switch error.code {
        case .quotaExhausted: "quota"
        case .capacity: "capacity"
        case .badAPIKey: "bad API key"
        case .fileNotAvailable: "brand image expired"
        case .modelNotFound: "model not found"
        case .requestTooLarge: "over budget"
        case .invalidRequest, .malformedResponse: "invalid request"
        case .timedOut, .transport, .responseTooLarge: "network"
        case .http: error.status.map { $0 >= 500 ? "capacity" : "invalid request" } ?? "network"
        }
    }
}

/// Keeps the brand's Files API uploads alive for the run: uploads them at the start, and again
/// when a call finds one expired (files live 48 hours; a million-unit run lasts longer). Calls that
/// find the files gone at the same moment share one re-upload.
actor BrandFileKeeper {
    let store: any FileStoring
    let files: [BrandFile]
    private var refreshing: Task<Bool, Never>?

    init(store: any FileStoring, files: [BrandFile]) {
        self.store = store
        self.files = files
    }

    /// Uploads what is missing; a message for the first file that cannot be, or nil.
    func ensureAll() async -> String? {
        for file in files {
            do {
                // The bytes that were hashed into the name, not whatever the file holds now.
                _ = try await store.ensureFile(id: file.id, data: file.data, mimeType: file.mimeType, displayName: (file.path as NSString).lastPathComponent)
            } catch {
                return "could not upload the brand image \(file.path) through the Files API: \(error.description)"
            }
        }
        return nil
    }

    /// Re-uploads after an expiry; true when the files are there again. Concurrent callers share
    /// one pass, and a pass only looks (`files.get`) at files that are still there.
    func refresh() async -> Bool {
        if let refreshing { return await refreshing.value }
        let task = Task { await self.ensureAll() == nil }
        refreshing = task
        let result = await task.value
        refreshing = nil
        return result
    }
}

/// A flag set from a signal handler and read by the run.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// Running totals shared by the tasks of a run.
actor Ledger {
    private var succeededCount = 0
    private var failedCount = 0
    private var skippedCount: Int
    private var inFlight = 0
    private var committed = 0.0
    private var estimatedInFlight = 0.0
    private(set) var notStartedCount = 0
    private(set) var failureKinds: [String: Int] = [:]
    private let total: Int
    private let started: ContinuousClock.Instant
    private let clock: ContinuousClock

    init(total: Int, skipped: Int, clock: ContinuousClock) {
        self.total = total
        skippedCount = skipped
        self.clock = clock
        started = clock.now
    }

    /// Spent plus what is in flight or submitted in batches, as estimated: what the next unit is compared against.
    var spent: Double { committed + estimatedInFlight + reservedInBatches }

    /// Batch mode: what the units submitted so far will cost, until their results are collected.
    private var reservedInBatches = 0.0
    func reserve(_ estimate: Double) { reservedInBatches += estimate }
    func releaseReservations() { reservedInBatches = 0 }

    func begin(estimate: Double) {
        inFlight += 1
        estimatedInFlight += estimate
        pendingEstimates.append(estimate)
    }

    private var pendingEstimates: [Double] = []

    private func settle() {
        if !pendingEstimates.isEmpty { estimatedInFlight -= pendingEstimates.removeFirst() }
        inFlight -= 1
    }

    func succeeded(cost: Double) {
        settle()
        succeededCount += 1
        committed += cost
    }

    func failed(kind: String, cost: Double, wasRunning: Bool = false) {
        if wasRunning { settle() }
        failedCount += 1
        committed += cost
        failureKinds[kind, default: 0] += 1
    }

    func notStarted() { notStartedCount += 1 }

    func snapshot() -> RunProgress {
        RunProgress(
            total: total, succeeded: succeededCount, failed: failedCount, skipped: skippedCount, inFlight: inFlight, costUSD: committed,
            elapsed: clock.now - started)
    }
}

/// `manifest.jsonl`: one line per unit, whatever became of it; written to a temporary name and
/// renamed when the run ends.
final class ManifestWriter: @unchecked Sendable {
    private let url: URL
    private let backend: String
    private let lock = NSLock()
    private var handle: FileHandle?

    init(url: URL, backend: String) {
        self.url = url
        self.backend = backend
    }

    func append(unit: WorkUnit, state: String, reason: String?, kind: String?, outputs: [String], cost: Double, fingerprint: String?) throws {
        var line: [String: Any] = [
            "productID": unit.productID, "templateID": unit.templateID, "locale": unit.locale, "state": state, "backend": backend,
            "costUSD": cost, "outputs": outputs,
        ]
        if let reason { line["reason"] = reason }
        if let kind { line["failureKind"] = kind }
        if let fingerprint { line["fingerprint"] = fingerprint }
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
        lock.lock()
        defer { lock.unlock() }
        if handle == nil {
            let partial = url.appendingPathExtension("partial")
            _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
            handle = try FileHandle(forWritingTo: partial)
        }
        try handle?.write(contentsOf: data)
    }

    func finish() throws {
        lock.lock()
        defer { lock.unlock() }
        let partial = url.appendingPathExtension("partial")
        if handle == nil { _ = FileManager.default.createFile(atPath: partial.path, contents: nil) }
        try handle?.close()
        handle = nil
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: partial, to: url)
    }
}
