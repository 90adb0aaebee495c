import Foundation

/// Checks a brand with its catalog and templates the way a run would use them, collecting every
/// problem: the brand file, each product, each template, and each template against each product
/// and locale (a variable that resolves for one product may not for another).
public struct InputValidator {
    public struct Report: Sendable {
        public var diagnostics: [Diagnostic]
        public var brand: BrandGuide?
        public var templates: [PromptTemplate]
        public var catalogFile: String?
        public var catalog: CatalogSummary?

        public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    }

    /// At most this many render problems are listed per template and message.
    static let examplesPerProblem = 5

    public init() {}

    /// - Parameters:
    ///   - brandPath: A brand directory or file.
    ///   - catalog: A catalog file, or `nil` for the brand's default.
    ///   - templates: Template files, or empty for the brand's defaults.
    public func validate(brandPath: String, catalog: String?, templates: [String]) -> Report {
        var diagnostics: [Diagnostic] = []
        let brandResult = BrandLoader.load(brandPath)
        diagnostics += brandResult.diagnostics
        let brand = brandResult.guide

        let templatePaths = templates.isEmpty ? (brand?.defaults?.templates ?? []) : templates
        var loadedTemplates: [PromptTemplate] = []
        for path in templatePaths {
            let result = TemplateLoader.load(path)
            diagnostics += result.diagnostics
            if let template = result.template { loadedTemplates.append(template) }
        }

        let catalogPath = catalog ?? brand?.defaults?.catalog
        var summary: CatalogSummary?
        if let catalogPath {
            do {
                let reader = try CatalogReader(contentsOf: catalogPath)
                var catalogSummary = CatalogSummary(format: reader.format)
                var renderProblems = RenderProblems()
                while let product = try reader.next() {
                    catalogSummary.add(product)
                    if let brand {
                        for template in loadedTemplates {
                            for locale in brand.localeCodes {
                                let context = RenderContext(brand: brand, product: product, locale: locale, channel: template.channel)
                                for problem in TemplateRenderer.check(template, against: context) {
                                    renderProblems.add(problem, product: product.id, locale: locale)
                                }
                            }
                        }
                    }
                }
                catalogSummary.finish()
                summary = catalogSummary
                diagnostics += reader.diagnostics
                diagnostics += renderProblems.diagnostics()
                if catalogSummary.products == 0 {
                    diagnostics.append(.error("the catalog has no products", at: SourceLocation(file: catalogPath)))
                }
                if catalogSummary.duplicateIDCount > 0 {
                    diagnostics.append(
                        .warning(
                            "\(catalogSummary.duplicateIDCount) product IDs occur more than once (\(catalogSummary.duplicateIDs.prefix(3).joined(separator: ", ")))",
                            at: SourceLocation(file: catalogPath), hint: "IDs name output files; give each product its own"))
                }
            } catch {
                diagnostics += error.diagnostics
            }
        } else if brand != nil {
            diagnostics.append(
                .warning(
                    "no catalog given and the brand names no default", at: SourceLocation(file: brandResult.file),
                    hint: "pass --catalog FILE, or add <defaults catalog=\"…\"/> to the brand"))
        }
        return Report(diagnostics: diagnostics, brand: brand, templates: loadedTemplates, catalogFile: catalogPath, catalog: summary)
    }
}

/// Groups the same template problem across products: one line naming a few products and a count.
private struct RenderProblems {
    struct Key: Hashable {
        var message: String
        var location: SourceLocation?
    }

    var order: [Key] = []
    var examples: [Key: (diagnostic: Diagnostic, subjects: [String], count: Int)] = [:]

    mutating func add(_ diagnostic: Diagnostic, product: String, locale: String) {
        let key = Key(message: diagnostic.message, location: diagnostic.location)
        if var entry = examples[key] {
            entry.count += 1
            if entry.subjects.count < InputValidator.examplesPerProblem { entry.subjects.append("\(product) (\(locale))") }
            examples[key] = entry
        } else {
            order.append(key)
            examples[key] = (diagnostic, ["\(product) (\(locale))"], 1)
        }
    }

    func diagnostics() -> [Diagnostic] {
        order.compactMap { key in
            guard let entry = examples[key] else { return nil }
            var diagnostic = entry.diagnostic
            let more = entry.count > entry.subjects.count ? " and \(entry.count - entry.subjects.count) more" : ""
            diagnostic.message += " for \(entry.subjects.joined(separator: ", "))\(more)"
            return diagnostic
        }
    }
}
