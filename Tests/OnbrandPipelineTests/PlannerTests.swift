import Foundation
import GeminiKit
import OnbrandBudget
import OnbrandInputs
@testable import OnbrandPipeline
import OnbrandTestSupport
import Testing

@Suite struct PlannerTests {
    static let root = TestFiles.packageRoot

    static func northwind() throws -> (BrandGuide, [Product]) {
        let brand = try BrandLoader.loadOrThrow(root.appendingPathComponent("brands/northwind").path)
        let products = try CatalogReader(contentsOf: root.appendingPathComponent("brands/northwind/catalog.xml").path).readAll()
        return (brand, products)
    }

    static func template(_ name: String) throws -> PromptTemplate {
        try TemplateLoader.loadOrThrow(root.appendingPathComponent("templates/\(name)").path)
    }

    static func encode(_ request: GenerateContentRequest?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(try #require(request)), as: UTF8.self)
    }

    @Test func requestsFollowTheWireFormatAndAreDeterministic() throws {
        let (brand, products) = try Self.northwind()
        let template = try Self.template("catalog-packshot.xml")
        let first = Planner(brand: brand).plan(template, product: products[0], locale: "de-DE")
        let second = Planner(brand: brand).plan(template, product: products[0], locale: "de-DE")
        #expect(first.failure == nil, "\(first.failure ?? "")")
        let json = try Self.encode(first.request)
        #expect(json == (try Self.encode(second.request)), "the same inputs give byte-identical requests")
        #expect(json.contains(#""generationConfig":{"imageConfig":{"aspectRatio":"1:1","imageSize":"2K"},"responseModalities":["TEXT","IMAGE"]}"#))
        #expect(json.contains(#""fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/files/onbrand-"#), "brand images are Files API references")
        #expect(!json.contains("inlineData"))
        let inline = Planner(brand: brand, options: .init(brandImages: .inline)).plan(template, product: products[0], locale: "de-DE")
        #expect(try Self.encode(inline.request).contains(#""inlineData":{"data":"iVBORw0KGgo"#), "or inline, base64, when asked")
        let files = Planner(brand: brand)
        _ = files.plan(template, product: products[0], locale: "de-DE")
        #expect(files.brandFiles.count == 2 && files.brandFiles.allSatisfy { $0.id.hasPrefix("onbrand-") && $0.id.count == 40 })
        #expect(json.contains("ALT: <alt text>"), "the alt-text contract is in every request")
        #expect(!json.contains("null"), "absent fields are left out, not sent as null")
        #expect(json.contains("billig"), "the locale's banned words reach the system instruction")
        #expect(first.request?.tools == nil, "no grounding asked")
    }

    /// Planning on several threads writes the same bytes, in the same order, as on one.
    @Test func parallelPlansAreByteIdentical() throws {
        let (brand, products) = try Self.northwind()
        let templates = [try Self.template("catalog-packshot.xml"), try Self.template("lifestyle-trends.xml")]
        try TestFiles.withTemporaryDirectory { directory in
            var outputs: [Data] = []
            for workers in [1, 2, 3] {
                let folder = directory.appendingPathComponent("w\(workers)")
                let writer = try PlanWriter(directory: folder)
                var units = products.flatMap { product in
                    templates.flatMap { template in brand.localeCodes.map { ParallelPlanning.Unit(template: template, product: product, locale: $0) } }
                }.reversed() as [ParallelPlanning.Unit]
                try ParallelPlanning.run(planner: Planner(brand: brand), writer: writer, workers: workers) { units.popLast() }
                let summary = try writer.finish()
                #expect(summary.units == products.count * 2 * brand.localeCodes.count)
                outputs.append(try Data(contentsOf: folder.appendingPathComponent("requests.jsonl")) + Data(contentsOf: folder.appendingPathComponent("budget.jsonl")))
            }
            #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
        }
    }

    /// Chunks of lines written as they are (past the writer's 1 MB buffer) and plans written one by
    /// one give the same files.
    @Test func chunkedWritingMatchesWritingOneByOne() throws {
        let (brand, products) = try Self.northwind()
        let template = try Self.template("catalog-packshot.xml")
        let units = (0..<8).flatMap { _ in
            products.flatMap { product in brand.localeCodes.map { ParallelPlanning.Unit(template: template, product: product, locale: $0) } }
        }
        try TestFiles.withTemporaryDirectory { directory in
            let planner = Planner(brand: brand)
            let oneByOne = try PlanWriter(directory: directory.appendingPathComponent("one"))
            for unit in units { try oneByOne.write(planner.plan(unit.template, product: unit.product, locale: unit.locale)) }
            _ = try oneByOne.finish()
            let chunked = try PlanWriter(directory: directory.appendingPathComponent("chunks"))
            var pending = units.reversed() as [ParallelPlanning.Unit]
            try ParallelPlanning.run(planner: planner, writer: chunked, workers: 2) { pending.popLast() }
            _ = try chunked.finish()
            for file in ["requests.jsonl", "budget.jsonl"] {
                let one = try Data(contentsOf: directory.appendingPathComponent("one").appendingPathComponent(file))
                let chunks = try Data(contentsOf: directory.appendingPathComponent("chunks").appendingPathComponent(file))
                #expect(one == chunks, "\(file)")
                if file == "requests.jsonl" { #expect(one.count > 2 << 20, "past the writer's buffer: \(one.count) bytes") }
            }
        }
    }

    /// A thread keeps every template plan of the planner it serves, however many templates × locales
    /// there are (a bounded cache that dropped them would make them again for every unit); only other
    /// planners' plans give way.
    @Test func threadsKeepEveryTemplatePlanOfTheCurrentPlanner() throws {
        let (brand, _) = try Self.northwind()
        let base = try Self.template("catalog-packshot.xml")
        let planner = Planner(brand: brand)
        let cache = ThreadTemplatePlans()
        let templates = (0..<70).map { index in
            var template = base
            template.id = "packshot-\(index)"
            return template
        }
        for template in templates { cache.add(Planner.TemplatePlan(template: template, locale: "en-US", planner: planner), planner: "current") }
        #expect(templates.allSatisfy { cache.plan(planner: "current", template: $0, locale: "en-US") != nil })
        cache.add(Planner.TemplatePlan(template: base, locale: "en-US", planner: planner), planner: "next")
        #expect(cache.plan(planner: "next", template: base, locale: "en-US") != nil)
        #expect(cache.plan(planner: "current", template: templates[0], locale: "en-US") == nil, "an older planner's plan gave way")
        #expect(cache.plan(planner: "current", template: templates[1], locale: "en-US") != nil, "one at a time")
    }

    /// A thread's template plan counts a prompt or alt-text instruction again only when it is not
    /// the string counted last; whatever the order of products, each unit's plan is the one a
    /// fresh planner makes.
    @Test func repeatedTextsArePlannedAsFreshOnes() throws {
        let (brand, products) = try Self.northwind()
        let template = try Self.template("catalog-packshot.xml")
        let planner = Planner(brand: brand)
        for product in [products[0], products[0], products[1], products[0], products[1], products[1]] {
            let planned = planner.plan(template, product: product, locale: "en-US")
            let fresh = Planner(brand: brand).plan(template, product: product, locale: "en-US")
            #expect(planned.failure == nil && planned.report == fresh.report, "\(product.id)")
            #expect(try Self.encode(planned.request) == (try Self.encode(fresh.request)))
            #expect(planned.altTextInstruction == fresh.altTextInstruction)
        }
        let long = String(repeating: "Größe ", count: 4)
        let copy = String(decoding: Array(long.utf8), as: UTF8.self)
        #expect(Planner.TemplatePlan.isSame(long, long))
        #expect(!Planner.TemplatePlan.isSame(long, copy), "equal text in other storage is counted again")
        #expect(Planner.TemplatePlan.isSame("short", "short") && !Planner.TemplatePlan.isSame("short", "shore"))
        #expect(!Planner.TemplatePlan.isSame(long, String(long.dropLast())))
    }

    @Test func groundedTemplatesAskForWebAndImageSearch() throws {
        let (brand, products) = try Self.northwind()
        let plan = Planner(brand: brand).plan(try Self.template("lifestyle-trends.xml"), product: products[0], locale: "en-US")
        #expect(try Self.encode(plan.request).contains(#""tools":[{"googleSearch":{"searchTypes":{"imageSearch":{},"webSearch":{}}}}]"#))
    }

    @Test func templatesAreCheckedAgainstTheModelProfile() throws {
        let (brand, products) = try Self.northwind()
        var banner = try Self.template("wide-banner.xml")  // 8:1, which Nano Banana Pro does not take
        banner.model = "gemini-3-pro-image-preview"
        let plan = Planner(brand: brand).plan(banner, product: products[0], locale: "en-US")
        #expect(plan.request == nil)
        #expect(plan.failure?.contains("gemini-3-pro-image-preview does not take aspect ratio 8:1") == true, "\(plan.failure ?? "")")
        banner.model = "gemini-3.1-flash-image"
        #expect(Planner(brand: brand).plan(banner, product: products[0], locale: "en-US").failure == nil, "the GA id is an alias")
        var grounded = try Self.template("lifestyle-trends.xml")
        grounded.model = "gemini-3-pro-image-preview"
        #expect(Planner(brand: brand).plan(grounded, product: products[0], locale: "en-US").failure?.contains("image search") == true)
        grounded.model = "flux-1.1-pro-ultra"
        let flux = Planner(brand: brand).plan(grounded, product: products[0], locale: "en-US")
        #expect(flux.failure?.contains("does not support Google Search grounding") == true)
    }

    @Test func optionalSectionsGiveWayInPriorityOrderAndRequiredOnesMustFit() throws {
        let (brand, products) = try Self.northwind()
        let template = try Self.template("catalog-packshot.xml")
        let roomy = Planner(brand: brand).plan(template, product: products[0], locale: "en-US")
        let required = roomy.report.sections.filter { $0.priority == "required" }.reduce(0) { $0 + $1.tokens }
        // Room for the required text, the prompt and a little more: images (low, medium) must go first.
        let tight = Planner(brand: brand, options: .init(budget: roomy.report.inputTextTokens + roomy.report.outputReserve + 20))
            .plan(template, product: products[0], locale: "en-US")
        #expect(tight.failure == nil, "\(tight.failure ?? "")")
        let outcomes = Dictionary(uniqueKeysWithValues: tight.report.sections.map { ($0.id, $0.outcome) })
        #expect(outcomes["reference-images"] == .dropped && outcomes["product-images"] == .dropped)
        #expect(outcomes["brand-core"] == .included && outcomes["product-facts"] == .included)
        #expect(tight.report.sections.first { $0.id == "reference-images" }?.reason?.contains("tokens") == true)
        #expect(tight.report.inputTokens + tight.report.outputReserve <= tight.report.inputLimit)
        let starved = Planner(brand: brand, options: .init(budget: required / 2 + roomy.report.outputReserve))
            .plan(template, product: products[0], locale: "en-US")
        #expect(starved.request == nil)
        #expect(starved.failure?.hasPrefix("the required sections (brand-core, product-facts, prompt, alt-text-instruction) need") == true, "\(starved.failure ?? "")")
    }

    @Test func pricesFollowTheSpecFormula() throws {
        let profile = try #require(ModelCatalog().profile("gemini-3.1-flash-image-preview"))
        // One 2K image alone: 1680 tokens at $60 per million = $0.1008 (the spec's "$0.101").
        #expect(abs(profile.cost(inputTokens: 0, imageTokens: 1680, textOutputTokens: 0) - 0.1008) < 1e-9)
        #expect(abs(profile.cost(inputTokens: 0, imageTokens: 1680, textOutputTokens: 0, batch: true) - 0.0504) < 1e-9)
        #expect(abs(profile.cost(inputTokens: 1_000_000, imageTokens: 0, textOutputTokens: 1_000_000) - 3.5) < 1e-9)
        let flux = try #require(ModelCatalog().profile("flux-1.1-pro-ultra"))
        #expect(flux.cost(inputTokens: 300, imageTokens: 0, images: 2, textOutputTokens: 0) == 0.12)
    }

    @Test func modelProfilesCanBeOverriddenAndExtended() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(
                """
                {"models": [
                  {"id": "gemini-3.1-flash-image", "inputTokenLimit": 65536, "prices": {"imageOutputPerMillion": 30}},
                  {"id": "acme-image-1", "aliases": [], "displayName": "Acme", "provider": "openai", "inputTokenLimit": 4000,
                   "outputTokenLimit": 0, "imageSizes": [], "aspectRatios": ["1:1"], "supportsGrounding": false,
                   "supportsImageSearch": false, "supportsTextOutput": false, "supportsImageConfig": false,
                   "inputImageTokens": 0, "outputImageTokens": {"default": 0}, "maximumReferenceImages": 0,
                   "prices": {"inputPerMillion": 0, "textOutputPerMillion": 0, "imageOutputPerMillion": 0, "perImage": 0.02, "batchFactor": 1}}
                ]}
                """, to: "models.json", in: directory)
            var catalog = ModelCatalog()
            try catalog.apply(overridesAt: path)
            let flash = try #require(catalog.profile("gemini-3.1-flash-image-preview"))
            #expect(flash.inputTokenLimit == 65536 && flash.prices.imageOutputPerMillion == 30 && flash.prices.inputPerMillion == 0.5)
            #expect(catalog.profile("acme-image-1")?.prices.perImage == 0.02)
            let broken = try TestFiles.write(#"{"models": [{"id": "new-model"}]}"#, to: "broken.json", in: directory)
            let error = try #require(throws: ModelCatalogError.self) { try catalog.apply(overridesAt: broken) }
            #expect(error.description.contains("new-model") && error.description.contains("lacks"))
        }
    }

    @Test func sentencesSplitOnlyAtRealBoundaries() {
        let sentences = SectionPacker.sentences("Weighs 3.5 kg. Fits e.g.packs! 軽量です。防水です。")
        #expect(sentences == ["Weighs 3.5 kg. ", "Fits e.g.packs! ", "軽量です。", "防水です。"])
    }

    @Test func trimmingCutsAtASentenceAndMarksIt() {
        let packer = SectionPacker(counter: .estimate)
        let text = String(repeating: "The shell is light and quiet. ", count: 40)
        let result = packer.pack([.init(id: "long", isRequired: false, rank: 1, text: text)], budget: 120)
        let placement = result.placements[0]
        #expect(placement.outcome == .trimmed)
        #expect(placement.text.hasSuffix("quiet." + SectionPacker.trimMarker))
        #expect(placement.tokens <= 120 && result.usedTokens <= 120)
    }

    @Test(arguments: [
        ("brands/x/logo.PNG", "image/png"), ("https://cdn.example.com/a.webp?w=800", "image/webp"), ("shot.HeIc", "image/heic"),
        ("photo.jpg", "image/jpeg"), ("png", "image/jpeg"), ("a.png.jpg", "image/jpeg"), ("https://x/y?name=a.png", "image/jpeg"),
        ("https://cdn.example.com/a.png?w=800&f=.jpg", "image/png"), ("", "image/jpeg"), ("?.png", "image/jpeg"), (".png", "image/png"),
        ("é/東京.WEBP", "image/webp"),
    ])
    func mimeTypesFollowTheExtension(_ path: String, _ expected: String) {
        #expect(MimeType.forPath(path) == expected)
    }
}
