import ArgumentParser
import Foundation
import OnbrandBudget
import OnbrandInputs
import OnbrandPipeline

/// `onbrand plan`: every request a run would send, packed to the model's budget and priced.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the request for every product × template × locale, with a token budget and cost report.",
        discussion: """
            Writes OUT/<brand>/plan/requests.jsonl (one generateContent body per unit), budget.jsonl (per unit: \
            tokens per section, what was trimmed or dropped and why, estimated cost) and summary.json. Prints a \
            table, or with --json the summary. Nothing is sent.
            """
    )

    @OptionGroup var inputs: BrandInputOptions

    @Option(help: "Input token budget per request, instead of the model's input limit.")
    var budget: Int?

    @Option(help: "A SentencePiece .model file for exact token counts (default: Onbrand's estimate).")
    var tokenizer: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let budget, budget <= 0 { throw ValidationError("--budget must be a positive number of tokens") }
    }

    @Flag(name: .customLong("inline-images"), help: "Put the brand's images in every request as base64 instead of referring to them through the Files API.")
    var inlineImages = false

    func run() throws {
        let printer = DiagnosticPrinter()
        let loaded = try LoadedInputs.load(brand: inputs.brand, catalog: inputs.catalog, templates: inputs.templates, printer: printer)
        let catalogModels = try inputs.modelCatalog()
        var counter = TokenCounter.estimate
        if let tokenizer {
            do { counter = .exact(try SentencePieceTokenizer(contentsOf: tokenizer)) } catch {
                Output.note(error.description)
                throw ExitCode(2)
            }
        }
        let unitLocales = inputs.locales.isEmpty ? loaded.brand.localeCodes : inputs.locales
        for locale in unitLocales where loaded.brand.locale(locale) == nil && !loaded.brand.localeCodes.contains(locale) {
            Output.note("warning: brand \(loaded.brand.id) has no rules for locale \(locale); the brand's defaults apply")
        }
        let planner = Planner(
            brand: loaded.brand, models: catalogModels,
            options: .init(budget: budget, counter: counter, brandImages: inlineImages ? .inline : .filesAPI))
        let directory = URL(fileURLWithPath: inputs.out).appendingPathComponent(loaded.brand.id).appendingPathComponent("plan")
        let writer = try PlanWriter(directory: directory)
        let reader = try loaded.openCatalog(printer: printer)
        do {
            // Units in catalog order (product, then template, then locale), planned on every core.
            var pending: [ParallelPlanning.Unit] = []
            let pairs = loaded.templates.flatMap { template in unitLocales.map { (template, $0) } }
            let display = PlanProgress()
            defer { display.finish() }
            try ParallelPlanning.run(planner: planner, writer: writer, progress: { display.update(units: $0) }) {
                if pending.isEmpty, let product = try reader.next() {
                    for (template, locale) in pairs.dropLast() { pending.append(.init(template: template, product: product, locale: locale)) }
                    // The last unit takes the product itself: a copy retains each of its strings.
                    if let (template, locale) = pairs.last { pending.append(.init(template: template, product: consume product, locale: locale)) }
                    pending.reverse()
                }
                return pending.popLast()
            }
        } catch let error as DiagnosticError {
            printer.print(error.diagnostics)
            throw ExitCode(2)
        } catch {
            Output.note("error: the plan could not be written to \(Output.shortPath(directory.path)): \(error.localizedDescription)\n  hint: check the free space and permissions there, or pass --out DIR")
            throw ExitCode.failure
        }
        printer.print(reader.diagnostics.filter { $0.severity == .error })
        let summary: PlanSummary
        do { summary = try writer.finish() } catch {
            Output.note("error: the plan could not be written to \(Output.shortPath(directory.path)): \(error.localizedDescription)\n  hint: check the free space and permissions there, or pass --out DIR")
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            Output.result(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            Output.result(PlanTable.render(summary))
        }
        if summary.failed > 0 { throw ExitCode.failure }
    }
}

/// The brand, templates and catalog a command works on, loaded with their problems printed.
struct LoadedInputs {
    var brand: BrandGuide
    var templates: [PromptTemplate]
    var catalogPath: String

