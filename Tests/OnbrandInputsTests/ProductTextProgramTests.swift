import Foundation
@testable import OnbrandInputs
import OnbrandTestSupport
import Testing

/// A product text program writes what the fast renderer writes over the product's context, and
/// fails where it fails.
@Suite struct ProductTextProgramTests {
    static let brand = RenderContext.brandValue(BrandGuide(id: "b"), locale: "en-US", channel: nil)
    static let brandWithTagline: RenderContext.Value = {
        var guide = BrandGuide(id: "b")
        guide.name = "Brand"
        guide.tagline = "Made for days"
        guide.prohibited = ["logos", "weapons"]
        return RenderContext.brandValue(guide, locale: "en-US", channel: nil)
    }()
    static let locale = RenderContext.localeValue(BrandGuide(id: "b"), code: "en-US")

    static func fast(_ source: String) throws -> FastTemplate {
        try #require(FastTemplate(source: source, tags: MustacheTagScanner.tags(in: source).tags), "\(source)")
    }

    /// The fast renderer's output (`nil`: it fails), over the context a ``PreparedTemplate`` builds
    /// for the text (only the product fields it names), and the program's.
    static func both(_ source: String, _ product: Product, brand: RenderContext.Value = brandWithTagline) throws -> (fast: String?, program: String?) {
        let fast = try fast(source)
        let program = try #require(ProductTextProgram(fast, brand: brand, locale: locale), "\(source) compiles")
        let fields = PreparedTemplate.productFields(namedIn: [source])
        let root: RenderContext.Members = ["brand": brand, "product": RenderContext.productValue(product, fields: fields), "locale": locale]
        var trace = RenderTrace()
        var stack: [RenderContext.Value] = []
        var expected = ByteBuffer(capacity: 64)
        let fastText = fast.render(root, strict: true, trace: &trace, into: &expected, stack: &stack) ? String(decoding: expected.written, as: UTF8.self) : nil
        var output = ByteBuffer(capacity: 64)
        let programText = program.render(product, trace: &trace, into: &output) ? String(decoding: output.written, as: UTF8.self) : nil
        return (fastText, programText)
    }

    static let products: [Product] = {
        var full = Product(id: "SKU-1")
        full.title = "Trail Jacket"
        full.color = "Forest"
        full.material = ""
        full.price = Price(amount: "129.00", currency: "USD")
        full.highlights = ["Light", "Warm\nand dry", " padded "]
        full.details = [
            Product.Detail(sectionName: "Fit", attributeName: "Cut", attributeValue: "Regular"),
            Product.Detail(sectionName: "", attributeName: "Weight", attributeValue: "562 g"),
        ]
        full.extraAttributes = [Product.Attribute(name: "season", value: "winter")]
        full.customLabels = [nil, "clearance"]
        let bare = Product(id: "SKU-2")
        var emptyID = Product(id: "")
        emptyID.title = "No id"
        return [full, bare, emptyID]
    }()

    @Test(arguments: [
        "Product: {{product.title}} (ID {{product.id}}).",
        "{{#product.color}}Colour: {{product.color}}.{{/product.color}}{{^product.color}}No colour.{{/product.color}}",
        "{{#product.material}}Material: {{.}}{{/product.material}}{{^product.material}}none{{/product.material}}",
        "{{#product.product_highlight}}- {{.}}\n{{/product.product_highlight}}{{^product.product_highlight}}no highlights{{/product.product_highlight}}",
        "{{#product.product_detail}}{{attribute_name}}: {{attribute_value}}. {{/product.product_detail}}",
        "{{#product.attributes}}{{name}}={{value}} {{product.title}} {{brand.name}}{{/product.attributes}}",
        "{{#product.price}}{{product.price}}{{/product.price}}{{#product.custom_label_1}} {{.}}{{/product.custom_label_1}}",
        "{{#product.id}}[{{.}}]{{/product.id}}",
        "{{#product.color}}{{.}}{{#product.title}}, {{.}}{{/product.title}}{{^product.size}} ({{.}}){{/product.size}}{{/product.color}}",
        "{{#product.product_highlight}}{{#product.color}}{{.}} {{/product.color}}{{.}};{{/product.product_highlight}}",
        // A field inside its own section is the section's item; inside another's, or a list's, it is not.
        "{{#product.color}}{{product.color}}{{#product.title}}/{{product.color}}/{{product.title}}{{/product.title}}{{^product.size}}[{{product.color}}]{{/product.size}}{{/product.color}}",
        "{{#product.product_highlight}}{{product.title}}:{{.}} {{/product.product_highlight}}",
        "{{brand.name}}{{#brand.tagline}} (\"{{brand.tagline}}\"){{/brand.tagline}}: {{#brand.prohibited}}{{.}}; {{/brand.prohibited}}{{product.id}}",
        "{{#brand.imagery.lighting}}never{{/brand.imagery.lighting}}{{^brand.imagery.lighting}}no lighting{{/brand.imagery.lighting}} {{locale.code}} {{product.id}}",
        "  {{#product.product_highlight}}\n  - {{.}}\n  {{/product.product_highlight}}\nend {{product.id}}",
    ])
    func writesWhatTheFastRendererWrites(_ source: String) throws {
        for product in Self.products {
            let (fast, program) = try Self.both(source, product)
            #expect(program == fast, "\(source.debugDescription) for \(product.id)")
        }
    }

