import Foundation
import OnbrandInputs
import OnbrandTestSupport
import Testing

@Suite struct TemplateTests {
    static let template = """
        <?xml version="1.0" encoding="UTF-8"?>
        <template id="packshot" version="3">
          <model>gemini-3.1-flash-image-preview</model>
          <channel>ecommerce</channel>
          <output aspect-ratio="4:5" image-size="2K"><modality>TEXT</modality><modality>IMAGE</modality></output>
          <grounding web="true"/>
          <sections>
            <section id="brand-core" priority="required">Brand: {{brand.name}}. Palette: {{#brand.palette}}{{name}} {{hex}}; {{/brand.palette}}</section>
            <section id="refs" priority="low" kind="reference-images"/>
          </sections>
          <prompt>
            Photograph {{product.title}} on {{brand.channel.background}}.
            {{#product.color}}Colour: {{product.color}}.{{/product.color}}
          </prompt>
          <alt-text mode="inline">
            <instruction>Write alt text in {{locale.language}}, at most {{brand.altText.maxLength}} characters.</instruction>
            <fallback>{{product.title}}</fallback>
          </alt-text>
        </template>
        """

    static func brand() -> BrandGuide {
        var brand = BrandGuide(id: "acme")
        brand.name = "Salt & Co"
        var palette = BrandGuide.Palette()
        palette.colors = [BrandGuide.BrandColor(name: "Forest", hex: "#1F4D3A", role: "primary")]
        brand.palette = palette
        var channel = BrandGuide.Channel(id: "ecommerce")
        channel.background = "plain white"
        brand.channels = [channel]
        return brand
    }

    @Test func loadsAndRendersWithoutEscaping() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let template = try TemplateLoader.loadOrThrow(try TestFiles.write(Self.template, to: "t.xml", in: directory))
            #expect(template.output.aspectRatio == .portrait4x5 && template.output.imageSize == .twoK)
            #expect(template.grounding.web && !template.grounding.image)
            #expect(template.sections.map(\.priority) == [.required, .low])
            var product = Product(id: "SKU-1")
            product.title = "Trail Jacket \"Alpine\" & Co"
            let rendered = try TemplateRenderer.render(
                template, context: RenderContext(brand: Self.brand(), product: product, locale: "de-DE", channel: "ecommerce"))
            #expect(rendered.sections[0].text == "Brand: Salt & Co. Palette: Forest #1F4D3A;")
            #expect(rendered.prompt == "Photograph Trail Jacket \"Alpine\" & Co on plain white.", "no HTML escaping, no blank line for the absent colour")
            #expect(rendered.altTextInstruction == "Write alt text in de, at most 125 characters.")
        }
    }

    @Test func unknownVariableNamesTemplateLineAndVariable() throws {
        let broken = Self.template.replacingOccurrences(of: "Photograph {{product.title}}", with: "Photograph {{product.titel}}")
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(broken, to: "t.xml", in: directory)
            let result = TemplateLoader.load(path)
            #expect(result.template == nil)
            let error = try #require(result.diagnostics.first { $0.severity == .error })
            #expect(error.description.hasPrefix("\(path):12:16: error: template packshot, prompt: variable `product.titel` does not resolve"), "\(error)")
        }
    }

    @Test func absentValueIsAnErrorNotAnEmptyString() throws {
        let template = Self.template.replacingOccurrences(of: "{{#product.color}}Colour: {{product.color}}.{{/product.color}}", with: "Colour: {{product.color}}.")
        try TestFiles.withTemporaryDirectory { directory in
            let loaded = try TemplateLoader.loadOrThrow(try TestFiles.write(template, to: "t.xml", in: directory))
            var product = Product(id: "SKU-9")
            product.title = "Shell"
            let error = try #require(throws: DiagnosticError.self) {
                try TemplateRenderer.render(
                    loaded, context: RenderContext(brand: Self.brand(), product: product, locale: "en-US", channel: "ecommerce"),
                    subject: "product SKU-9 (en-US)")
            }
            #expect(error.diagnostics.first?.message == "template packshot, prompt: variable `product.color` does not resolve for product SKU-9 (en-US)")
            #expect(error.diagnostics.first?.location?.line == 13)
            // The planner's prepared path says the same.
            let brand = Self.brand()
            let prepared = PreparedTemplate(
                loaded, brand: RenderContext.brandValue(brand, locale: "en-US", channel: "ecommerce"),
                locale: RenderContext.localeValue(brand, code: "en-US"), sharedPartKey: "absent-value-test")
            let preparedError = try #require(throws: DiagnosticError.self) { try prepared.render(product, subject: "product SKU-9 (en-US)") }
            #expect(preparedError.diagnostics.map(\.description) == error.diagnostics.map(\.description))
        }
    }

    @Test func unbalancedSectionIsLocated() throws {
        let broken = Self.template.replacingOccurrences(of: "{{/product.color}}", with: "{{/product.colour}}")
        try TestFiles.withTemporaryDirectory { directory in
            let result = TemplateLoader.load(try TestFiles.write(broken, to: "t.xml", in: directory))
            #expect(result.diagnostics.contains { $0.message.contains("{{/product.colour}} closes {{#product.color}}") && $0.location?.line == 13 })
        }
    }

    @Test func invalidAspectRatioIsLocated() throws {
        let broken = Self.template.replacingOccurrences(of: "aspect-ratio=\"4:5\"", with: "aspect-ratio=\"5:7\"")
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(broken, to: "t.xml", in: directory)
            let result = TemplateLoader.load(path)
            #expect(result.diagnostics.contains { $0.description.hasPrefix("\(path):5:3: error: aspect-ratio \"5:7\"") })
        }
    }

    @Test(arguments: AspectRatio.allCases)
    func everyRatioTheModelsAcceptLoads(ratio: AspectRatio) throws {
        let json = """
            {"id": "t", "output": {"aspectRatio": "\(ratio.rawValue)", "imageSize": "4K", "responseModalities": ["TEXT", "IMAGE"]},
             "prompt": "Photograph {{product.id}}"}
            """
        try TestFiles.withTemporaryDirectory { directory in
            let template = try TemplateLoader.loadOrThrow(try TestFiles.write(json, to: "t.json", in: directory))
            #expect(template.output.aspectRatio == ratio && template.output.imageSize == .fourK)
        }
        #expect(AspectRatio.allCases.count == 14)
    }

    @Test func jsonTemplateErrorsCarryPaths() throws {
        let json = """
            {"id": "t",
             "sections": [{"id": "a", "priority": "urgent", "text": "x"}],
             "prompt": "Photograph {{product.nme}}"}
            """
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(json, to: "t.json", in: directory)
            let rendered = TemplateLoader.load(path).diagnostics.map(\.description)
            #expect(rendered.contains { $0.hasPrefix("\(path):2:39: error: at `sections[0].priority`: priority \"urgent\"") }, "\(rendered)")
            #expect(rendered.contains { $0.contains("variable `product.nme` does not resolve") && $0.hasPrefix("\(path):3:24:") }, "\(rendered)")
        }
    }
}
