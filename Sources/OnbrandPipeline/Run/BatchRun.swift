import Foundation
import GeminiKit
import OnbrandBudget
import OnbrandInputs

/// What `--batch` needs from the run.
struct BatchContext: Sendable {
    var inputs: Runner.Inputs
    var planner: Planner
    var brandDigest: String
    var batches: any BatchSubmitting
    var client: any ImageGenerating
    var models: ModelCatalog
    var journal: Journal
    var root: URL
    var runID: String
    var backend: String
    var manifest: ManifestWriter
    var ledger: Ledger
}

/// Batch mode: the units go to the Batch API as JSONL jobs (half price, results within a day),
/// one job per model and `batchSize` units. Each job is in the journal the moment the API
/// creates it, so a run that stops while waiting (Ctrl-C, a crash, a closed laptop) loses nothing:
/// the next run waits for the same jobs and collects them instead of paying again.
extension Runner {
    func sendInBatches(_ context: BatchContext) async throws {
        let journal = context.journal
        // 1. New jobs for the units that are neither done nor already waiting in a job.
        // One job per model and image size; a job's results are downloaded whole, so big images make small jobs.
        var pending: [String: (model: String, lines: Data, units: [(key: String, fingerprint: String, tokenCheck: TokenCheck?)])] = [:]
        func submit(_ group: String) async throws {
            guard let job = pending.removeValue(forKey: group), !job.units.isEmpty else { return }
            let model = job.model
            let name = try await createJob(model: model, lines: job.lines, count: job.units.count, batches: context.batches)
            try journal.recordBatch(.init(name: name, model: model, createdAt: Date(), units: job.units.count), units: job.units)
            notice("batch \(name): \(job.units.count) units for \(model) submitted at half price")
        }
        try await forEachUnit(context.inputs) { unit, template, product in
            let plan = context.planner.plan(template, product: product, locale: unit.locale)
            let key = Self.key(unit)
            guard let planned = plan.request else {
                let kind = (plan.failure ?? "").contains("required sections") ? "over budget" : "invalid request"
                await context.ledger.failed(kind: kind, cost: 0)
                try context.manifest.append(unit: unit, state: "failed", reason: plan.failure, kind: kind, outputs: [], cost: 0, fingerprint: nil)
                return
            }
            let fingerprint = Fingerprint.of(model: plan.model, template: template, brandDigest: context.brandDigest, product: product, request: planned)
            if !options.force, try journal.isDone(key, fingerprint: fingerprint, outputRoot: context.root) {
                try context.manifest.append(unit: unit, state: "skipped", reason: "unchanged", kind: nil, outputs: [], cost: 0, fingerprint: fingerprint)
                return
            }
            if try journal.isInPendingBatch(key, fingerprint: fingerprint) || stopFlag.isSet { return }
            if let cap = options.maximumCost, await context.ledger.spent + plan.report.batchCostUSD > cap {
                await context.ledger.notStarted()
                try context.manifest.append(
                    unit: unit, state: "not-started", reason: "the next unit would cross --max-cost", kind: "over budget", outputs: [], cost: 0,
                    fingerprint: fingerprint)
                return
            }
            // A unit near the limit is counted by the API first, and planned again tighter if need be.
            let request: GenerateContentRequest
            let tokenCheck: TokenCheck?
            switch await confirmFit(plan, request: planned, template: template, product: product, planner: context.planner, client: context.client) {
            case .send(let confirmedPlan, let confirmed):
                request = confirmed
                tokenCheck = confirmedPlan.tokenCheck
            case .overLimit(let reason):
                await context.ledger.failed(kind: "over budget", cost: 0)
                try context.manifest.append(unit: unit, state: "failed", reason: reason, kind: "over budget", outputs: [], cost: 0, fingerprint: fingerprint)
                return
            }
            await context.ledger.reserve(plan.report.batchCostUSD)
            var line = Data("{\"key\":".utf8)
            line += (try? JSONEncoder().encode(key)) ?? Data("\"\"".utf8)
            line += Data(",\"request\":".utf8)
            line += try WireCoding.encoder().encode(request)
            line += Data("}\n".utf8)
            let size = template.output.imageSize.rawValue
            let group = "\(plan.model)|\(size)"
            pending[group, default: (plan.model, Data(), [])].lines += line
            pending[group, default: (plan.model, Data(), [])].units.append((key, fingerprint, tokenCheck))
            if pending[group]!.units.count >= Self.unitsPerJob(options.batchSize, model: plan.model, template: template, models: context.models) {
                try await submit(group)
            }
        }
        for group in pending.keys.sorted() { try await submit(group) }
        // From here on, costs are counted as results arrive.
        await context.ledger.releaseReservations()

        // 2. Wait for every job in the journal (this run's and any an earlier run left), then collect it.
        for job in try journal.pendingBatches() {
            var delay = options.batchPollInterval
            var operation: BatchOperation
            while true {
                operation = try await context.batches.batch(job.name)
                if operation.isDone || (operation.metadata?.state?.isTerminal ?? false) { break }
                let stats = operation.metadata?.batchStats
                notice("batch \(job.name): \(operation.metadata?.state?.rawValue ?? "pending"), \(stats?.succeeded ?? 0) of \(job.units) done")
                if stopFlag.isSet {
                    notice("stopped waiting: run the same command again to collect \(job.name) and the jobs after it")
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(60))
            }
            try await collect(job, operation: operation, context)
        }
    }