    @Test func failsWhereTheFastRendererFails() throws {
        // A detail without a section name, a product without a title: the variable does not resolve.
        for source in ["{{#product.product_detail}}{{section_name}}{{/product.product_detail}}", "{{product.title}}"] {
            let (fast, program) = try Self.both(source, Self.products[1].with { $0.details = [.init(sectionName: nil, attributeName: "a", attributeValue: "b")] })
            #expect(fast == nil && program == nil, "\(source)")
        }
    }

    @Test func decisionsTellProductsApart() throws {
        let program = try #require(ProductTextProgram(try Self.fast("{{product.title}}{{#product.product_highlight}}{{.}}{{/product.product_highlight}}"), brand: Self.brand, locale: Self.locale))
        func trace(_ product: Product) -> UInt64 {
            var trace = RenderTrace()
            var output = ByteBuffer(capacity: 64)
            _ = program.render(product, trace: &trace, into: &output)
            return trace.value
        }
        let one = trace(Product(id: "1").with { $0.title = "A"; $0.highlights = ["x"] })
        #expect(trace(Product(id: "2").with { $0.title = "Other"; $0.highlights = ["y"] }) == one)
        #expect(trace(Product(id: "3").with { $0.title = "Two\nlines"; $0.highlights = ["x"] }) != one)
        #expect(trace(Product(id: "4").with { $0.title = "A"; $0.highlights = ["x", "y"] }) != one)
    }

    /// What programs leave to the fast renderer.
    @Test(arguments: [
        "{{product}}", "{{.}}", "{{product.product_highlight}}", "{{product.no_such_field}}", "{{brand.no_such_value}}",
        "{{#product.product_detail}}{{#product.color}}{{attribute_name}}{{/product.color}}{{/product.product_detail}}",
        "{{#brand.tagline}}{{product.title}}{{/brand.tagline}}",
        "{{#product.product_detail}}{{#brand.tagline}}{{attribute_name}}{{/brand.tagline}}{{/product.product_detail}}",
        // Custom labels only by the name they are written as.
        "{{product.custom_label_01}}", "{{product.custom_label_+1}}",
    ])
    func leavesOtherShapesToTheFastRenderer(_ source: String) throws {
        #expect(ProductTextProgram(try Self.fast(source), brand: Self.brandWithTagline, locale: Self.locale) == nil, "\(source)")
    }

    /// Every text of a bundled template that names the product compiles, so planning them never
    /// builds a context.
    @Test func bundledTemplatesCompile() throws {
        let (templates, brands) = try FastRendererTests.bundled()
        for (_, brand, _) in brands {
            for template in templates {
                let texts = template.sections.compactMap(\.text) + [template.prompt] + [template.altText.instruction, template.altText.fallback].compactMap { $0 }
                for text in texts where text.source.contains("product.") {
                    let fast = try Self.fast(text.source)
                    let program = ProductTextProgram(
                        fast, brand: RenderContext.brandValue(brand, locale: brand.localeCodes[0], channel: template.channel),
                        locale: RenderContext.localeValue(brand, code: brand.localeCodes[0]))
                    #expect(program != nil, "\(template.id): \(text.source.prefix(80))")
                }
            }
        }
    }
}

extension Product {
    fileprivate func with(_ change: (inout Product) -> Void) -> Product {
        var copy = self
        change(&copy)
        return copy
    }
}

/// Recent texts give back the string already made for the same bytes, and only for them.
@Suite struct RecentTextsTests {
    @Test func sameBytesGiveTheSameString() {
        let recent = RecentTexts()
        func string(_ text: String, _ index: Int) -> String {
            Array(text.utf8).withUnsafeBufferPointer { recent.string($0, text: index) }
        }
        let long = "Photograph the Trail Jacket – Forest Green as a clean packshot."
        let first = string(long, 0)
        let again = string(long, 0)
        #expect(first == long && again == long)
        #expect(StringStorage.same(first, again), "the kept string, not a new one")
        #expect(!StringStorage.same(string(long, 1), first), "texts are kept apart by index")
        #expect(string(long + "!", 0) == long + "!")
        // The same length, one byte different: a new string, not the kept one.
        let other = string(long.replacingOccurrences(of: "Forest", with: "Forust"), 0)
        #expect(other.contains("Forust") && !StringStorage.same(other, first))
        #expect(StringStorage.same(string(long, 0), first), "a kept string is still found after others are made")
        #expect(string("", 0) == "")
        // Four more texts push the first one out.
        for number in 0..<4 { _ = string("\(long) \(number)", 0) }
        #expect(!StringStorage.same(string(long, 0), first))
    }
}

/// Whether two strings share their storage (the kept string was given back).
enum StringStorage {
    static func same(_ lhs: String, _ rhs: String) -> Bool {
        guard let left = lhs.utf8.withContiguousStorageIfAvailable({ $0.baseAddress }), let right = rhs.utf8.withContiguousStorageIfAvailable({ $0.baseAddress }) else {
            return false
        }
        return left == right
    }
}
