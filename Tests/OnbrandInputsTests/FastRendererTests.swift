import Foundation
import Mustache
@testable import OnbrandInputs
import OnbrandTestSupport
import Testing

/// The fast renderer says what swift-mustache says, on Mustache's tricky parts and on every
/// bundled template with every bundled product.
@Suite struct FastRendererTests {
    static func both(_ source: String, _ root: [String: RenderContext.Value]) throws -> (fast: String?, mustache: String) {
        let fast = FastTemplate(source: source, tags: MustacheTagScanner.tags(in: source).tags)?.render(root)
        let mustache = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source).render(root.mapValues(\.mustacheValue))
        return (fast, mustache)
    }

    @Test(arguments: [
        "Hello {{name}}!",
        "A\n{{#flag}}\n  yes\n{{/flag}}\nB",
        "  {{#items}}\n  - {{.}}\n  {{/items}}\nend",
        "first\n  {{#items}}\n  - {{.}}\n  {{/items}}\nend",
        "{{#items}}{{.}}, {{/items}}",
        "{{^empty}}nothing{{/empty}} {{^items}}never{{/items}}",
        "{{#map}}{{inner.deep}} {{name}}{{/map}}",
        "line {{! a comment }}\n{{! standalone comment }}\nnext",
        "{{#flag}}on{{/flag}}{{^flag}}off{{/flag}} {{#off}}x{{/off}}{{^off}}y{{/off}}",
        "{{#name}}[{{.}}]{{/name}} {{#blank}}<{{.}}>{{/blank}}",
        "\r\n{{#flag}}\r\nwindows\r\n{{/flag}}\r\n",
        "{{#map}}{{#inner}}{{deep}}/{{name}}{{/inner}}{{/map}}",
    ])
    func matchesSwiftMustache(_ source: String) throws {
        let root: [String: RenderContext.Value] = [
            "name": .string("Ada"), "blank": .string(""), "flag": .bool(true), "off": .bool(false),
            "items": .list([.string("a"), .string("b")]), "empty": .list([]),
            "map": .map(["name": .string("inner name"), "inner": .map(["deep": .string("deep value")])]),
        ]
        let (fast, mustache) = try Self.both(source, root)
        #expect(fast.map(TemplateRenderer.normalize) == TemplateRenderer.normalize(mustache), "\(source.debugDescription)")
    }

    @Test func leavesWhatItDoesNotKnowToSwiftMustache() {
        for source in ["{{> partial}}", "{{=<% %>=}}", "{{uppercased(name)}}", "{{#a}}unclosed"] {
            #expect(FastTemplate(source: source, tags: MustacheTagScanner.tags(in: source).tags) == nil, "\(source)")
        }
        let list = FastTemplate(source: "{{items}}", tags: MustacheTagScanner.tags(in: "{{items}}").tags)
        #expect(list?.render(["items": .list([.string("a")])]) == nil, "a list printed as a variable is swift-mustache's business")
    }

    /// Every bundled template, for every product of the bundled catalogs in every locale, renders
    /// through the fast path without it ever being refused.
    /// The bundled templates, and each bundled brand with the products of its own catalog.
    static func bundled() throws -> (templates: [PromptTemplate], brands: [(name: String, brand: BrandGuide, products: [Product])]) {
        let root = TestFiles.packageRoot
        let templates = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("templates").path)
            .filter { $0.hasSuffix(".xml") || $0.hasSuffix(".json") }.sorted()
            .map { try TemplateLoader.loadOrThrow(root.appendingPathComponent("templates/\($0)").path) }
        let brands = try ["northwind", "lumen", "lumen-men"].map { name in
            let brand = try BrandLoader.loadOrThrow(root.appendingPathComponent("brands/\(name)").path)
            let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("brands/\(name)").path)
            let catalog = try #require(
                brand.defaults?.catalog ?? files.first { $0.hasPrefix("catalog.") }.map { root.appendingPathComponent("brands/\(name)/\($0)").path })
            return (name, brand, try CatalogReader(contentsOf: catalog).readAll())
        }
        return (templates, brands)
    }

    @Test func bundledTemplatesStayOnTheFastPath() throws {
        let (templates, brands) = try Self.bundled()
        var rendered = 0
        for (brandName, brand, products) in brands {
            for product in products {
                for locale in brand.localeCodes {
                    for template in templates {
                        let context = RenderContext(
                            brand: RenderContext.brandValue(brand, locale: locale, channel: template.channel),
                            product: product, locale: RenderContext.localeValue(brand, code: locale), sharedPartKey: "fast-test|\(brandName)|\(locale)|\(template.channel ?? "")")
                        guard (try? TemplateRenderer.render(template, context: context)) != nil else { continue }
                        rendered += 1
                        let texts = template.sections.compactMap(\.text) + [template.prompt] + [template.altText.instruction, template.altText.fallback].compactMap { $0 }
                        for text in texts { #expect(!CompiledTexts.shared.isFastRefused(text.source), "\(template.id): \(text.source.prefix(60))") }
                    }
                }
            }
        }
        #expect(rendered > 100)
    }

    /// A prepared template renders exactly what the full path renders, for every bundled template,
    /// product and locale, and fails where it fails, with the same messages.
    @Test func preparedTemplatesRenderWhatTheFullPathRenders() throws {
        let (templates, brands) = try Self.bundled()
        var compared = 0
        for (brandName, brand, products) in brands {
            for locale in brand.localeCodes {
                for template in templates {
                    let brandValue = RenderContext.brandValue(brand, locale: locale, channel: template.channel)
                    let localeValue = RenderContext.localeValue(brand, code: locale)
                    let prepared = PreparedTemplate(template, brand: brandValue, locale: localeValue, sharedPartKey: "prepared-test|\(brandName)|\(locale)")
                    #expect(prepared.sharedSectionTexts.contains { $0 != nil }, "\(template.id): some section never names the product")
                    // Twice over the products, with and without the texts rendered last (the second
                    // time round, each is one `RecentTexts` has seen).
                    let recent = RecentTexts()
                    for product in products + products {
                        let context = RenderContext(brand: brandValue, product: product, locale: localeValue, sharedPartKey: nil)
                        let full = Result { () throws(DiagnosticError) in try TemplateRenderer.render(template, context: context, subject: product.id) }
                        for fast in [
                            Result { () throws(DiagnosticError) in try prepared.render(product, subject: product.id) },
                            Result { () throws(DiagnosticError) in try prepared.render(product, subject: product.id, recent: recent) },
                        ] {
                            switch (full, fast) {
                            case (.success(let expected), .success(let actual)): #expect(actual == expected, "\(template.id) \(product.id) \(locale)")
                            case (.failure(let expected), .failure(let actual)):
                                #expect(actual.diagnostics.map(\.message) == expected.diagnostics.map(\.message))
                            default: Issue.record("\(template.id) \(product.id) \(locale): \(full) vs \(fast)")
                            }
                        }
                        compared += 1
                    }
                    // A refused template falls back to the full path, which would hide a wrong fast render.
                    #expect(!prepared.isRefused, "\(template.id) \(locale): a fast render differed from swift-mustache's")
                }
            }
        }
        #expect(compared > 100)
    }

    /// The trace tells apart contexts that take different paths through a text, and only those.
    @Test func tracesFollowTheDecisionsNotTheText() throws {
        let source = "{{#a}}[{{a}}]{{/a}}{{#items}}{{.}}{{/items}}"
        let fast = try #require(FastTemplate(source: source, tags: MustacheTagScanner.tags(in: source).tags))
        func trace(_ root: [String: RenderContext.Value]) -> UInt64 {
            var trace = RenderTrace()
            _ = fast.render(root, strict: false, trace: &trace)
            return trace.value
        }
        let one = trace(["a": .string("x"), "items": .list([.string("1")])])
        #expect(trace(["a": .string("other text"), "items": .list([.string("2")])]) == one)
        #expect(trace(["a": .string(""), "items": .list([.string("1")])]) != one, "an empty string is a different decision")
        #expect(trace(["a": .string("two\nlines"), "items": .list([.string("1")])]) != one, "line breaks meet normalisation")
        #expect(trace(["a": .string(" padded"), "items": .list([.string("1")])]) != one, "so do blanks at either end")
        #expect(trace(["a": .string("x"), "items": .list([.string("1"), .string("2")])]) != one)
        #expect(trace(["items": .list([.string("1")])]) != one)
        // A missing section name is falsy; a missing variable fails a strict render.
        var scratch = RenderTrace()
        #expect(fast.render(["items": .list([])], strict: true, trace: &scratch) == "")
        let variable = try #require(FastTemplate(source: "x {{b}}", tags: MustacheTagScanner.tags(in: "x {{b}}").tags))
        let strict = variable.render(["a": .string("x")], strict: true, trace: &scratch)
        #expect(strict == nil)
    }

    /// A value's kind, read eight bytes at a time: a line break anywhere, at any length, is found.
    @Test func kindsFindLineBreaksAtEveryOffset() {
        #expect(FastTemplate.kind(of: "") == 1)
        for length in 1..<80 {
            let plain = String(repeating: "a", count: length)
            #expect(FastTemplate.kind(of: plain) == 2)
            #expect(FastTemplate.kind(of: " " + plain) == 8 && FastTemplate.kind(of: plain + "\t") == 8)
            for offset in 0..<length {
                for breakByte in ["\n", "\r"] {
                    var text = plain
                    text.replaceSubrange(text.index(text.startIndex, offsetBy: offset)...text.index(text.startIndex, offsetBy: offset), with: breakByte)
                    #expect(FastTemplate.kind(of: text) == 7, "\(text.debugDescription)")
                }
            }
        }
    }

    @Test(arguments: [
        ("  a  \n\n\n  b\t\n", "a\n\nb"),
        ("\n\n  x", "x"),
        ("one\r\ntwo\r\n", "one\ntwo"),
        ("", ""),
        ("   \n \t ", ""),
        ("日本語  \n  ü", "日本語\nü"),
    ])
    func normalisationTrimsLinesAndKeepsOneBlankLine(_ input: String, _ expected: String) {
        #expect(TemplateRenderer.normalize(input) == expected)
        var bytes = Array(input.utf8)
        let count = bytes.withUnsafeMutableBufferPointer { TemplateRenderer.normalize(inPlace: $0) }
        #expect(String(decoding: bytes.prefix(count), as: UTF8.self) == expected, "in place")
    }
}