    /// Units per job: `--batch-size`, and fewer for big images, so that a job's results (about two
    /// bytes of base64 per pixel) stay near 400 MB when downloaded.
    static func unitsPerJob(_ requested: Int, model: String, template: PromptTemplate, models: ModelCatalog) -> Int {
        guard let profile = models.profile(model),
            let size = ImageDimensions.size(for: profile, aspectRatio: template.output.aspectRatio.rawValue, imageSize: template.output.imageSize.rawValue)
        else { return requested }
        return max(1, min(requested, 400_000_000 / max(size.width * size.height * 2, 1)))
    }

    /// Uploads the JSONL and creates the job; its name.
    private func createJob(model: String, lines: Data, count: Int, batches: any BatchSubmitting) async throws -> String {
        do {
            let file = try await batches.uploadFile(lines, mimeType: "application/jsonl", id: nil, displayName: "onbrand-\(count)-units")
            let batch = GenerateContentBatch(displayName: "onbrand \(count) units", inputConfig: .init(fileName: file.name))
            return try await batches.createBatch(model: model, batch: batch).name
        } catch {
            throw RunError(diagnostics: [.error("could not submit a batch for \(model): \(error.description)", at: nil, hint: nil)])
        }
    }

    /// Writes the outputs of a finished job's units, or records why they have none, and forgets the job.
    private func collect(_ job: Journal.BatchJob, operation: BatchOperation, _ context: BatchContext) async throws {
        let submitted = try context.journal.units(inBatch: job.name)
        var answers: [String: BatchResponseLine] = [:]
        var jobFailure: String?
        if operation.metadata?.state == .succeeded || operation.response != nil {
            if let file = operation.response?.responsesFile ?? operation.metadata?.output?.responsesFile {
                do {
                    let data = try await context.batches.downloadFile(file)
                    for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                        guard let answer = try? WireCoding.decoder().decode(BatchResponseLine.self, from: Data(line)), let key = answer.key else { continue }
                        answers[key] = answer
                    }
                } catch {
                    // Keep the job: the results may be downloadable on the next run.
                    notice("warning: could not download the results of \(job.name): \(error.description); run again to collect them")
                    return
                }
            } else if let inline = operation.response?.inlinedResponses?.inlinedResponses {
                for item in inline {
                    guard let key = item.metadata?["key"] else { continue }
                    answers[key] = BatchResponseLine(key: key, response: item.response, error: item.error)
                }
            }
        } else {
            let state = operation.metadata?.state?.rawValue ?? "unknown"
            jobFailure = "the batch ended \(state)" + (operation.error.map { ": \($0.message)" } ?? "")
        }
        try await forEachUnit(context.inputs) { unit, template, product in
            let key = Self.key(unit)
            guard let batched = submitted[key] else { return }
            var plan = context.planner.plan(template, product: product, locale: unit.locale)
            guard let request = plan.request else { return }
            let fingerprint = Fingerprint.of(model: plan.model, template: template, brandDigest: context.brandDigest, product: product, request: request)
            // A unit that changed since it was sent gets sent again next run; its old answer is not used.
            guard fingerprint == batched.fingerprint else { return }
            if let check = batched.tokenCheck {
                // The plan of the request actually sent, with what countTokens said about it.
                if let packed = check.packedToLimit {
                    plan = context.planner.plan(template, product: product, locale: unit.locale, inputLimit: packed)
                    plan.report.inputLimit = check.inputLimit
                }
                plan.tokenCheck = check
            }
            try context.journal.markRunning(key, fingerprint: fingerprint, runID: context.runID)
            await context.ledger.begin(estimate: plan.report.batchCostUSD)
            let outcome: UnitOutcome
            if let response = answers[key]?.response {
                outcome = await complete(
                    unit: unit, template: template, product: product, plan: plan, fingerprint: fingerprint, response: response,
                    startedAt: job.createdAt, isBatch: true, client: context.client, models: context.models, journal: context.journal,
                    root: context.root, brand: context.inputs.brand, backend: context.backend)
            } else {
                let reason = answers[key]?.error.map { "\($0.status ?? "error") \($0.code): \($0.message)" } ?? jobFailure ?? "the batch's results have no line for this unit"
                try? context.journal.finish(key, state: .failed, outcome: reason, failureKind: "batch", costUSD: 0, outputs: [])
                outcome = UnitOutcome(failureKind: "batch", reason: reason, outputs: [], cost: 0)
            }
            if let kind = outcome.failureKind {
                await context.ledger.failed(kind: kind, cost: outcome.cost, wasRunning: true)
            } else {
                await context.ledger.succeeded(cost: outcome.cost)
            }
            try context.manifest.append(
                unit: unit, state: outcome.failureKind == nil ? "succeeded" : "failed", reason: outcome.reason, kind: outcome.failureKind,
                outputs: outcome.outputs, cost: outcome.cost, fingerprint: fingerprint)
            progress(await context.ledger.snapshot())
        }
        try context.journal.forgetBatch(job.name)
    }
}