    static func load(brand path: String, catalog: String?, templates paths: [String], printer: DiagnosticPrinter) throws -> LoadedInputs {
        let brandResult = BrandLoader.load(path)
        printer.print(brandResult.diagnostics)
        guard let brand = brandResult.guide else { throw ExitCode(2) }
        let templatePaths = paths.isEmpty ? (brand.defaults?.templates ?? []) : paths
        guard !templatePaths.isEmpty else {
            Output.note("\(Output.shortPath(brandResult.file)): error: no templates given and the brand names no default\n  hint: pass --template FILE")
            throw ExitCode(2)
        }
        var templates: [PromptTemplate] = []
        for templatePath in templatePaths {
            let result = TemplateLoader.load(templatePath)
            printer.print(result.diagnostics)
            guard let template = result.template else { throw ExitCode(2) }
            templates.append(template)
        }
        guard let catalogPath = catalog ?? brand.defaults?.catalog else {
            Output.note("\(Output.shortPath(brandResult.file)): error: no catalog given and the brand names no default\n  hint: pass --catalog FILE")
            throw ExitCode(2)
        }
        return LoadedInputs(brand: brand, templates: templates, catalogPath: catalogPath)
    }

    func openCatalog(printer: DiagnosticPrinter) throws -> CatalogReader {
        do {
            return try CatalogReader(contentsOf: catalogPath)
        } catch {
            printer.print(error.diagnostics)
            throw ExitCode(2)
        }
    }
}

enum PlanTable {
    static func render(_ summary: PlanSummary) -> String {
        func money(_ value: Double) -> String { String(format: "$%.2f", value) }
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(width - text.count, 0))
            return right ? padding + text : text + padding
        }
        func row(_ cells: [String]) -> String {
            [pad(cells[0], 22), pad(cells[1], 8), pad(cells[2], 7, right: true), pad(cells[3], 7, right: true),
                pad(cells[4], 12, right: true), pad(cells[5], 10, right: true)].joined(separator: " ")
        }
        var lines = [row(["template", "locale", "units", "failed", "input tok", "cost"])]
        for group in summary.groups {
            lines.append(
                row([group.templateID, group.locale, "\(group.units)", "\(group.failed)", "\(group.inputTokens)", money(group.costUSD)]))
        }
        lines.append("")
        lines.append(
            "\(summary.units) units: \(summary.planned) planned, \(summary.failed) failed; "
                + "\(summary.inputTokens) input tokens (\(summary.isExact ? "exact" : "estimated")), \(summary.inputImages) input images, "
                + "\(summary.outputImageTokens) image output tokens")
        lines.append("cost: \(money(summary.costUSD)) online, \(money(summary.batchCostUSD)) in batch mode")
        if summary.trimmedSections + summary.droppedSections > 0 {
            lines.append("sections trimmed: \(summary.trimmedSections), dropped: \(summary.droppedSections) (see budget.jsonl)")
        }
        if summary.needsExactCount > 0 {
            lines.append("\(summary.needsExactCount) units are near the input limit; the run confirms them with countTokens")
        }
        for (reason, count) in summary.failures.sorted(by: { $0.value > $1.value }).prefix(5) {
            lines.append("failed ×\(count): \(reason)")
        }
        if let file = summary.requestsFile { lines.append("requests: \(Output.shortPath(file))") }
        return lines.joined(separator: "\n")
    }
}

/// How far planning has got, on standard error: a live line on a terminal, a plain line every 10 s
/// otherwise (a million-product plan takes about a minute), nothing for plans that finish in a second.
final class PlanProgress: @unchecked Sendable {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private let started = ContinuousClock.now
    private var lastPrinted = ContinuousClock.now
    private var hasLine = false

    func update(units: Int) {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        let elapsed = now - started
        guard elapsed >= .seconds(1), now - lastPrinted >= (isTerminal ? .milliseconds(100) : .seconds(10)) else { return }
        lastPrinted = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let line = String(format: "planned %d units · %.0f units/s · %@", units, Double(units) / seconds, ProgressDisplay.duration(seconds) as NSString)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            hasLine = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if hasLine { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
