import ArgumentParser
import Foundation
import OnbrandInputs

/// `onbrand inspect`: what a catalog holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a catalog holds: product count, fields and how often, variant groups, languages."
    )

    @Option(help: "The catalog file: Merchant Center XML, Shopify JSON, schema.org JSON-LD, Onbrand JSON or JSON Lines.")
    var catalog: String

    @Flag(help: "Print one JSON object (its `products` key is the product count).")
    var json = false

    func run() throws {
        let printer = DiagnosticPrinter()
        let reader: CatalogReader
        var summary: CatalogSummary
        do {
            reader = try CatalogReader(contentsOf: catalog)
            summary = CatalogSummary(format: reader.format)
            while let product = try reader.next() { summary.add(product) }
            summary.finish()
        } catch {
            printer.print(error.diagnostics)
            throw ExitCode.failure
        }
        let diagnostics = reader.diagnostics
        printer.print(diagnostics)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            var object = try JSONSerialization.jsonObject(with: encoder.encode(summary)) as? [String: Any] ?? [:]
            object["file"] = catalog
            object["errors"] = diagnostics.filter { $0.severity == .error }.count
            object["warnings"] = diagnostics.filter { $0.severity == .warning }.count
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            Output.result(String(decoding: data, as: UTF8.self))
        } else {
            Output.result(render(summary))
        }
        if diagnostics.contains(where: { $0.severity == .error }) { throw ExitCode.failure }
    }

    private func render(_ summary: CatalogSummary) -> String {
        var lines = ["\(catalog): \(summary.format.rawValue)", "  products: \(summary.products)"]
        if summary.variantGroups > 0 {
            lines.append(
                "  variant groups: \(summary.variantGroups) (\(summary.productsInVariantGroups) products, largest \(summary.largestVariantGroup))")
        } else {
            lines.append("  variant groups: none")
        }
        if !summary.languages.isEmpty {
            lines.append("  languages: " + summary.languages.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !summary.scripts.isEmpty {
            lines.append("  scripts: " + summary.scripts.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if summary.duplicateIDCount > 0 {
            lines.append("  duplicate IDs: \(summary.duplicateIDCount) (\(summary.duplicateIDs.prefix(3).joined(separator: ", ")))")
        }
        if summary.unsafeIDCount > 0 { lines.append("  IDs unsafe as file names: \(summary.unsafeIDCount)") }
        lines.append("  fields:")
        let width = summary.fields.keys.map(\.count).max() ?? 0
        for (name, count) in summary.fields.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            let share = summary.products > 0 ? Int((Double(count) / Double(summary.products) * 100).rounded()) : 0
            lines.append("    \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(count).leftPadded(7))  \(String(share).leftPadded(3))%")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
