import ArgumentParser
import Foundation
import OnbrandInputs

/// `onbrand validate`: checks a brand with its catalog and templates as a run would use them.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a brand guide, its catalog and its templates, printing every problem with its place.",
        discussion: """
            Problems print as `file:line:col: error: message` on standard error, then a summary on standard \
            output. Exits 1 when any error is found.
            """
    )

    @Argument(help: "A brand directory (with brand.xml or brand.json) or a brand file.")
    var brand: String

    @Option(help: "The catalog to check (default: the brand's default catalog).")
    var catalog: String?

    @Option(name: .customLong("template"), help: "A template to check; repeat for more (default: the brand's templates).")
    var templates: [String] = []

    func run() throws {
        let report = InputValidator().validate(brandPath: brand, catalog: catalog, templates: templates)
        DiagnosticPrinter().print(report.diagnostics)
        let errors = report.diagnostics.filter { $0.severity == .error }.count
        let warnings = report.diagnostics.filter { $0.severity == .warning }.count
        var parts: [String] = []
        if let guide = report.brand {
            parts.append("brand \(guide.name ?? guide.id) (\(guide.localeCodes.joined(separator: ", ")))")
        }
        if let summary = report.catalog, let file = report.catalogFile {
            var catalog = "catalog \(Output.shortPath(file)): \(summary.products) products, \(summary.format.rawValue)"
            if summary.variantGroups > 0 { catalog += ", \(summary.variantGroups) variant groups" }
            parts.append(catalog)
        }
        if !report.templates.isEmpty {
            parts.append("templates " + report.templates.map { "\($0.id) v\($0.version)" }.joined(separator: ", "))
        }
        let verdict = errors == 0 ? "OK" : "FAILED"
        Output.result("\(verdict): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        for part in parts { Output.result("  \(part)") }
        if errors > 0 { throw ExitCode.failure }
    }
}
